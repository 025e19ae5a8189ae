"""The whole UQABench pipeline as stages of one run directory (``uqa run``)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from uqa_data import activity
from uqa_data.errors import UnknownNameError, UqaInputError
from uqa_data.progress import console
from uqa_data.registry import get_component, unknown_name_message
from uqa_data.settings import SettingError, coerce_settings

from uqa_cli.pipeline import Pipeline, Stage, build_config, config_dict

PRESETS = ("tiny", "small", "default", "full")
LAUNCHERS = ("local", "torchrun")
STAGES = (
    "synth",
    "prepare",
    "questions",
    "pretrain",
    "embed",
    "align",
    "eval",
    "baselines",
    "report",
)


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
        return self.out if self.out is not None else Path("runs") / self.run_name()


def validate(options: RunOptions) -> None:
    """Reject unknown names and impossible combinations before anything heavy runs."""
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
    if options.log_dir is not None:
        from uqa_data.scalars import require_tensorboard

        require_tensorboard()
    get_component("encoder", options.encoder, flag="--encoder")
    get_component("adapter", options.adapter, flag="--adapter")
    check_llm(options.llm, "--llm")
    for baseline in options.baselines:
        get_component("baseline", baseline, flag="--baselines")
    if options.dataset != "synthetic":
        raw = Path(options.dataset) / "raw"
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
                                                            flag="--set"))
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
    from uqa_align.train import AlignConfig
    from uqa_data.prepare import PrepareConfig
    from uqa_data.questions import QuestionConfig
    from uqa_encoders.pretrain import PretrainConfig
    from uqa_eval.evaluate import EvalConfig

    validate(options)
    check_overrides(options.overrides, {
        "prepare": PrepareConfig, "questions": QuestionConfig, "pretrain": PretrainConfig,
        "align": AlignConfig, "eval": EvalConfig,
    })
    cfgs = stage_configs(options)  # every stage's config built and validated, nothing run yet
    run_dir = options.run_dir()
    from uqa_data.rundir import run_lock

    with run_lock(run_dir), activity.doing(
        f"uqa run into {run_dir}",
        resume=f"finished stages are kept; re-run {command_line()} to resume",
    ):
        return _run_stages(options, cfgs, run_dir)


def command_line() -> str:
    """This process's ``uqa`` command line in backquotes, or "the same command"."""
    import os
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
    from dataclasses import replace

    from uqa_align.train import AlignConfig
    from uqa_data.prepare import config_for
    from uqa_data.questions import QuestionConfig
    from uqa_encoders.model import encoder_config
    from uqa_encoders.pretrain import PretrainConfig
    from uqa_eval.baselines import get_baseline
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

    imported = Path(options.dataset) if options.dataset != "synthetic" else None
    cfgs: dict[str, Any] = {}
    # Imported logs keep every user (no user-length filter unless --set asks for one); the
    # official UQABench files also fix the split and keep every item. A --set value wins
    # over the flag-derived one for the same setting.
    raw = (imported or Path(".")) / "raw"
    cfgs["prepare"] = built("prepare", lambda: config_for(
        raw, preset, synthetic=imported is None, **{"seed": seed, **over("prepare")}))
    cfgs["questions"] = built("questions", lambda: build_config(
        QuestionConfig, preset, **{"seed": seed, "lang": options.lang,
                                   "distractors": options.distractors, **over("questions")}))
    size = over("pretrain").get("size", options.encoder_size)
    if size is not None:  # an unknown size names the flag that chose it
        encoder_config(str(over("pretrain").get("encoder", options.encoder)), size,
                       flag="--set pretrain.size" if "size" in over("pretrain")
                       else "--encoder-size")
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
    for name in options.baselines:
        base = get_baseline(name)
        if base.needs_alignment and not base.permute:
            replace(cfgs["align"], **base.align_overrides()).validate()
    for stage in ("align", "eval"):
        if "llm" in over(stage):
            check_llm(cfgs[stage].llm, f"--set {stage}.llm")
    return cfgs


def check_llm(source: str, flag: str = "--llm") -> None:
    """A registered LLM name, or a usable local Hugging Face causal-LM directory."""
    path = Path(str(source)).expanduser()
    if path.is_dir():
        from uqa_align.llm import check_llm_dir

        check_llm_dir(path, origin=flag)
    elif path.exists():
        raise UqaInputError(f"{flag} {source}: is a file; expected a registered LLM name "
                            "or a Hugging Face model directory")
    else:
        get_component("llm", str(source), flag=flag)


