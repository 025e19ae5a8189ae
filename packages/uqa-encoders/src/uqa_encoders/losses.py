"""Next-item prediction losses: full softmax, sampled softmax with logQ, in-batch InfoNCE.

All take the hidden states at valid positions ``h [P, D]`` and their true next
items ``target [P]``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from uqa_encoders.features import FeatureEmbedding

LOSSES: tuple[str, ...] = ("ce", "infonce")


def full_softmax(h: torch.Tensor, target: torch.Tensor, features: FeatureEmbedding) -> torch.Tensor:
    """Cross-entropy over the whole catalogue (padding id 0 excluded)."""
    items = features.all_items()  # [N+1, D]
    logits = h @ items.T  # [P, N+1]
    logits[:, 0] = float("-inf")
    return F.cross_entropy(logits.float(), target)


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
