"""Right-padded batches of click windows (the most recent clicks of each user)."""

from __future__ import annotations

import numpy as np
import torch

from uqa_encoders.inputs import Sequences


def pad_windows(windows: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad 1-D int arrays into ``ids [B, L]`` (0 = padding) and ``lengths [B]``."""
    lengths = np.array([len(w) for w in windows], dtype=np.int64)
    out = np.zeros((len(windows), int(lengths.max()) if len(windows) else 0), dtype=np.int64)
    for i, w in enumerate(windows):
        out[i, : len(w)] = w
    return torch.from_numpy(out), torch.from_numpy(lengths)


def training_batch(
    seqs: Sequences, rows: np.ndarray, max_len: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs, lengths and next-item targets from each row's last ``max_len + 1`` clicks."""
    windows = [seqs.get(int(r))[-(max_len + 1):] for r in rows]
    inputs, lengths = pad_windows([w[:-1] for w in windows])
    targets, _ = pad_windows([w[1:] for w in windows])
    return inputs, lengths, targets


def eval_batch(
    seqs: Sequences, rows: np.ndarray, max_len: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The last ``max_len`` clicks before each row's final click, and that final click."""
    windows = [seqs.get(int(r))[-(max_len + 1):] for r in rows]
    inputs, lengths = pad_windows([w[:-1] for w in windows])
    targets = torch.tensor([int(w[-1]) for w in windows], dtype=torch.long)
    return inputs, lengths, targets
