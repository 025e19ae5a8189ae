"""Loading what ``align`` wrote: the LLM (+ LoRA or full weights), the adapter, the prompt."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uqa_data.errors import UqaInputError
from uqa_data.io import read_json

from uqa_align.adapter_files import ADAPTER_WEIGHTS, LLM_WEIGHTS, LORA_DIR
from uqa_align.llm import LoadedLLM, load_llm
from uqa_align.prompt import PromptBuilder, PromptStyle
from uqa_align.train import AlignConfig


@dataclass
class AlignedModel:
    """An LLM ready to answer: adapter (or None), prompt builder, alignment config."""

    llm: LoadedLLM
    adapter: Any
    builder: PromptBuilder
    config: AlignConfig
    meta: dict


def load_aligned(adapter_dir: Path, *, llm: LoadedLLM | None = None,
                 mode: str | None = None) -> AlignedModel:
    """Rebuild the aligned model from ``adapter_dir`` (``config.json`` + weights).

    ``llm`` may pass a freshly loaded LLM to reuse (it is modified for lora/full).
    """
    from safetensors.torch import load_file

    from uqa_align.adapters import load_adapter_module

    d = Path(adapter_dir)
    meta = read_json(d / "config.json", "adapter config (adapter/config.json)")
    try:
        config = AlignConfig(**meta["align"])
    except (KeyError, TypeError) as exc:
        raise UqaInputError(f"{d / 'config.json'}: not an alignment config ({exc})") from exc
    if mode is not None and mode != config.mode:
        raise UqaInputError(
            f"{d}: the adapter was aligned for answering mode '{config.mode}', not '{mode}'; "
            "re-run `uqa align --mode` with the mode you evaluate"
        )
    if llm is None:
        origin = f"align.llm in {d / 'config.json'}"
        if Path(str(config.llm)).expanduser().is_dir():  # say which model an adapter points at
            from uqa_data.progress import console

            console.print(f"[dim]  LLM {config.llm} ({origin})[/]", highlight=False,
                          soft_wrap=True)
        llm = load_llm(config.llm, origin=origin)
    if llm.hidden_size != meta["hidden_size"]:
        raise UqaInputError(f"{d}: aligned for an LLM of width {meta['hidden_size']}, "
                            f"but the LLM {llm.name} has width {llm.hidden_size}")
    device = next(llm.model.parameters()).device
    if config.strategy == "lora":
        _merge_lora(llm, d / LORA_DIR / "lora.safetensors", config)
    elif config.strategy == "full":
        path = d / LLM_WEIGHTS
        if not path.is_file():
            raise UqaInputError(f"{path} not found (strategy 'full' saves the LLM weights there)")
        missing, unexpected = llm.model.load_state_dict(load_file(str(path), device=str(device)),
                                                        strict=False)
        if unexpected or [k for k in missing if "lm_head" not in k]:
            raise UqaInputError(f"{path}: weights do not match --llm {llm.name}")
    adapter = None
    if meta.get("adapter"):
        a = meta["adapter"]
        path = d / ADAPTER_WEIGHTS
        if not path.is_file():
            raise UqaInputError(f"{path} not found")
        in_dim = a.get("in_dim") if isinstance(a, dict) else None
        if not (isinstance(in_dim, int) and in_dim >= 1 and isinstance(a.get("name"), str)):
            raise UqaInputError(f"{d / 'config.json'}: 'adapter' needs a name and an integer "
                                f"in_dim >= 1; found {a!r}")
        try:
            state = load_file(str(path))
        except Exception as exc:  # safetensors raises its own error types
            raise UqaInputError(f"{path}: not a readable safetensors file ({exc})") from exc
        adapter = load_adapter_module(a["name"], in_dim, llm.hidden_size,
                                      a.get("options") or {}, state, source=path)
        adapter.to(device).eval()
    llm.model.eval()
    builder = PromptBuilder(llm.tokenizer, PromptStyle(config.system, config.marker, config.mode,
                                                     config.position))
    return AlignedModel(llm, adapter, builder, config, meta)


def _merge_lora(llm: LoadedLLM, path: Path, config: AlignConfig) -> None:
    """Apply saved LoRA weights and merge them into the base weights (fast inference)."""
    from safetensors.torch import load_file

    from uqa_align.strategies import apply_strategy

    if not path.is_file():
        raise UqaInputError(f"{path} not found (strategy 'lora' saves LoRA weights there)")
    device = next(llm.model.parameters()).device
    peft_model = apply_strategy(llm.model, "lora", lora_r=config.lora_r,
                                lora_alpha=config.lora_alpha)
    state = load_file(str(path), device=str(device))
    named = dict(peft_model.named_parameters())
    missing = [k for k in state if k not in named]
    if missing:
        raise UqaInputError(f"{path}: LoRA weights do not match the LLM ({missing[:2]})")
    import torch

    with torch.no_grad():
        for k, v in state.items():
            named[k].copy_(v)
    llm.model = peft_model.merge_and_unload()
    for p in llm.model.parameters():
        p.requires_grad_(False)
