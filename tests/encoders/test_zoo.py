"""The encoder zoo: causality, padding never leaking, parameter counts, config errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from uqa_data.errors import UqaInputError
from uqa_encoders.model import build_encoder, encoder_config
from uqa_encoders.presets import ENCODER_TARGETS, TRM_PLUS_SCALING
from uqa_encoders.sizes import backbone_params
from uqa_encoders.zoo.mamba4rec import parallel_linear_scan, selective_scan

ENCODERS = sorted(ENCODER_TARGETS)
_CACHE: dict[str, torch.nn.Module] = {}


def _encoder(name: str) -> torch.nn.Module:
    if name not in _CACHE:
        torch.manual_seed(0)
        enc = build_encoder(name, encoder_config(name, "tiny", dropout=0.0, max_len=24))
        _CACHE[name] = enc.eval()
    return _CACHE[name]


def _times(b: int, n: int) -> torch.Tensor:
    return torch.cumsum(torch.randint(1, 5000, (b, n)), dim=1)


@pytest.mark.parametrize("name", ENCODERS)
@settings(max_examples=8)
@given(lengths=st.lists(st.integers(1, 12), min_size=1, max_size=4), extra=st.integers(0, 8),
       seed=st.integers(0, 10_000))
def test_padding_never_leaks(name: str, lengths: list[int], extra: int, seed: int) -> None:
    """Garbage in padded slots, and more padding, leave every valid position unchanged."""
    enc = _encoder(name)
    g = torch.Generator().manual_seed(seed)
    b, n, d = len(lengths), max(lengths), enc.config.dim
    x = torch.randn(b, n, d, generator=g)
    lens = torch.tensor(lengths)
    times = _times(b, n)
    valid = torch.arange(n)[None, :] < lens[:, None]
    x = x * valid.unsqueeze(-1)
    with torch.no_grad():
        ref = enc(x, lens, times)
        noisy = torch.randn(b, n + extra, d, generator=g) * 10
        noisy[:, :n][valid] = x[valid]
        t2 = torch.cat([times, times[:, -1:].expand(b, extra) + 7], dim=1)
        out = enc(noisy, lens, t2)
    for i, length in enumerate(lengths):
        torch.testing.assert_close(out[i, :length], ref[i, :length], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", ENCODERS)
def test_causal_and_batch_independent(name: str) -> None:
    """Position t depends on clicks 0..t only, and not on other sequences in the batch."""
    enc = _encoder(name)
    torch.manual_seed(1)
    x = torch.randn(3, 10, enc.config.dim)
    lens = torch.tensor([10, 7, 4])
    times = _times(3, 10)
    with torch.no_grad():
        full = enc(x, lens, times)
        prefix = enc(x[:1, :5], torch.tensor([5]), times[:1, :5])
        alone = enc(x[2:3, :4], torch.tensor([4]), times[2:3, :4])
    torch.testing.assert_close(prefix[0], full[0, :5], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(alone[0], full[2, :4], atol=1e-5, rtol=1e-4)
    x2 = x.clone()
    # changing the future changes later positions, not earlier ones
    x2[0, 6:] += torch.randn(4, enc.config.dim)
    with torch.no_grad():
        changed = enc(x2, lens, times)
    torch.testing.assert_close(changed[0, :6], full[0, :6], atol=1e-5, rtol=1e-4)
    assert not torch.allclose(changed[0, 6:], full[0, 6:])


@pytest.mark.parametrize("size", sorted(TRM_PLUS_SCALING))
def test_trm_plus_scaling_matches_paper_table5(size: str) -> None:
    layers, dim, heads, paper = TRM_PLUS_SCALING[size]
    cfg = encoder_config("trm_plus", size)
    assert (cfg.layers, cfg.dim, cfg.heads) == (layers, dim, heads)
    n = backbone_params("trm_plus", size)
    assert abs(n - paper) / paper < 0.05, (size, n, paper)


@pytest.mark.parametrize("name", ENCODERS)
def test_paper_preset_near_20m(name: str) -> None:
    n = backbone_params(name, "paper")
    upper = 50e6 if name == "sasrec" else 30e6  # sasrec: the paper's stated (6, 1024, 8) shape
    assert 15e6 < n < upper, (name, n)


@pytest.mark.parametrize("name", ["sasrec", "hstu", "trm_plus"])
def test_dim_not_divisible_by_heads(name: str) -> None:
    with pytest.raises(UqaInputError, match=r"dim=30 is not divisible by heads=4"):
        encoder_config(name, "tiny", dim=30, heads=4)


def test_wrong_input_shapes_are_named() -> None:
    enc = _encoder("sasrec")
    with pytest.raises(UqaInputError, match="expected \\[batch, length, 32\\]"):
        enc(torch.zeros(2, 5, 16), torch.tensor([5, 5]))
    with pytest.raises(UqaInputError, match="exceeds max_len=24"):
        enc(torch.zeros(1, 30, 32), torch.tensor([30]))
    with pytest.raises(UqaInputError, match="sequence 1 of the batch is empty"):
        enc(torch.zeros(2, 5, 32), torch.tensor([5, 0]))


def _reference_scan(u, delta, A, B, C, D):
    h = torch.zeros(u.shape[0], u.shape[2], A.shape[1])
    ys = []
    for t in range(u.shape[1]):
        h = torch.exp(delta[:, t, :, None] * A) * h + (delta[:, t] * u[:, t])[..., None] * B[
            :, t, None, :]
        ys.append((h * C[:, t, None, :]).sum(-1) + D * u[:, t])
    return torch.stack(ys, 1)


@settings(max_examples=10)
@given(length=st.integers(1, 70), chunk=st.sampled_from([1, 3, 16, 64]))
def test_selective_scan_matches_sequential_reference(length: int, chunk: int) -> None:
    torch.manual_seed(length)
    b, e, n = 2, 6, 4
    u, delta = torch.randn(b, length, e), torch.rand(b, length, e)
    A, B, C, D = -torch.rand(e, n) * 3, torch.randn(b, length, n), torch.randn(b, length, n), \
        torch.randn(e)
    got = selective_scan(u, delta, A, B, C, D, chunk=chunk)
    torch.testing.assert_close(got, _reference_scan(u, delta, A, B, C, D), atol=1e-4, rtol=1e-4)


def test_parallel_linear_scan() -> None:
    a, b = torch.rand(9, 3), torch.randn(9, 3)
    h, ref = torch.zeros(3), []
    for t in range(9):
        h = a[t] * h + b[t]
        ref.append(h)
    torch.testing.assert_close(parallel_linear_scan(a, b, dim=0), torch.stack(ref))


def test_mamba_kernel_agrees_with_pytorch_scan() -> None:
    pytest.importorskip("mamba_ssm")
    if not torch.cuda.is_available():
        pytest.skip("mamba_ssm kernel needs a GPU")
    from mamba_ssm.ops.selective_scan_interface import selective_scan_fn

    torch.manual_seed(0)
    b, length, e, n = 2, 50, 8, 4
    u, delta = torch.randn(b, length, e).cuda(), torch.rand(b, length, e).cuda()
    A, D = (-torch.rand(e, n) * 3).cuda(), torch.randn(e).cuda()
    B, C = torch.randn(b, length, n).cuda(), torch.randn(b, length, n).cuda()
    ours = selective_scan(u, delta, A, B, C, D)
    theirs = selective_scan_fn(
        u.transpose(1, 2).contiguous(), delta.transpose(1, 2).contiguous(), A,
        B.transpose(1, 2).contiguous(), C.transpose(1, 2).contiguous(), D,
    ).transpose(1, 2)
    torch.testing.assert_close(ours, theirs, atol=1e-3, rtol=1e-3)


def test_selective_scan_gradients_match_reference() -> None:
    """The checkpointed chunks give the same gradients as the sequential recurrence."""
    torch.manual_seed(0)
    b, length, e, n = 2, 37, 6, 4
    u = torch.randn(b, length, e, requires_grad=True)
    delta = torch.rand(b, length, e, requires_grad=True)
    A = (-torch.rand(e, n) * 3).requires_grad_()
    B, C, D = torch.randn(b, length, n), torch.randn(b, length, n), torch.randn(e)

    def grads(fn: object) -> list[torch.Tensor]:
        for t in (u, delta, A):
            t.grad = None
        fn(u, delta, A, B, C, D).square().sum().backward()
        return [t.grad.clone() for t in (u, delta, A)]

    ours = grads(lambda *a: selective_scan(*a, chunk=8))
    ref = grads(_reference_scan)
    for got, want in zip(ours, ref, strict=True):
        torch.testing.assert_close(got, want, atol=1e-3, rtol=1e-4)


def test_gru4rec_hidden_other_than_dim_projects_back() -> None:
    """hidden=2*dim (the official module's shape) adds a projection and stays causal."""
    torch.manual_seed(0)
    enc = build_encoder("gru4rec", encoder_config("gru4rec", "tiny", dropout=0.0, max_len=24,
                                                  hidden=64)).eval()
    assert enc.gru.hidden_size == 64 and enc.out is not None
    plain = build_encoder("gru4rec", encoder_config("gru4rec", "tiny", max_len=24))
    assert plain.out is None  # hidden=0 means dim: the shape of every saved encoder
    assert enc.get_num_params() == plain.get_num_params() - sum(
        p.numel() for p in plain.gru.parameters()) + sum(
        p.numel() for p in enc.gru.parameters()) + 64 * 32 + 32
    x = torch.randn(2, 9, 32)
    with torch.no_grad():
        full = enc(x, torch.tensor([9, 9]))
        prefix = enc(x[:, :4], torch.tensor([4, 4]))
    assert full.shape == (2, 9, 32)
    torch.testing.assert_close(prefix, full[:, :4], atol=1e-5, rtol=1e-4)
    with pytest.raises(UqaInputError, match="hidden=-1"):
        encoder_config("gru4rec", "tiny", hidden=-1)


def test_dropout_keeps_one_minus_p_scaled_and_passes_gradients_through_the_mask() -> None:
    from uqa_encoders.zoo.base import Dropout

    torch.manual_seed(0)
    drop = Dropout(0.25)
    x = torch.ones(400, 500, requires_grad=True)
    y = drop(x)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.75) < 0.005
    assert torch.allclose(y[kept], torch.full_like(y[kept], 1 / 0.75))
    y.sum().backward()
    assert torch.equal(x.grad, y.detach())  # d y / d x is the scaled mask itself
    drop.eval()
    assert drop(x) is x
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert Dropout(0.1).train()(x.to(torch.bfloat16)).dtype == torch.bfloat16


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 40), min_size=1, max_size=3),
       p=st.floats(0.01, 0.9), seed=st.integers(0, 2**62), bf16=st.booleans(),
       transpose=st.booleans())
