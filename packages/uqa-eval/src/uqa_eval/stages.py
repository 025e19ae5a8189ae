"""The stages every scoring of user embeddings has: align, answer, report, and the baselines'.

``uqa run`` (:mod:`uqa_cli.run`) puts the data and encoder stages before these;
scoring embeddings made elsewhere (:mod:`uqa_eval.external`) runs them over an
external embeddings file. Each builder returns :class:`~uqa_eval.pipeline.Stage`
objects that read and write the files of a :class:`~uqa_data.layout.RunLayout`,
so one stage's files take one path whoever runs it. To add a stage: build it here
(or beside the data stages in :mod:`uqa_cli.stages`), name its files in the layout,
and add it to the plan of :func:`uqa_cli.run.plan` or :func:`uqa_eval.external.plan`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uqa_data.layout import UNTRAINED_STAGE, RunLayout, baseline_stage

from uqa_eval.pipeline import Stage, config_dict

if TYPE_CHECKING:
    from uqa_eval.baselines import Baseline

Launcher = Callable[[str, Any, bool, dict[str, Path]], None]
"""``launch(stage, config, resume, paths)``: run a training stage in other processes
(``uqa run --launcher torchrun``) instead of here."""


@dataclass(frozen=True)
class Wiring:
    """What every stage of one run shares.

    :param layout: the run directory.
    :param embeddings: split -> the embeddings file under test (the run's own, or a
        file made elsewhere).
    :param data: the data directory the stages read item facts from (None: none).
    :param llm: returns an LLM loaded once and shared by the stages (a frozen LLM), or
        None for each stage to load its own.
    :param launch: runs the main alignment elsewhere (torchrun), or None: here.
    :param log_dir: TensorBoard event files of the alignments (``--log-dir``).
    """

    layout: RunLayout
    embeddings: Callable[[str], Path]
    data: Path | None
    llm: Callable[[], Any] | None = None
    launch: Launcher | None = None
    log_dir: Path | None = None

    def shared_llm(self) -> Any:
        return self.llm() if self.llm is not None else None


def align_stage(w: Wiring, cfg: Any, *, description: str) -> Stage:
    """``align``: the adapter on the embeddings under test, into ``adapter/``."""
    from uqa_align.train import align

    lay = w.layout

    def run(resume: bool = False) -> Any:
        paths = {"questions_path": lay.questions("align"), "embeddings_path": w.embeddings("train"),
                 "data_dir": w.data, "adapter_dir": lay.adapter}
        if w.launch is not None:
            w.launch("align", cfg, resume, {k: v for k, v in paths.items() if v is not None})
            return None
        return align(lay.questions("align"), w.embeddings("train"), w.data, lay.adapter, cfg,
                     resume=resume, llm=w.shared_llm(), log_dir=w.log_dir)

    return Stage(
        "align", run, config_dict(cfg), [lay.adapter / "config.json"],
        after=("questions", "embed"), description=description,
        resumable=(f"alignment then continues from its last checkpoint (every "
                   f"{cfg.checkpoint_every} steps, adapter/checkpoint/)"
                   if cfg.checkpoint_every else
                   "alignment restarts from step 0 (checkpoint_every=0)"),
        owns=[lay.adapter],
    )


def eval_stage(w: Wiring, cfg: Any) -> Stage:
    """``eval``: the aligned LLM answers the evaluation questions."""
    from uqa_eval.evaluate import evaluate

    lay = w.layout
    return Stage(
        "eval",
        lambda: evaluate(lay.questions("eval"), w.embeddings("test"), lay.adapter, w.data,
                         lay.predictions, cfg, llm=w.shared_llm()),
        config_dict(cfg), [lay.predictions], after=("align",),
        description="answering the evaluation questions",
    )


def report_stage(w: Wiring, meta: dict[str, Any], *, target: RunLayout | None = None,
                 name: str = "report", after: tuple[str, ...] = ("eval",),
                 extra: Callable[[], dict[str, Any]] | None = None) -> Stage:
    """``report`` (or a baseline's): accuracy tables of ``target``'s predictions, with the
    training curves of its directory. ``extra`` adds facts known only once run.

    Every report reads the ``none`` baseline's answers for ``acc_pmi`` when they exist, so
    it comes after that baseline's answering: a ``none`` added to a finished run (or
    answered again) rebuilds the reports before it."""
    from uqa_eval.baselines import NONE
    from uqa_eval.curves import attach_curves
    from uqa_eval.report import build_report, write_report
    from uqa_eval.report.aggregate import no_user_predictions

    lay = target or w.layout
    no_user = baseline_stage("eval", NONE.name)
    after = after if no_user in after else (*after, no_user)

    def run() -> dict[str, Any]:
        facts = {**meta, **(extra() if extra is not None else {})}
        report = attach_curves(build_report(lay.predictions, w.layout.questions("eval"), facts,
                                            no_user_predictions(lay)), lay.root)
        write_report(report, lay.report)
        return {"overall": report.get("overall")}

    return Stage(name, run, meta, [lay.report_json], after=after,
                 description="accuracy tables" if target is None else
                 f"baseline {lay.name}: report", owns=[lay.report])


def baseline_stages(w: Wiring, base: Baseline, align_cfg: Any, eval_cfg: Any,
                    meta: dict[str, Any]) -> list[Stage]:
    """The stages of one baseline: its own vectors (oracle), its alignment (when it needs
    one of its own), its answers and its report, in ``baselines/<name>/``."""
    from uqa_eval.baselines import baseline_adapter, baseline_embeddings

    lay, name = w.layout, base.name
    own = lay.baseline(name)
    stages: list[Stage] = []
    # Only an untrained encoder's baseline reads embed-untrained: naming it elsewhere made
    # adding --baselines random re-run the other baselines' alignments on resume.
    upstream: tuple[str, ...] = ("questions", "embed") + (
        (UNTRAINED_STAGE,) if base.embeddings == "untrained" else ())
    if base.embeddings == "oracle":
        stages.append(oracle_stage(w, base))
        upstream = (*upstream, stages[-1].name)

    def vectors(split: str) -> Path | None:
        return baseline_embeddings(lay, base, split, given=w.embeddings(split))

    answered_after: tuple[str, ...] = ("align",)
    if base.needs_alignment and not base.permute:
        cfg = replace(align_cfg, **base.align_overrides())
        stages.append(_baseline_align(w, base, cfg, vectors, upstream))
        answered_after = (stages[-1].name,)
    from uqa_eval.evaluate import evaluate

    ecfg = replace(eval_cfg, baseline=name)
    stages.append(Stage(
        baseline_stage("eval", name),
        lambda: evaluate(lay.questions("eval"), vectors("test"), baseline_adapter(lay, base),
                         w.data, own.predictions, ecfg, llm=w.shared_llm()),
        {"baseline": name, **config_dict(ecfg)}, [own.predictions],
        after=(*answered_after, "questions"), description=f"baseline {name}: answering",
    ))
    stages.append(report_stage(w, meta, target=own, name=baseline_stage("report", name),
                               after=(stages[-1].name,)))
    return stages


def _baseline_align(w: Wiring, base: Baseline, cfg: Any,
                    vectors: Callable[[str], Path | None], upstream: tuple[str, ...]) -> Stage:
    from uqa_align.train import align

    lay, name = w.layout, base.name
    adapter = lay.baseline(name).adapter

    def run(resume: bool = False) -> Any:
        return align(lay.questions("align"), vectors("train"), w.data, adapter, cfg,
                     resume=resume, llm=w.shared_llm() if cfg.strategy == "adapter" else None,
                     log_dir=w.log_dir, log_name=baseline_stage("align", name))

    return Stage(baseline_stage("align", name), run, {"baseline": name, **config_dict(cfg)},
                 [adapter / "config.json"], after=upstream,
                 description=f"baseline {name}: alignment",
                 resumable="its alignment then continues from its last checkpoint",
                 owns=[adapter])


def oracle_stage(w: Wiring, base: Baseline) -> Stage:
    """``embed-<name>``: a baseline's own vectors from the planted truth (``raw/truth.arrow``)."""
    from uqa_eval.baselines import write_baseline_embeddings

    own = w.layout.baseline(base.name)
    return Stage(baseline_stage("embed", base.name),
                 lambda: write_baseline_embeddings(w.layout, base),
                 {"baseline": base.name, "embeddings": base.embeddings}, [own.own_embeddings],
                 after=("synth",), description=f"baseline {base.name}: planted-truth vectors")


def baseline_meta(run_name: str, base: Baseline, facts: dict[str, Any]) -> dict[str, Any]:
    """The report facts of a baseline of run ``run_name``: its name and kind, plus ``facts``
    (llm, mode, preset, seed...)."""
    return {"run": f"{run_name}/{base.name}", "method": base.name, "baseline": base.name,
            "context": base.context, **facts}
