"""``uqa align``: train the adapter that turns user embeddings into soft tokens."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from uqa_data.distributed import is_rank_zero

from uqa_cli import options


def register(app: typer.Typer) -> None:
    """Add ``uqa align``."""
    app.command("align")(align_command)


def align_command(
    out: Path = options.run_dir(
        "run directory (reads questions/align.arrow, embeddings/train.arrow; writes adapter/)"),
    questions: Path | None = options.questions("align", "alignment"),
    embeddings: Path | None = options.embeddings("train"),
    data: Path | None = options.data(),
    adapter_dir: Path | None = typer.Option(
        None,
        "--adapter-dir",
        help="output directory (default: OUT/adapter, or OUT/baselines/NAME/adapter)",
    ),
    baseline: str | None = typer.Option(
        None, "--baseline", help="align for a baseline instead (random, oracle, text20, text50)"
    ),
    llm: str | None = typer.Option(None, "--llm", help="smollm2 or a local HF model directory"),
    adapter: str | None = typer.Option(None, "--adapter", help="mean_linear or qformer"),
    num_tokens: int | None = typer.Option(
        None, "--num-tokens", help="soft tokens (adapter option)"
    ),
    strategy: str | None = typer.Option(None, "--strategy", help="adapter, lora or full"),
    mode: str | None = options.mode(),
    loss: str | None = typer.Option(
        None, "--loss", help="answer (the gold answer's tokens, averaged over tokens), answer_sum "
        "(summed per answer, averaged over questions), options (loglik: "
        "cross-entropy over the options' log-likelihoods) or choice (options over each "
        "option's tokens up to the first that tells it from the others)"),
    position: str | None = typer.Option(
        None, "--position", help="user context 'before' the question or 'after' the options"),
    preset: str | None = options.stage_preset(),
    steps: int | None = typer.Option(None, "--steps", help="optimizer steps"),
    batch_size: int | None = typer.Option(None, "--batch-size", help="questions per step"),
    lr: float | None = typer.Option(None, "--lr", help="adapter learning rate"),
    llm_lr: float | None = typer.Option(None, "--llm-lr", help="LoRA / LLM learning rate"),
    grad_clip: float | None = typer.Option(None, "--grad-clip", help="max gradient norm"),
    seed: int = options.seed(),
    threads: int | None = options.threads(),
    fsdp: bool = typer.Option(
        False, "--fsdp", help="under torchrun: shard the frozen LLM's layers across ranks "
        "(FSDP2) for an LLM too big for one device"),
    resume: bool = typer.Option(False, "--resume", help="continue from ADAPTER_DIR/checkpoint"),
    log_dir: Path | None = options.log_dir(
        "also write TensorBoard event files to LOG_DIR/align"),
    sets: list[str] = options.settings("align", "epochs=3"),
    as_json: bool = options.as_json(),
) -> None:
    """Align an LLM to user embeddings (OUT/questions + OUT/embeddings -> OUT/adapter)."""
    from uqa_align.train import AlignConfig, align
    from uqa_data.layout import RunLayout
    from uqa_data.progress import console
    from uqa_data.settings import given_flags
    from uqa_eval.baselines import baseline_embeddings, get_baseline, write_baseline_embeddings

    base = get_baseline(baseline) if baseline else None
    overrides = dict(
        llm=llm,
        adapter=adapter,
        strategy=strategy,
        mode=mode,
        loss=loss,
        position=position,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        llm_lr=llm_lr,
        grad_clip=grad_clip,
        seed=seed,
        threads=threads,
        fsdp=fsdp or None,
    )
    flags = given_flags(overrides)  # what the user set, before the baseline's own settings
    if base is not None:
        if not base.needs_alignment:
            raise typer.BadParameter(
                f"baseline '{base.name}' is not aligned", param_hint="--baseline"
            )
        overrides.update(base.align_overrides())
    if num_tokens is not None:
        overrides["adapter_options"] = {"num_tokens": num_tokens}
    owned = dict.fromkeys(("use_embeddings", "text_history", "embedding_column"), "--baseline")
    if num_tokens is not None:
        owned["adapter_options"] = "--num-tokens"
    if llm is not None:  # checked before anything is read or written
        from uqa_align.llm import check_llm

        check_llm(llm, "--llm")
    config = options.stage_config(AlignConfig.from_preset, preset, out, overrides, flags,
                                  stage="align", sets=sets, owned=owned)
    layout = RunLayout(out)
    target = adapter_dir or (layout.baseline(base.name) if base else layout).adapter
    from uqa_cli.writing import resume_from, writing_into

    with writing_into(out, "align", resume=resume_from(target / "checkpoint")):
        if embeddings is None and base is not None \
                and not layout.baseline(base.name).own_embeddings.is_file():
            write_baseline_embeddings(layout, base)  # the oracle's vectors, on first use
        summary = align(
            questions or layout.questions("align"),
            embeddings or baseline_embeddings(layout, base, "train"),
            data or layout.data,
            target,
            config,
            resume=resume,
            log_dir=log_dir,
            log_name=f"align-{base.name}" if base else "align",
        )
    if not is_rank_zero():  # under torchrun only rank 0 reports
        return
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console.print(
        f"aligned {summary['questions']} questions in {summary['steps']} steps "
        f"({summary['wall_s']} s): loss {summary['first_loss']} -> {summary['final_loss']}; "
        f"{summary['adapter_params']:,} adapter + {summary['llm_trainable_params']:,} LLM "
        f"params trained; wrote {target}",
        highlight=False,
    )
