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
    for col in ("encoder", "size", "shape", "backbone params", "paper (Table 5)"):
        table.add_column(col, justify="right" if col[0] in "bp" else "left")
    for r in rows:
        paper = r.get("paper_params")
        table.add_row(
            r["encoder"],
            r["size"],
            r["shape"],
            _human(r["backbone_params"]),
            _human(paper) if paper else "",
        )
    console.print(table)


def _human(n: int) -> str:
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.2f}{unit}"
    return str(n)
