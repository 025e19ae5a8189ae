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
    encoders: str | None = typer.Option(
        None, "--encoders", help="table2: comma-separated encoders (default: the paper's "
        "five; a plugin's encoder may be among them)"),
    sizes: str | None = typer.Option(
        None, "--sizes", help="scale-size: comma-separated trm_plus size presets"
    ),
    lengths: str | None = typer.Option(
        None, "--lengths", help="scale-length: comma-separated max sequence lengths"
    ),
    seed: int | None = typer.Option(None, "--seed", show_default=False,
                                    help="random seed (default: 0)"),
    seeds: str | None = typer.Option(
        None, "--seeds", help="comma-separated seeds: the study once per seed into "
        "OUT/seed-<s>, then whether its ranking holds (Kendall tau-b, pairs apart in every "
        "seed) in OUT/report/seeds.md"),
    align_seeds: str | None = typer.Option(
        None, "--align-seeds", help="comma-separated alignment seeds: the study's variants "
        "aligned once per seed into OUT/align-<a> on one seed's data (the later ones "
        "reuse its data and pre-training), then each run averaged over its alignments, "
        "intervals widened by their spread, in OUT/report/alignments.md; with --seeds, "
        "per seed (OUT/seed-<s>/align-<a>), and the seeds' rankings of the averaged runs "
        "compared in OUT/report/seeds.md"),
    baselines: str | None = typer.Option(
        None, "--baselines", help="comma-separated baselines instead of the study's own "
        "(table2: text20,text50,none); shuffled and random run beside every variant, the "
        "others beside the first ('' for none)"),
    launcher: str = typer.Option(
        "local", "--launcher", help="local, or torchrun for the training stages"
    ),
    settings: list[str] = typer.Option(
        [], "--set", metavar="STAGE.KEY=VALUE",
        help="override one stage setting in every variant, e.g. --set align.epochs=1 "
        "(stages: synth, prepare, questions, pretrain, align, eval; not one the study varies)"),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="go on even when the estimate exceeds --budget-minutes"
    ),
    budget_minutes: float = typer.Option(
        30.0, "--budget-minutes", help="ask for --yes when the study would take longer"
    ),
) -> None:
    """Run a study's variants into one directory and print one table (plus a plot)."""
    from uqa_data.errors import UqaInputError
    from uqa_data.settings import check_seed

    from uqa_cli.commands.run import parse_settings
    from uqa_cli.studies import (
        PAPER_ENCODERS,
        SCALE_LENGTHS,
        SCALE_SIZES,
        StudyArgs,
        align_seed_variants,
        get_study,
        run_align_seeds,
        run_seed_alignments,
        run_seeds,
        run_variants,
        seed_align_variants,
        seed_variants,
        study_variants,
    )

    get_study(name)
    if seed is not None and seeds is not None:
        raise UqaInputError("--seed and --seeds: give one (--seeds runs the study once per "
                            "seed)")
    if encoders is not None and name != "table2":
        raise UqaInputError(f"--encoders is table2's; study '{name}' takes --encoder")
    seed_list = _seeds(seeds) if seeds is not None else None
    align_list = _seeds(align_seeds, "--align-seeds") if align_seeds is not None else None
    check_seed(0 if seed is None else seed)
    args = StudyArgs(
        out=out or Path("runs") / f"study-{name}-{preset}",
        preset=preset,
        llm=llm,
        seed=0 if seed is None else seed,
        launcher=launcher,
        encoder=encoder,
        encoders=_names("--encoders", encoders) if encoders is not None else PAPER_ENCODERS,
        sizes=tuple(s.strip() for s in sizes.split(",")) if sizes else SCALE_SIZES,
        lengths=_lengths(lengths) if lengths else SCALE_LENGTHS,
        baselines=None if baselines is None else tuple(
            b.strip() for b in baselines.split(",") if b.strip()),
        settings=parse_settings(settings),
    )
    from uqa_cli.writing import writing_into

    # the study's name, its baselines and every variant (of every seed) checked; nothing
    # written yet
    if seed_list is not None and align_list is not None:
        plan = seed_align_variants(name, args, seed_list, align_list, budget_minutes)
        with writing_into(args.out, f"study {name}"):
            run_seed_alignments(name, args, plan, yes=yes, budget_minutes=budget_minutes)
        return
    if seed_list is not None:
        runs = seed_variants(name, args, seed_list, budget_minutes)
        with writing_into(args.out, f"study {name}"):
            run_seeds(name, args, runs, yes=yes, budget_minutes=budget_minutes)
        return
    if align_list is not None:
        rounds = align_seed_variants(name, args, align_list, budget_minutes)
        with writing_into(args.out, f"study {name}"):
            run_align_seeds(name, args, rounds, yes=yes, budget_minutes=budget_minutes)
        return
    variants = study_variants(name, args, budget_minutes)
    with writing_into(args.out, f"study {name}"):
        run_variants(name, args, variants, yes=yes, budget_minutes=budget_minutes)


def _names(flag: str, text: str) -> tuple[str, ...]:
    """``--encoders a,b``: distinct comma-separated names, at least one (each checked
    against the registry with its variant)."""
    from uqa_data.errors import UqaInputError

    names = tuple(p.strip() for p in text.split(",") if p.strip())
    if not names:
        raise UqaInputError(f"{flag} '{text}': expected comma-separated names, e.g. sasrec,hstu")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UqaInputError(f"{flag} {text}: {', '.join(twice)} given twice; each variant "
                            "runs once")
    return names


def _seeds(text: str, flag: str = "--seeds") -> tuple[int, ...]:
    """``--seeds 0,1`` (or ``--align-seeds``): at least two distinct integers >= 0."""
    from uqa_data.errors import UqaInputError

    out = _ints(flag, text, "seeds, e.g. 0,1")
    negative = [s for s in out if s < 0]
    if negative:
        raise UqaInputError(f"{flag} {text}: {negative[0]} is negative; expected integers "
                            ">= 0")
    if len(set(out)) < 2 or len(set(out)) != len(out):
        one = "--seed" if flag == "--seeds" else "--set align.seed=N"
        raise UqaInputError(f"{flag} {text}: expected at least two distinct seeds, e.g. 0,1 "
                            f"(one seed: {one})")
    return out


def _lengths(text: str) -> tuple[int, ...]:
    """``--lengths 32,64``: comma-separated integers (each checked as ``pretrain.max_len``)."""
    return _ints("--lengths", text, "maximum sequence lengths, e.g. 32,64")


def _ints(flag: str, text: str, what: str) -> tuple[int, ...]:
    """``flag``'s comma-separated integers; a part that is not one is named."""
    from uqa_data.errors import UqaInputError

    out = []
    for part in (p.strip() for p in text.split(",")):
        try:
            out.append(int(part))
        except ValueError:
            raise UqaInputError(f"{flag} {text}: '{part}' is not an integer; expected "
                                f"comma-separated {what}") from None
    return tuple(out)
