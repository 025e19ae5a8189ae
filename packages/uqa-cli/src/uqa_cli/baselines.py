"""The baselines of a run as stages: each one aligned (when it needs it) and evaluated.

Every baseline goes through the same ``align`` and ``evaluate`` functions as
the embedding under test; its :class:`~uqa_eval.baselines.Baseline` row says
what differs (no context, text history, permuted, untrained or oracle
embeddings). Results land in ``baselines/<name>/`` with their own report.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uqa_cli.pipeline import Pipeline, Stage, config_dict

if TYPE_CHECKING:
    from uqa_cli.run import RunOptions


def run_baselines(pipe: Pipeline, options: RunOptions, align_cfg: Any, eval_cfg: Any) -> list[Path]:
    """Align and evaluate every baseline of ``options``; returns their directories."""
    from uqa_align.train import align
    from uqa_encoders.embed import export_embeddings
    from uqa_eval.baselines import baseline_dir, baseline_embeddings, get_baseline
    from uqa_eval.curves import attach_curves
    from uqa_eval.evaluate import evaluate
    from uqa_eval.report import build_report, write_report

    run_dir = pipe.run_dir
    data_dir = run_dir / "data"
    align_q = run_dir / "questions" / "align.arrow"
    eval_q = run_dir / "questions" / "eval.arrow"
    dirs: list[Path] = []
    for name in options.baselines:
        base = get_baseline(name)
        bdir = baseline_dir(run_dir, name)
        if base.embeddings == "untrained":
            untrained = run_dir / "embeddings" / "untrained"

            def export_untrained(untrained: Path = untrained) -> dict[str, Any]:
                return {
                    split: export_embeddings(
                        run_dir / "encoder",
                        data_dir,
                        split,
                        untrained / f"{split}.arrow",
                        untrained=True,
                    )
                    for split in ("train", "test")
                }

            pipe.execute(
                Stage(
                    "embed-untrained",
                    export_untrained,
                    {"untrained": True},
                    [untrained / "train.arrow", untrained / "test.arrow"],
                    after=("pretrain",),
                    description="embeddings of an untrained encoder",
                )
            )

        stage_after: tuple[str, ...] = ("align",)
        adapter: Path | None = None
        if base.permute:
            adapter = run_dir / "adapter"  # the real adapter, fed permuted users
        elif base.needs_alignment:
            cfg = replace(align_cfg, **base.align_overrides())
            adapter = bdir / "adapter"

            def train(b: Any = base, cfg: Any = cfg, adapter: Path = adapter,
                      resume: bool = False) -> Any:
                return align(
                    align_q, baseline_embeddings(run_dir, b, "train"), data_dir, adapter, cfg,
                    resume=resume,
                    log_dir=options.log_dir, log_name=f"align-{b.name}",
                )

            pipe.execute(
                Stage(
                    f"align-{name}",
                    train,
                    {"baseline": name, **config_dict(cfg)},
                    [adapter / "config.json"],
                    after=("questions", "embed", "embed-untrained"),
                    description=f"baseline {name}: alignment",
                    resumable="its alignment then continues from its last checkpoint",
                )
            )
            stage_after = (f"align-{name}",)

        ecfg = replace(eval_cfg, baseline=name)
        predictions = bdir / "predictions" / "eval.arrow"

        def answer(
            b: Any = base,
            ecfg: Any = ecfg,
            adapter: Path | None = adapter,
            predictions: Path = predictions,
        ) -> Any:
            return evaluate(
                eval_q,
                baseline_embeddings(run_dir, b, "test"),
                adapter,
                data_dir,
                predictions,
                ecfg,
            )

        pipe.execute(
            Stage(
                f"eval-{name}",
                answer,
                {"baseline": name, **config_dict(ecfg)},
                [predictions],
                after=(*stage_after, "questions"),
                description=f"baseline {name}: answering",
            )
        )
        meta = {
            "run": f"{options.run_name()}/{name}",
            "method": name,
            "baseline": name,
            "llm": options.llm,
            "mode": options.mode,
            "preset": options.preset,
            "seed": options.seed,
        }

        def report(
            predictions: Path = predictions, bdir: Path = bdir, meta: dict[str, Any] = meta
        ) -> Any:
            rep = attach_curves(build_report(predictions, eval_q, meta), bdir)
            write_report(rep, bdir / "report")
            return {"overall": rep.get("overall")}

        pipe.execute(
            Stage(
                f"report-{name}",
                report,
                meta,
                [bdir / "report" / "report.json"],
                after=(f"eval-{name}",),
                description=f"baseline {name}: report",
            )
        )
        dirs.append(bdir)
    return dirs
