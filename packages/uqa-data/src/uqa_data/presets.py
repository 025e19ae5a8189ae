"""Size presets of the data stage: ``tiny``, ``small``, ``default``, ``full``.

``full`` is the paper's scale (184,520 users, 994,447 items, ~31.3M clicks in
the raw log); ``default`` is the CPU demo; ``tiny`` is for tests (seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any

from uqa_data.errors import UnknownNameError
from uqa_data.registry import unknown_name_message

PRESETS: tuple[str, ...] = ("tiny", "small", "default", "full")


@dataclass(frozen=True)
class SynthConfig:
    """Shape of a synthetic Taobao-like click log.

    Sequence lengths are ``min_len + lognormal``, clipped to ``max_len``, with the
    lognormal's location solved so the mean length is ``mean_len``.
    """

    n_users: int
    n_items: int
    n_categories: int
    brands_per_category: int
    shops_per_category: int
    shops_per_seller: int
    mean_len: float
    min_len: int
    max_len: int
    len_sigma: float = 1.0
    """Spread of log sequence length: larger means more short users and a longer tail."""
    item_zipf: float = 1.0
    """Exponent of the Zipf-like item popularity within a category."""
    category_zipf: float = 0.8
    """Exponent of the Zipf-like category sizes and popularity."""
    duplicate_rate: float = 0.005
    """Share of clicks logged twice (exact duplicate rows, removed by prepare)."""
    noise_range: tuple[float, float] = (0.03, 0.15)
    """Per-user share of noise clicks (items from global popularity), uniform in range."""
    repeat_range: tuple[float, float] = (0.05, 0.20)
    """Per-user share of repeated clicks on a recently clicked item."""
    session_mean: float = 6.0
    """Mean clicks per session (sessions concentrate on one interest)."""

    def with_overrides(self, **overrides: Any) -> SynthConfig:
        """This config with ``overrides`` (each coerced to its field's type), validated."""
        from uqa_data.settings import coerce_settings

        known = {f.name for f in fields(self)}
        for key in overrides:
            if key not in known:
                raise UnknownNameError(unknown_name_message("synth setting", key, sorted(known)))
        return replace(self, **coerce_settings(SynthConfig, overrides, what="synth")).validate()

    def validate(self) -> SynthConfig:
        """Raise :class:`~uqa_data.settings.SettingError` naming the first setting the
        generator cannot draw from; return ``self``."""
        from uqa_data.settings import (
            SettingError,
            check_at_least,
            check_non_negative,
            check_positive,
        )

        check_at_least(self, "synth", 1, "n_users", "n_items", "n_categories",
                       "brands_per_category", "shops_per_category", "shops_per_seller",
                       "min_len")
        check_at_least(self, "synth", self.min_len, "max_len", bound="min_len")
        if not self.min_len <= self.mean_len <= self.max_len:
            raise SettingError("synth", "mean_len", self.mean_len,
                               f"a number from min_len ({self.min_len}) to max_len "
                               f"({self.max_len})")
        from uqa_data.synth.catalog import category_pairs

        names = len(category_pairs())
        if self.n_categories > names:
            raise SettingError("synth", "n_categories", self.n_categories,
                               f"an integer from 1 to {names} (the distinct category names)")
        check_at_least(self, "synth", self.n_categories, "n_items", bound="n_categories")
        check_non_negative(self, "synth", "len_sigma", "item_zipf", "category_zipf")
        check_positive(self, "synth", "session_mean")
        if not 0.0 <= self.duplicate_rate < 1.0:
            raise SettingError("synth", "duplicate_rate", self.duplicate_rate, "a number in [0, 1)")
        for key in ("noise_range", "repeat_range"):
            pair = getattr(self, key)
            if not (isinstance(pair, tuple | list) and len(pair) == 2
                    and all(isinstance(x, int | float) for x in pair)
                    and 0.0 <= pair[0] <= pair[1] <= 1.0):
                raise SettingError("synth", key, list(pair) if isinstance(pair, tuple) else pair,
                                   "[low, high] with 0 <= low <= high <= 1")
        return self


SYNTH_PRESETS: dict[str, SynthConfig] = {
    "tiny": SynthConfig(
        n_users=300, n_items=400, n_categories=12, brands_per_category=5,
        shops_per_category=6, shops_per_seller=2, mean_len=32, min_len=14, max_len=90,
        len_sigma=0.7,
    ),
    "small": SynthConfig(
        n_users=1_000, n_items=1_000, n_categories=24, brands_per_category=6,
        shops_per_category=8, shops_per_seller=2, mean_len=40, min_len=12, max_len=150,
        len_sigma=0.8,
    ),
    "default": SynthConfig(
        n_users=3_000, n_items=2_000, n_categories=40, brands_per_category=8,
        shops_per_category=10, shops_per_seller=2, mean_len=50, min_len=12, max_len=200,
        len_sigma=0.9,
    ),
    "full": SynthConfig(
        n_users=184_520, n_items=994_447, n_categories=1_000, brands_per_category=30,
        shops_per_category=80, shops_per_seller=3, mean_len=31_317_087 / 184_520 / 1.005,
        min_len=8, max_len=1_200, len_sigma=1.0,
    ),
}
"""Synthetic-source presets. ``full``: its raw log has the paper's user and item
counts and ~31.3M click rows (``mean_len`` leaves room for the logged duplicates)."""


PREPARE_PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"min_item_count": 3, "min_user_len": 10, "max_user_len": 200},
    "small": {"min_item_count": 3, "min_user_len": 10, "max_user_len": 200},
    "default": {"min_item_count": 3, "min_user_len": 10, "max_user_len": 200},
    "full": {"min_item_count": 3, "min_user_len": 10, "max_user_len": 1_000},
}
"""Preprocessing presets (fields of :class:`uqa_data.prepare.PrepareConfig`)."""


def check_preset(name: str, flag: str = "--preset") -> str:
    """Return ``name`` if it is a preset, else raise listing the valid ones."""
    if name not in PRESETS:
        raise UnknownNameError(unknown_name_message("preset", name, list(PRESETS), flag=flag))
    return name


def synth_config(name: str, **overrides: Any) -> SynthConfig:
    """The :class:`SynthConfig` of preset ``name`` with ``overrides`` applied."""
    return SYNTH_PRESETS[check_preset(name)].with_overrides(**overrides)


def config_from_preset(
    cls: Any, presets: Mapping[str, Any], name: str, overrides: Mapping[str, Any], *, what: str
) -> Any:
    """``presets[name]`` as a ``cls`` with the non-``None`` ``overrides``, validated.

    Every stage's ``Config.from_preset`` goes through here, so an unknown preset
    or setting, or a value of the wrong type, gets the same error everywhere:
    values are coerced to the field's type (:func:`uqa_data.settings.coerce_settings`).

    :param presets: preset name -> a ``cls`` instance or a dict of its fields.
    :param what: the stage, for messages (``"pre-training"``).
    """
    if name not in presets:
        raise UnknownNameError(
            unknown_name_message(f"{what} preset", name, list(presets), flag="--preset")
        )
    known = sorted(f.name for f in fields(cls))
    clean = {k: v for k, v in overrides.items() if v is not None}
    for key in clean:
        if key not in known:
            raise UnknownNameError(unknown_name_message(f"{what} setting", key, known))
    from uqa_data.settings import coerce_settings

    clean = coerce_settings(cls, clean, what=what)
    base = presets[name]
    config = replace(base, **clean) if is_dataclass(base) else cls(**{**base, **clean})
    if hasattr(config, "validate"):
        config.validate()
    return config