def test_hash_dropout_zeroes_by_seed_and_scales_the_rest_as_float32_would(
        shape: list[int], p: float, seed: int, bf16: bool, transpose: bool) -> None:
    """Each element kept or zeroed by its own draw for the seed (the same on every call),
    a kept value ``x * (1 / (1 - p))`` in float32 rounded to the input's dtype."""
    from uqa_encoders.zoo.base import hash_dropout

    dtype = torch.bfloat16 if bf16 else torch.float32
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed % 1000)).to(dtype)
    if transpose and x.dim() > 1:  # a strided input is read as its values
        x = x.transpose(0, -1)
    y = hash_dropout(x, p, seed)
    assert y.dtype == dtype and y.shape == x.shape and y.is_contiguous()
    assert torch.equal(hash_dropout(x, p, seed), y)
    kept = y != 0
    expected = (x.float() * torch.tensor(1.0 / (1.0 - p), dtype=torch.float32)).to(dtype)
    assert torch.equal(y[kept], expected[kept])
    # the same positions for any values of the same shape
    ones = hash_dropout(torch.ones(x.shape, dtype=dtype), p, seed) != 0
    assert torch.equal(ones & (x != 0), kept)


def test_hash_dropout_keeps_one_minus_p_with_independent_draws() -> None:
    """Keep rates within binomial bounds overall, per seed, and in each block of the
    tensor; two seeds' masks agree as often as independent draws would."""
    from uqa_encoders.zoo.base import hash_dropout

    n, p = 1 << 20, 0.3
    masks = [hash_dropout(torch.ones(n), p, seed) != 0 for seed in (1, 2)]
    sd = (p * (1 - p) / n) ** 0.5
    for m in masks:
        assert abs(m.float().mean().item() - (1 - p)) < 5 * sd
        blocks = m.view(64, -1).float().mean(1)  # no drift along the index
        assert float((blocks - (1 - p)).abs().max()) < 5 * (p * (1 - p) / (n / 64)) ** 0.5
    both = (masks[0] & masks[1]).float().mean().item()
    assert abs(both - (1 - p) ** 2) < 5 * sd
    pairs = (masks[0][:-1] & masks[0][1:]).float().mean().item()  # neighbours independent
    assert abs(pairs - (1 - p) ** 2) < 5 * sd


