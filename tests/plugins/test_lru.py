"""The example plugin's LRU encoder: scan correctness, causality, padding, shapes, config."""

from __future__ import annotations

import math
from functools import cache

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from uqa_data.errors import UqaInputError
from uqa_encoders.zoo.base import SequentialEncoder
from uqa_plugin_example.lru import LRU, LRUConfig, LRULayer
from uqa_plugin_example.plugin import LRU_SIZES
from uqa_plugin_example.scan import linear_scan, sequential_scan

torch.set_num_threads(1)  # tiny tensors: more threads only contend on a shared CPU


def _random_log_lambda(n: int, gen: torch.Generator) -> torch.Tensor:
    modulus = 0.5 + 0.499 * torch.rand(n, generator=gen, dtype=torch.float64)
    phase = 2 * math.pi * torch.rand(n, generator=gen, dtype=torch.float64)
    return torch.complex(torch.log(modulus), phase)


@settings(max_examples=25)
@given(
    batch=st.integers(1, 3),
    length=st.integers(1, 100),
    n=st.integers(1, 6),
    chunk=st.integers(1, 70),
    seed=st.integers(0, 2**31 - 1),
)
def test_parallel_scan_equals_sequential_reference(
    batch: int, length: int, n: int, chunk: int, seed: int
) -> None:
    gen = torch.Generator().manual_seed(seed)
    log_lam = _random_log_lambda(n, gen)
    b = torch.complex(
        torch.randn(batch, length, n, generator=gen, dtype=torch.float64),
        torch.randn(batch, length, n, generator=gen, dtype=torch.float64),
    )
    got = linear_scan(log_lam, b, chunk)
    want = sequential_scan(log_lam, b)
    assert got.shape == (batch, length, n)
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)


def test_scan_float32_matches_reference_on_long_sequences() -> None:
    gen = torch.Generator().manual_seed(1)
    log_lam = _random_log_lambda(16, gen).to(torch.complex64)
    b = torch.randn(2, 512, 16, dtype=torch.complex64, generator=gen)
    torch.testing.assert_close(linear_scan(log_lam, b, 64), sequential_scan(log_lam, b),
                               rtol=1e-4, atol=1e-4)


def test_scan_gradients_match_reference() -> None:
    gen = torch.Generator().manual_seed(2)
    log_lam = _random_log_lambda(4, gen).requires_grad_()
    b = torch.randn(2, 37, 4, dtype=torch.complex128, generator=gen).requires_grad_()
    grads = []
    for fn in (lambda: linear_scan(log_lam, b, 8), lambda: sequential_scan(log_lam, b)):
        out = fn()
        (out.real.sum() + out.imag.pow(2).sum()).backward()
        grads.append((log_lam.grad.clone(), b.grad.clone()))
        log_lam.grad, b.grad = None, None
    torch.testing.assert_close(grads[0][0], grads[1][0])
    torch.testing.assert_close(grads[0][1], grads[1][1])


def _model(**overrides) -> LRU:
    torch.manual_seed(0)
    cfg = LRUConfig(**{"dim": 16, "layers": 2, "max_len": 64, "dropout": 0.0, "chunk": 8,
                       **overrides})
    return LRU(cfg).eval()


@cache
def _shared_model() -> LRU:
    return _model()


@settings(max_examples=20)
@given(length=st.integers(2, 40), cut=st.integers(0, 39), seed=st.integers(0, 10_000))
def test_changing_a_later_click_never_changes_earlier_states(length: int, cut: int, seed: int
                                                             ) -> None:
    cut = cut % (length - 1)  # positions 0..cut keep their clicks, cut+1.. change
    model = _shared_model()
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, length, 16, generator=gen)
    y = x.clone()
    y[:, cut + 1 :] = torch.randn(1, length - cut - 1, 16, generator=gen)
    lengths = torch.tensor([length])
    with torch.no_grad():
        hx, hy = model(x, lengths), model(y, lengths)
    torch.testing.assert_close(hx[:, : cut + 1], hy[:, : cut + 1], rtol=0, atol=1e-6)
    assert not torch.allclose(hx[:, cut + 1 :], hy[:, cut + 1 :])  # later states do react


