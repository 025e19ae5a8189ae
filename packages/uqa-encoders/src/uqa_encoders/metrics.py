"""HR@k and NDCG@k of the true next item over the full catalogue, and most-popular."""

from __future__ import annotations

import math

import numpy as np
import torch


def rank_of_target(scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """0-based rank of each target among items ``1..N`` (ties count against it)."""
    scores = scores.float().clone()
    scores[:, 0] = float("-inf")
    true = scores.gather(1, target.unsqueeze(1))
    return (scores > true).sum(1)


def hit_ndcg(ranks: np.ndarray, k: int = 10) -> dict[str, float]:
    """``{"hr@k": ..., "ndcg@k": ...}`` from 0-based ranks."""
    if len(ranks) == 0:
        return {f"hr@{k}": 0.0, f"ndcg@{k}": 0.0}
    hit = ranks < k
    ndcg = np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0)
    return {f"hr@{k}": float(hit.mean()), f"ndcg@{k}": float(ndcg.mean())}


def most_popular_ranks(counts: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Ranks of ``targets`` when items are ordered by training popularity ``counts [N+1]``."""
    scores = counts.astype(np.float64).copy()
    scores[0] = -math.inf
    order_scores = scores[targets]
    return np.array([(scores > s).sum() for s in order_scores], dtype=np.int64)
