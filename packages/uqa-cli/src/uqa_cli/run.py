"""The whole UQABench pipeline as stages of one run directory (``uqa run``)."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from uqa_data import activity
from uqa_data.errors import UnknownNameError, UqaInputError
from uqa_data.layout import STAGES, RunLayout, stage_baseline
from uqa_data.presets import PRESETS
from uqa_data.progress import console
from uqa_data.registry import get_component, unknown_name_message
from uqa_data.settings import SettingError, coerce_settings
from uqa_eval.pipeline import (
    Pipeline,
    Stage,
    build_config,
    config_dict,
    file_stamp,
    stage_fingerprint,
)

LAUNCHERS = ("local", "torchrun")


@dataclass
class RunOptions:
    """Everything ``uqa run`` was asked for, before presets are resolved."""

    out: Path | None = None
    name: str | None = None
    preset: str = "default"
    encoder: str = "sasrec"
    encoder_size: str | None = None
    adapter: str = "mean_linear"
    strategy: str = "adapter"
    llm: str = "smollm2"
    mode: str = "loglik"
    dataset: str = "synthetic"
    lang: str = "en"
    distractors: str = "population"
    """Question distractor policy (:data:`uqa_data.questions.config.DISTRACTOR_POLICIES`)."""
    baselines: list[str] = field(default_factory=lambda: ["none", "shuffled"])
    seed: int = 0
    until: str | None = None
    force: bool = False
    launcher: str = "local"
    """``local`` or ``torchrun`` (training stages in ``torchrun`` worker processes)."""
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per-stage config overrides (``{"pretrain": {"loss": "infonce"}}``), used by studies."""
    reuse_from: list[Path] = field(default_factory=list)
    """Sibling run directories whose identical finished stages are reused (studies)."""
    log_dir: Path | None = None
    """TensorBoard event files of the training stages that run go here (``--log-dir``)."""

    def run_name(self) -> str:
        return self.name or f"{self.preset}-{self.encoder}-{self.adapter}-s{self.seed}"

    def run_dir(self) -> Path:
        """``--out``, else ``runs/<name>``; a run on imported data is named after its
        dataset too, so it never lands in (and re-runs over) a synthetic run's directory."""
        if self.out is not None:
            return self.out
        if self.dataset == "synthetic":
            return Path("runs") / self.run_name()
        return Path("runs") / f"{Path(self.dataset).resolve().name}-{self.run_name()}"


def validate(options: RunOptions) -> None:
    """Reject unknown names and impossible combinations before anything heavy runs."""
    from uqa_data.settings import check_seed

    check_seed(options.seed)
    if options.preset not in PRESETS:
        raise UnknownNameError(
            unknown_name_message("preset", options.preset, list(PRESETS), flag="--preset")
        )
    if options.until is not None and options.until not in STAGES:
        raise UnknownNameError(
            unknown_name_message("stage", options.until, list(STAGES), flag="--until")
        )
    from uqa_data.questions.config import DISTRACTOR_POLICIES

    if options.distractors not in DISTRACTOR_POLICIES:
        raise UnknownNameError(unknown_name_message(
            "distractor policy", options.distractors, list(DISTRACTOR_POLICIES),
            flag="--distractors"))
    if options.launcher not in LAUNCHERS:
        raise UnknownNameError(
            unknown_name_message("launcher", options.launcher, list(LAUNCHERS), flag="--launcher")
        )
    if options.launcher == "torchrun":
        from uqa_cli.worker import workers

        workers()  # UQA_NPROC, before the first stage
    if options.log_dir is not None:
        from uqa_data.scalars import check_log_dir

        check_log_dir(options.log_dir)
    get_component("encoder", options.encoder, flag="--encoder")
    get_component("adapter", options.adapter, flag="--adapter")
    from uqa_align.llm import check_llm

    check_llm(options.llm, "--llm")
    for baseline in options.baselines:
        get_component("baseline", baseline, flag="--baselines")
    if options.dataset == "synthetic":
        from uqa_data.rundir import check_no_import

        check_no_import(RunLayout(options.run_dir()))
    else:
        if Path(options.dataset).resolve() == options.run_dir().resolve():
            raise UqaInputError(
                f"--dataset {options.dataset} is --out too: a run writes its data/ and "
                "questions/ there, which a later run would take for the dataset's own; "
                "give the run another --out")
        raw = RunLayout(Path(options.dataset)).raw
        for name in ("interactions.arrow", "items.arrow"):
            if not (raw / name).is_file():
                raise UqaInputError(
                    f"--dataset {options.dataset}: expected {raw / name} "
                    "(write it with `uqa data import`) or --dataset synthetic"
                )
        if "oracle" in options.baselines and not (raw / "truth.arrow").is_file():
            raise UqaInputError(
                f"--baselines oracle: {raw / 'truth.arrow'} not found; the oracle is the "
                "planted truth of synthetic data (--dataset synthetic)"
            )


