"""Non-finite steps are skipped, repeated ones stop training; checkpoints resume exactly."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file
from uqa_align import train as train_mod
from uqa_align.testing import write_probe
from uqa_align.train import AlignConfig, align
from uqa_data.errors import TrainingDivergedError, UqaInputError


def _poison_adapter(steps_to_poison: set[int], calls: list[int]):
    """Wrap MeanLinear.forward so chosen training calls return NaN soft tokens."""
    from uqa_align.adapters.mean_linear import MeanLinear

    original = MeanLinear.forward

    def forward(self, emb, mask):
        out = original(self, emb, mask)
        calls.append(1)
        if len(calls) in steps_to_poison:
            return out * float("nan")
        return out

    return MeanLinear, forward, original


def test_a_nan_step_is_skipped_and_repeated_nans_stop_with_good_weights(tiny, tmp_path,
                                                                         monkeypatch):
    q, e = write_probe(tmp_path, 8)
    calls: list[int] = []
    cls, fwd, _ = _poison_adapter({2}, calls)
    monkeypatch.setattr(cls, "forward", fwd)
    s = align(q, e, None, tmp_path / "a", AlignConfig.from_preset("tiny", steps=4, batch_size=4),
              llm=tiny)
    assert s["skipped_steps"] == 1 and s["steps"] == 4
    weights = load_file(str(tmp_path / "a" / "adapter.safetensors"))
    assert all(torch.isfinite(v).all() for v in weights.values())

    calls.clear()
    cls, fwd, _ = _poison_adapter(set(range(3, 100)), calls)
    monkeypatch.setattr(cls, "forward", fwd)
    with pytest.raises(TrainingDivergedError, match="3 steps in a row"):
        align(q, e, None, tmp_path / "b", AlignConfig.from_preset(
            "tiny", steps=10, batch_size=4, max_bad_steps=3), llm=tiny)
    kept = load_file(str(tmp_path / "b" / "adapter.safetensors"))
    assert all(torch.isfinite(v).all() for v in kept.values())


def _cut_after_first_checkpoint(tmp_path, monkeypatch, cfg):
    """Align with ``cfg`` until its first checkpoint is written, then stop."""
    from uqa_align.testing import tiny_llm

    q, e = write_probe(tmp_path, 8)
    original = train_mod.AlignRecipe.save_checkpoint

    def save_then_stop(self):
        original(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(train_mod.AlignRecipe, "save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        align(q, e, None, tmp_path / "cut", cfg, llm=tiny_llm())
    monkeypatch.setattr(train_mod.AlignRecipe, "save_checkpoint", original)
    return q, e


@pytest.mark.parametrize(("change", "expected"), [
    ({"lr": 0.5}, r"lr=0.05 \(now 0.5\)"),
    ({"steps": 2}, r"steps=4 \(now 2\)"),
    ({"steps": 8}, r"steps=4 \(now 8\)"),
])
def test_resume_with_other_training_settings_is_refused(tmp_path, monkeypatch, change,
                                                        expected):
    """The checkpoint's optimizer and schedule keep the settings they began with; resuming
    with others would record them without training with them (or, with fewer steps than
    already run, crash)."""
    from uqa_align.testing import tiny_llm

    cfg = AlignConfig.from_preset("tiny", steps=4, batch_size=4, checkpoint_every=2, lr=0.05)
    q, e = _cut_after_first_checkpoint(tmp_path, monkeypatch, cfg)
    with pytest.raises(UqaInputError, match=r"--resume: the checkpoint was made with "
                       + expected + r"; resume with the settings it was made with"):
        align(q, e, None, tmp_path / "cut", replace(cfg, **change), llm=tiny_llm(),
              resume=True)
    s = align(q, e, None, tmp_path / "cut", replace(cfg, checkpoint_every=3, threads=1),
              llm=tiny_llm(), resume=True)
    assert s["steps"] == 4


# two epochs (prefixes stored), one (none); the moving average of the weights resumed too
@pytest.mark.parametrize(("questions", "ema"), [(8, 0.0), (16, 0.0), (8, 0.5)])
def test_resume_from_checkpoint_matches_an_uninterrupted_run(tmp_path, monkeypatch,
                                                            questions, ema):
    from uqa_align.testing import tiny_llm

    q, e = write_probe(tmp_path, questions)
    cfg = AlignConfig.from_preset("tiny", steps=4, batch_size=4, checkpoint_every=2, lr=0.05,
                                  ema=ema)
    align(q, e, None, tmp_path / "full", cfg, llm=tiny_llm())
    reference = load_file(str(tmp_path / "full" / "adapter.safetensors"))

    original = train_mod.AlignRecipe.save_checkpoint

    def save_then_stop(self):
        original(self)
        raise KeyboardInterrupt  # interrupted right after the step-2 checkpoint

    monkeypatch.setattr(train_mod.AlignRecipe, "save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        align(q, e, None, tmp_path / "cut", cfg, llm=tiny_llm())
    assert not (tmp_path / "cut" / "adapter.safetensors").exists()
    monkeypatch.setattr(train_mod.AlignRecipe, "save_checkpoint", original)
    s = align(q, e, None, tmp_path / "cut", cfg, llm=tiny_llm(), resume=True)
    resumed = load_file(str(tmp_path / "cut" / "adapter.safetensors"))
    assert s["steps"] == 4
    assert not (tmp_path / "cut" / "checkpoint").exists()  # removed once finished
    for k, v in reference.items():
        assert torch.allclose(resumed[k], v, atol=1e-6), k


def test_ema_saves_the_moving_average_of_the_trained_weights(tmp_path, monkeypatch):
    from uqa_align import averaging
    from uqa_align.testing import tiny_llm

    seen = []  # the adapter's parameters at construction and after every optimizer step
    init, update = averaging.WeightAverage.__init__, averaging.WeightAverage.update

    def snap(module):
        seen.append({n: p.detach().clone() for n, p in module.named_parameters()})

    def spy_init(self, module, decay):
        snap(module)
        init(self, module, decay)

    def spy_update(self):
        snap(self.module)
        update(self)

    monkeypatch.setattr(averaging.WeightAverage, "__init__", spy_init)
    monkeypatch.setattr(averaging.WeightAverage, "update", spy_update)
    q, e = write_probe(tmp_path, 8)
    cfg = AlignConfig.from_preset("tiny", steps=5, batch_size=4, lr=0.05, ema=0.6)
    align(q, e, None, tmp_path / "a", cfg, llm=tiny_llm())
    saved = load_file(str(tmp_path / "a" / "adapter.safetensors"))
    assert len(seen) == 6
    expected = dict(seen[0])
    for t, weights in enumerate(seen[1:]):  # a slow reference of the documented rule
        d = min(0.6, (1 + t) / (10 + t))
        expected = {n: d * expected[n] + (1 - d) * weights[n] for n in expected}
    for n, v in expected.items():
        assert torch.allclose(saved[n], v, atol=1e-6), n
    assert any(not torch.allclose(saved[n], seen[-1][n]) for n in expected)  # not the last


def test_resume_of_a_checkpoint_older_than_a_setting(tmp_path, monkeypatch):
    """A checkpoint made before ``align.ema`` existed names no ``ema`` setting: it was
    trained as the setting's default (off), so it resumes with that and is refused, with
    the setting named, with any other value."""
    import json

    from uqa_align.testing import tiny_llm

    cfg = AlignConfig.from_preset("tiny", steps=4, batch_size=4, checkpoint_every=2, lr=0.05)
    q, e = _cut_after_first_checkpoint(tmp_path, monkeypatch, cfg)
    progress = tmp_path / "cut" / "checkpoint" / "progress.json"
    saved = json.loads(progress.read_text())
    del saved["config"]["ema"]  # as an older version wrote it
    progress.write_text(json.dumps(saved))
    with pytest.raises(UqaInputError, match=r"--resume: the checkpoint was made with ema=0.0 "
                       r"\(not named by the checkpoint, made before the setting existed; "
                       r"now 0.5\); resume with the settings it was made with"):
        align(q, e, None, tmp_path / "cut", replace(cfg, ema=0.5), llm=tiny_llm(), resume=True)
    s = align(q, e, None, tmp_path / "cut", cfg, llm=tiny_llm(), resume=True)
    assert s["steps"] == 4


def test_resume_with_ema_from_a_checkpoint_without_the_average_is_refused(tmp_path,
                                                                          monkeypatch):
    """A checkpoint whose settings say ``align.ema`` but whose weights hold no average (an
    incomplete one) is refused by name instead of failing on a missing tensor."""
    from safetensors.torch import load_file, save_file
    from uqa_align.testing import tiny_llm

    cfg = AlignConfig.from_preset("tiny", steps=4, batch_size=4, checkpoint_every=2, lr=0.05,
                                  ema=0.5)
    q, e = _cut_after_first_checkpoint(tmp_path, monkeypatch, cfg)
    state_path = tmp_path / "cut" / "checkpoint" / "state.safetensors"
    state = load_file(str(state_path))
    assert any(k.startswith("ema.") for k in state)
    save_file({k: v for k, v in state.items() if not k.startswith("ema.")}, str(state_path))
    with pytest.raises(UqaInputError, match=r"state.safetensors: --resume: holds no moving "
                       r"average .* align.ema is 0.5; the checkpoint is incomplete"):
        align(q, e, None, tmp_path / "cut", cfg, llm=tiny_llm(), resume=True)
