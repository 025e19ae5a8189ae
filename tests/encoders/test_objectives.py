"""Pre-training objectives beside next-item prediction: a target drawn from the next K
clicks (``target_window``) and predicting the target's side attributes (``side_loss``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from uqa_data.errors import UqaInputError
from uqa_encoders.batching import future_offsets, training_batch
from uqa_encoders.features import FeatureEmbedding
from uqa_encoders.inputs import Sequences
from uqa_encoders.losses import side_attribute_loss
from uqa_encoders.pretrain import PretrainConfig


@given(n=st.integers(1, 60), window=st.integers(1, 80), seed=st.integers(0, 2**32 - 1))
def test_future_offsets_stay_within_the_next_k_clicks(n: int, window: int, seed: int) -> None:
    got = future_offsets(n, window, np.random.default_rng(seed))
    for i, j in enumerate(got):  # slow reference, position by position
        assert i + 1 <= j <= min(i + window, n)
    if window == 1:
        assert got.tolist() == list(range(1, n + 1))


def test_a_window_spreads_targets_over_the_coming_clicks() -> None:
    got = np.stack([future_offsets(30, 10, np.random.default_rng(s)) for s in range(400)])
    ahead = got[:, 0]  # position 0 draws from clicks 1..10
    assert set(ahead.tolist()) == set(range(1, 11))
    assert abs(ahead.mean() - 5.5) < 0.4


def _seqs(rows: list[list[int]]) -> Sequences:
    lengths = np.array([len(r) for r in rows])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return Sequences(path=Path("mem"), user_ids=np.arange(len(rows)),
                     offsets=offsets, items=np.concatenate(rows), times=None)


def test_window_one_is_next_item_prediction_and_larger_windows_read_the_same_row() -> None:
    seqs = _seqs([[5, 6, 7, 8, 9, 10], [11, 12, 13]])
    rows = np.array([0, 1])
    plain = training_batch(seqs, rows, max_len=4)
    one = training_batch(seqs, rows, max_len=4, target_window=1,
                         rng=np.random.default_rng(0))
    assert torch.equal(plain.targets, one.targets) and torch.equal(plain.inputs, one.inputs)
    wide = training_batch(seqs, rows, max_len=4, target_window=3,
                          rng=np.random.default_rng(1))
    assert torch.equal(wide.inputs, plain.inputs)
    window = [6, 7, 8, 9, 10]  # row 0's last max_len + 1 clicks
    for i, t in enumerate(wide.targets[0].tolist()):
        assert t in window[i + 1:i + 4]
    assert wide.targets[1, 0] in (12, 13)  # row 1: inputs [11, 12], padding after
    assert wide.targets[1, 1:].tolist() == [13, 0, 0]


def test_side_attribute_loss_matches_a_per_feature_reference() -> None:
    torch.manual_seed(0)
    f = FeatureEmbedding(20, (4, 5, 6, 7), 50, 3, 8, "no-text")
    f.side_ids.copy_(torch.stack([torch.randint(1, s, (21,)) for s in (4, 5, 6, 7)], 1))
    h, target = torch.randn(9, 8), torch.randint(1, 21, (9,))
    expected = []
    for j, table in enumerate(f.side):
        logits = torch.stack([torch.stack([h[p] @ table.weight[v]  # value 0 is padding
                                           for v in range(1, table.num_embeddings)])
                              for p in range(9)])
        expected.append(F.cross_entropy(logits, f.side_ids[target, j] - 1))
    got = side_attribute_loss(h, target, f)
    assert torch.allclose(got, torch.stack(expected).mean(), atol=1e-6)


@pytest.mark.parametrize("overrides", [{"target_window": 0}, {"side_loss": -1.0}])
def test_bad_objective_settings_are_refused(overrides: dict) -> None:
    name = next(iter(overrides))
    with pytest.raises(UqaInputError, match=name):
        PretrainConfig.from_preset("tiny", **overrides).validate()
