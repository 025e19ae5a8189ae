"""Data-parallel alignment under torchrun (2 gloo ranks) equals one process with the full batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file

SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from uqa_align.testing import tiny_llm
    from uqa_align.train import AlignConfig, align
    d = Path(sys.argv[1])
    cfg = AlignConfig.from_preset("tiny", steps=3, batch_size=4, lr=0.05, soft_norm=False,
                                  fsdp=sys.argv[3] == "fsdp", strategy=sys.argv[4])
    align(d / "questions.arrow", d / "embeddings.arrow", None, Path(sys.argv[2]), cfg,
          llm=tiny_llm(init_std=0.5))
""")


@pytest.mark.slow  # two fresh interpreters importing transformers: ~30 s on a quiet machine
@pytest.mark.parametrize(("parallel", "strategy"),
                         [("ddp", "adapter"), ("fsdp", "adapter"), ("fsdp", "lora")])
def test_two_rank_torchrun_matches_single_process(tmp_path, parallel, strategy):
    from uqa_align.testing import tiny_llm, write_probe
    from uqa_align.train import AlignConfig, align

    q, e = write_probe(tmp_path, 8)
    # soft_norm off: Adam turns the gain's near-zero gradient into a step whose size float
    # noise decides, so ranks and one process agree on every weight but that scalar
    align(q, e, None, tmp_path / "one", AlignConfig.from_preset(
        "tiny", steps=3, batch_size=4, soft_norm=False, lr=0.05, strategy=strategy),
        llm=tiny_llm(init_std=0.5))
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "UQA_PROGRESS": "0"}
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                "--master_port", str(29500 + os.getpid() % 1000 + 1000 * len(parallel + strategy))]
    res = subprocess.run([*torchrun, str(script), str(tmp_path), str(tmp_path / "two"),
                          parallel, strategy],
                         env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    one = load_file(str(tmp_path / "one" / "adapter.safetensors"))
    two = load_file(str(tmp_path / "two" / "adapter.safetensors"))
    assert not torch.equal(one["proj.weight"], torch.zeros_like(one["proj.weight"]))
    for k, v in one.items():
        assert torch.allclose(v, two[k], atol=1e-4), k
    if strategy == "lora":
        one = load_file(str(tmp_path / "one" / "lora" / "lora.safetensors"))
        two = load_file(str(tmp_path / "two" / "lora" / "lora.safetensors"))
        assert one.keys() == two.keys() and one
        for k, v in one.items():
            assert torch.allclose(v, two[k], atol=1e-4), k
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert metrics.get("fsdp_sharded_layers", 0) == (2 if parallel == "fsdp" else 0)
