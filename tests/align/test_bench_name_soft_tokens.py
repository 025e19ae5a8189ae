"""bench/name_soft_tokens.py: its identity adapters give the soft tokens its docstring says."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from uqa_align.adapters import build_adapter, load_adapter_module


def _template(path: Path, hidden: int) -> Path:
    adapter = build_adapter("mean_linear", 4, hidden)
    adapter.set_output_norm(3.2)
    path.mkdir()
    save_file({k: v.contiguous() for k, v in adapter.state_dict().items()},
              str(path / "adapter.safetensors"))
    (path / "config.json").write_text(json.dumps({
        "align": {"adapter_options": {}}, "hidden_size": hidden,
        "adapter": {"name": "mean_linear", "options": asdict(adapter.config), "in_dim": 4,
                    "num_tokens": 1}}))
    return path


@pytest.mark.parametrize("tokens", [1, 3])
def test_identity_adapter_soft_tokens_are_the_scaled_centred_mean(  # type: ignore[no-untyped-def]
        bench_script, tmp_path: Path, tokens: int) -> None:
    hidden = 5
    width = tokens * hidden
    template = _template(tmp_path / "template", hidden)
    g = torch.Generator().manual_seed(0)
    in_mean, bias = torch.randn(width, generator=g), torch.randn(width, generator=g)
    script = bench_script("name_soft_tokens")
    script._identity_adapter(template, tmp_path / "out", width, tokens, in_mean, gain=2.5,
                             bias=bias)
    cfg = json.loads((tmp_path / "out" / "config.json").read_text())["adapter"]
    assert (cfg["in_dim"], cfg["num_tokens"], cfg["options"]["num_tokens"]) == (width, tokens,
                                                                                 tokens)
    adapter = load_adapter_module("mean_linear", width, hidden, cfg["options"],
                                  load_file(str(tmp_path / "out" / "adapter.safetensors")))
    emb = torch.randn(2, 6, width, generator=g)
    mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    soft = adapter(emb, mask)
    for b, n in enumerate((6, 3)):
        expected = (2.5 * (emb[b, :n].mean(0) - in_mean) + bias).view(tokens, hidden)
        expected = expected / expected.norm(dim=-1, keepdim=True) * 3.2
        torch.testing.assert_close(soft[b], expected, rtol=1e-5, atol=1e-5)
