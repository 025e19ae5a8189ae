"""Adapters: shapes, finite outputs for users with no valid position, options by name."""

from __future__ import annotations

import pytest
import torch
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
