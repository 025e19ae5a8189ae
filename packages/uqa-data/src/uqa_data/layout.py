"""Where everything of a run directory lives, the names of its stages, and its ``run.json``.

A run directory, as :class:`RunLayout` names its parts::

    run.json                    RunState: resolved settings, every stage's record
    raw/                        layout.raw        the click log as a source wrote it
    data/                       layout.data       prepared items, train and test users
    questions/<split>.arrow     layout.questions(split)   align, eval
    encoder/                    layout.encoder    pre-trained weights, config, metrics
    embeddings/<split>.arrow    layout.embeddings(split)  train, test
    embeddings/untrained/...    layout.embeddings(split, untrained=True)
    adapter/                    layout.adapter    aligned adapter (+ LoRA weights)
    predictions/eval.arrow      layout.predictions
    report/                     layout.report     report.json, report.md, accuracy.png
    report/compare/             layout.compare    the run beside its baselines
    baselines/<name>/           layout.baseline(name): a RunLayout of its own

A baseline's layout owns its ``adapter/``, ``predictions/``, ``report/`` and, when the
baseline makes its own vectors (the oracle), ``embeddings.arrow``; its raw log, data,
questions, encoder and embeddings are the run's (``layout.home``). No other module
joins these folder names by hand: ask the layout.

Stage names (:data:`STAGES`, the order of ``uqa run`` and its ``--until``) are recorded
in ``run.json`` under ``stages``; a baseline's own steps are recorded as
``align-<name>``, ``eval-<name>``, ``report-<name>`` (:func:`baseline_stage`).
:class:`RunState` reads and writes that file; :meth:`RunLayout.facts` reads what a
report needs from it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uqa_data.errors import UqaInputError

STAGES: tuple[str, ...] = (
    "synth", "prepare", "questions", "pretrain", "embed", "align", "eval", "baselines", "report",
)
"""The steps of ``uqa run`` in order (``--until`` takes one); ``baselines`` stands for
every baseline's own stages."""

RUN_STAGES: tuple[str, ...] = tuple(s for s in STAGES if s != "baselines")
"""The stages recorded under their own name: the run's own work (its wall time)."""

BASELINE_STEPS: tuple[str, ...] = ("embed", "align", "eval", "report")
"""What a baseline may do on its own, recorded as ``<step>-<name>``."""

UNTRAINED_STAGE = "embed-untrained"
"""The export of an untrained encoder's embeddings, shared by every baseline using them."""

SPLITS: tuple[str, ...] = ("train", "test")
"""Data splits, and so embedding files."""

QUESTION_SETS: tuple[str, ...] = ("align", "eval")
"""Question files: ``align`` from training users, ``eval`` from test users."""

REPORT_SCHEMA = "uqa-report/1"
"""The schema of a run's ``report/report.json`` (a study's comparison has another)."""

RUN_JSON = "run.json"
_PARTS = ("raw", "data", "questions", "encoder", "embeddings", "adapter", "predictions",
          "report", "baselines")
"""Every folder name of a run directory (never a run of its own when walking a study)."""


def baseline_stage(step: str, name: str) -> str:
    """The recorded name of baseline ``name``'s ``step`` (``align-text20``)."""
    return f"{step}-{name}"


def stage_baseline(stage: str) -> str | None:
    """The baseline whose own step ``stage`` is, or None (a run stage or a shared one)."""
    step, dash, name = stage.partition("-")
    if not dash or stage == UNTRAINED_STAGE or step not in BASELINE_STEPS:
        return None
    return name


