"""Typed stage settings: coerce override values to a config field's type, check ranges.

Every stage config is a dataclass; :func:`coerce_settings` turns the values a
user gave (``--set align.steps=400`` arrives as JSON, so ``400``; ``abc``
arrives as text) into the field's declared type or raises
:class:`SettingError` naming the setting, the value and the type expected.
The ``check_*`` helpers give every config's ``validate()`` the same message
shape for out-of-range values.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from uqa_data.errors import UnknownNameError, UqaInputError

T = TypeVar("T")


class SettingError(UqaInputError):
    """One stage setting has a value of the wrong type or out of range.

    ``what`` names the stage (``align``), ``key`` the setting (``steps``); callers
    that know which flag set it (``--set align.steps``) add it with :meth:`with_flag`.
    """

    def __init__(self, what: str, key: str, value: Any, expected: str,
                 flag: str | None = None) -> None:
        self.what, self.key, self.value, self.expected, self.flag = (
            what, key, value, expected, flag)
        where = f" ({flag})" if flag else ""
        super().__init__(f"{what} setting {key}={value!r}{where}: expected {expected}")

    def with_flag(self, flag: str) -> SettingError:
        """The same error, naming the flag that set the value."""
        return SettingError(self.what, self.key, self.value, self.expected, flag)


class ChoiceError(SettingError, UnknownNameError):
    """A setting names none of its valid choices: ``unknown alignment loss 'optons'
    (--loss); did you mean 'options'? valid: ...``."""

    def __init__(self, what: str, key: str, value: Any, valid: Sequence[str], noun: str,
                 flag: str | None = None) -> None:
        from uqa_data.registry import unknown_name_message

        self.what, self.key, self.value, self.flag = what, key, value, flag
        self.valid, self.noun = tuple(valid), noun
        self.expected = "one of " + ", ".join(self.valid)
        Exception.__init__(self, unknown_name_message(noun, str(value), list(self.valid),
                                                      flag=flag))

    def with_flag(self, flag: str) -> ChoiceError:
        return ChoiceError(self.what, self.key, self.value, self.valid, self.noun, flag)


def check_choice(config: Any, what: str, key: str, valid: Sequence[str], noun: str,
                 flag: str | None = None) -> None:
    """``config.<key>`` is one of ``valid``; else :class:`ChoiceError` (naming ``flag``)."""
    value = getattr(config, key)
    if value not in valid:
        raise ChoiceError(what, key, value, valid, noun, flag)


def flagged(make: Callable[[], T], flags: Mapping[str, str]) -> T:
    """``make()``; a :class:`SettingError` about a setting in ``flags`` (setting -> the flag
    that set it: ``--max-questions``, ``--set align.loss``) is raised again naming it."""
    try:
        return make()
    except SettingError as exc:
        if exc.key in flags:
            raise exc.with_flag(flags[exc.key]) from None
        raise


def setting_value(raw: str) -> Any:
    """A ``--set`` value: JSON when it parses as JSON (numbers, true/false, lists,
    objects), else the text itself."""
    import json

    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def key_values(items: Sequence[str], flag: str, noun: str) -> dict[str, Any]:
    """``["pool=mean", "num_tokens=4"]`` -> ``{"pool": "mean", "num_tokens": 4}`` (values
    read by :func:`setting_value`); an item without ``KEY=`` is refused naming ``flag``."""
    out: dict[str, Any] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise UqaInputError(f"{flag} '{item}' is not KEY=VALUE ({noun})")
        out[key.strip()] = setting_value(raw)
    return out


def given_flags(values: Mapping[str, Any]) -> dict[str, str]:
    """Setting -> its command-line flag (``max_questions`` -> ``--max-questions``), for the
    values a command was given (not None)."""
    return {k: "--" + k.replace("_", "-") for k, v in values.items() if v is not None}


_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "text"}


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        parts = [_describe(a) for a in typing.get_args(tp) if a is not type(None)]
        none = type(None) in typing.get_args(tp)
        return " or ".join(parts) + (" or null" if none else "")
    if origin in (tuple, list) or tp in (tuple, list):
        return "a list"
    if origin in (dict, Mapping) or tp is dict:
        return "a JSON object"
    return _WORDS.get(tp, getattr(tp, "__name__", str(tp)))


class _Mismatch(Exception):
    pass


def _coerce(tp: Any, value: Any) -> Any:
    """``value`` as type ``tp`` or :class:`_Mismatch`."""
    if tp is Any:
        return value
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value)
            except _Mismatch:
                continue
        raise _Mismatch
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise _Mismatch
    if tp is int:
        if isinstance(value, bool):
            raise _Mismatch
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise _Mismatch from None
        raise _Mismatch
    if tp is float:
        if isinstance(value, bool):
            raise _Mismatch
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                raise _Mismatch from None
        raise _Mismatch
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise _Mismatch
    if origin is tuple or tp is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise _Mismatch
        args = typing.get_args(tp)
        inner = args[0] if args else Any
        return tuple(_coerce(inner, v) for v in value)
    if origin is list or tp is list:
        if not isinstance(value, list | tuple):
            raise _Mismatch
        args = typing.get_args(tp)
        return [_coerce(args[0] if args else Any, v) for v in value]
    if origin in (dict, Mapping) or tp is dict:
        if not isinstance(value, Mapping):
            raise _Mismatch
        return dict(value)
    if isinstance(tp, type) and not isinstance(value, tp):
        raise _Mismatch
    return value


def field_types(cls: type) -> dict[str, Any]:
    """Field name -> resolved type annotation of dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls)}


