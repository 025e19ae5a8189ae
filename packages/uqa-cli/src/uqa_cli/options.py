"""Command-line options several ``uqa`` commands share, each written once.

Each function returns the ``typer.Option`` for a parameter default, so a command reads
``seed: int = options.seed("seed of the user split")``. Preset names come from
:data:`uqa_data.presets.PRESETS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import typer
from uqa_data.presets import PRESETS

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


def stage_config(make: Callable[..., T], preset: str | None, out: Path,
                 settings: dict[str, Any], flags: Mapping[str, str] | None = None) -> T:
    """``make(preset, **settings)`` with ``preset`` resolved for ``out``
    (:func:`resolve_preset`); a bad setting names the flag that gave it (``flags``: setting
    -> flag, by default ``--<setting>`` for each one given)."""
    from uqa_data.settings import flagged, given_flags

    return flagged(lambda: make(resolve_preset(preset, out), **settings),
                   given_flags(settings) if flags is None else flags)


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