@dataclass(frozen=True)
class RunLayout:
    """The named paths of one run directory, or of a baseline kept inside one.

    :param root: the directory (``runs/<name>``, or ``<run>/baselines/<name>``).
    :param home: for a baseline, the run directory holding it; None for a run.
    """

    root: Path
    home: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))
        if self.home is not None:
            object.__setattr__(self, "home", Path(self.home))

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> RunLayout:
        """The layout of ``path``: a baseline's when it sits in a run's ``baselines/``."""
        p = Path(path)
        if p.parent.name == "baselines" and not (p / RUN_JSON).is_file():
            return cls(p, home=p.parent.parent)
        return cls(p)

    # -- what it is ----------------------------------------------------------

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def is_baseline(self) -> bool:
        return self.home is not None

    @property
    def run(self) -> RunLayout:
        """The run's own layout (itself for a run; the holding run for a baseline)."""
        return self if self.home is None else RunLayout(self.home)

    # -- shared with the run -------------------------------------------------

    @property
    def raw(self) -> Path:
        return self.run.root / "raw"

    @property
    def data(self) -> Path:
        return self.run.root / "data"

    @property
    def questions_dir(self) -> Path:
        return self.run.root / "questions"

    def questions(self, split: str) -> Path:
        """``questions/<split>.arrow`` (``align`` or ``eval``)."""
        return self.questions_dir / f"{split}.arrow"

    @property
    def encoder(self) -> Path:
        return self.run.root / "encoder"

    def embeddings(self, split: str, untrained: bool = False) -> Path:
        """``embeddings/<split>.arrow``, or an untrained encoder's under ``untrained/``."""
        folder = self.run.root / "embeddings"
        return (folder / "untrained" if untrained else folder) / f"{split}.arrow"

    @property
    def run_json(self) -> Path:
        return self.run.root / RUN_JSON

    def launch_spec(self, stage: str) -> Path:
        """Where a torchrun launch of ``stage`` leaves its spec for the workers."""
        return self.run.root / f".{stage}-launch.json"

    # -- its own -------------------------------------------------------------

    @property
    def adapter(self) -> Path:
        return self.root / "adapter"

    @property
    def predictions(self) -> Path:
        return self.root / "predictions" / "eval.arrow"

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def report_json(self) -> Path:
        return self.report / "report.json"

    @property
    def compare(self) -> Path:
        """The run beside its baselines (``report/compare/``)."""
        return self.report / "compare"

    @property
    def own_embeddings(self) -> Path:
        """Vectors a baseline makes itself (the oracle's planted truth)."""
        return self.root / "embeddings.arrow"

    # -- baselines -----------------------------------------------------------

    def baseline(self, name: str) -> RunLayout:
        """The layout of baseline ``name`` inside this run."""
        return RunLayout(self.run.root / "baselines" / name, home=self.run.root)

    def baselines(self) -> list[RunLayout]:
        """Every baseline folder kept in this run, by name (finished or not: see
        :meth:`is_run`)."""
        folder = self.run.root / "baselines"
        if not folder.is_dir():
            return []
        return [self.baseline(p.name) for p in sorted(folder.iterdir()) if p.is_dir()]

    # -- reading -------------------------------------------------------------

    def is_run(self) -> bool:
        """Holds ``predictions/eval.arrow`` or a run's ``report/report.json`` (a study's
        comparison report does not make its directory a run)."""
        if self.predictions.is_file():
            return True
        if not self.report_json.is_file():
            return False
        try:
            with self.report_json.open(encoding="utf-8") as fh:
                return json.load(fh).get("schema") == REPORT_SCHEMA
        except (OSError, ValueError, AttributeError):
            return True  # unreadable: let the report reader name the problem

    def find_questions(self, split: str = "eval") -> Path | None:
        """The questions this run's predictions answer: its own, else up to three folders
        up (a study sharing one question set)."""
        own = self.questions(split)
        if own.is_file():
            return own
        for d in list(self.root.parents)[:3]:
            candidate = RunLayout(d).questions(split)
            if candidate.is_file():
                return candidate
        return None

    def record(self) -> RunRecord | None:
        """What ``run.json`` says, or None when there is none."""
        if not self.run_json.is_file():
            return None
        from uqa_data.io import read_json

        data = read_json(self.run_json, what="run.json")
        return RunRecord(data if isinstance(data, dict) else {})

    def facts(self) -> dict[str, Any]:
        """What ``run.json`` says this run (or baseline) is and what it cost.

        A run: ``run`` (its name), ``encoder``, ``adapter``, ``strategy``, ``llm``, ``mode``,
        ``preset``, ``seed`` (from the settings, then the eval/align/pretrain configs), its
        own stages' seconds (``stage_seconds``, summed as ``wall_time_s``: the baselines'
        stages are theirs; a stage reused from a sibling counts the seconds it took there)
        and answering throughput (``questions_per_s``). A baseline:
        ``baseline`` plus the seconds and throughput of its own stages.
        """
        facts: dict[str, Any] = {"run": self.name}
        record = self.run.record() if self.run_json.is_file() else None
        if self.is_baseline:
            facts["baseline"] = self.name
            if record is not None:
                facts.update(record.timing([baseline_stage(s, self.name)
                                            for s in BASELINE_STEPS],
                                           baseline_stage("eval", self.name)))
            return facts
        if record is None:
            return facts
        if record.name:
            facts["run"] = record.name
        for key, v in record.describe().items():
            facts.setdefault(key, v)
        facts.update(record.timing(RUN_STAGES, "eval", detail=True))
        return facts


