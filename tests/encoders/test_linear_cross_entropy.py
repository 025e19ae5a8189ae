"""The chunked full-softmax loss equals the plain expression, value and gradients."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from uqa_encoders import losses
from uqa_encoders.losses import linear_cross_entropy


def _reference(h: torch.Tensor, table: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    logits = (h @ table.T).double()
    logits[:, 0] = float("-inf")
    return F.cross_entropy(logits, target)


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 40), items=st.integers(2, 30), dim=st.integers(1, 9),
       chunk=st.integers(1, 200), slice_=st.integers(1, 200), seed=st.integers(0, 2**16))
def test_value_and_gradients_match_the_plain_loss(rows: int, items: int, dim: int, chunk: int,
                                                  slice_: int, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(rows, dim, generator=g, requires_grad=True)
    table = torch.randn(items + 1, dim, generator=g, requires_grad=True)
    target = torch.randint(1, items + 1, (rows,), generator=g)
    old = losses.CHUNK_BYTES, losses.SLICE_ELEMENTS
    # blocks and slices of n // (items + 1) rows, at least one (float32: 4 bytes a logit)
    losses.CHUNK_BYTES, losses.SLICE_ELEMENTS = 4 * chunk, slice_
    try:
        ours = linear_cross_entropy(h, table, target)
        ours.mul(1.7).backward()
    finally:
        losses.CHUNK_BYTES, losses.SLICE_ELEMENTS = old
    gh, gt = h.grad.clone(), table.grad.clone()
    h.grad = table.grad = None
    ref = _reference(h, table, target)
    ref.mul(1.7).backward()
    assert ours.dtype == torch.float32
    assert ours.item() == pytest.approx(ref.item(), rel=1e-5, abs=1e-5)
    torch.testing.assert_close(gh, h.grad, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(gt, table.grad, rtol=1e-4, atol=1e-6)
    assert float(gt[0].abs().max()) == 0.0  # the padding row never gets a gradient


def test_no_gradient_work_without_grad() -> None:
    h, table = torch.randn(5, 4), torch.randn(7, 4)
    target = torch.tensor([1, 2, 3, 4, 6])
    with torch.no_grad():
        value = linear_cross_entropy(h, table, target)
    assert value.item() == pytest.approx(_reference(h, table, target).item(), rel=1e-5)


def test_bf16_autocast_tracks_float32() -> None:
    g = torch.Generator().manual_seed(0)
    h = torch.randn(64, 16, generator=g, requires_grad=True)
    table = torch.randn(101, 16, generator=g, requires_grad=True)
    target = torch.randint(1, 101, (64,), generator=g)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = linear_cross_entropy(h, table, target)
    loss.backward()
    assert loss.dtype == torch.float32 and table.grad.dtype == torch.float32
    ref = _reference(h.detach(), table.detach(), target)
    assert loss.item() == pytest.approx(ref.item(), rel=2e-2)


@pytest.mark.parametrize("chunk_bytes", [1 << 28, 2 * 101 * 7])
def test_bf16_autocast_gradients_track_float32_in_blocks(chunk_bytes: int,
                                                        monkeypatch) -> None:
    """Under bf16 autocast, in one block or in blocks of 7 rows (2 bytes a logit)."""
    g = torch.Generator().manual_seed(1)
    h = torch.randn(40, 16, generator=g, requires_grad=True)
    table = torch.randn(101, 16, generator=g, requires_grad=True)
    target = torch.randint(1, 101, (40,), generator=g)
    monkeypatch.setattr(losses, "CHUNK_BYTES", chunk_bytes)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = linear_cross_entropy(h, table, target)
    loss.backward()
    monkeypatch.undo()
    gh, gt = h.grad.clone(), table.grad.clone()
    h.grad = table.grad = None
    _reference(h, table, target).backward()
    assert gh.dtype == torch.float32 and gt.dtype == torch.float32
    torch.testing.assert_close(gh, h.grad.float(), rtol=0.05, atol=2e-3)
    torch.testing.assert_close(gt, table.grad.float(), rtol=0.05, atol=2e-3)


def test_a_second_backward_through_the_same_loss_is_refused() -> None:
    h = torch.randn(5, 4, requires_grad=True)
    table = torch.randn(7, 4, requires_grad=True)
    loss = linear_cross_entropy(h, table, torch.tensor([1, 2, 3, 4, 6]))
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
