"""Adapters: shapes, finite outputs for users with no valid position, options by name."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from uqa_align.adapters import build_adapter
from uqa_data.errors import UnknownNameError, UqaInputError


@pytest.mark.parametrize(("name", "tokens"), [("mean_linear", 1), ("qformer", 16)])
def test_shapes_and_all_masked_rows(name, tokens):
    a = build_adapter(name, 6, 32)
    emb = torch.randn(3, 5, 6)
    mask = torch.tensor([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    out = a(emb, mask)
    assert out.shape == (3, tokens, 32) and a.num_tokens == tokens
    assert torch.isfinite(out).all()


def test_masked_positions_do_not_matter():
    a = build_adapter("qformer", 4, 16, {"num_tokens": 3, "width": 16, "heads": 2})
    emb = torch.randn(1, 4, 4)
    mask = torch.tensor([[1, 1, 0, 0]], dtype=torch.bool)
    changed = emb.clone()
    changed[0, 2:] = 100.0
    assert torch.allclose(a(emb, mask), a(changed, mask), atol=1e-5)
    m = build_adapter("mean_linear", 4, 16)
    assert torch.allclose(m(emb, mask), m(changed, mask), atol=1e-5)


def test_bad_adapter_name_option_and_width():
    with pytest.raises(UnknownNameError, match="did you mean 'qformer'"):
        build_adapter("qformr", 4, 8)
    with pytest.raises(UqaInputError, match="unknown option"):
        build_adapter("mean_linear", 4, 8, {"tokens": 2})
    with pytest.raises(UqaInputError, match="embedding width 5 does not match"):
        build_adapter("mean_linear", 4, 8)(torch.randn(1, 1, 5), torch.ones(1, 1, dtype=torch.bool))


def test_qformer_aligns_and_reloads(tmp_path):
    from uqa_align.aligned import load_aligned
    from uqa_align.testing import tiny_llm, write_probe
    from uqa_align.train import AlignConfig, align

    q, e = write_probe(tmp_path, 8)
    cfg = AlignConfig.from_preset("tiny", steps=2, adapter="qformer",
                                  adapter_options={"num_tokens": 4, "width": 16, "heads": 2})
    s = align(q, e, None, tmp_path / "a", cfg, llm=tiny_llm())
    assert s["skipped_steps"] == 0
    aligned = load_aligned(tmp_path / "a", llm=tiny_llm())
    assert aligned.adapter.num_tokens == 4
    enc = aligned.builder.encode("Q?", ["a", "b", "c", "d"], n_soft=aligned.adapter.num_tokens)
    assert enc.n_soft == 4


def test_input_stats_switch_off_constant_dims_and_floor_rare_ones() -> None:
    """A dimension constant over the alignment users cannot blow up an unseen value; a
    rare one-hot slot is floored at 5% of the median spread."""
    import torch
    from uqa_align.adapters import build_adapter

    emb = torch.zeros(1000, 1, 4)
    emb[:, 0, 0] = torch.randn(1000)
    emb[:, 0, 1] = torch.randn(1000)
    emb[0, 0, 2] = 1.0  # one user in a thousand
    adapter = build_adapter("mean_linear", 4, 8)
    adapter.fit_input_stats(emb, torch.ones(1000, 1, dtype=torch.bool))
    x = torch.tensor([[[0.0, 0.0, 1.0, 1.0]]])  # dim 3 was never seen to vary
    z = adapter.standardise(x)[0, 0]
    assert abs(float(z[3])) < 1e-20
    assert 15 < float(z[2]) < 25  # floored at 5% of the median spread, not 1 / 0.0316


def test_global_input_scale_keeps_sparse_slots_at_their_relative_size() -> None:
    """``scale=global``: one spread for every varying dimension, so a one-hot slot that one
    user in a thousand has is not standardised ten times louder than a common one."""
    emb = torch.zeros(1000, 1, 4)
    emb[:500, 0, 0] = 1.0  # half the users
    emb[:10, 0, 1] = 1.0  # one in a hundred
    emb[:, 0, 2] = torch.randn(1000) * 3
    per_dim = build_adapter("mean_linear", 4, 8)
    shared = build_adapter("mean_linear", 4, 8, {"scale": "global"})
    for a in (per_dim, shared):
        a.fit_input_stats(emb, torch.ones(1000, 1, dtype=torch.bool))
    x = torch.tensor([[[1.0, 1.0, 0.0, 5.0]]])
    z_dim, z_glob = per_dim.standardise(x)[0, 0], shared.standardise(x)[0, 0]
    assert float(z_dim[1]) > 4 * float(z_dim[0])  # per dimension: the rare slot is louder
    assert torch.allclose(shared.in_std[:3], shared.in_std[:1].expand(3))
    assert abs(float(z_glob[1]) - float(z_glob[0]) - 0.49 / float(shared.in_std[0])) < 1e-4
    assert abs(float(z_glob[3])) < 1e-20  # a dimension that never varied stays off
    # the shared spread is the root-mean-square of the varying dimensions' spreads
    rms = float(emb[:, 0, :3].std(0).square().mean().sqrt())
    assert abs(float(shared.in_std[0]) - rms) < 1e-5


def test_unknown_input_scale_is_refused() -> None:
    with pytest.raises(UqaInputError, match="scale 'zca' is not one of dim, global, whiten"):
        build_adapter("mean_linear", 4, 8, {"scale": "zca"})


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), dim=st.integers(2, 7), spread=st.floats(0.5, 4.0))
def test_whiten_decorrelates_the_valid_positions(seed, dim, spread) -> None:
    """``scale=whiten``: over the valid positions the standardised inputs have zero mean and
    identity covariance (numpy's, computed independently), the matrix is symmetric (ZCA),
    and masked positions take no part in the fit."""
    import numpy as np

    g = torch.Generator().manual_seed(seed)
    rotation = torch.linalg.qr(torch.randn(dim, dim, generator=g, dtype=torch.float64))[0]
    widths = torch.ones(dim, dtype=torch.float64)
    widths[0] = spread * 5  # one direction wider than the others, above the floor
    mix = torch.diag(widths) @ rotation
    emb = (torch.randn(300, 3, dim, generator=g, dtype=torch.float64) @ mix).float()
    mask = torch.rand(300, 3, generator=g) < 0.7
    emb[~mask] = 1e4  # masked positions: must not move the fit
    a = build_adapter("mean_linear", dim, 8, {"scale": "whiten"})
    a.fit_input_stats(emb, mask)
    z = a.standardise(emb[mask]).double().numpy()
    assert np.abs(z.mean(0)).max() < 1e-3
    assert np.abs(np.cov(z.T) - np.eye(dim)).max() < 2e-3
    assert torch.allclose(a.in_whiten, a.in_whiten.T, atol=1e-5)
    from uqa_align.adapters.base import whitening

    # summed a few rows at a time, the same matrix
    mean, matrix = whitening(emb[mask], chunk=7)
    assert torch.allclose(matrix, a.in_whiten, atol=1e-5)
    assert torch.allclose(mean, a.in_mean, atol=1e-4)


def test_whiten_bounds_a_direction_that_never_varies() -> None:
    """A direction with no variance over the alignment positions is scaled as one with
    :data:`WHITEN_FLOOR` of the largest variance, not divided by ~0."""
    from uqa_align.adapters.base import WHITEN_FLOOR

    emb = torch.zeros(500, 1, 3)
    emb[:, 0, 0] = torch.randn(500) * 2
    emb[:, 0, 1] = torch.randn(500)
    a = build_adapter("mean_linear", 3, 8, {"scale": "whiten"})
    a.fit_input_stats(emb, torch.ones(500, 1, dtype=torch.bool))
    z = a.standardise(torch.tensor([[[0.0, 0.0, 1.0]]]))[0, 0]
    top = float(emb[:, 0, 0].var())
    assert abs(float(z[2]) - (WHITEN_FLOOR * top) ** -0.5) < 1e-2 * (WHITEN_FLOOR * top) ** -0.5
    assert torch.isfinite(a(emb, torch.ones(500, 1, dtype=torch.bool))).all()


def test_whitened_adapter_aligns_saves_and_reloads(tmp_path) -> None:
    """The whitening matrix is fitted at alignment, saved with the weights and loaded back:
    the reloaded adapter's soft tokens equal the trained one's."""
    from uqa_align.aligned import load_aligned
    from uqa_align.testing import tiny_llm, write_probe
    from uqa_align.train import AlignConfig, align

    q, e = write_probe(tmp_path, 8)
    cfg = AlignConfig.from_preset("tiny", steps=2, adapter_options={"scale": "whiten"})
    align(q, e, None, tmp_path / "a", cfg, llm=tiny_llm())
    aligned = load_aligned(tmp_path / "a", llm=tiny_llm())
    w = aligned.adapter.in_whiten
    assert aligned.adapter.input_scale == "whiten"
    assert not torch.allclose(w, torch.eye(w.shape[0]))  # fitted, not the initial identity


def test_soft_tokens_get_the_llm_token_norm() -> None:
    import torch
    from uqa_align.adapters import build_adapter

    for name in ("mean_linear", "qformer"):
        adapter = build_adapter(name, 6, 16, {"num_tokens": 3})
        emb, mask = torch.randn(5, 4, 6) * 100, torch.ones(5, 4, dtype=torch.bool)
        loud = adapter(emb, mask)
        adapter.set_output_norm(2.5)
        soft = adapter(emb, mask)
        assert torch.allclose(soft.norm(dim=-1), torch.full((5, 3), 2.5), atol=1e-4)
        assert not torch.allclose(loud.norm(dim=-1), soft.norm(dim=-1))


@pytest.mark.parametrize("pool", ["mean", "last", "both"])
def test_mean_linear_pools(pool) -> None:
    """``pool``: the mean of the valid positions, the last valid one, or both side by side,
    each of the standardised embeddings; a user with no valid position pools to zeros."""
    a = build_adapter("mean_linear", 3, 8, {"pool": pool})
    a.in_mean.copy_(torch.tensor([0.5, -1.0, 2.0]))
    a.in_std.copy_(torch.tensor([2.0, 1.0, 4.0]))
    emb = torch.randn(3, 4, 3, generator=torch.Generator().manual_seed(0))
    mask = torch.tensor([[1, 1, 1, 0], [0, 0, 0, 0], [1, 0, 1, 1]], dtype=torch.bool)
    x = (emb - a.in_mean) / a.in_std
    mean = torch.stack([x[0, :3].mean(0), torch.zeros(3), x[2, [0, 2, 3]].mean(0)])
    last = torch.stack([x[0, 2], torch.zeros(3), x[2, 3]])
    pooled = {"mean": mean, "last": last, "both": torch.cat([mean, last], -1)}[pool]
    assert a.proj.in_features == pooled.shape[1]
    assert torch.allclose(a(emb, mask)[:, 0], a.proj(pooled), atol=1e-6)


def test_mean_linear_pools_the_last_state_by_default() -> None:
    """Without options ``mean_linear`` reads the state after each user's last valid click
    (users of different lengths), not the mean of the paper's adapter."""
    a = build_adapter("mean_linear", 3, 8, {})
    assert a.config.pool == "last"
    emb = torch.randn(4, 5, 3, generator=torch.Generator().manual_seed(2))
    mask = torch.arange(5)[None, :] < torch.tensor([5, 3, 1, 2])[:, None]
    last = emb[torch.arange(4), torch.tensor([4, 2, 0, 1])]
    assert torch.allclose(a(emb, mask)[:, 0], a.proj(a.standardise(last)), atol=1e-6)


def test_unknown_pool_is_refused() -> None:
    with pytest.raises(UqaInputError, match="pool 'first' is not one of mean, last, both"):
        build_adapter("mean_linear", 3, 8, {"pool": "first"})


def test_mean_linear_dropout_only_in_training() -> None:
    """``dropout``: in training a share of the pooled, standardised input is zeroed (the
    alignment users' mean) and the rest scaled up by ``1 / (1 - p)``; in evaluation the
    projection reads the whole input, so the soft tokens are deterministic."""
    a = build_adapter("mean_linear", 6, 8, {"dropout": 0.5})
    seen = []
    a.proj.register_forward_hook(lambda mod, inp, out: seen.append(inp[0].detach()))
    emb = torch.randn(64, 3, 6, generator=torch.Generator().manual_seed(1))
    mask = torch.ones(64, 3, dtype=torch.bool)
    full = emb[:, -1]  # the default pool: the state after the last click
    a.train()
    a(emb, mask)
    kept = seen[-1] != 0
    assert 0.3 < float(kept.float().mean()) < 0.7
    assert torch.allclose(seen[-1][kept], 2 * full[kept], atol=1e-5)
    a.eval()
    first, second = a(emb, mask), a(emb, mask)
    assert torch.equal(first, second)
    assert torch.allclose(seen[-1], full, atol=1e-6)


@pytest.mark.parametrize("p", [-0.1, 1.0])
def test_mean_linear_dropout_out_of_range_is_refused(p) -> None:
    with pytest.raises(UqaInputError, match=rf"dropout {p} is not in \[0, 1\)"):
        build_adapter("mean_linear", 3, 8, {"dropout": p})


def test_mean_linear_hidden_layer_computes_gelu_then_projection() -> None:
    """``hidden``: the pooled, standardised input goes through a GELU layer of that width
    before the projection; without it the projection reads the pooled input itself."""
    torch.manual_seed(0)
    a = build_adapter("mean_linear", 6, 8, {"hidden": 5})
    emb = torch.randn(4, 3, 6)
    mask = torch.ones(4, 3, dtype=torch.bool)
    seen = []
    a.proj.register_forward_hook(lambda mod, inp, out: seen.append(inp[0].detach()))
    a.eval()
    a(emb, mask)
    first = a.hidden[0]
    expected = torch.nn.functional.gelu(a.standardise(emb)[:, -1] @ first.weight.T + first.bias)
    assert seen[-1].shape == (4, 5)
    assert torch.allclose(seen[-1], expected, atol=1e-6)
    plain = build_adapter("mean_linear", 6, 8)
    assert not any(k.startswith("hidden") for k in plain.state_dict())  # saved files as before
    assert plain.proj.in_features == 6


def test_mean_linear_with_hidden_layer_aligns_saves_and_reloads(tmp_path) -> None:
    from uqa_align.aligned import load_aligned
    from uqa_align.testing import tiny_llm, write_probe
    from uqa_align.train import AlignConfig, align

    q, e = write_probe(tmp_path, 8)
    cfg = AlignConfig.from_preset("tiny", steps=2, adapter_options={"hidden": 12})
    align(q, e, None, tmp_path / "a", cfg, llm=tiny_llm())
    aligned = load_aligned(tmp_path / "a", llm=tiny_llm())
    assert aligned.adapter.hidden[0].out_features == 12
    assert aligned.adapter.proj.in_features == 12


@pytest.mark.parametrize("h", [0, -3, 2.5, True])
def test_mean_linear_hidden_must_be_a_positive_integer(h) -> None:
    with pytest.raises(UqaInputError, match="hidden"):
        build_adapter("mean_linear", 3, 8, {"hidden": h})
