"""Synth settings (``uqa data synth --set``, ``uqa run --set synth.KEY``): every value the
config accepts draws a log of that shape, every other is refused before anything is
written, and a changed setting makes ``uqa run`` draw the log again."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.ipc as ipc
import pytest
from cli_helpers import uqa_inprocess
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from uqa_data.presets import SynthConfig, synth_config
from uqa_data.settings import SettingError
from uqa_data.synth import synthesize


@st.composite
def small_overrides(draw: st.DrawFn) -> dict:
    """Overrides of the tiny preset inside what :meth:`SynthConfig.validate` accepts."""
    cats = draw(st.integers(1, 12))
    min_len = draw(st.integers(1, 12))
    max_len = draw(st.integers(min_len, 40))
    lo_n = draw(st.floats(0.0, 1.0))
    lo_r = draw(st.floats(0.0, 1.0))
    return {
        "n_users": draw(st.integers(1, 40)), "n_categories": cats,
        "n_items": draw(st.integers(cats, 120)), "brands_per_category": draw(st.integers(1, 4)),
        "shops_per_category": draw(st.integers(1, 4)), "shops_per_seller": draw(st.integers(1, 3)),
        "min_len": min_len, "max_len": max_len,
        "mean_len": draw(st.floats(min_len, max_len)),
        "len_sigma": draw(st.floats(0.0, 1.5)),
        "duplicate_rate": draw(st.floats(0.0, 0.5)),
        "noise_range": [lo_n, draw(st.floats(lo_n, 1.0))],
        "repeat_range": [lo_r, draw(st.floats(lo_r, 1.0))],
        "session_mean": draw(st.floats(0.5, 10.0)),
    }


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(over=small_overrides())
def test_every_accepted_config_draws_a_log_of_its_shape(tmp_path_factory, over: dict) -> None:
    out = tmp_path_factory.mktemp("synth")
    summary = synthesize(out, preset="tiny", seed=3, **over)
    cfg = synth_config("tiny", **over)
    table = ipc.open_file(out / "raw" / "interactions.arrow").read_all()
    users, counts = np.unique(table.column("user_id").to_numpy(), return_counts=True)
    assert len(users) == cfg.n_users == summary["users"]
    items = ipc.open_file(out / "raw" / "items.arrow").read_all()
    assert items.num_rows == cfg.n_items
    # each user's clicks, exactly duplicated log rows counted once, within the length bounds
    rows = np.stack([table.column(c).to_numpy() for c in ("user_id", "item_id", "timestamp")])
    distinct_users = np.unique(np.unique(rows, axis=1)[0], return_counts=True)[1]
    assert cfg.min_len <= int(distinct_users.min()) <= int(distinct_users.max()) <= cfg.max_len
    assert int(counts.min()) >= cfg.min_len
    recorded = json.loads((out / "raw" / "synth.json").read_text())["config"]
    assert recorded["n_users"] == cfg.n_users and recorded["noise_range"] == list(cfg.noise_range)


@pytest.mark.parametrize(("over", "key"), [
    ({"n_users": 0}, "n_users"), ({"min_len": 0}, "min_len"),
    ({"min_len": 20, "max_len": 10}, "max_len"), ({"mean_len": 5}, "mean_len"),
    ({"n_items": 11}, "n_items"), ({"duplicate_rate": 1.0}, "duplicate_rate"),
    ({"noise_range": [0.2, 0.1]}, "noise_range"), ({"repeat_range": [0.1, 1.5]}, "repeat_range"),
    ({"noise_range": [0.1]}, "noise_range"), ({"session_mean": 0}, "session_mean"),
    ({"item_zipf": -1}, "item_zipf"), ({"n_users": "many"}, "n_users"),
    ({"n_categories": 100_000, "n_items": 100_000}, "n_categories"),
])
def test_a_value_the_generator_cannot_draw_from_is_refused(over: dict, key: str) -> None:
    with pytest.raises(SettingError) as info:
        synth_config("tiny", **over)
    assert info.value.key == key and info.value.what == "synth"


@pytest.mark.parametrize(("over", "expected"), [
    ({"n_items": 11}, "expected an integer >= n_categories (12)"),
    ({"min_len": 20, "max_len": 10}, "expected an integer >= min_len (20)"),
])
def test_a_bound_set_by_another_setting_names_it(over: dict, expected: str) -> None:
    with pytest.raises(SettingError) as info:
        synth_config("tiny", **over)
    assert str(info.value).endswith(expected)


def test_every_preset_is_a_valid_config() -> None:
    from uqa_data.presets import PRESETS

    for name in PRESETS:
        assert isinstance(synth_config(name), SynthConfig)


def test_data_synth_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    code, text = uqa_inprocess(capsys, "data", "synth", "-o", str(out), "--preset", "tiny",
                               "--set", "n_users=120", "--set", "noise_range=[0, 0.5]")
    assert code == 0, text
    assert "tiny, n_users=120, noise_range=[0, 0.5], seed 0" in " ".join(text.split())
    recorded = json.loads((out / "raw" / "synth.json").read_text())["config"]
    assert recorded["n_users"] == 120 and recorded["noise_range"] == [0.0, 0.5]
    for flags, expected in ((["--set", "n_users=0"], "synth setting n_users=0 (--set n_users): "
                                                     "expected an integer >= 1"),
                            (["--set", "nusers=3"], "unknown synth setting 'nusers' (--set "
                                                    "nusers); did you mean 'n_users'?")):
        new = tmp_path / "new"
        code, text = uqa_inprocess(capsys, "data", "synth", "-o", str(new), "--preset", "tiny",
                                   *flags)
        errors = [line for line in text.splitlines() if line.startswith("error:")]
        assert code == 2 and len(errors) == 1 and expected in errors[0], text
        assert not new.exists()


def test_run_draws_the_log_again_when_a_synth_setting_changes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r"

    def run(*sets: str) -> tuple[str, int]:
        flags = [x for s in sets for x in ("--set", s)]
        code, text = uqa_inprocess(capsys, "run", "--preset", "tiny", "--out", str(out),
                                   "--until", "synth", *flags)
        assert code == 0, text
        users = json.loads((out / "raw" / "synth.json").read_text())["config"]["n_users"]
        return text, users

    text, users = run("synth.n_users=150")
    assert users == 150
    stage = json.loads((out / "run.json").read_text())["stages"]["synth"]["config"]
    assert stage["settings"] == {"n_users": 150}
    text, users = run("synth.n_users=150")
    assert "synth: done already, skipped" in text and users == 150
    assert run("synth.n_users=160")[1] == 160
    # a list-valued setting (a tuple once coerced) matches its recorded fingerprint
    assert "done already" not in run("synth.n_users=160", "synth.noise_range=[0, 0.5]")[0]
    assert "synth: done already, skipped" in run("synth.n_users=160",
                                                 "synth.noise_range=[0, 0.5]")[0]
    text, users = run()  # the preset's own 300 again
    assert "done already" not in text and users == 300
    assert "settings" not in json.loads((out / "run.json").read_text())["stages"]["synth"][
        "config"]


def test_run_refuses_synth_settings_for_an_imported_log(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "src"
    synthesize(source, preset="tiny", seed=0)
    out = tmp_path / "r"
    code, text = uqa_inprocess(capsys, "run", "--preset", "tiny", "--dataset", str(source),
                               "--out", str(out), "--set", "synth.n_users=10")
    assert code == 2 and "--set synth.n_users: the run reads its click log from --dataset" in text
    assert not out.exists()