_DESCRIBE_KEYS = ("encoder", "adapter", "strategy", "llm", "mode", "baseline", "preset", "seed")


@dataclass(frozen=True)
class RunRecord:
    """A read-only view of ``run.json``."""

    data: Mapping[str, Any]

    @property
    def name(self) -> str | None:
        name = self.data.get("name")
        return str(name) if name else None

    @property
    def settings(self) -> Mapping[str, Any]:
        s = self.data.get("settings")
        return s if isinstance(s, dict) else {}

    @property
    def stages(self) -> Mapping[str, Any]:
        s = self.data.get("stages")
        return s if isinstance(s, dict) else {}

    def stage(self, name: str) -> Mapping[str, Any] | None:
        record = self.stages.get(name)
        return record if isinstance(record, dict) else None

    def config(self, name: str) -> Mapping[str, Any] | None:
        config = (self.stage(name) or {}).get("config")
        return config if isinstance(config, dict) else None

    def describe(self) -> dict[str, Any]:
        """Encoder, adapter, strategy, llm, mode, preset, seed... from the top level, the
        settings, then the run's own eval, align and pretrain configs."""
        out: dict[str, Any] = {}
        for source in (self.data, self.settings, self.config("eval"), self.config("align"),
                       self.config("pretrain")):
            for key in _DESCRIBE_KEYS:
                v = (source or {}).get(key)
                if key not in out and isinstance(v, str | int) and not isinstance(v, bool):
                    out[key] = v
        return out

    def timing(self, stages: Iterable[str], answering: str, *, detail: bool = False
               ) -> dict[str, Any]:
        """``wall_time_s`` (the seconds of ``stages`` that finished), ``questions_per_s``
        of stage ``answering``, and with ``detail`` each stage's ``stage_seconds``."""
        seconds = {}
        for name in stages:
            v = (self.stage(name) or {}).get("seconds")
            if isinstance(v, int | float) and not isinstance(v, bool):
                seconds[name] = v
        out: dict[str, Any] = {}
        if seconds:
            if detail:
                out["stage_seconds"] = seconds
            out["wall_time_s"] = round(float(sum(seconds.values())), 2)
        summary = (self.stage(answering) or {}).get("summary")
        if isinstance(summary, dict) and summary.get("questions_per_s") is not None:
            out["questions_per_s"] = summary["questions_per_s"]
        return out