def coerce_settings(cls: type, values: Mapping[str, Any], *, what: str) -> dict[str, Any]:
    """``values`` with each one converted to its field's type in ``cls``.

    Integers given as ``3.0`` or ``"3"`` become ``3``, numbers become floats,
    ``"true"``/``"false"`` booleans, lists tuples; anything else that does not
    fit raises :class:`SettingError`. Unknown keys are passed through (the
    caller rejects them with close matches).
    """
    types_ = field_types(cls)
    out = {}
    for key, value in values.items():
        if key not in types_:
            out[key] = value
            continue
        try:
            out[key] = _coerce(types_[key], value)
        except _Mismatch:
            raise SettingError(what, key, value, _describe(types_[key])) from None
    return out


def check_positive(config: Any, what: str, *names: str) -> None:
    """Each named setting is a finite number > 0."""
    for name in names:
        v = getattr(config, name)
        if v is None:
            continue
        if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
            raise SettingError(what, name, v, "a number > 0")


def check_at_least(config: Any, what: str, minimum: int, *names: str,
                   bound: str | None = None) -> None:
    """Each named setting (when not None) is an integer >= ``minimum``; ``bound`` names
    the setting ``minimum`` comes from, for the message (``>= n_categories (40)``)."""
    for name in names:
        v = getattr(config, name)
        if v is None:
            continue
        if not (isinstance(v, int) and not isinstance(v, bool) and v >= minimum):
            limit = f"{bound} ({minimum})" if bound else str(minimum)
            raise SettingError(what, name, v, f"an integer >= {limit}")


def check_seed(seed: Any, flag: str = "--seed") -> None:
    """A seed is an integer >= 0 (numpy's and torch's generators take no negative one)."""
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        raise UqaInputError(f"{flag} {seed!r}: expected an integer >= 0")


def check_non_negative(config: Any, what: str, *names: str) -> None:
    """Each named setting is a finite number >= 0."""
    for name in names:
        v = getattr(config, name)
        if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
            raise SettingError(what, name, v, "a number >= 0")


def check_resume_settings(saved: Mapping[str, Any], current: Mapping[str, Any],
                          checkpoint: Any, ignore: Sequence[str] = (),
                          defaults: Mapping[str, Any] | None = None) -> None:
    """Refuse to resume from ``checkpoint`` with settings other than those it was made with.

    A checkpoint holds the optimizer's state (its learning rate, its schedule's step), the
    batch order and the random state of the settings it began with, so a resumed run with
    another learning rate, step count or seed would train with the old ones and be labelled
    with the new. Every setting of ``current`` but ``ignore`` (those that change no number
    trained: checkpoint spacing, threads...) must equal the checkpoint's. A setting the
    checkpoint does not name (made by a version that did not have it) was trained as its
    value in ``defaults`` (:func:`field_defaults` of the config class), the behaviour it
    was added with; without a default it is not checked.

    :raises UqaInputError: naming each setting that differs, its two values, and the way out.
    """
    import json

    def plain(value: Any) -> Any:  # tuples and lists alike, as the checkpoint's JSON has them
        return json.loads(json.dumps(value, default=str))

    defaults = defaults or {}
    differ = []
    for key in current:
        if key in ignore:
            continue
        if key in saved:
            if plain(saved[key]) != plain(current[key]):
                differ.append(f"{key}={plain(saved[key])!r} (now {plain(current[key])!r})")
        elif key in defaults and plain(defaults[key]) != plain(current[key]):
            differ.append(f"{key}={plain(defaults[key])!r} (not named by the checkpoint, "
                          f"made before the setting existed; now {plain(current[key])!r})")
    if differ:
        raise UqaInputError(f"{checkpoint}: --resume: the checkpoint was made with "
                            f"{', '.join(differ)}; resume with the settings it was made with, "
                            "or drop --resume to start over")


def field_defaults(cls: type) -> dict[str, Any]:
    """``{field: default}`` of a dataclass's fields that have one (a factory's is called)."""
    from dataclasses import MISSING, fields

    out: dict[str, Any] = {}
    for f in fields(cls):
        if f.default is not MISSING:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
    return out