def test_dropout_backward_draws_the_forward_mask_again() -> None:
    from uqa_encoders.zoo.base import Dropout

    drop = Dropout(0.4)
    for dtype in (torch.float32, torch.bfloat16):
        x = torch.randn(3, 50, 7).to(dtype).requires_grad_()
        torch.manual_seed(5)
        y = drop(x)
        g = torch.randn_like(y)
        y.backward(g)
        scale = torch.tensor(1 / 0.6, dtype=torch.float32)
        assert torch.equal(x.grad, torch.where(y != 0, (g.float() * scale).to(dtype), 0))
        torch.manual_seed(5)  # torch's seed repeats the mask
        assert torch.equal(drop(x), y)


@settings(max_examples=20, deadline=None)
@given(n=st.sampled_from([1, 5, 127, 128, 129, 256, 300, 512, 513]), heads=st.integers(1, 3),
       hd=st.sampled_from([4, 8, 16]), seed=st.integers(0, 2**16))
def test_causal_attention_matches_one_causal_call_values_and_gradients(
        n: int, heads: int, hd: int, seed: int) -> None:
    """In float32, both CPU forms (two flash calls between 257 and 512 positions; queries
    in blocks of 128, what bf16 training runs): the same attention as one causal
    ``scaled_dot_product_attention``, and the same gradients, across block edges."""
    import torch.nn.functional as F
    from uqa_encoders.zoo.base import causal_attention
    from uqa_encoders.zoo.blocked_attention import blocked_causal_attention

    g = torch.Generator().manual_seed(seed)
    qkv = [torch.randn(2, heads, n, hd, generator=g, requires_grad=True) for _ in range(3)]
    weight = torch.randn(2, heads, n, hd, generator=g)
    results = []
    for attend in (causal_attention, blocked_causal_attention,
                   lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)):
        out = attend(*qkv)
        (out * weight).sum().backward()
        results.append([out.detach(), *(t.grad.clone() for t in qkv)])
        for t in qkv:
            t.grad = None
    for ours in results[:2]:
        for mine, plain in zip(ours, results[2], strict=True):
            torch.testing.assert_close(mine, plain, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("n", [5, 129, 300, 512])
def test_causal_attention_bf16_within_rounding_of_float32(n: int) -> None:
    """In bf16 (scores and probabilities held in bf16, as under autocast) the blocked
    attention and its gradients stay within 1% (relative RMS) of float32's, as PyTorch's
    own bf16 kernel does; a wrong mask, scale or block edge is off by far more. Inputs
    are strided views, as the encoders pass them."""
    import torch.nn.functional as F
    from uqa_encoders.zoo.base import causal_attention

    g = torch.Generator().manual_seed(n)
    heads, hd = 3, 32
    x = [torch.randn(2, n, heads, hd, generator=g) for _ in range(3)]
    weight = torch.randn(2, heads, n, hd, generator=g)
    ref = [t.transpose(1, 2).contiguous().requires_grad_() for t in x]
    out = F.scaled_dot_product_attention(*ref, is_causal=True)
    (out * weight).sum().backward()
    leaves = [t.bfloat16().requires_grad_() for t in x]
    got = causal_attention(*(t.transpose(1, 2) for t in leaves))  # [B, H, L, hd] views
    (got * weight.bfloat16()).sum().backward()
    for ours, plain in [(got.detach(), out.detach()), *((a.grad.transpose(1, 2), b.grad)
                                      for a, b in zip(leaves, ref, strict=True))]:
        assert ours.dtype == torch.bfloat16
        assert float((ours.float() - plain).norm() / plain.norm()) < 1e-2


def test_causal_attention_without_a_gradient_is_pytorchs_own() -> None:
    """No gradient to form in bf16 (embedding users), below the two-call lengths:
    PyTorch's own kernel, bit for bit."""
    import torch.nn.functional as F
    from uqa_encoders.zoo.base import causal_attention

    q, k, v = torch.randn(3, 2, 2, 200, 16).bfloat16().unbind(0)
    with torch.no_grad():
        assert torch.equal(causal_attention(q, k, v),
                           F.scaled_dot_product_attention(q, k, v, is_causal=True))
    assert torch.equal(causal_attention(q, k, v),
                       F.scaled_dot_product_attention(q, k, v, is_causal=True))


def test_trm_plus_rope_rotates_interleaved_pairs_by_position() -> None:
    """The complex-product RoPE equals the real-valued rotation, pair by pair (slow loop)."""
    import math

    from uqa_encoders.zoo.trm_plus import apply_rope, rope_tables

    torch.manual_seed(0)
    b, h, n, hd, base = 2, 3, 7, 6, 10000.0
    x = torch.randn(b, h, n, hd)
    out = apply_rope(x, rope_tables(n, hd, base, torch.device("cpu")))
    ref = torch.empty_like(x)
    for p in range(n):
        for i in range(hd // 2):
            a = p * base ** (-2 * i / hd)
            x1, x2 = x[..., p, 2 * i], x[..., p, 2 * i + 1]
            ref[..., p, 2 * i] = x1 * math.cos(a) - x2 * math.sin(a)
            ref[..., p, 2 * i + 1] = x1 * math.sin(a) + x2 * math.cos(a)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    assert apply_rope(x.to(torch.bfloat16), rope_tables(n, hd, base, x.device)).dtype == \
        torch.bfloat16


@settings(max_examples=15, deadline=None)
@given(rows=st.integers(1, 6), width=st.integers(1, 40), scale=st.floats(1e-3, 1e3),
       seed=st.integers(0, 10_000))
def test_trm_plus_rmsnorm_matches_the_plain_expression(rows: int, width: int, scale: float,
                                                       seed: int) -> None:
    """The float32 RMSNorm (its backward written out) gives the plain expression's values
    and the gradients autograd takes through it, for the input and the weight."""
    from uqa_encoders.zoo.trm_plus import RMSNorm

    torch.manual_seed(seed)
    norm = RMSNorm(width)
    with torch.no_grad():
        norm.weight.uniform_(-2.0, 2.0)
    x = (torch.randn(2, rows, width) * scale).requires_grad_()
    grad = torch.randn(2, rows, width)
    out = norm(x)
    out.backward(grad)
    got = (out.detach(), x.grad.clone(), norm.weight.grad.clone())
    x.grad, norm.weight.grad = None, None
    xd, wd = x.detach().double().requires_grad_(), norm.weight.detach().double().requires_grad_()
    ref = xd * torch.rsqrt(xd.pow(2).mean(-1, keepdim=True) + norm.eps) * wd
    ref.backward(grad.double())
    for a, b in zip(got, (ref, xd.grad, wd.grad), strict=True):
        atol = 1e-4 * max(1.0, float(b.detach().abs().max()))
        torch.testing.assert_close(a.double(), b.detach(), atol=atol, rtol=1e-4)


@settings(max_examples=12, deadline=None)
@given(batch=st.integers(1, 4), steps=st.integers(1, 9), dim=st.integers(1, 6),
       hidden=st.integers(1, 7), layers=st.integers(1, 3), seed=st.integers(0, 10_000))
def test_gru4rec_training_recurrence_matches_nn_gru(batch: int, steps: int, dim: int,
                                                    hidden: int, layers: int, seed: int) -> None:
    """The CPU training path (custom backward) gives nn.GRU's outputs and gradients."""
    torch.manual_seed(seed)
    enc = build_encoder("gru4rec", encoder_config("gru4rec", "tiny", dim=dim, hidden=hidden,
                                                  layers=layers, dropout=0.0, max_len=16))
    for p in enc.gru.parameters():
        torch.nn.init.normal_(p, std=0.5)
    x = torch.randn(batch, steps, dim, requires_grad=True)
    out = enc._train_layers(x)
    grad = torch.randn_like(out)
    out.backward(grad)
    ours = [x.grad.clone()] + [p.grad.clone() for p in enc.gru.parameters()]
    x.grad = None
    enc.gru.zero_grad(set_to_none=True)
    ref, _ = enc.gru(x)
    ref.backward(grad)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-4)
    for a, b in zip(ours, [x.grad] + [p.grad for p in enc.gru.parameters()], strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_gru4rec_trains_in_bfloat16_weights_through_nn_gru() -> None:
    """A model cast to bfloat16 (no autocast) trains on the CPU: its batches go through
    nn.GRU, since the recurrence's numba kernel has float32 and float64 forms only."""
    torch.manual_seed(0)
    enc = build_encoder("gru4rec", encoder_config("gru4rec", "tiny", dropout=0.0,
                                                  max_len=8)).to(torch.bfloat16).train()
    x = torch.randn(3, 5, enc.config.dim, dtype=torch.bfloat16, requires_grad=True)
    enc(x, torch.tensor([5, 3, 1])).float().sum().backward()
    assert x.grad is not None and x.grad.dtype == torch.bfloat16
    assert all(p.grad is not None for p in enc.gru.parameters())


@pytest.mark.parametrize("path", ["onednn", "mkl", "plain"])
@pytest.mark.parametrize("compute", [torch.float32, torch.bfloat16])
def test_gru4rec_step_product_is_the_plain_product(path: str, compute: torch.dtype,
                                                   monkeypatch) -> None:
    """The recurrence's per-step product, with oneDNN's or MKL's packed weight (where torch
    has them) and without: ``x @ w.T (+ b)`` in float32, also for an ``x`` of another row
    count; with ``compute=bfloat16``, the product of the bf16-rounded factors (the bias
    added in float32)."""
    from uqa_encoders.zoo import gru4rec

    onednn = gru4rec._ONEDNN_PACK_DTYPES if path == "onednn" else frozenset()
    monkeypatch.setattr(gru4rec, "_ONEDNN_PACK_DTYPES", onednn)
    monkeypatch.setattr(gru4rec, "_HAS_MKL_PACK", path == "mkl" and gru4rec._HAS_MKL_PACK)
    torch.manual_seed(0)
    w, b = torch.randn(12, 7), torch.randn(12)
    product = gru4rec.step_product(w, 5, compute)
    for rows in (5, 3):
        x = torch.randn(rows, 7)
        want = (x.to(compute).double() @ w.to(compute).double().T).float()
        tol = {"atol": 1e-5, "rtol": 1e-4} if compute == torch.float32 else {
            "atol": 2e-2, "rtol": 1e-2}  # bf16 output rounding
        got = product(x)
        assert got.dtype == torch.float32
        torch.testing.assert_close(got, want, **tol)
        torch.testing.assert_close(product(x, b), want + b, **tol)


@pytest.mark.parametrize("layers", [1, 2])
def test_gru4rec_bf16_step_products_follow_nn_gru(layers: int) -> None:
    """Under CPU bf16 autocast the training path (products in bf16, gates in float32)
    gives nn.GRU's float32 outputs and gradients to bf16 accuracy, and its weight
    gradients come back in float32."""
    torch.manual_seed(3)
    enc = build_encoder("gru4rec", encoder_config("gru4rec", "tiny", dim=16, hidden=24,
                                                  layers=layers, dropout=0.0, max_len=16))
    x = torch.randn(3, 11, 16, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = enc._train_layers(x, low=True)
    assert out.dtype == torch.float32
    grad = torch.randn_like(out)
    out.backward(grad)
    ours = [x.grad.clone()] + [p.grad.clone() for p in enc.gru.parameters()]
    assert all(g.dtype == torch.float32 for g in ours)
    x.grad = None
    enc.gru.zero_grad(set_to_none=True)
    ref, _ = enc.gru(x)
    ref.backward(grad)
    refs = [x.grad] + [p.grad for p in enc.gru.parameters()]
    torch.testing.assert_close(out, ref, atol=3e-2, rtol=3e-2)
    for a, b in zip(ours, refs, strict=True):
        scale = float(b.abs().max())
        torch.testing.assert_close(a, b, atol=3e-2 * max(scale, 1.0), rtol=5e-2)
    # and it is not the float32 path: bf16 products round somewhere
    assert not torch.equal(out, ref)


def test_gru4rec_training_under_bf16_autocast_takes_the_bf16_recurrence(monkeypatch) -> None:
    """A training step under CPU bf16 autocast runs the custom recurrence with bf16 products
    where oneDNN packs bf16 weights here, and nn.GRU's own kernel where it does not."""
    from uqa_encoders.zoo import gru4rec

    calls: list[bool] = []
    real = gru4rec.GRU4Rec._train_layers

    def spy(self, x, low=False):
        calls.append(low)
        return real(self, x, low=low)

    monkeypatch.setattr(gru4rec.GRU4Rec, "_train_layers", spy)
    enc = build_encoder("gru4rec", encoder_config("gru4rec", "tiny", dropout=0.0,
                                                  max_len=8)).train()
    x = torch.randn(2, 5, enc.config.dim, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = enc(x, torch.tensor([5, 2]))
    out.float().sum().backward()
    assert x.grad is not None
    expected = [True] if torch.bfloat16 in gru4rec._ONEDNN_PACK_DTYPES else []
    assert calls == expected
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        enc(x, torch.tensor([5, 2]))  # inference: nn.GRU, never the training path
    assert calls == expected
