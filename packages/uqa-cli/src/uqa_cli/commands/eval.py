"""``uqa eval``: answer the evaluation questions with the aligned LLM."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from uqa_cli import options


def register(app: typer.Typer) -> None:
    """Add ``uqa eval``."""
    app.command("eval")(eval_command)


def eval_command(
    out: Path = options.run_dir(
        "run directory (reads questions/eval.arrow, embeddings/test.arrow, adapter/)"),
    questions: Path | None = options.questions("eval", "evaluation"),
    embeddings: Path | None = options.embeddings("test"),
    data: Path | None = options.data(),
    adapter_dir: Path | None = typer.Option(
        None, "--adapter-dir", help="aligned adapter (default: OUT/adapter or the baseline's)"
    ),
    predictions: Path | None = typer.Option(
        None,
        "--predictions",
        help="output (default: OUT/predictions/eval.arrow or OUT/baselines/NAME/predictions)",
    ),
    baseline: str | None = typer.Option(
        None, "--baseline", help="none, random, shuffled, oracle, text20 or text50"
    ),
    llm: str | None = typer.Option(
        None, "--llm", help="with --baseline none: the LLM asked (default: the run's adapter's "
        "LLM, else smollm2); with an adapter it must be the LLM the adapter was aligned on"),
    mode: str | None = options.mode(),
    preset: str | None = options.stage_preset(),
    batch_size: int | None = typer.Option(None, "--batch-size", help="questions per forward"),
    max_questions: int | None = typer.Option(None, "--max-questions", help="first N only"),
    seed: int = options.seed("seed of the shuffled permutation"),
    threads: int | None = options.threads(),
    sets: list[str] = options.settings("eval", "precision=fp32"),
    as_json: bool = options.as_json(),
) -> None:
    """Answer the evaluation questions (OUT/adapter -> OUT/predictions/eval.arrow)."""
    from uqa_data.layout import RunLayout
    from uqa_data.progress import console
    from uqa_eval.baselines import baseline_adapter, baseline_embeddings, get_baseline
    from uqa_eval.evaluate import EvalConfig, evaluate

    base = get_baseline(baseline) if baseline else None
    settings = dict(
        mode=mode,
        baseline=baseline,
        batch_size=batch_size,
        max_questions=max_questions,
        seed=seed,
        llm=llm,
        threads=threads,
    )
    if llm is not None:  # checked before anything is read or written
        from uqa_align.llm import check_llm

        check_llm(llm, "--llm")
    config = options.stage_config(EvalConfig.from_preset, preset, out, settings, stage="eval",
                                  sets=sets)

    layout = RunLayout(out)
    emb = embeddings or baseline_embeddings(layout, base, "test")
    adir = adapter_dir or baseline_adapter(layout, base)
    pred = predictions or (layout.baseline(base.name) if base else layout).predictions
    from uqa_cli.writing import writing_into

    with writing_into(out, "eval"):
        s = evaluate(questions or layout.questions("eval"), emb, adir, data or layout.data, pred,
                     config)
    if as_json:
        typer.echo(json.dumps(s, indent=2))
        return
    console.print(
        f"{s['questions']} questions ({s['mode']}{', ' + baseline if baseline else ''}): "
        f"acc {s['acc']:.3f}, acc_norm {s['acc_norm']:.3f}, {s['mean_input_tokens']:.1f} input "
        f"tokens/question, {s['questions_per_s']} questions/s; wrote {pred}",
        highlight=False,
    )
