"""``uqa study NAME``: reproduce one of the paper's tables as a set of runs."""

from __future__ import annotations

from pathlib import Path

import typer

from uqa_cli import options


def register(app: typer.Typer) -> None:
    """Add ``uqa study``."""
    app.command("study")(study_command)


def study_command(
    name: str = typer.Argument(
        ...,
        help="table2, ablation-pretrain, ablation-align, scale-size, scale-length or efficiency",
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="study directory (default: runs/study-<name>-<preset>)"
    ),
    preset: str = options.preset(default="tiny"),
    llm: str = typer.Option("smollm2", "--llm", help="'smollm2' or a local HF model directory"),
    encoder: str = typer.Option(
        "trm_plus", "--encoder", help="encoder of the ablations and the efficiency study"
    ),
    sizes: str | None = typer.Option(
        None, "--sizes", help="scale-size: comma-separated trm_plus size presets"
    ),
    lengths: str | None = typer.Option(
        None, "--lengths", help="scale-length: comma-separated max sequence lengths"
    ),
    seed: int = options.seed(),
    baselines: str | None = typer.Option(
        None, "--baselines", help="comma-separated baselines instead of the study's own "
        "(table2: text20,text50,none); shuffled and random run beside every variant, the "
        "others beside the first ('' for none)"),
    launcher: str = typer.Option(
        "local", "--launcher", help="local, or torchrun for the training stages"
    ),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="go on even when the estimate exceeds --budget-minutes"
    ),
    budget_minutes: float = typer.Option(
        30.0, "--budget-minutes", help="ask for --yes when the study would take longer"
    ),
) -> None:
    """Run a study's variants into one directory and print one table (plus a plot)."""
    from uqa_cli.studies import SCALE_LENGTHS, SCALE_SIZES, StudyArgs, run_variants, study_variants

    args = StudyArgs(
        out=out or Path("runs") / f"study-{name}-{preset}",
        preset=preset,
        llm=llm,
        seed=seed,
        launcher=launcher,
        encoder=encoder,
        sizes=tuple(s.strip() for s in sizes.split(",")) if sizes else SCALE_SIZES,
        lengths=_lengths(lengths) if lengths else SCALE_LENGTHS,
        baselines=None if baselines is None else tuple(
            b.strip() for b in baselines.split(",") if b.strip()),
    )
    from uqa_cli.writing import writing_into

    # the study's name, its baselines and every variant checked; nothing written yet
    variants = study_variants(name, args, budget_minutes)
    with writing_into(args.out, f"study {name}"):
        run_variants(name, args, variants, yes=yes, budget_minutes=budget_minutes)


def _lengths(text: str) -> tuple[int, ...]:
    """``--lengths 32,64``: comma-separated integers (each checked as ``pretrain.max_len``)."""
    from uqa_data.errors import UqaInputError

    out = []
    for part in (p.strip() for p in text.split(",")):
        try:
            out.append(int(part))
        except ValueError:
            raise UqaInputError(f"--lengths {text}: '{part}' is not an integer; expected "
                                "comma-separated maximum sequence lengths, e.g. 32,64") from None
    return tuple(out)
