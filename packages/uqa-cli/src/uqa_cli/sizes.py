"""``uqa list encoders --sizes``: every encoder's size presets, shapes and backbone parameters."""

from __future__ import annotations

import json
from typing import Any


def size_rows() -> list[dict[str, Any]]:
    """One row per (encoder, size preset) with its config and backbone parameter count."""
    from uqa_encoders.sizes import encoder_size_rows

    return encoder_size_rows()


def print_sizes(as_json: bool = False) -> None:
    """Print the size table (rich) or JSON."""
    rows = size_rows()
    if as_json:
        import typer

        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table
    from uqa_data.progress import console

    table = Table(title="encoder size presets")
    for col in ("encoder", "size", "layers", "dim", "heads", "shape", "backbone params"):
        table.add_column(col, justify="right" if col in ("layers", "dim", "heads") else "left")
    for r in rows:
        table.add_row(
            r["encoder"],
            r["size"],
            str(r["layers"]),
            str(r["dim"]),
            str(r.get("heads") or "-"),
            r["shape"],
            _human(r["backbone_params"]),
        )
    console.print(table)


def _human(n: int) -> str:
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.2f}{unit} ({n:,})"
    return str(n)
