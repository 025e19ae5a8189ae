"""``uqa questions``: generate the alignment and evaluation question sets of a run."""

from __future__ import annotations

from pathlib import Path

import typer

from uqa_cli import options

LM_EVAL = "lm-eval"
DISTRACTOR_NOTES: tuple[tuple[str, str], ...] = (
    ("fallback", "fell back to own-history distractors (a group had fewer than 4 distinct "
                 "answers)"),
    ("unbalanced", "kept without a balanced popularity rank (too few candidates to balance)"),
)
"""Generation summary keys of questions whose distractors needed a fallback, and what the
command says of them."""


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("questions")(questions_command)


def questions_command(
    out: Path = options.run_dir("run directory: reads OUT/data/, writes OUT/questions/"),
    preset: str | None = options.stage_preset("question counts"),
    seed: int = options.seed("seed for users, templates, distractors, shuffling"),
    lang: str = typer.Option("en", "--lang", help="template language: en or zh"),
    per_task: int | None = typer.Option(
        None, "--per-task", help="evaluation questions per sub-task (overrides the preset)"
    ),
    align_per_task: int | None = typer.Option(
        None, "--align-per-task", help="alignment questions per sub-task (overrides the preset)"
    ),
    tasks: str | None = typer.Option(
        None, "--tasks", help="comma-separated sub-tasks (default: every registered task)"
    ),
    attributes: str | None = typer.Option(
        None,
        "--attributes",
        help="comma-separated subset of category,brand,shop that attribute questions ask "
        "about (default: all); sub-tasks without any of them (ip, df's titles) keep theirs",
    ),
    recent_window: int | None = typer.Option(
        None, "--recent-window", help="clicks that count as recent for si and it (default 10)"
    ),
    fmt: str = typer.Option(
        "arrow",
        "--format",
        help="arrow (questions/*.arrow only), official (also questions/official/*.jsonl "
        "with the options inside the question text) or lm-eval (also lm-evaluation-harness "
        "tasks uqabench_none/_text20/_text50 of the eval set in questions/lm_eval/)",
    ),
    distractors: str = typer.Option(
        "population",
        "--distractors",
        help="population (other users' answers to the same kind of question) or "
        "own-history (values from the user's own history; harder)",
    ),
    data: Path | None = options.data("data directory to read instead of OUT/data"),
    sets: list[str] = options.settings("questions", "min_history=20"),
) -> None:
    """Generate questions/align.arrow (training users) and questions/eval.arrow (test users)."""
    from rich.table import Table
    from uqa_data.errors import UnknownNameError
    from uqa_data.layout import RunLayout
    from uqa_data.progress import console
    from uqa_data.questions import QuestionConfig, generate
    from uqa_data.questions.config import FORMATS
    from uqa_data.registry import unknown_name_message
    from uqa_data.settings import given_flags

    layout = RunLayout(out)
    if fmt not in (*FORMATS, LM_EVAL):
        raise UnknownNameError(unknown_name_message("format", fmt, [*FORMATS, LM_EVAL],
                                                    flag="--format"))
    settings = dict(
        seed=seed,
        lang=lang,
        eval_per_task=per_task,
        align_per_task=align_per_task,
        tasks=_split(tasks),
        attributes=_split(attributes),
        recent_window=recent_window,
        formats=("arrow",) if fmt in ("arrow", LM_EVAL) else ("arrow", fmt),
        distractors=distractors,
    )
    flags = {k: "--per-task" if k == "eval_per_task" else f
             for k, f in given_flags(settings).items()}
    config = options.stage_config(QuestionConfig.from_preset, preset, out, settings, flags,
                                  stage="questions", sets=sets, owned={
                                      "preset": "--preset", "eval_per_task": "--per-task",
                                      "formats": "--format"})
    config.check_not_empty(flags)
    from uqa_cli.writing import writing_into

    with writing_into(out, "questions"):
        summary = generate(data or layout.data, layout.questions_dir, config)
        if fmt == LM_EVAL:
            from uqa_align.harness import export_lm_eval

            summary["lm_eval"] = export_lm_eval(layout.questions("eval"), data or layout.data,
                                                layout.questions_dir / "lm_eval")
    table = Table(title=f"questions ({config.lang}, seed {config.seed})")
    table.add_column("task")
    table.add_column("align", justify="right")
    table.add_column("eval", justify="right")
    for name in summary["tasks"]:
        table.add_row(
            name,
            str(summary["align"]["per_task"].get(name, 0)),
            str(summary["eval"]["per_task"].get(name, 0)),
        )
    table.add_row(
        "[bold]total", str(summary["align"]["questions"]), str(summary["eval"]["questions"])
    )
    console.print(table)
    for stem in ("align", "eval"):
        for task, missing in summary[stem]["short"].items():
            console.print(
                f"[yellow]warning:[/] {stem}: only {summary[stem]['per_task'][task]} '{task}' "
                f"questions ({missing} fewer than asked): too few users fit this sub-task"
            )
        for key, what in DISTRACTOR_NOTES:
            counts = summary[stem]["distractors"][key]
            if counts:
                parts = ", ".join(f"{t} {c}" for t, c in counts.items())
                console.print(f"{stem}: {sum(counts.values())} question(s) {what}: {parts}")
    console.print(f"wrote {layout.questions_dir} in {summary['seconds']:.1f}s "
                  f"({config.distractors} distractors)")
    if "lm_eval" in summary:
        folder = summary["lm_eval"]["include_path"]
        console.print(
            f"lm-evaluation-harness tasks {', '.join(summary['lm_eval']['tasks'])} in {folder}; "
            f"run: lm_eval --model hf --model_args pretrained=DIR --tasks uqabench_text20 "
            f"--include_path {folder} --log_samples --output_path RESULTS", highlight=False,
            soft_wrap=True)


def _split(text: str | None) -> tuple[str, ...] | None:
    """``"a, b"`` -> ``("a", "b")``; None stays None (use the preset's value)."""
    if text is None:
        return None
    return tuple(t.strip() for t in text.split(",") if t.strip())