def test_padding_never_leaks_into_valid_positions() -> None:
    model = _model()
    gen = torch.Generator().manual_seed(3)
    lengths = torch.tensor([5, 23, 40, 1])
    x = torch.randn(4, 40, 16, generator=gen)
    garbage = x.clone()
    for row, n in enumerate(lengths.tolist()):
        garbage[row, n:] = 1e3 * torch.randn(40 - n, 16, generator=gen)
    with torch.no_grad():
        h_x, h_garbage = model(x, lengths), model(garbage, lengths)
        for row, n in enumerate(lengths.tolist()):
            alone = model(x[row : row + 1, :n], lengths[row : row + 1])  # unpadded
            torch.testing.assert_close(h_x[row, :n], alone[0], rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(h_garbage[row, :n], alone[0], rtol=1e-5, atol=1e-5)


def test_layer_state_ignores_padding_even_before_valid_clicks() -> None:
    """The recurrence input is masked: a padded step adds nothing to the state."""
    torch.manual_seed(0)
    layer = LRULayer(LRUConfig(dim=8, layers=1, chunk=4))
    u = torch.randn(1, 6, 8)
    mask = torch.tensor([[True, True, False, False, True, True]])
    u_other = u.clone()
    u_other[0, 2:4] = 50.0
    with torch.no_grad():
        torch.testing.assert_close(layer(u, mask), layer(u_other, mask))


def test_shapes_dtype_and_gradients() -> None:
    model = _model(dropout=0.1).train()
    x = torch.randn(3, 20, 16, requires_grad=True)
    out = model(x, torch.tensor([20, 7, 1]))
    assert out.shape == (3, 20, 16) and out.dtype == torch.float32
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert isinstance(model, SequentialEncoder) and model.name == "lru"


def test_eigenvalues_stay_inside_the_unit_disc_for_any_parameters() -> None:
    layer = LRULayer(LRUConfig(dim=8, layers=1, r_min=0.3, r_max=0.95))
    modulus = torch.exp(layer.log_lambda()).abs()
    assert bool(((modulus >= 0.3 - 1e-6) & (modulus <= 0.95 + 1e-6)).all())
    with torch.no_grad():
        layer.nu_log.uniform_(-20.0, 5.0)  # any real value keeps |lambda| < 1
    assert bool((torch.exp(layer.log_lambda()).abs() <= 1.0).all())
    gamma = torch.exp(layer.gamma_log)
    assert bool((gamma > 0).all() and (gamma < 1).all())


def test_check_input_rejects_wrong_width_and_overlong_sequences() -> None:
    model = _model()
    with pytest.raises(UqaInputError, match="expected \\[batch, length, 16\\]"):
        model(torch.randn(1, 4, 8), torch.tensor([4]))
    with pytest.raises(UqaInputError, match="max_len=64"):
        model(torch.randn(1, 65, 16), torch.tensor([65]))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"r_min": 0.99, "r_max": 0.9}, "0 < r_min < r_max < 1"),
        ({"r_max": 1.0}, "0 < r_min < r_max < 1"),
        ({"chunk": 0}, "chunk >= 1"),
        ({"state_dim": -1}, "state_dim >= 0"),
        ({"max_phase": 0.0}, "max_phase"),
    ],
)
def test_config_rejects_bad_values(overrides: dict, message: str) -> None:
    with pytest.raises(UqaInputError, match=message):
        LRUConfig(**overrides)


def test_state_dim_zero_means_dim_and_round_trips() -> None:
    cfg = LRUConfig(dim=24, state_dim=0)
    assert cfg.state_dim == 24
    assert LRUConfig(**cfg.to_dict()) == cfg


def _expected_params(dim: int, layers: int, state_dim: int) -> int:
    """Per layer: LayerNorm 2H, B and C 4NH, D H, nu/theta/gamma 3N, GLU 2H^2 + 2H; final norm."""
    h, n = dim, state_dim
    return layers * (2 * h + 4 * n * h + h + 3 * n + 2 * h * h + 2 * h) + 2 * h


def test_size_presets_count_as_expected_and_paper_is_about_20m() -> None:
    for size in ("tiny", "small"):
        model = LRU(LRUConfig(**LRU_SIZES[size]))
        assert model.get_num_params() == _expected_params(**LRU_SIZES[size]), size
    counts = {size: _expected_params(**o) for size, o in LRU_SIZES.items()}
    assert counts["tiny"] < counts["small"] < counts["base"] < counts["paper"]
    assert 18e6 <= counts["paper"] <= 24e6, counts["paper"]


def test_bf16_autocast_keeps_the_recurrence_in_float32() -> None:
    model = _model()
    x = torch.randn(2, 30, 16)
    lengths = torch.tensor([30, 12])
    with torch.no_grad():
        full = model(x, lengths)
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            half = model(x, lengths)
    assert torch.isfinite(half).all()
    torch.testing.assert_close(half.float(), full, rtol=0.1, atol=0.1)
