"""Pre-training losses: full softmax, sampled softmax with logQ, in-batch InfoNCE, and the
side-attribute term added to any of them.

All take the hidden states at valid positions ``h [P, D]`` and their true next
items ``target [P]``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from uqa_encoders.features import FeatureEmbedding

LOSSES: tuple[str, ...] = ("ce", "infonce")


CHUNK_BYTES = 1 << 28
"""Most bytes of logits per block of :func:`linear_cross_entropy` (256 MiB: 64M float32 or
128M bfloat16 logits): a block's products are single matrix multiplies; the softmax walks
it in cache-sized slices."""
SLICE_ELEMENTS = 1 << 19


def full_softmax(h: torch.Tensor, target: torch.Tensor, features: FeatureEmbedding) -> torch.Tensor:
    """Cross-entropy over the whole catalogue (padding id 0 excluded)."""
    return linear_cross_entropy(h, features.all_items(), target)


def linear_cross_entropy(h: torch.Tensor, table: torch.Tensor, target: torch.Tensor
                         ) -> torch.Tensor:
    """``F.cross_entropy(h @ table.T, target)`` with column 0 (padding) excluded.

    Same value and gradients as the plain expression (to float32 rounding), computed in
    blocks of rows (at most :data:`CHUNK_BYTES` of logits each): a block's softmax and its
    gradient are written over its logits' own buffer, so no log-softmax or gradient copy of
    the ``[P, N+1]`` logits is ever made. Under autocast the products run in its dtype; the
    softmax and the table's gradient in float32.
    """
    return _LinearCrossEntropy.apply(h, table, target)


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, h: torch.Tensor, table: torch.Tensor, target: torch.Tensor
                ) -> torch.Tensor:
        rows, width, dim = h.shape[0], table.shape[0], table.shape[1]
        # the products' dtype: autocast's, cast once here (autocast would cast the table
        # again for each of a block's three products); every block's logits in one buffer
        device = h.device.type
        dtype = (torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device)
                 else torch.promote_types(h.dtype, table.dtype))
        # A block's table gradient is a [N+1, D] sum: blocks of at least 4 D rows keep its
        # cost small against the block's logits; a small table lets blocks fit in cache.
        step = max(1, SLICE_ELEMENTS // max(width, 1))
        per_row = max(width, 1) * torch.empty((), dtype=dtype).element_size()
        block = min(max(step, 4 * dim), max(1, CHUNK_BYTES // per_row))
        need_h, need_t = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        hc, tab = h.to(dtype), table.to(dtype)
        buffer = torch.empty((min(block, rows), width), dtype=dtype, device=h.device)
        grad_h = torch.empty_like(h) if need_h else None
        grad_t = None
        total = torch.zeros((), dtype=torch.float64, device=h.device)
        with torch.autocast(device, enabled=False):
            for b0 in range(0, rows, block):
                hb, tb = hc[b0:b0 + block], target[b0:b0 + block]
                logits = torch.mm(hb, tab.T, out=buffer[:len(hb)])  # [b, N+1]
                for s0 in range(0, len(tb), step):
                    x = logits[s0:s0 + step]
                    xf = x.float()  # x itself when the logits are float32
                    xf[:, 0] = float("-inf")
                    t = tb[s0:s0 + step]
                    picked = xf.gather(1, t[:, None])
                    top = xf.amax(dim=-1, keepdim=True)
                    e = xf.sub_(top).exp_()  # one exp per logit, in place
                    norm = e.sum(dim=-1, keepdim=True)
                    lse = top + norm.log()
                    total += (lse - picked).sum(dtype=torch.float64)
                    if need_h or need_t:
                        # d(mean CE)/d logits = (softmax - onehot) / rows, over the logits
                        e.mul_(norm.reciprocal_().mul_(1.0 / rows))
                        e.scatter_add_(1, t[:, None], e.new_full((len(t), 1), -1.0 / rows))
                        if e.data_ptr() != x.data_ptr():
                            x.copy_(e)
                if need_h:
                    grad_h[b0:b0 + block] = logits @ tab
                if need_t:
                    part = (logits.T @ hb).float()
                    grad_t = part if grad_t is None else grad_t.add_(part)
        # held by the context alone and handed over in backward, so they are scaled in
        # place and become the gradients without another table-sized copy
        ctx.grads = (grad_h, grad_t)
        return (total / rows).float()

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        if ctx.grads is None:
            raise RuntimeError("linear_cross_entropy: backward a second time through the same "
                               "loss (retain_graph); compute the loss again instead")
        grad_h, grad_t = ctx.grads
        ctx.grads = None
        for grad in (grad_h, grad_t):
            if grad is not None:
                grad.mul_(grad_out.to(grad.dtype))
        return grad_h, grad_t, None


def side_attribute_loss(h: torch.Tensor, target: torch.Tensor, features: FeatureEmbedding
                        ) -> torch.Tensor:
    """Mean over the side features (category, brand, shop, seller) of the cross-entropy of
    the target item's value, scored by ``h`` against that feature's own embedding table
    (padding id 0 excluded, as in :func:`full_softmax`)."""
    side = features.side_ids[target]  # [P, S]
    parts = [linear_cross_entropy(h, emb.weight, side[:, j])
             for j, emb in enumerate(features.side)]
    return torch.stack(parts).mean()


def sampled_softmax(
    h: torch.Tensor,
    target: torch.Tensor,
    features: FeatureEmbedding,
    num_samples: int,
    log_q: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Sampled softmax: ``num_samples`` shared negatives drawn from ``exp(log_q)``.

    Every logit (positive and negatives) is corrected by ``-log Q(item)``
    (Bengio & Senecal 2008; Yi et al. 2019); negatives equal to the positive are masked.
    """
    q = log_q.detach().exp().cpu()  # sampled on the CPU generator, then moved
    neg = torch.multinomial(q, num_samples, replacement=True, generator=generator).to(h.device)
    pos_vec = features.embed_unique(target)  # [P, D]
    neg_vec = features(neg)  # [S, D]
    pos_logit = (h * pos_vec).sum(-1, keepdim=True) - log_q[target].unsqueeze(-1)
    neg_logit = h @ neg_vec.T - log_q[neg].unsqueeze(0)
    neg_logit = neg_logit.masked_fill(neg.unsqueeze(0) == target.unsqueeze(-1), float("-inf"))
    logits = torch.cat([pos_logit, neg_logit], dim=-1).float()
    return F.cross_entropy(logits, torch.zeros_like(target))


def in_batch_infonce(
    h: torch.Tensor, target: torch.Tensor, features: FeatureEmbedding, temperature: float
) -> torch.Tensor:
    """InfoNCE with the batch's distinct target items as candidates (cosine / temperature)."""
    uniq, label = torch.unique(target, return_inverse=True)
    cand = F.normalize(features(uniq), dim=-1)  # [U, D]
    logits = F.normalize(h, dim=-1) @ cand.T / temperature
    return F.cross_entropy(logits.float(), label)
