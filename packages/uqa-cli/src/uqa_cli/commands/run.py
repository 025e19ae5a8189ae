"""``uqa run``: every stage, from synthetic data to the accuracy table, into one run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from uqa_data.errors import UqaInputError
from uqa_data.settings import setting_value

from uqa_cli import options


def register(app: typer.Typer) -> None:
    """Add ``uqa run``."""
    app.command("run")(run_command)


def run_command(
    out: Path | None = options.run_dir("run directory (default: runs/<name>)", default=None,
                                       short=True),
    name: str | None = typer.Option(
        None, "--name", help="run name (default: <preset>-<encoder>-<adapter>-s<seed>)"
    ),
    preset: str = options.preset(),
    encoder: str = typer.Option("sasrec", "--encoder", help="a registered encoder (uqa list)"),
    encoder_size: str | None = typer.Option(
        None, "--encoder-size", help="encoder size preset (uqa list encoders --sizes)"
    ),
    adapter: str = typer.Option("mean_linear", "--adapter", help="a registered adapter"),
    strategy: str = typer.Option("adapter", "--strategy", help="adapter, lora or full"),
    llm: str = typer.Option(
        "smollm2", "--llm", help="'smollm2' or a local Hugging Face causal-LM directory"
    ),
    mode: str = options.mode("loglik", "answering: loglik, letters or generate"),
    dataset: str = typer.Option(
        "synthetic",
        "--dataset",
        help="'synthetic', or a directory holding raw/interactions.arrow and raw/items.arrow "
        "(from `uqa data import`)",
    ),
    lang: str = typer.Option("en", "--lang", help="question language: en or zh"),
    distractors: str = typer.Option(
        "population", "--distractors",
        help="wrong options: population (other users' answers) or own-history (harder)",
    ),
    baselines: str = typer.Option(
        "none,shuffled",
        "--baselines",
        help="comma-separated baselines to evaluate beside the encoder ('' for none)",
    ),
    seed: int = options.seed("seed of every stage"),
    until: str | None = typer.Option(
        None, "--until", help="stop after this stage (e.g. questions, pretrain, align)"
    ),
    force: bool = typer.Option(False, "--force", help="re-run stages even when done"),
    launcher: str = typer.Option(
        "local", "--launcher", help="local, or torchrun: pretrain and align in torchrun workers"
    ),
    log_dir: Path | None = options.log_dir(
        "also write TensorBoard event files of pre-training and alignment here (needs the "
        "tensorboard package: pip install 'uqa-cli\\[tensorboard]')"),
    settings: list[str] = typer.Option(
        [], "--set", metavar="STAGE.KEY=VALUE",
        help="override one stage setting, e.g. --set align.steps=400 --set align.loss=options "
        "(stages: synth, prepare, questions, pretrain, align, eval)",
    ),
) -> None:
    """Run every stage (data, questions, pre-train, embed, align, eval, report).

    Stages already finished with the same configuration are skipped, so an
    interrupted run resumes where it stopped.
    """
    from uqa_cli.run import RunOptions, run_pipeline

    options = RunOptions(
        out=out,
        name=name,
        preset=preset,
        encoder=encoder,
        encoder_size=encoder_size,
        adapter=adapter,
        strategy=strategy,
        llm=llm,
        mode=mode,
        dataset=dataset,
        lang=lang,
        distractors=distractors,
        baselines=[b.strip() for b in baselines.split(",") if b.strip()],
        seed=seed,
        until=until,
        force=force,
        launcher=launcher,
        overrides=parse_settings(settings),
        log_dir=log_dir,
    )
    run_pipeline(options)


def parse_settings(settings: list[str]) -> dict[str, dict[str, Any]]:
    """``["align.steps=400"]`` -> ``{"align": {"steps": 400}}``; values are JSON when they
    parse as JSON (numbers, true/false, lists), else strings. Stages and keys are
    checked by :func:`uqa_cli.run.check_overrides` before any stage runs."""
    out: dict[str, dict[str, Any]] = {}
    for item in settings:
        key, eq, raw = item.partition("=")
        stage, dot, name = key.strip().partition(".")
        if not eq or not dot or not name:
            raise UqaInputError(f"--set '{item}' is not STAGE.KEY=VALUE "
                                "(e.g. --set align.steps=400)")
        out.setdefault(stage, {})[name.strip()] = setting_value(raw)
    return out
