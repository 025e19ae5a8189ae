"""``uqa run``: every stage into one run directory (placeholder until wired)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add ``uqa run``."""
