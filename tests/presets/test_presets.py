"""Every stage's ``Config.from_preset`` resolves presets and overrides the same way."""

from __future__ import annotations

import pytest
from uqa_align.train import AlignConfig
from uqa_data.errors import UnknownNameError, UqaError
from uqa_data.prepare import PrepareConfig
from uqa_data.questions import QuestionConfig
from uqa_encoders.pretrain import PretrainConfig
from uqa_eval.evaluate import EvalConfig

CONFIGS = [PrepareConfig, QuestionConfig, PretrainConfig, AlignConfig, EvalConfig]


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
def test_presets_resolve_and_reject_unknowns(cls) -> None:
    for name in ("tiny", "small", "default", "full"):
        assert isinstance(cls.from_preset(name), cls)
    with pytest.raises(UnknownNameError) as err:
        cls.from_preset("tinyy")
    assert "'tinyy' (--preset)" in str(err.value) and "did you mean 'tiny'" in str(err.value)
    with pytest.raises(UnknownNameError) as err:
        cls.from_preset("tiny", no_such_setting=1)
    assert "no_such_setting" in str(err.value) and "seed" in str(err.value)


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
def test_none_keeps_the_preset_value_and_values_override(cls) -> None:
    base = cls.from_preset("tiny")
    assert cls.from_preset("tiny", seed=None) == base
    assert cls.from_preset("tiny", seed=123).seed == 123


def test_invalid_values_are_rejected_by_validation() -> None:
    with pytest.raises(UqaError):
        AlignConfig.from_preset("tiny", strategy="everything")
    with pytest.raises(UqaError):
        EvalConfig.from_preset("tiny", mode="telepathy")