RUN_OWNED: dict[str, str] = {
    "preset": "--preset (one preset for every stage)",
    "eval.baseline": "--baselines (the run answers with its own embeddings; controls run "
                     "beside it)",
    "align.baseline": "--baselines (each control's alignment runs beside the run's)",
}
"""Settings ``uqa run`` sets itself, which ``--set`` may not change (key, or stage.key)."""


def check_overrides(overrides: dict[str, dict[str, Any]], configs: dict[str, Any]) -> None:
    """Reject an unknown stage or setting before any stage runs (``--set``)."""
    from dataclasses import fields

    for stage, values in overrides.items():
        if stage not in configs:
            raise UnknownNameError(unknown_name_message("stage", stage, list(configs),
                                                        flag="--set"))
        known = sorted(f.name for f in fields(configs[stage]))
        for key in values:
            if key not in known:
                raise UnknownNameError(unknown_name_message(f"{stage} setting", key, known,
                                                            flag=f"--set {stage}.{key}"))
            owner = RUN_OWNED.get(key) or RUN_OWNED.get(f"{stage}.{key}")
            if owner is not None:
                raise UqaInputError(f"--set {stage}.{key}: uqa run sets it from {owner}")
        try:
            values.update(coerce_settings(configs[stage], values, what=stage))
        except SettingError as exc:
            raise exc.with_flag(f"--set {stage}.{exc.key}") from None


def run_pipeline(options: RunOptions) -> dict[str, Any]:
    """Run (or resume) every stage; returns the main report.

    Every flag and setting is checked first (:func:`validate`, :func:`stage_configs`);
    then the run directory is locked (:func:`uqa_data.rundir.run_lock`) for the
    whole run. Pre-training and alignment resume from their last checkpoint when
    an earlier invocation with the same configuration was interrupted.
    """
    cfgs = checked_configs(options)  # every flag and stage config checked, nothing run yet
    run_dir = options.run_dir()
    from uqa_data.rundir import run_lock

    with run_lock(run_dir), activity.doing(
        f"uqa run into {run_dir}",
        resume=f"finished stages are kept; re-run {command_line()} to resume",
    ):
        return _run_stages(options, cfgs, RunLayout(run_dir))


def checked_configs(options: RunOptions) -> dict[str, Any]:
    """Check every flag and ``--set`` value of ``options`` and return each stage's validated
    config; nothing is run or written (:func:`validate`, :func:`stage_configs`)."""
    from uqa_align.train import AlignConfig
    from uqa_data.prepare import PrepareConfig
    from uqa_data.presets import SynthConfig
    from uqa_data.questions import QuestionConfig
    from uqa_encoders.pretrain import PretrainConfig
    from uqa_eval.evaluate import EvalConfig

    validate(options)
    check_overrides(options.overrides, {
        "synth": SynthConfig, "prepare": PrepareConfig, "questions": QuestionConfig,
        "pretrain": PretrainConfig, "align": AlignConfig, "eval": EvalConfig,
    })
    return stage_configs(options)


def command_line() -> str:
    """This process's ``uqa`` command line in backquotes, or "the same command"."""
    import shlex
    import sys

    prog = sys.argv[0] if sys.argv else ""
    if Path(prog).name == "uqa" or prog.endswith(os.path.join("uqa_cli", "main.py")):
        return f"`{shlex.join(['uqa', *sys.argv[1:]])}`"
    return "the same command"


