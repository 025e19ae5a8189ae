"""Right-padded batches of click windows (the most recent clicks of each user)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from uqa_encoders.inputs import Sequences


@dataclass
class Batch:
    """``inputs [B, L]`` item ids (0 = padding), ``lengths [B]``, ``times [B, L]`` or None,
    ``targets``: ``[B, L]`` next items (training) or ``[B]`` the held-out click (evaluation)."""

    inputs: torch.Tensor
    lengths: torch.Tensor
    times: torch.Tensor | None
    targets: torch.Tensor

    def to(self, device: torch.device) -> Batch:
        return Batch(
            self.inputs.to(device), self.lengths.to(device),
            None if self.times is None else self.times.to(device), self.targets.to(device),
        )


def pad_windows(windows: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad 1-D int arrays into ``ids [B, L]`` (0 = padding) and ``lengths [B]``."""
    lengths = np.array([len(w) for w in windows], dtype=np.int64)
    out = np.zeros((len(windows), int(lengths.max()) if len(windows) else 0), dtype=np.int64)
    for i, w in enumerate(windows):
        out[i, : len(w)] = w
    return torch.from_numpy(out), torch.from_numpy(lengths)


def _times(seqs: Sequences, rows: np.ndarray, start: int, stop: int | None) -> torch.Tensor | None:
    if seqs.times is None:
        return None
    windows = []
    for r in rows:
        t = seqs.get_times(int(r))
        assert t is not None
        windows.append(t[start:stop])
    return pad_windows(windows)[0]


def training_batch(seqs: Sequences, rows: np.ndarray, max_len: int, target_window: int = 1,
                   rng: np.random.Generator | None = None) -> Batch:
    """Each row's last ``max_len + 1`` clicks: inputs all but the last; each position's target
    is the next click, or with ``target_window`` K > 1 a click drawn by ``rng`` uniformly from
    the next K (fewer near the window's end) of the same row."""
    windows = [seqs.get(int(r))[-(max_len + 1):] for r in rows]
    inputs, lengths = pad_windows([w[:-1] for w in windows])
    if target_window > 1:
        assert rng is not None, "a target window draws its targets with rng"
        windows = [w[future_offsets(len(w) - 1, target_window, rng)] for w in windows]
        targets, _ = pad_windows(windows)
    else:
        targets, _ = pad_windows([w[1:] for w in windows])
    return Batch(inputs, lengths, _times(seqs, rows, -(max_len + 1), -1), targets)


def future_offsets(n: int, window: int, rng: np.random.Generator) -> np.ndarray:
    """For positions ``0..n-1`` of a window of ``n + 1`` clicks, the index of a click drawn
    uniformly from the next ``min(window, n - i)`` clicks after position ``i``."""
    i = np.arange(n)
    span = np.minimum(window, n - i)
    return i + 1 + (rng.random(n) * span).astype(np.int64)


def eval_batch(seqs: Sequences, rows: np.ndarray, max_len: int) -> Batch:
    """The last ``max_len`` clicks before each row's final click; target: that final click."""
    windows = [seqs.get(int(r))[-(max_len + 1):] for r in rows]
    inputs, lengths = pad_windows([w[:-1] for w in windows])
    targets = torch.tensor([int(w[-1]) for w in windows], dtype=torch.long)
    return Batch(inputs, lengths, _times(seqs, rows, -(max_len + 1), -1), targets)


def export_batch(seqs: Sequences, rows: np.ndarray, max_len: int) -> Batch:
    """The last ``max_len`` clicks of each row (no target)."""
    inputs, lengths = pad_windows([seqs.get(int(r))[-max_len:] for r in rows])
    return Batch(inputs, lengths, _times(seqs, rows, -max_len, None), lengths.new_zeros(len(rows)))
