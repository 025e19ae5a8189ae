"""``uqa data synth | prepare | import``: the data stage's commands.

Heavy modules (numpy kernels, numba) are imported inside the command functions,
so ``uqa --help`` stays fast.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import typer
from uqa_data.layout import RunLayout

from uqa_cli import options

data_app = typer.Typer(
    name="data",
    help="Make the click log: synthesize or import raw/, then prepare data/.",
    no_args_is_help=True,
)

OUT_HELP = "run directory: raw/ and data/ are read and written under it"


def register(app: typer.Typer) -> None:
    """Add the ``uqa data`` sub-app to ``app``."""
    app.add_typer(data_app, name="data")


@data_app.command("synth")
def synth_command(
    out: Path = options.run_dir(OUT_HELP, short=True),
    preset: str = options.preset(),
    seed: int = options.seed("seed of every random choice"),
    lang: str = typer.Option("en", "--lang", help="language of names and titles: en or zh"),
    sets: list[str] = options.settings("synth", "n_users=30000"),
) -> None:
    """Write a seeded synthetic Taobao-like click log to OUT/raw/."""
    from dataclasses import fields

    from uqa_data.presets import SynthConfig
    from uqa_data.progress import console
    from uqa_data.rundir import check_no_import
    from uqa_data.settings import flagged
    from uqa_data.synth import check_synth_args, synthesize

    from uqa_cli.writing import writing_into

    overrides = options.parse_stage_settings(sets, "synth",
                                             [f.name for f in fields(SynthConfig)], {})
    flagged(lambda: check_synth_args(preset, seed, lang, **overrides),  # before the directory
            {k: f"--set {k}" for k in overrides})
    check_no_import(RunLayout(out), "uqa data synth")
    with writing_into(out, "data synth"):
        summary = synthesize(out, preset=preset, seed=seed, lang=lang, **overrides)
    changed = "".join(f", {k}={v}" for k, v in overrides.items())
    _print_facts(
        f"synthetic log ({preset}{changed}, seed {seed}, {lang}) -> {RunLayout(out).raw}",
        {
            k: summary[k]
            for k in (
                "users",
                "items",
                "rows",
                "duplicate_rows",
                "mean_len",
                "max_len",
                "categories",
                "brands",
                "shops",
                "sellers",
                "seconds",
            )
        },
    )
    console.print(f"next: uqa data prepare --out {out} --preset {preset}", highlight=False)


@data_app.command("prepare")
def prepare_command(
    out: Path = options.run_dir(OUT_HELP, short=True),
    preset: str | None = options.stage_preset(),
    seed: int = options.seed("seed of the user split"),
    min_item_count: int | None = typer.Option(
        None, "--min-item-count", help="drop items with fewer clicks (preset: 3)"
    ),
    min_user_len: int | None = typer.Option(
        None, "--min-user-len",
        help="drop users with fewer clicks (synthetic presets: 10; imported data: 1)",
    ),
    max_user_len: int | None = typer.Option(
        None, "--max-user-len",
        help="drop users with more clicks (synthetic presets: 200, full 1000; imported data: "
        "none, the encoder keeps each user's most recent max_len clicks)",
    ),
    split: str | None = typer.Option(
        None,
        "--split",
        help="user (held-out users, default), temporal (held-out last clicks) or given "
        "(raw/split.arrow, written by the uqabench importer)",
    ),
    test_fraction: float | None = typer.Option(
        None, "--test-fraction", help="share of users (or of each user's clicks) held out: 0.1"
    ),
) -> None:
    """Filter, time-order, renumber and split OUT/raw/ into OUT/data/."""
    from uqa_data.prepare import config_for, is_synthetic, prepare, report_table
    from uqa_data.progress import console

    layout = RunLayout(out)
    settings = dict(
        seed=seed,
        min_item_count=min_item_count,
        min_user_len=min_user_len,
        max_user_len=max_user_len,
        split=split,
        test_fraction=test_fraction,
    )
    config = options.stage_config(functools.partial(config_for, layout.raw), preset, out,
                                  settings)
    from uqa_data.prepare import check_holds_out

    check_holds_out(config, "--test-fraction")
    from uqa_cli.writing import writing_into

    with writing_into(out, "data prepare"):
        summary = prepare(layout.raw, layout.data, config)
    console.print(report_table(summary))
    if not is_synthetic(layout.raw):
        console.print(
            f"imported data: users kept from {config.min_user_len} click(s) up to "
            f"{'any length' if config.max_user_len is None else config.max_user_len}"
            " (filter with --min-user-len / --max-user-len)", highlight=False)
    console.print(f"wrote {layout.data} in {summary['seconds']:.2f} s", highlight=False)


@data_app.command("import")
def import_command(
    path: Path = typer.Argument(..., help="the file or folder to import"),
    fmt: str = typer.Option(
        ..., "--format", "-f", help="a registered dataset importer: uqabench, csv, parquet, recbole"
    ),
    out: Path = options.run_dir(OUT_HELP, short=True),
    items: Path | None = typer.Option(
        None, "--items", help="csv/parquet: an optional item table file"
    ),
    user_col: str | None = typer.Option(
        None, "--user-col", help="csv/parquet: user id column (default user_id)"
    ),
    item_col: str | None = typer.Option(
        None, "--item-col", help="csv/parquet: item id column (default item_id)"
    ),
    time_col: str | None = typer.Option(
        None, "--time-col", help="csv/parquet: timestamp column (default timestamp)"
    ),
    delimiter: str | None = typer.Option(None, "--delimiter", help="csv: field delimiter (,)"),
    tokenizer: Path | None = typer.Option(
        None, "--tokenizer", help="uqabench: a local tokenizer folder to decode names"
    ),
    order_by_row: bool = typer.Option(
        False, "--order-by-row",
        help="recbole: accept a .inter without a timestamp field (clicks keep the row order)",
    ),
) -> None:
    """Import a real click log from PATH into OUT/raw/ (then run `uqa data prepare`)."""
    import inspect

    from uqa_data.errors import UqaInputError
    from uqa_data.progress import console
    from uqa_data.registry import get_component

    spec = get_component("dataset", fmt, flag="--format")
    if spec.options.get("synthetic"):
        raise UqaInputError(f"--format {fmt} is a synthetic source; use `uqa data synth`")
    if not path.exists():
        raise UqaInputError(f"{path}: no such file or folder (PATH, the click log to import)")
    if items is not None and not items.is_file():
        raise UqaInputError(f"{items}: no such file (--items, the item table)")
    importer = spec.load()
    given = {
        "items": items,
        "user_col": user_col,
        "item_col": item_col,
        "time_col": time_col,
        "delimiter": delimiter,
        "tokenizer": tokenizer,
        "order_by_row": order_by_row or None,
    }
    given = {k: v for k, v in given.items() if v is not None}
    accepted = inspect.signature(importer).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
    for key in given:
        if key not in accepted and not takes_any:
            raise UqaInputError(f"--{key.replace('_', '-')} does not apply to --format {fmt}")
    from uqa_cli.writing import writing_into

    with writing_into(out, "data import"):
        before = _question_files(RunLayout(out))
        summary = importer(path, out, **given)
        _drop_stale_questions(RunLayout(out), before)
    _print_facts(
        f"imported {path} ({fmt}) -> {RunLayout(out).raw}",
        {k: v for k, v in summary.items() if not isinstance(v, dict | list)},
    )
    given = " --split given" if (RunLayout(out).raw / "split.arrow").is_file() else ""
    console.print(f"next: uqa data prepare --out {out}{given}", highlight=False)


def _question_files(layout: RunLayout) -> dict[Path, tuple[int, int]]:
    """Each question file there now, by inode and modification time (a file written
    again is a new inode: writes are atomic renames)."""
    out = {}
    for split in ("align", "eval"):
        path = layout.questions(split)
        if path.is_file():
            st = path.stat()
            out[path] = (st.st_ino, st.st_mtime_ns)
    return out


def _drop_stale_questions(layout: RunLayout, before: dict[Path, tuple[int, int]]) -> None:
    """Remove question files an earlier import wrote (an official import's) and this one
    did not: a run would take them for this dataset's own. A run directory's questions
    (it has ``run.json``) are its stages' and stay."""
    if layout.run_json.is_file():
        return
    for path, stamp in _question_files(layout).items():
        if before.get(path) == stamp:
            path.unlink()


def _print_facts(title: str, facts: dict[str, Any]) -> None:
    from rich.table import Table
    from uqa_data.progress import console

    table = Table(title=title, show_header=False)
    table.add_column("fact")
    table.add_column("value", justify="right")
    for key, value in facts.items():
        text = (
            f"{value:,.2f}"
            if isinstance(value, float)
            else (f"{value:,}" if isinstance(value, int) else str(value))
        )
        table.add_row(key, text)
    console.print(table)