def stage_configs(options: RunOptions) -> dict[str, Any]:
    """Build and ``validate()`` the config of every stage (and of each baseline's alignment).

    A bad value raises here, naming the flag that set it, before any stage runs.
    """
    from uqa_align.train import AlignConfig
    from uqa_data.prepare import config_for
    from uqa_data.questions import QuestionConfig
    from uqa_encoders.model import encoder_config
    from uqa_encoders.pretrain import PRESETS as PRETRAIN_PRESETS
    from uqa_encoders.pretrain import PretrainConfig
    from uqa_eval.evaluate import EvalConfig

    preset, seed = options.preset, options.seed

    def over(stage: str) -> dict[str, Any]:
        return options.overrides.get(stage, {})

    def built(stage: str, make: Any) -> Any:
        try:
            return make()
        except SettingError as exc:
            if exc.key in over(stage):
                raise exc.with_flag(f"--set {stage}.{exc.key}") from None
            raise
        except (UqaInputError, UnknownNameError) as exc:  # named for a stage command's flag
            said = set_flag_message(str(exc), stage, over(stage))
            if said is None:
                raise
            raise type(exc)(said) from None

    imported = Path(options.dataset) if options.dataset != "synthetic" else None
    cfgs: dict[str, Any] = {}
    if over("synth"):
        if imported is not None:
            key = next(iter(over("synth")))
            raise UqaInputError(f"--set synth.{key}: the run reads its click log from "
                                f"--dataset {imported}; synth settings shape synthetic data "
                                "only (--dataset synthetic)")
        from uqa_data.presets import synth_config

        built("synth", lambda: synth_config(preset, **over("synth")))  # synth_stage draws with them
    # Imported logs keep every user (no user-length filter unless --set asks for one); the
    # official UQABench files also fix the split and keep every item. A --set value wins
    # over the flag-derived one for the same setting.
    raw = RunLayout(imported or Path(".")).raw
    cfgs["prepare"] = built("prepare", lambda: config_for(
        raw, preset, synthetic=imported is None, **{"seed": seed, **over("prepare")}))
    cfgs["questions"] = built("questions", lambda: build_config(
        QuestionConfig, preset, **{"seed": seed, "lang": options.lang,
                                   "distractors": options.distractors, **over("questions")}))
    size = over("pretrain").get("size", options.encoder_size)
    encoder = str(over("pretrain").get("encoder", options.encoder))
    get_component("encoder", encoder, flag="--set pretrain.encoder" if "encoder" in
                  over("pretrain") else "--encoder").load()  # a plugin's module imports
    if size is not None:  # an unknown size names the flag that chose it
        encoder_config(encoder, size, flag="--set pretrain.size" if "size" in over("pretrain")
                       else "--encoder-size")
    elif preset in PRETRAIN_PRESETS:  # the preset's size: a plugin may lack it
        encoder_config(encoder, PRETRAIN_PRESETS[preset].size,
                       flag=f"the size --preset {preset} asks for; or pass --encoder-size")
    cfgs["pretrain"] = built("pretrain", lambda: build_config(
        PretrainConfig, preset, **{"encoder": options.encoder, "size": options.encoder_size,
                                   "seed": seed, **over("pretrain")}))
    cfgs["align"] = built("align", lambda: build_config(
        AlignConfig, preset, **{"llm": options.llm, "adapter": options.adapter,
                                "strategy": options.strategy, "mode": options.mode,
                                "seed": seed, **over("align")}))
    cfgs["eval"] = built("eval", lambda: build_config(
        EvalConfig, preset, **{"mode": options.mode, "seed": seed, "llm": options.llm,
                               **over("eval")}))
    cfgs["questions"].check_not_empty({k: f"--set questions.{k}" for k in over("questions")})
    from uqa_data.prepare import check_holds_out

    check_holds_out(cfgs["prepare"], "--set prepare.test_fraction")
    _check_derived(options, cfgs)
    return cfgs


