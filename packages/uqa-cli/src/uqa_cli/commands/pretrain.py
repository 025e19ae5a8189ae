"""``uqa pretrain`` and ``uqa embed``: next-item pre-training and embedding export."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from uqa_data.distributed import is_rank_zero

from uqa_cli import options


def register(app: typer.Typer) -> None:
    """Add ``uqa pretrain`` and ``uqa embed``."""
    app.command("pretrain")(pretrain_command)
    app.command("embed")(embed_command)


def pretrain_command(
    out: Path = options.run_dir("run directory (reads data/, writes encoder/)"),
    data: Path | None = options.data(),
    encoder: str = typer.Option("sasrec", "--encoder", help="encoder name (uqa list encoders)"),
    preset: str | None = options.stage_preset(),
    size: str | None = typer.Option(
        None, "--size", help="encoder size preset (uqa list encoders --sizes)"
    ),
    input_mode: str | None = typer.Option(None, "--input-mode", help="full, no-text or id-only"),
    loss: str | None = typer.Option(None, "--loss", help="ce (softmax) or infonce (in-batch)"),
    sampled: int | None = typer.Option(
        None, "--sampled", help="with --loss ce: N sampled negatives (logQ)"
    ),
    target_window: int | None = typer.Option(
        None, "--target-window",
        help="each position predicts a click drawn from the next K (1: the next click)"),
    side_loss: float | None = typer.Option(
        None, "--side-loss",
        help="weight of predicting the target's category, brand, shop and seller (0: off)"),
    epochs: int | None = typer.Option(None, "--epochs", help="training epochs"),
    batch_size: int | None = typer.Option(None, "--batch-size", help="sequences per step (global)"),
    lr: float | None = typer.Option(None, "--lr", help="AdamW learning rate"),
    max_len: int | None = typer.Option(None, "--max-len", help="most recent clicks kept per user"),
    dropout: float | None = typer.Option(None, "--dropout", help="dropout rate"),
    device: str | None = typer.Option(None, "--device", help="auto, cpu or cuda"),
    precision: str | None = typer.Option(
        None, "--precision", help="auto (bf16 where it is faster), fp32 or bf16"),
    seed: int = options.seed(),
    resume: bool = typer.Option(False, "--resume", help="continue from OUT/encoder/checkpoint"),
    log_dir: Path | None = options.log_dir(
        "also write TensorBoard event files to LOG_DIR/pretrain"),
    sets: list[str] = options.settings("pretrain", "weight_decay=0.1"),
    as_json: bool = options.as_json(),
) -> None:
    """Pre-train a user encoder on next-item prediction (OUT/data -> OUT/encoder)."""
    from uqa_data.layout import RunLayout
    from uqa_encoders.pretrain import PretrainConfig, pretrain

    layout = RunLayout(out)
    settings = dict(
        encoder=encoder,
        size=size,
        input_mode=input_mode,
        loss=loss,
        sampled=sampled,
        target_window=target_window,
        side_loss=side_loss,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        max_len=max_len,
        dropout=dropout,
        device=device,
        precision=precision,
        seed=seed,
    )
    config = options.stage_config(PretrainConfig.from_preset, preset, out, settings,
                                  stage="pretrain", sets=sets)
    from uqa_cli.writing import resume_from, writing_into

    with writing_into(out, "pretrain", resume=resume_from(layout.encoder / "checkpoint")):
        summary = pretrain(data or layout.data, layout.encoder, config, resume=resume,
                           log_dir=log_dir)
    if not is_rank_zero():  # under torchrun only rank 0 reports
        return
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    _print_summary(summary)


def _print_summary(s: dict) -> None:
    from rich.table import Table
    from uqa_data.progress import console

    pop = s.get("most_popular") or {}
    table = Table(title=f"pre-trained {s['encoder']} ({s['size']}, {s['loss']}, {s['input_mode']})")
    for col in ("", "HR@10", "NDCG@10"):
        table.add_column(col)

    def fmt(v: object) -> str:
        return f"{v:.4f}" if isinstance(v, float) else "-"

    table.add_row(s["encoder"], fmt(s.get("hr@10")), fmt(s.get("ndcg@10")))
    table.add_row("most popular", fmt(pop.get("hr@10")), fmt(pop.get("ndcg@10")))
    console.print(table)
    console.print(
        f"{s['steps']} steps in {s['seconds']:.1f} s ({s['sequences_per_s']} seq/s), "
        f"backbone {s['backbone_params']:,} params, {s['eval_users']} held-out users",
        highlight=False,
    )


def embed_command(
    out: Path = options.run_dir("run directory (reads encoder/, data/)"),
    split: str = typer.Option("test", "--split", help="train or test"),
    untrained: bool = typer.Option(
        False, "--untrained", help="an untrained encoder of the same shape (random baseline)"
    ),
    data: Path | None = options.data(),
    encoder_dir: Path | None = typer.Option(
        None, "--encoder-dir", help="encoder directory (default: OUT/encoder)"
    ),
    output: Path | None = typer.Option(
        None, "--output",
        help="file to write (default: OUT/embeddings/SPLIT.arrow, with --untrained "
        "OUT/embeddings/untrained/SPLIT.arrow)",
    ),
) -> None:
    """Export user embeddings of a split (OUT/encoder + OUT/data -> OUT/embeddings/SPLIT.arrow).

    ``--untrained`` writes beside them, under ``embeddings/untrained/``, never over them.
    """
    from uqa_data.layout import RunLayout
    from uqa_data.progress import console
    from uqa_encoders.embed import export_embeddings

    layout = RunLayout(out)
    path = output or layout.embeddings(split, untrained=untrained)
    from uqa_cli.writing import writing_into

    with writing_into(out, "embed"):
        s = export_embeddings(
            encoder_dir or layout.encoder, data or layout.data, split, path,
            untrained=untrained,
        )
    console.print(
        f"wrote {path}: {s['users']} users, dim {s['dim']}, {s['positions']} positions"
        f"{' (untrained)' if untrained else ''}",
        highlight=False,
    )
