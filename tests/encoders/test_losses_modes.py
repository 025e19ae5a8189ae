"""Losses (ce, sampled softmax with logQ, in-batch InfoNCE; a target window, a side-attribute
term) and input modes all learn."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from uqa_encoders.features import FeatureEmbedding
from uqa_encoders.losses import full_softmax, linear_cross_entropy, sampled_softmax
from uqa_encoders.pretrain import PretrainConfig, pretrain


@pytest.mark.parametrize(
    "overrides",
    [
        {"loss": "ce", "sampled": 32, "input_mode": "no-text"},
        {"loss": "infonce", "input_mode": "id-only", "lr": 5e-3},
        {"precision": "bf16"},
        {"target_window": 5},
        {"side_loss": 0.5},
    ],
    ids=["sampled-no-text", "infonce-id-only", "ce-bf16-autocast", "target-window",
         "side-loss"],
)
def test_other_losses_and_modes_beat_most_popular(
    data_dir: Path, tmp_path: Path, overrides: dict
) -> None:
    config = PretrainConfig.from_preset("tiny", epochs=2, eval_users=60, **overrides)
    summary = pretrain(data_dir, tmp_path / "enc", config)
    assert summary["hr@10"] > summary["most_popular"]["hr@10"] + 0.1, summary


def _features(mode: str) -> FeatureEmbedding:
    torch.manual_seed(0)
    f = FeatureEmbedding(20, (4, 5, 6, 7), 50, 3, 8, mode)
    f.side_ids.copy_(torch.randint(1, 4, (21, 4)))
    f.token_ids.copy_(torch.randint(0, 50, (21, 3)))
    f.side_ids[0] = 0
    f.token_ids[0] = 0
    return f


@pytest.mark.parametrize("mode", ["full", "no-text", "id-only"])
def test_feature_modes_and_padding(mode: str) -> None:
    f = _features(mode)
    out = f(torch.tensor([[0, 3, 5]]))
    assert torch.equal(out[0, 0], torch.zeros(8))
    ids_only = f.item(torch.tensor([3]))[0]
    same = torch.allclose(out[0, 1], ids_only)
    assert same == (mode == "id-only")
    assert f.item.weight.std().item() == pytest.approx(0.02, rel=0.25)
    assert f.item.weight.abs().max().item() <= 0.04 + 1e-6  # truncated at 2 std


@pytest.mark.parametrize("mode", ["full", "no-text", "id-only"])
def test_embed_unique_gives_forwards_vectors_and_gradients(mode: str) -> None:
    """Each distinct id composed once, then looked up: the same vectors as composing every
    click, and every table's gradient the same sum over the clicks (padding included)."""
    f = _features(mode)
    ids = torch.tensor([[0, 3, 5, 3, 3], [5, 1, 0, 0, 2]])
    weights = torch.randn(2, 5, 8)
    grads = []
    for embed in (f.embed_unique, f.forward):
        f.zero_grad(set_to_none=True)
        out = embed(ids)
        (out * weights).sum().backward()
        grads.append((out.detach(), [p.grad.clone() for p in f.parameters()]))
    (got, got_grads), (want, want_grads) = grads
    torch.testing.assert_close(got, want)
    assert len(got_grads) == len(want_grads) > 0
    for a, b in zip(got_grads, want_grads, strict=True):
        torch.testing.assert_close(a, b)


def test_sampled_softmax_with_all_items_matches_full_softmax_direction() -> None:
    """With uniform Q, logQ correction is a constant shift: sampled and full losses track."""
    f = _features("full")
    h = torch.randn(6, 8)
    target = torch.randint(1, 21, (6,))
    log_q = torch.full((21,), -torch.log(torch.tensor(20.0)))
    log_q[0] = -1e9
    g = torch.Generator().manual_seed(0)
    sampled = sampled_softmax(h, target, f, 4000, log_q, g)
    full = full_softmax(h, target, f)
    # 4000 uniform samples over 20 items: the sampled partition function ~ 200x the full one
    assert sampled.item() == pytest.approx(full.item() + torch.log(torch.tensor(200.0)).item(),
                                           abs=0.15)


@pytest.mark.parametrize("mode", ["full", "no-text", "id-only"])
def test_all_items_is_every_ids_vector_with_its_gradient(mode: str) -> None:
    """``all_items`` (the item table itself for ids alone) equals looking up every id, and
    the full-softmax loss through it gives every table the same gradient."""
    f = _features(mode)
    every = torch.arange(21)
    torch.testing.assert_close(f.all_items(), f(every))
    h, target = torch.randn(6, 8), torch.tensor([1, 4, 20, 3, 3, 9])
    grads = []
    for table in (f.all_items, lambda: f(every)):
        f.zero_grad(set_to_none=True)
        linear_cross_entropy(h, table(), target).backward()
        grads.append([p.grad.clone() for p in f.parameters()])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b)
