"""A tiny adapter learns a synthetic user -> favourite-category mapping; shuffling destroys it."""

from __future__ import annotations

from uqa_align.testing import tiny_llm, write_probe
from uqa_align.train import AlignConfig, align
from uqa_eval.evaluate import EvalConfig, evaluate


def test_mean_linear_learns_the_probe_and_shuffled_does_not(tmp_path):
    q, e = write_probe(tmp_path, 48, n_cats=4)
    llm = tiny_llm(init_std=0.5)
    config = AlignConfig.from_preset("tiny", steps=80, batch_size=8, lr=0.02, warmup_steps=2)
    assert config.caches_prefix  # the default frozen-LLM path: cached prefix, context after
    s = align(q, e, None, tmp_path / "adapter", config, llm=llm)
    assert s["final_loss"] < s["first_loss"] - 2
    real = evaluate(q, e, tmp_path / "adapter", None, tmp_path / "p.arrow",
                    EvalConfig.from_preset("tiny"), llm=tiny_llm(init_std=0.5))
    shuffled = evaluate(q, e, tmp_path / "adapter", None, tmp_path / "s.arrow",
                        EvalConfig.from_preset("tiny", baseline="shuffled"),
                        llm=tiny_llm(init_std=0.5))
    assert real["acc"] >= 0.8
    assert shuffled["acc"] <= real["acc"] - 0.4


def test_options_loss_learns_the_probe(tmp_path):
    q, e = write_probe(tmp_path, 48, n_cats=4)
    s = align(q, e, None, tmp_path / "adapter", AlignConfig.from_preset(
        "tiny", loss="options", steps=60, batch_size=8, lr=0.02, warmup_steps=2,
        position="before", soft_norm=False),
        llm=tiny_llm(init_std=0.5))
    assert s["final_loss"] < 0.5 < s["first_loss"]  # chance is ln 4 = 1.39
    real = evaluate(q, e, tmp_path / "adapter", None, tmp_path / "p.arrow",
                    EvalConfig.from_preset("tiny"), llm=tiny_llm(init_std=0.5))
    assert real["acc"] >= 0.8