def set_flag_message(message: str, stage: str, overrides: dict[str, Any]) -> str | None:
    """``message`` (an error a stage config raised, naming a stage command's flag such as
    ``(--tasks)``) naming ``--set STAGE.KEY`` instead, when a ``--set`` value gave it;
    None when none did."""
    for key in overrides:
        flag = "--" + key.replace("_", "-")
        for candidate in (flag, flag.rstrip("s")):  # --formats is --format, --tasks --tasks
            if f"({candidate})" in message:
                return message.replace(f"({candidate})", f"(--set {stage}.{key})")
        if "(--" not in message and f" {key} " in f" {message} ".replace("'", " "):
            return f"{message} (--set {stage}.{key})"
    return None


def _check_derived(options: RunOptions, cfgs: dict[str, Any]) -> None:
    """Each baseline's own alignment config, and an LLM given by ``--set``."""
    from dataclasses import replace

    from uqa_eval.baselines import get_baseline

    for name in options.baselines:
        base = get_baseline(name)
        if base.needs_alignment and not base.permute:
            replace(cfgs["align"], **base.align_overrides()).validate()
    from uqa_align.llm import check_llm

    for stage in ("align", "eval"):
        if "llm" in options.overrides.get(stage, {}):
            check_llm(cfgs[stage].llm, f"--set {stage}.llm")
    from uqa_eval.evaluate import same_llm

    if not same_llm(cfgs["eval"].llm, cfgs["align"].llm):
        said = {s: f"--set {s}.llm" if "llm" in options.overrides.get(s, {}) else "--llm"
                for s in ("align", "eval")}
        raise UqaInputError(
            f"{said['eval']} {cfgs['eval'].llm}: the run aligns on {cfgs['align'].llm} "
            f"({said['align']}), and an adapter answers only with the LLM it was aligned on; "
            "give both the same LLM")


def plan(options: RunOptions, cfgs: dict[str, Any], layout: RunLayout
         ) -> list[tuple[str, list[Stage]]]:
    """Every step of the run (:data:`~uqa_data.layout.STAGES`) with the stages it executes,
    in order; nothing runs here."""
    from uqa_eval.baselines import get_baseline, in_answer_order
    from uqa_eval.stages import Wiring, align_stage, baseline_meta, baseline_stages, eval_stage

    from uqa_cli import stages as s

    imported = RunLayout(Path(options.dataset)) if options.dataset != "synthetic" else None
    launch = _launcher(options, layout)
    w = Wiring(layout, embeddings=layout.embeddings, data=layout.data, launch=launch,
               log_dir=options.log_dir)
    bases = [get_baseline(name) for name in in_answer_order(list(options.baselines))]
    facts = {"llm": options.llm, "mode": options.mode, "preset": options.preset,
             "seed": options.seed}
    extra = [s.embed_stage(layout, untrained=True)] if any(
        b.embeddings == "untrained" for b in bases) else []
    for base in bases:
        extra += baseline_stages(w, base, cfgs["align"], cfgs["eval"],
                                 baseline_meta(options.run_name(), base, facts))
    return [
        ("synth", [] if imported else [s.synth_stage(layout, options.preset, options.seed,
                                                       options.lang,
                                                       options.overrides.get("synth", {}))]),
        ("prepare", [s.prepare_stage(layout, (imported or layout).raw, cfgs["prepare"])]),
        ("questions", [s.questions_stage(layout, cfgs["questions"], imported)]),
        ("pretrain", [s.pretrain_stage(layout, cfgs["pretrain"], launch=launch,
                                       log_dir=options.log_dir)]),
        ("embed", [s.embed_stage(layout)]),
        ("align", [align_stage(w, cfgs["align"],
                               description=f"{options.adapter} adapter on {options.llm}")]),
        ("eval", [eval_stage(w, cfgs["eval"])]),
        ("baselines", extra),
        ("report", [report_stage_of(options, w)]),
    ]


def imported_fingerprints(options: RunOptions) -> dict[str, str]:
    """``{"synth": stamp}`` of an imported click log, which stands for the synth stage
    upstream of the rest (``{}`` on synthetic data)."""
    if options.dataset == "synthetic":
        return {}
    return {"synth": file_stamp(RunLayout(Path(options.dataset)).raw / "interactions.arrow")}


