"""``uqa-eval``: score predictions and user embeddings made elsewhere.

Works with only uqa-eval installed (plus uqa-data and uqa-align, which it
depends on); it never imports uqa-encoders or uqa-cli. Heavy packages (torch,
transformers) are imported inside the commands that need them.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from uqa_data.presets import PRESETS
from uqa_data.progress import console
from uqa_data.settings import key_values

from uqa_eval.console_script import console_app, run_console_app

app = console_app(
    "uqa-eval",
    "Score UQABench predictions, or user embeddings made elsewhere, without the rest of uqa.")


@app.command("score-predictions")
def score_predictions_command(
    file: Path = typer.Argument(
        ...,
        help="Official UQABench generation output (JSONL with question, prediction, answer), "
        "or lm-evaluation-harness --log_samples output of a `uqa questions --format lm-eval` "
        "task (a samples_*.jsonl file, or the folder holding one).",
        show_default=False,
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON, not a table."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Also write report.json, report.md and accuracy.png here "
        "(RUN/report makes RUN a run directory for `uqa report`)."
    ),
) -> None:
    """Accuracy of predictions made elsewhere: all tasks, each dimension, each sub-task.

    With --out RUN/report, RUN sits beside uqa's own runs in one `uqa report` table.
    """
    from uqa_eval.harness import find_samples, is_samples_file, score_samples
    from uqa_eval.official import score_predictions
    from uqa_eval.report import print_table, report_table, write_report

    if out is not None:
        from uqa_data.rundir import check_dir_path

        check_dir_path(out, "--out", "a directory for report.md, report.json and the charts")
    if file.is_dir() or is_samples_file(file):
        file = find_samples(file)
        report = score_samples(file)
    else:
        report = score_predictions(file)
    if out is not None:
        written = write_report(report, out)
        console.print(f"wrote {', '.join(written.values())}", highlight=False, soft_wrap=True)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        print_table(report_table(report, title=f"UQABench predictions: {file.name}"))


@app.command("score-embeddings")
def score_embeddings_command(
    embeddings: Path = typer.Option(
        ...,
        "--embeddings",
        help="Arrow/Parquet file: user_id plus embedding (one vector per user) and/or "
        "embeddings (one per position).",
        show_default=False,
    ),
    align_questions: Path = typer.Option(
        ...,
        "--align-questions",
        help="Questions to train the adapter on (questions/align.arrow schema).",
        show_default=False,
    ),
    eval_questions: Path = typer.Option(
        ...,
        "--eval-questions",
        help="Questions to evaluate on (questions/eval.arrow schema).",
        show_default=False,
    ),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Data directory (items.arrow...), when the stages need it."
    ),
    llm: str = typer.Option(
        "smollm2",
        "--llm",
        help="LLM: a registered name (smollm2) or a local Hugging Face directory.",
    ),
    adapter: str = typer.Option(
        "mean_linear", "--adapter", help="Adapter: mean_linear or qformer."
    ),
    adapter_option: list[str] = typer.Option(
        [], "--adapter-option", metavar="KEY=VALUE", show_default=False,
        help="An option of the adapter (repeatable; values are JSON when they parse), e.g. "
        "pool=mean: mean_linear reads the mean of the per-position embeddings instead of the "
        "last one (for an encoder whose last position is not its summary).",
    ),
    preset: str = typer.Option(
        "default", "--preset", help=f"Alignment/evaluation preset: {', '.join(PRESETS)}."
    ),
    mode: str | None = typer.Option(
        None, "--mode", help="Answering mode: loglik, letters or generate (default: the preset's)."
    ),
    strategy: str | None = typer.Option(
        None, "--strategy", help="Alignment strategy: adapter, lora or full (default: adapter)."
    ),
    steps: int | None = typer.Option(
        None, "--steps", help="Alignment steps (default: the preset's)."
    ),
    controls: str = typer.Option(
        "none,shuffled",
        "--controls",
        help="Comma-separated controls evaluated beside the embeddings: none (no user "
        "context), shuffled (embeddings permuted across users); '' for none.",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Output directory (adapter, predictions, report); default uqa-eval-runs/<embeddings>.",
    ),
    align_seed: int | None = typer.Option(
        None, "--align-seed", show_default=False,
        help="Seed of the alignment alone (the adapter's initial weights and batch order; "
        "default: the preset's). Runs that differ only here are alignments of the same "
        "embeddings: read them together with `uqa-eval replicates`."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON, not a table."),
) -> None:
    """Train an adapter on your user embeddings, answer the questions, print the report."""
    from uqa_data.layout import RunLayout

    from uqa_eval.external import score_embeddings
    from uqa_eval.report import comparison_table, load_comparison, print_table, report_table

    target = out or Path("uqa-eval-runs") / embeddings.stem
    options = key_values(adapter_option, "--adapter-option", "an option of the adapter") or None
    report = score_embeddings(
        embeddings,
        align_questions,
        eval_questions,
        target,
        data_dir=data_dir,
        llm=llm,
        adapter=adapter,
        preset=preset,
        controls=[c.strip() for c in controls.split(",") if c.strip()],
        overrides={"mode": mode, "steps": steps, "strategy": strategy,
                   "adapter_options": options},
        align_seed=align_seed,
        echo=lambda msg: console.print(f"[yellow]note:[/] {msg}", highlight=False, soft_wrap=True),
    )
    layout = RunLayout(target)
    console.print(f"wrote {layout.report}", highlight=False, soft_wrap=True)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    print_table(report_table(report))
    compare = layout.compare / "report.json"
    if report["meta"].get("controls") and compare.is_file():
        print_table(comparison_table(load_comparison(compare)))


@app.command("replicates")
def replicates_command(
    runs: list[Path] = typer.Argument(
        ..., show_default=False,
        help="Two or more runs of the same embeddings and questions aligned with other "
        "seeds (score-embeddings --align-seed N), or study directories of them."),
    out: Path | None = typer.Option(
        None, "--out", "-o",
        help="Where to write alignments.md/.json (default: the first run's report/compare/)."),
) -> None:
    """Each run averaged over its alignments, every interval widened by their spread."""
    from uqa_eval.report.alignments import replicates_report

    replicates_report(runs, out, what="uqa-eval replicates")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: a UqaError becomes a one-line error and exit status 2."""
    run_console_app(app, argv, prog_name="uqa-eval")


if __name__ == "__main__":
    main()
