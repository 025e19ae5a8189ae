"""bf16 or fp32: what ``auto`` picks, shared by pre-training, alignment and answering.

uqa-data does not depend on torch: it is imported only when asked.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")
"""Every stage's precision setting: ``auto`` (:func:`auto_is_bf16`), ``fp32`` or ``bf16``."""
LLM_PRECISIONS: tuple[str, ...] = (*PRECISIONS, "bf16-mixed")
"""The frozen LLM's (alignment, answering): also ``bf16-mixed``, bf16 matrix products
with the residual stream, norms, attention and softmax between them in fp32."""
BF16_PRECISIONS: tuple[str, ...] = ("bf16", "bf16-mixed")
"""The settings that round a frozen LLM's weights to bf16."""


def on_cuda(device: Any) -> bool:
    """Whether ``device`` (a ``torch.device`` or its name) is a CUDA device."""
    return getattr(device, "type", str(device)) == "cuda"


def bf16_native(device: Any) -> bool:
    """Whether ``device`` computes bf16 matrix products natively: CUDA, or a CPU whose
    oneDNN reports bf16 instructions (AVX512-BF16 or AMX)."""
    import torch

    if on_cuda(device):
        return True
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - builds without oneDNN
        return False


def auto_is_bf16(device: Any, width: int, min_width: int) -> bool:
    """Whether ``auto`` means bf16 for a model ``width`` wide on ``device``: where bf16 is
    native (:func:`bf16_native`), on CUDA at any width and on a CPU from ``min_width`` up
    (narrower, the casts cost more than the bf16 products save)."""
    return (on_cuda(device) or width >= min_width) and bf16_native(device)


def warn_if_emulated_bf16(precision: str, device: Any, what: str) -> None:
    """Log a one-line warning when ``bf16`` is asked for by name for ``what``
    (``alignment``) on a CPU without bf16 instructions, where PyTorch computes bf16
    products without vector support, several times slower than fp32. ``auto`` never
    picks it there."""
    if precision not in BF16_PRECISIONS or on_cuda(device) or bf16_native(device):
        return
    log.warning(f"{what}: precision {precision} on a CPU without bf16 instructions (AVX512-BF16 or "
                "AMX) runs its matrix products several times slower than fp32; precision auto "
                "picks fp32 on this CPU")
