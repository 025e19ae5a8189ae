"""Whether a device computes bf16 natively: shared by pre-training, alignment and answering.

uqa-data does not depend on torch: it is imported only when asked.
"""

from __future__ import annotations

from typing import Any


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
