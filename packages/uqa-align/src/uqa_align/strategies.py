"""Alignment strategies: which parameters train. The encoder is always frozen.

- ``adapter``: only the adapter trains (LLM frozen; the paper's default).
- ``lora``: peft LoRA on the LLM's attention projections plus the adapter.
- ``full``: every LLM parameter plus the adapter.

:func:`check_trainables` asserts the trainable set matches the strategy before
any step runs, so a wrapping mistake cannot silently fine-tune the LLM.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from uqa_data.errors import UqaInputError
from uqa_data.registry import unknown_name_message

if TYPE_CHECKING:
    from torch import nn

STRATEGIES = ("adapter", "lora", "full")
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")


def check_strategy(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise UqaInputError(unknown_name_message("alignment strategy", str(strategy),
                                                 list(STRATEGIES), flag="--strategy"))


def check_fsdp(strategy: str) -> None:
    """FSDP shards a frozen LLM: strategies ``adapter`` and ``lora`` only."""
    if strategy == "full":
        raise UqaInputError("--fsdp shards a frozen LLM (strategy adapter or lora); "
                            "'full' fine-tuning under FSDP is not supported")


def apply_strategy(model: Any, strategy: str, *, lora_r: int = 8, lora_alpha: int = 16,
                   lora_dropout: float = 0.0) -> Any:
    """Set ``requires_grad`` on the LLM for ``strategy``; wraps it with peft for ``lora``."""
    check_strategy(strategy)
    for p in model.parameters():
        p.requires_grad_(strategy == "full")
    if strategy != "lora":
        return model
    from peft import LoraConfig, get_peft_model

    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    targets: Any = [t for t in LORA_TARGETS if t in names] or "all-linear"
    config = LoraConfig(r=lora_r, lora_alpha=lora_alpha, lora_dropout=lora_dropout,
                        target_modules=targets, bias="none")
    with warnings.catch_warnings():  # peft reads an attribute transformers 5 deprecates
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*",
                                category=FutureWarning)
        return get_peft_model(model, config)


def trainable_parameters(model: Any, adapter: nn.Module | None) -> list[nn.Parameter]:
    """Every parameter that will receive updates (adapter first, then LLM)."""
    params = [p for p in adapter.parameters() if p.requires_grad] if adapter is not None else []
    return params + [p for p in model.parameters() if p.requires_grad]


def check_trainables(model: Any, adapter: nn.Module | None, strategy: str) -> dict[str, int]:
    """Raise when the trainable parameters do not match ``strategy``; return counts."""
    llm_trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    llm_total = sum(1 for _ in model.named_parameters())
    if adapter is not None and not all(p.requires_grad for p in adapter.parameters()):
        raise AssertionError("every adapter parameter must train")
    if strategy == "adapter" and llm_trainable:
        raise AssertionError(f"strategy 'adapter' but LLM parameters train: {llm_trainable[:3]}")
    if strategy == "lora":
        if not llm_trainable:
            raise AssertionError("strategy 'lora' but no LoRA parameter trains")
        wrong = [n for n in llm_trainable if "lora_" not in n]
        if wrong:
            raise AssertionError(f"strategy 'lora' but non-LoRA LLM parameters train: {wrong[:3]}")
    if strategy == "full" and len(llm_trainable) != llm_total:
        raise AssertionError("strategy 'full' but some LLM parameters are frozen")
    n_adapter = sum(p.numel() for p in adapter.parameters()) if adapter is not None else 0
    n_llm = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if n_adapter + n_llm == 0:
        raise UqaInputError(
            f"strategy '{strategy}' with no adapter leaves nothing to train; text baselines "
            "need --strategy lora or full"
        )
    return {"adapter_params": n_adapter, "llm_trainable_params": n_llm}


def shard_llm(model: Any, strategy: str) -> int:
    """Shard the LLM's decoder layers across the ranks with FSDP2 (``fully_shard``).

    For an LLM too big for one device: each rank keeps 1/world of every layer's
    frozen weights and gathers a layer only while it runs. Trainable LoRA weights
    stay replicated (they are tiny) and are all-reduced with the adapter's
    gradients. Returns the number of sharded layers. ``full`` fine-tuning under
    FSDP is not supported: its optimizer state and checkpoints would be sharded too.
    """
    check_fsdp(strategy)
    from torch.distributed.fsdp import fully_shard

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    layers = getattr(base.get_decoder(), "layers", None)
    if not layers:
        raise UqaInputError("--fsdp: the LLM's decoder has no 'layers' to shard")
    for layer in layers:
        trainable = {p for p in layer.parameters() if p.requires_grad}
        fully_shard(layer, ignored_params=trainable or None)
    return len(layers)