def _run_stages(options: RunOptions, cfgs: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """The stages of :func:`run_pipeline`, in order, into the locked ``run_dir``."""
    from uqa_align.train import align
    from uqa_data.prepare import prepare
    from uqa_data.questions import generate
    from uqa_encoders.embed import export_embeddings
    from uqa_encoders.pretrain import pretrain
    from uqa_eval.curves import attach_curves
    from uqa_eval.evaluate import evaluate
    from uqa_eval.report import build_report, compare_runs, report_table, write_report

    started = time.perf_counter()
    pipe = Pipeline(
        run_dir,
        {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
        force=options.force,
    )
    pipe.state.data["name"] = options.run_name()
    pipe.state.data["seed"] = options.seed
    console.print(f"[bold]uqa run[/] {options.run_name()} -> {run_dir}")

    raw_dir = run_dir / "raw"
    data_dir = run_dir / "data"
    questions_dir = run_dir / "questions"
    encoder_dir = run_dir / "encoder"
    emb_dir = run_dir / "embeddings"
    adapter_dir = run_dir / "adapter"
    preset, seed = options.preset, options.seed

    def stop_after(stage: str) -> bool:
        return options.until == stage

    # -- data ---------------------------------------------------------------
    if options.dataset == "synthetic":
        from uqa_data.synth import synthesize

        synth_config = {"preset": preset, "seed": seed, "lang": options.lang}
        pipe.execute(
            Stage(
                "synth",
                lambda: synthesize(run_dir, preset=preset, seed=seed, lang=options.lang),
                synth_config,
                [raw_dir / "interactions.arrow", raw_dir / "items.arrow"],
                description="synthetic Taobao-like click log",
            )
        )
    else:
        raw_dir = Path(options.dataset) / "raw"
        pipe.fingerprints["synth"] = _file_stamp(raw_dir / "interactions.arrow")
    if stop_after("synth"):
        return _finish(pipe, started)

    def launched(stage: str, local: Any, config: Any, resume: bool, **paths: Path) -> Any:
        """Run a training stage here, or in torchrun workers with ``--launcher torchrun``."""
        if options.launcher == "local":
            return local()
        from uqa_cli.worker import launch_torchrun

        if options.log_dir is not None:
            paths["log_dir"] = options.log_dir
        spec = {"config": config_dict(config), "paths": {k: str(v) for k, v in paths.items()},
                "resume": resume}
        launch_torchrun(stage, spec, run_dir / f".{stage}-launch.json")
        return None

    imported = Path(options.dataset) if options.dataset != "synthetic" else None
    prep_cfg = cfgs["prepare"]
    pipe.execute(
        Stage(
            "prepare",
            lambda: prepare(raw_dir, data_dir, prep_cfg),
            config_dict(prep_cfg),
            [data_dir / n for n in ("items.arrow", "train.arrow", "test.arrow")],
            after=("synth",),
            description="filter, order and split",
        )
    )
    if stop_after("prepare"):
        return _finish(pipe, started)

    q_cfg = cfgs["questions"]
    given_questions = (
        [imported / "questions" / f"{split}.arrow" for split in ("align", "eval")]
        if imported is not None
        else []
    )
    if given_questions and all(p.is_file() for p in given_questions):
        # Imported Q&A (the official align files) are used as they are.
        pipe.execute(
            Stage(
                "questions",
                lambda: _copy_questions(given_questions, questions_dir),
                {"imported": [_file_stamp(p) for p in given_questions]},
                [questions_dir / "align.arrow", questions_dir / "eval.arrow"],
                after=("prepare",),
                description="imported questions",
            )
        )
    else:
        pipe.execute(
            Stage(
                "questions",
                lambda: generate(data_dir, questions_dir, q_cfg),
                config_dict(q_cfg),
                [questions_dir / "align.arrow", questions_dir / "eval.arrow"],
                after=("prepare",),
                description="personalized questions",
            )
        )
    if stop_after("questions"):
        return _finish(pipe, started)

    # -- encoder ------------------------------------------------------------
    pre_cfg = cfgs["pretrain"]
    pipe.execute(
        Stage(
            "pretrain",
            lambda resume=False: launched(
                "pretrain",
                lambda: pretrain(data_dir, encoder_dir, pre_cfg, resume=resume,
                                 log_dir=options.log_dir),
                pre_cfg,
                resume,
                data_dir=data_dir,
                encoder_dir=encoder_dir,
            ),
            config_dict(pre_cfg),
            [encoder_dir / "model.safetensors", encoder_dir / "config.json"],
            after=("prepare",),
            description=f"next-item pre-training of {options.encoder}",
            resumable="pre-training then continues from its last checkpoint (every "
            f"{pre_cfg.checkpoint_every} steps and each epoch, encoder/checkpoint/)",
        )
    )
    if stop_after("pretrain"):
        return _finish(pipe, started)

    def embed_all() -> dict[str, Any]:
        return {
            split: export_embeddings(encoder_dir, data_dir, split, emb_dir / f"{split}.arrow")
            for split in ("train", "test")
        }

    pipe.execute(
        Stage(
            "embed",
            embed_all,
            {"splits": ["train", "test"]},
            [emb_dir / "train.arrow", emb_dir / "test.arrow"],
            after=("pretrain",),
            description="user embeddings",
        )
    )
    if stop_after("embed"):
        return _finish(pipe, started)

    # -- align and evaluate -------------------------------------------------
    align_cfg = cfgs["align"]
    pipe.execute(
        Stage(
            "align",
            lambda resume=False: launched(
                "align",
                lambda: align(
                    questions_dir / "align.arrow",
                    emb_dir / "train.arrow",
                    data_dir,
                    adapter_dir,
                    align_cfg,
                    resume=resume,
                    log_dir=options.log_dir,
                ),
                align_cfg,
                resume,
                questions_path=questions_dir / "align.arrow",
                embeddings_path=emb_dir / "train.arrow",
                data_dir=data_dir,
                adapter_dir=adapter_dir,
            ),
            config_dict(align_cfg),
            [adapter_dir / "config.json"],
            after=("questions", "embed"),
            description=f"{options.adapter} adapter on {options.llm}",
            resumable=(f"alignment then continues from its last checkpoint (every "
                       f"{align_cfg.checkpoint_every} steps, adapter/checkpoint/)"
                       if align_cfg.checkpoint_every else
                       "alignment restarts from step 0 (checkpoint_every=0)"),
        )
    )
    if stop_after("align"):
        return _finish(pipe, started)

    eval_cfg = cfgs["eval"]
    predictions = run_dir / "predictions" / "eval.arrow"
    pipe.execute(
        Stage(
            "eval",
            lambda: evaluate(
                questions_dir / "eval.arrow",
                emb_dir / "test.arrow",
                adapter_dir,
                data_dir,
                predictions,
                eval_cfg,
            ),
            config_dict(eval_cfg),
            [predictions],
            after=("align",),
            description="answering the evaluation questions",
        )
    )
    if stop_after("eval"):
        return _finish(pipe, started)

    from uqa_cli.baselines import run_baselines

    baseline_runs = run_baselines(pipe, options, align_cfg, eval_cfg)
    if stop_after("baselines"):
        return _finish(pipe, started)

    # -- report -------------------------------------------------------------
    meta = {
        "run": options.run_name(),
        "method": options.encoder,
        "encoder": options.encoder,
        "adapter": options.adapter,
        "strategy": options.strategy,
        "llm": options.llm,
        "mode": options.mode,
        "preset": preset,
        "seed": seed,
    }

    def make_report() -> dict[str, Any]:
        report = attach_curves(build_report(predictions, questions_dir / "eval.arrow", meta),
                               run_dir)
        write_report(report, run_dir / "report")
        return {"overall": report.get("overall")}

    pipe.execute(
        Stage(
            "report",
            make_report,
            meta,
            [run_dir / "report" / "report.json"],
            after=("eval",),
            description="accuracy tables",
        )
    )
    from uqa_data.io import read_json

    report = read_json(run_dir / "report" / "report.json")
    console.print(report_table(report))
    if baseline_runs:
        comparison = compare_runs([run_dir, *baseline_runs])
        from uqa_eval.report import write_comparison

        write_comparison(comparison, run_dir / "report" / "compare")
        for table in comparison_tables(comparison):
            print_table(table, console)
    _finish(pipe, started)
    return report


def comparison_tables(comparison: dict[str, Any]) -> list[Any]:
    from uqa_eval.report import comparison_tables as tables

    return tables(comparison)


def print_table(table: Any, console: Any) -> None:
    from uqa_eval.report import print_table as show

    show(table, console)


def _copy_questions(sources: list[Path], questions_dir: Path) -> dict[str, Any]:
    """Copy imported question files into the run, checking their columns."""
    from uqa_data.io import STRING, read_table, write_table

    counts = {}
    for src in sources:
        table = read_table(
            src,
            {"question_id": (STRING, "string"), "task": (STRING, "string")},
            what="imported questions",
            allow_empty=False,
        )
        write_table(table, questions_dir / src.name)
        counts[src.stem] = table.num_rows
    return counts


def _file_stamp(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def _finish(pipe: Pipeline, started: float) -> dict[str, Any]:
    pipe.state.data["wall_seconds_last_invocation"] = round(time.perf_counter() - started, 2)
    pipe.state.save()
    console.print(
        f"[bold green]run finished[/]: {len(pipe.ran)} stage(s) ran, "
        f"{len(pipe.skipped)} skipped, {time.perf_counter() - started:.1f} s -> {pipe.run_dir}"
    )
    return {}