@dataclass
class RunState:
    """``run.json`` being written: the resolved configuration and every stage's status.

    Each stage record: ``status`` (``running`` / ``done``), ``fingerprint``, ``config``,
    and once done ``seconds``, ``outputs`` (relative to the run), their ``stamps`` (size
    and a digest, :func:`file_stamps`) and ``summary``; a stage taken from a sibling run (studies)
    also has ``reused_from``.
    """

    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, layout: RunLayout) -> RunState:
        """The run's ``run.json`` (an unreadable one is replaced, with a warning)."""
        from uqa_data.io import read_json
        from uqa_data.progress import console

        path = layout.run_json
        data: dict[str, Any] = {}
        if path.exists():
            try:
                data = read_json(path, "run.json")
            except UqaInputError:
                console.print(f"[yellow]warning:[/] {path} is unreadable; starting afresh")
        data.setdefault("stages", {})
        return cls(path, data)

    @property
    def stages(self) -> dict[str, Any]:
        return self.data["stages"]

    def begin(self, stage: str, fingerprint: str, config: Mapping[str, Any]) -> None:
        """Record ``stage`` as running (an interrupt leaves it so: resumable)."""
        self.stages[stage] = {"status": "running", "fingerprint": fingerprint,
                              "config": dict(config)}
        self.save()

    def fail(self, stage: str, error: str) -> None:
        """Record that ``stage`` stopped on an error (its fingerprint kept: resumable)."""
        record = dict(self.stages.get(stage) or {})
        record.update(status="failed", error=error)
        self.stages[stage] = record
        self.save()

    def done(self, stage: str, *, config: Mapping[str, Any], seconds: float,
             fingerprint: str = "", outputs: Sequence[str] = (), summary: Any = None,
             reused_from: str | None = None) -> None:
        """Record ``stage`` as finished in ``seconds``, with what it wrote (and each
        output file's :func:`file_stamps`, so a file rewritten since is noticed)."""
        record: dict[str, Any] = {"status": "done", "fingerprint": fingerprint,
                                  "config": dict(config), "seconds": seconds,
                                  "outputs": list(outputs), "summary": summary,
                                  "stamps": file_stamps(self.path.parent, outputs)}
        if reused_from is not None:
            record["reused_from"] = reused_from
        self.stages[stage] = record
        self.save()

    def save(self) -> None:
        from uqa_data.io import write_json

        write_json(self.data, self.path)


def file_stamps(root: Path, outputs: Sequence[str]) -> dict[str, list[Any]]:
    """``{output: [size, digest]}`` of each output file (relative to ``root``, or absolute)
    that exists; the digest covers the first and last MiB, so a copy (``cp -r``) keeps its
    stamps and a rewrite with other content does not."""
    import hashlib

    out: dict[str, list[Any]] = {}
    for name in outputs:
        path = Path(name) if Path(name).is_absolute() else root / name
        if not path.is_file():
            continue
        size = path.stat().st_size
        h = hashlib.blake2b(digest_size=16)
        with path.open("rb") as f:
            h.update(f.read(_STAMP_SPAN))
            if size > _STAMP_SPAN:
                f.seek(max(_STAMP_SPAN, size - _STAMP_SPAN))
                h.update(f.read(_STAMP_SPAN))
        out[name] = [size, h.hexdigest()]
    return out


_STAMP_SPAN = 1 << 20


def outputs_unchanged(root: Path, record: Mapping[str, Any]) -> bool:
    """Whether a stage record's output files are the ones it wrote (True for a record
    made before stamps were kept)."""
    stamps = record.get("stamps")
    if not isinstance(stamps, dict):
        return True
    return file_stamps(root, list(stamps)) == stamps


def find_runs(paths: Sequence[str | os.PathLike[str]], *, max_depth: int = 3) -> list[Path]:
    """Expand study dirs (folders holding run dirs) into run dirs; a run dir stays itself.

    Inside a study, nested runs (a run's baselines kept inside it) are included.

    :raises UqaInputError: a path that is missing, or holds no run.
    """
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise UqaInputError(f"{p}: no such file or directory; expected a run or study "
                                "directory")
        if not p.is_dir():
            raise UqaInputError(f"{p}: not a directory; expected a run or study directory")
        hits = [p] if RunLayout.at(p).is_run() else _walk_runs(p, max_depth)
        if not hits:
            raise UqaInputError(
                f"{p}: no run found; expected report/report.json or predictions/eval.arrow "
                "in it or in its sub-directories"
            )
        found.extend(h for h in hits if h not in found)
    return found


def _walk_runs(p: Path, depth: int) -> list[Path]:
    hits = [p] if RunLayout.at(p).is_run() else []
    if depth > 0:
        for child in sorted(c for c in p.iterdir() if c.is_dir()):
            if child.name.startswith(".") or (child.name in _PARTS and child.name != "baselines"):
                continue
            hits.extend(_walk_runs(child, depth - 1))
    return hits
