"""Attention for a frozen LLM on a CPU: training through it, and answering with it.

A frozen-LLM alignment step runs a dozen query positions (the soft tokens, the
assistant header, the answer) over about eighty cached keys. PyTorch's CPU
``scaled_dot_product_attention`` computes that forward quickly, but its backward
costs more than the rest of the step's attention put together. The
implementation registered here as ``uqa_cpu`` computes attention with gradients
as two plain products with grouped-query heads folded into the query length (no
repeated keys or values to build, or to sum gradients back from); where no
gradient flows (answering, encoding prefixes) it is ``sdpa`` reading the
grouped keys and values as they are (``enable_gqa``), where transformers' own
``sdpa`` copies them once per query head first: answering scores four options
over each question's whole cached prompt, so those copies were a quarter of its
time. ``bench/attention.py`` measures it against both of transformers' own.
"""

from __future__ import annotations

from typing import Any

import torch

NAME = "uqa_cpu"
"""The attention implementation's name in transformers' registry."""
SDPA_GQA = tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (2, 5)
"""Whether ``scaled_dot_product_attention`` takes ``enable_gqa`` (PyTorch 2.5 and later)."""


def grouped_attention(module: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                      attention_mask: torch.Tensor | None, dropout: float = 0.0,
                      scaling: float | None = None, **kwargs: Any) -> tuple[torch.Tensor, None]:
    """transformers' attention interface: ``query [B, H, T, D]``, ``key``/``value``
    ``[B, KVH, S, D]``, a boolean ``attention_mask [B, 1, T, S]`` (True: attend);
    returns ``[B, T, H, D]``. Without gradients, a mask or with dropout it is ``sdpa``."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    grad = torch.is_grad_enabled() and query.requires_grad
    if (attention_mask is None or attention_mask.dtype != torch.bool or dropout
            or not (grad or SDPA_GQA)):
        return sdpa_attention_forward(module, query, key, value, attention_mask,
                                      dropout=dropout, scaling=scaling, **kwargs)
    if not grad:  # keys and values read per group, not copied per head
        out = torch.nn.functional.scaled_dot_product_attention(
            query, key, value, attn_mask=attention_mask[:, :, :, : key.shape[-2]],
            scale=scaling, enable_gqa=True)
        return out.transpose(1, 2).contiguous(), None
    b, h, t, d = query.shape
    kv_heads, s = key.shape[1], key.shape[2]
    groups = h // kv_heads
    scale = d**-0.5 if scaling is None else scaling
    # query heads g*k .. g*k+g-1 read key/value head k: fold them into the query length
    q = query.reshape(b, kv_heads, groups * t, d)
    scores = torch.matmul(q, key.transpose(2, 3)) * scale  # [B, KVH, G*T, S]
    scores = scores.view(b, kv_heads, groups, t, s).masked_fill(
        ~attention_mask[:, :, None], torch.finfo(scores.dtype).min)
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(value.dtype)
    out = torch.matmul(probs.view(b, kv_heads, groups * t, s), value)  # [B, KVH, G*T, D]
    return out.view(b, h, t, d).transpose(1, 2).contiguous(), None


def use_cpu_attention(model: Any) -> bool:
    """Switch ``model`` (a transformers model on a CPU) to :func:`grouped_attention`.

    Returns whether it did: models whose attention does not go through transformers'
    attention interface keep their own.
    """
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    if NAME not in AttentionInterface._global_mapping:
        AttentionInterface.register(NAME, grouped_attention)
        ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)
    try:
        model.set_attn_implementation(NAME)
    except (ValueError, NotImplementedError):  # pragma: no cover - models without the interface
        return False
    return True