def planned_fingerprints(options: RunOptions) -> dict[str, str]:
    """Each stage of the run ``options`` describe, in order, with the fingerprint it will
    run under (:func:`plan`; nothing runs or is written): a stage whose fingerprint a
    finished run records is reused from it, not run again (``reuse_from``)."""
    fps = imported_fingerprints(options)
    for _, stages in plan(options, stage_configs(options), RunLayout(options.run_dir())):
        for stage in stages:
            fps[stage.name] = stage_fingerprint(stage, fps)
    return fps


def report_stage_of(options: RunOptions, w: Any) -> Stage:
    """``report``: the run's accuracy tables, with what the run is in its meta."""
    from uqa_eval.stages import report_stage

    return report_stage(w, {
        "run": options.run_name(), "method": options.encoder, "encoder": options.encoder,
        "adapter": options.adapter, "strategy": options.strategy, "llm": options.llm,
        "mode": options.mode, "preset": options.preset, "seed": options.seed,
    })


def _run_stages(options: RunOptions, cfgs: dict[str, Any], layout: RunLayout) -> dict[str, Any]:
    """The steps of :func:`plan`, in order, into the locked run directory."""
    started = time.perf_counter()
    pipe = Pipeline(
        layout,
        {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
        force=options.force,
        reuse_from=options.reuse_from,
    )
    pipe.state.data["name"] = options.run_name()
    pipe.state.data["seed"] = options.seed
    console.print(f"[bold]uqa run[/] {options.run_name()} -> {layout.root}")
    pipe.fingerprints.update(imported_fingerprints(options))
    steps = plan(options, cfgs, layout)
    aligning = [st.name for _, stages in steps for st in stages if is_alignment(st.name)]
    with contextlib.ExitStack() as keep:
        if len(aligning) > 1:  # the later alignments read the prefixes the first stored
            from uqa_align.prefix_cache import keeping_alignment_prefixes

            keep.enter_context(keeping_alignment_prefixes())
        for step, stages in steps:
            for stage in stages:
                pipe.execute(stage)
                if aligning and stage.name == aligning[-1]:
                    keep.close()  # the last alignment: its prefixes go
            if options.until == step:
                return _finish(pipe, started)
    report = _show_reports(layout, options.baselines)
    _finish(pipe, started)
    return report


def is_alignment(stage: str) -> bool:
    """Whether ``stage`` (a recorded stage name) aligns an adapter: ``align`` or a
    baseline's ``align-<name>``."""
    return stage == "align" or (stage.startswith("align-") and stage_baseline(stage) is not None)


def _show_reports(layout: RunLayout, baselines: list[str]) -> dict[str, Any]:
    """Print the run's report and (with baselines) write and print it beside them: the
    results, so to stdout (progress goes to stderr)."""
    from uqa_data.io import read_json
    from uqa_eval.report import (
        compare_runs,
        comparison_tables,
        print_table,
        report_table,
        write_comparison,
    )

    report = read_json(layout.report_json)
    print_table(report_table(report))
    if baselines:
        comparison = compare_runs([layout.root, *(layout.baseline(b).root for b in baselines)])
        write_comparison(comparison, layout.compare)
        for table in comparison_tables(comparison):
            print_table(table)
    return report


def _launcher(options: RunOptions, layout: RunLayout) -> Any:
    """With ``--launcher torchrun``: runs a training stage in torchrun workers."""
    if options.launcher == "local":
        return None

    def launch(stage: str, config: Any, resume: bool, paths: dict[str, Path]) -> None:
        from uqa_cli.worker import launch_torchrun

        if options.log_dir is not None:
            paths = {**paths, "log_dir": options.log_dir}
        spec = {"config": config_dict(config), "paths": {k: str(v) for k, v in paths.items()},
                "resume": resume}
        launch_torchrun(stage, spec, layout.launch_spec(stage))

    return launch


def _finish(pipe: Pipeline, started: float) -> dict[str, Any]:
    pipe.state.data["wall_seconds_last_invocation"] = round(time.perf_counter() - started, 2)
    pipe.state.save()
    reused = f", {len(pipe.reused)} reused from sibling runs" if pipe.reused else ""
    console.print(
        f"[bold green]run finished[/]: {len(pipe.ran)} stage(s) ran, "
        f"{len(pipe.skipped)} skipped{reused}, {time.perf_counter() - started:.1f} s "
        f"-> {pipe.run_dir}"
    )
    return {}
