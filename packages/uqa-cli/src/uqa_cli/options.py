"""Command-line options several ``uqa`` commands share, each written once.

Each function returns the ``typer.Option`` for a parameter default, so a command reads
``seed: int = options.seed("seed of the user split")``. Preset names come from
:data:`uqa_data.presets.PRESETS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import typer
from uqa_data.presets import PRESETS
from uqa_data.settings import setting_value

T = TypeVar("T")

PRESET_CHOICES = ", ".join(PRESETS[:-1]) + f" or {PRESETS[-1]}"
"""``tiny, small, default or full``."""


def run_dir(help: str, *, default: Any = Path("runs/default"), short: bool = False) -> Any:
    """``--out`` (``-o`` with ``short``): the run directory a command reads and writes."""
    return typer.Option(default, *(("--out", "-o") if short else ("--out",)), help=help)


def preset(note: str = "", default: str = "default") -> Any:
    """``--preset``: tiny, small, default or full."""
    return typer.Option(default, "--preset", help=PRESET_CHOICES + (f" ({note})" if note else ""))


def stage_preset(note: str = "") -> Any:
    """``--preset`` of a stage command: unset means the run's own (:func:`resolve_preset`)."""
    return typer.Option(None, "--preset", show_default=False, help=PRESET_CHOICES + (
        f" ({note}; " if note else " (") + "default: the preset OUT's synthetic data was made "
        "with, else default)")


def resolve_preset(preset: str | None, out: Path) -> str:
    """``preset``, or when it is unset the preset ``uqa data synth`` recorded in
    ``OUT/raw/synth.json``, else ``default``: the stages of one directory share one."""
    if preset is not None:
        return preset
    from uqa_data.errors import UqaError
    from uqa_data.io import read_json
    from uqa_data.layout import RunLayout

    made = RunLayout(out).raw / "synth.json"
    try:
        recorded = read_json(made).get("preset") if made.is_file() else None
    except (OSError, ValueError, AttributeError, UqaError):
        recorded = None
    return recorded if isinstance(recorded, str) and recorded in PRESETS else "default"


def settings(stage: str, example: str) -> Any:
    """``--set KEY=VALUE`` of a stage command: any setting of the stage's config that has
    no flag of its own (``uqa run --set STAGE.KEY=VALUE`` reaches the same ones)."""
    return typer.Option(
        [], "--set", metavar="KEY=VALUE", show_default=False,
        help=f"any other {stage} setting, e.g. --set {example} (values are JSON when they "
        f"parse as JSON; repeatable; uqa run takes it as --set {stage}.KEY=VALUE)")


def parse_stage_settings(items: Sequence[str], stage: str, known: Sequence[str],
                         owned: Mapping[str, str]) -> dict[str, Any]:
    """``["epochs=3"]`` -> ``{"epochs": 3}`` for a stage command's ``--set``.

    ``STAGE.KEY=VALUE`` is taken too when STAGE is this ``stage``. A key the stage's config
    lacks, or one in ``owned`` (key -> the flag that sets it), is refused naming ``--set
    KEY``; values are parsed as JSON when they are JSON, else kept as text.
    """
    from uqa_data.errors import UnknownNameError, UqaInputError
    from uqa_data.registry import unknown_name_message

    out: dict[str, Any] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        key = key.strip()
        head, dot, tail = key.partition(".")
        if dot and head == stage:
            key = tail
        if not eq or not key:
            raise UqaInputError(f"--set '{item}' is not KEY=VALUE (a {stage} setting)")
        if key in owned:
            raise UqaInputError(f"--set {key}: give it with {owned[key]}")
        if key not in known:
            raise UnknownNameError(unknown_name_message(f"{stage} setting", key, sorted(known),
                                                        flag=f"--set {key}"))
        out[key] = setting_value(raw)
    return out


def stage_config(make: Callable[..., T], preset: str | None, out: Path,
                 settings: dict[str, Any], flags: Mapping[str, str] | None = None, *,
                 stage: str | None = None, sets: Sequence[str] = (),
                 owned: Mapping[str, str] | None = None) -> T:
    """``make(preset, **settings)`` with ``preset`` resolved for ``out``
    (:func:`resolve_preset`); a bad setting names the flag that gave it (``flags``: setting
    -> flag, by default ``--<setting>`` for each one given).

    ``sets``: the command's ``--set KEY=VALUE`` items for ``stage``
    (:func:`parse_stage_settings`), added to ``settings``. A key with a flag of its own
    (every key of ``settings``, and ``owned``: key -> flag) is refused, naming the flag.
    """
    from dataclasses import fields

    from uqa_data.settings import flagged, given_flags

    name = resolve_preset(preset, out)
    flags = dict(given_flags(settings) if flags is None else flags)
    if sets:
        assert stage is not None, "--set needs the stage's name"
        known = [f.name for f in fields(make(name))]
        taken = {k: "--" + k.replace("_", "-") for k in settings} | dict(owned or {})
        extra = parse_stage_settings(sets, stage, known, taken)
        settings = {**settings, **extra}
        flags.update({k: f"--set {k}" for k in extra})
    return flagged(lambda: make(name, **settings), flags)


def seed(help: str = "random seed") -> Any:
    """``--seed``: an integer >= 0, checked while the flags are parsed."""
    return typer.Option(0, "--seed", help=help, callback=_checked_seed)


def _checked_seed(value: int) -> int:
    from uqa_data.settings import check_seed

    check_seed(value)
    return value


def data(help: str = "data directory (default: OUT/data)") -> Any:
    """``--data``: a data directory other than the run's."""
    return typer.Option(None, "--data", help=help)


def questions(split: str, what: str) -> Any:
    """``--questions``: a question file other than the run's ``questions/<split>.arrow``."""
    return typer.Option(None, "--questions", help=f"{what} questions (default: "
                        f"OUT/questions/{split}.arrow)")


def embeddings(split: str) -> Any:
    """``--embeddings``: an embeddings file other than the run's."""
    return typer.Option(None, "--embeddings",
                        help=f"user embeddings (default: OUT/embeddings/{split}.arrow)")


def mode(default: str | None = None, help: str = "loglik, letters or generate") -> Any:
    return typer.Option(default, "--mode", help=help)


def threads() -> Any:
    return typer.Option(None, "--threads",
                        help="torch CPU threads (1 is fastest on a busy shared CPU)")


def log_dir(help: str) -> Any:
    """``--log-dir``: TensorBoard event files of training."""
    return typer.Option(None, "--log-dir", help=help)


def as_json(help: str = "print the summary as JSON") -> Any:
    return typer.Option(False, "--json", help=help)
