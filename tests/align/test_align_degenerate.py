"""Alignment never writes a degenerate adapter silently; its settings are range-checked."""

from __future__ import annotations

import pytest
from uqa_align.testing import write_probe
from uqa_align.train import AlignConfig, align
from uqa_data.errors import UqaInputError
from uqa_data.settings import SettingError


def test_zero_steps_says_it_saves_an_untrained_adapter(tiny, tmp_path) -> None:
    q, e = write_probe(tmp_path, 8)
    adapter = tmp_path / "a"
    align(q, e, None, adapter, AlignConfig.from_preset("tiny", steps=2, batch_size=4), llm=tiny)
    with pytest.warns(UserWarning, match=f"steps=0 saves an untrained adapter over the one in "
                                         f"{adapter}"):
        align(q, e, None, adapter, AlignConfig.from_preset("tiny", steps=0), llm=tiny)


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("lr", -1.0, "a number > 0"), ("steps", -5, "an integer >= 0"),
    ("batch_size", 0, "an integer >= 1"), ("grad_clip", 0.0, "a number > 0"),
    ("max_questions", 0, "an integer >= 1"), ("steps", "abc", "an integer"),
    ("weight_decay", float("nan"), "a number >= 0"),
])
def test_out_of_range_settings_name_the_setting(key: str, value, expected: str) -> None:
    with pytest.raises(SettingError, match=f"align setting {key}=.*: expected {expected}"):
        AlignConfig.from_preset("tiny", **{key: value})


def test_read_questions_refuses_an_empty_slice(tmp_path) -> None:
    from uqa_align.question_set import read_questions

    q, _ = write_probe(tmp_path, 4)
    with pytest.raises(UqaInputError, match="first 0 questions; expected >= 1"):
        read_questions(q, limit=0)
