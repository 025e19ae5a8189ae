"""``check_resume_settings``: which differences between a checkpoint's settings and a
resumed run's are refused, including settings the checkpoint predates."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st
from uqa_data.errors import UqaInputError
from uqa_data.settings import check_resume_settings, field_defaults

KEYS = ("lr", "steps", "ema", "threads")
values = st.one_of(st.integers(0, 3), st.sampled_from([0.5, "a", (1, 2)]))


@given(saved=st.dictionaries(st.sampled_from(KEYS), values),
       current=st.dictionaries(st.sampled_from(KEYS), values),
       defaults=st.dictionaries(st.sampled_from(KEYS), values))
def test_refused_exactly_when_a_checked_setting_differs(saved, current, defaults) -> None:
    """Every setting of the resumed run but the ignored one is compared with the
    checkpoint's, or, where the checkpoint does not name it, with its default; a setting
    with neither is not checked. Tuples and lists compare alike (as JSON stores them)."""
    def norm(v):
        return list(v) if isinstance(v, tuple) else v

    expected = []
    for key, value in current.items():
        if key == "threads":
            continue
        was = saved.get(key, defaults.get(key, value))
        if norm(was) != norm(value):
            expected.append(key)
    if expected:
        with pytest.raises(UqaInputError) as err:
            check_resume_settings(saved, current, "ck", ignore=("threads",), defaults=defaults)
        message = str(err.value)
        assert message.startswith("ck: --resume: the checkpoint was made with ")
        for key in expected:
            assert f"{key}=" in message
        for key in set(current) - set(expected):
            assert f" {key}=" not in message and not message.startswith(f"{key}=")
    else:
        check_resume_settings(saved, current, "ck", ignore=("threads",), defaults=defaults)


def test_a_setting_the_checkpoint_predates_is_named_as_such() -> None:
    with pytest.raises(UqaInputError, match=r"ema=0.0 \(not named by the checkpoint, made "
                       r"before the setting existed; now 0.5\)"):
        check_resume_settings({"lr": 1}, {"lr": 1, "ema": 0.5}, "ck", defaults={"ema": 0.0})
    check_resume_settings({"lr": 1}, {"lr": 1, "ema": 0.0}, "ck", defaults={"ema": 0.0})


def test_field_defaults() -> None:
    @dataclass
    class Config:
        name: str
        lr: float = 0.1
        sizes: list[int] = field(default_factory=lambda: [1, 2])

    assert field_defaults(Config) == {"lr": 0.1, "sizes": [1, 2]}
