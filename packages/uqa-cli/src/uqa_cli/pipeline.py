"""Stage orchestration: run the pipeline into a run directory, resuming finished stages.

A stage is skipped when ``run.json`` records it as done with the same
fingerprint (its own resolved config plus the fingerprints of the stages it
reads) and every output it declared still exists. Changing any upstream config
therefore re-runs everything downstream of it, and an interrupted run resumes
from the first unfinished stage. A *resumable* stage (pre-training, alignment)
that was interrupted with the same fingerprint is called with ``resume=True``,
so it continues from its last checkpoint instead of step 0.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from uqa_data import activity
from uqa_data.errors import UqaInputError
from uqa_data.io import read_json, write_json
from uqa_data.progress import console

DISTRIBUTIONS = ("uqa-data", "uqa-encoders", "uqa-align", "uqa-eval", "uqa-cli")
LOCK_COPY = "uqa-constraints.txt"
"""The copy of ``constraints.txt`` that ``make install`` leaves in the environment."""


def config_dict(config: Any) -> dict[str, Any]:
    """A JSON-able dict of a (possibly nested) config dataclass."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return json.loads(json.dumps(dataclasses.asdict(config), default=str))
    return json.loads(json.dumps(config, default=str))


def build_config(cls: Any, preset: str, **overrides: Any) -> Any:
    """``cls.from_preset(preset, **overrides)``, keeping only overrides the class has.

    ``None`` overrides mean "use the preset's value" and are dropped.
    """
    names = {f.name for f in dataclasses.fields(cls)}
    kept = {k: v for k, v in overrides.items() if v is not None and k in names}
    return cls.from_preset(preset, **kept)


def fingerprint(payload: Any) -> str:
    """A short stable hash of a JSON-able payload."""
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def package_versions() -> dict[str, str]:
    versions = {}
    for dist in (*DISTRIBUTIONS, "torch", "transformers", "numba", "pyarrow", "peft"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


def lock_record() -> dict[str, str] | None:
    """The lock file this environment was installed from (``make install`` copies it into
    the venv) and its sha256; None for an environment not installed from the lock."""
    path = Path(sys.prefix) / LOCK_COPY
    if not path.is_file():
        return None
    return {"file": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


@dataclass
class Stage:
    """One step of a run: what it computes, from what, into which files."""

    name: str
    run: Callable[[], Any]
    config: dict[str, Any]
    outputs: Sequence[Path]
    after: Sequence[str] = ()
    description: str = ""
    resumable: str = ""
    """When set (how it resumes, in words), ``run`` takes ``resume: bool``: True when an
    interrupted earlier attempt of the same fingerprint may have left a checkpoint."""


@dataclass
class RunState:
    """``run.json``: the resolved configuration and the status of every stage."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, run_dir: Path) -> RunState:
        path = run_dir / "run.json"
        data: dict[str, Any] = {}
        if path.exists():
            try:
                data = read_json(path, "run.json")
            except UqaInputError:
                console.print(f"[yellow]warning:[/] {path} is unreadable; starting afresh")
        data.setdefault("stages", {})
        return cls(path, data)

    def save(self) -> None:
        write_json(self.data, self.path)


class Pipeline:
    """Runs stages in order into ``run_dir``, recording each in ``run.json``."""

    def __init__(
        self,
        run_dir: Path,
        settings: dict[str, Any],
        *,
        force: bool = False,
        reuse_from: Sequence[Path] = (),
    ) -> None:
        self.run_dir = run_dir
        self.reuse_from = list(reuse_from)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.state = RunState.load(run_dir)
        self.state.data["settings"] = settings
        self.state.data["versions"] = package_versions()
        self.state.data["lock"] = lock_record()
        self.state.data["python"] = platform.python_version()
        self.force = force
        self.fingerprints: dict[str, str] = {}
        self.ran: list[str] = []
        self.skipped: list[str] = []

    def stage_fingerprint(self, stage: Stage) -> str:
        upstream = {name: self.fingerprints.get(name, "") for name in stage.after}
        return fingerprint({"config": stage.config, "upstream": upstream})

    def is_done(self, stage: Stage, fp: str) -> bool:
        record = self.state.data["stages"].get(stage.name)
        return (
            not self.force
            and record is not None
            and record.get("status") == "done"
            and record.get("fingerprint") == fp
            and all(Path(p).exists() for p in stage.outputs)
        )

    def reuse(self, stage: Stage, fp: str) -> dict[str, Any] | None:
        """Copy a finished stage with the same fingerprint from a sibling run (studies)."""
        if self.force:
            return None
        for sibling in self.reuse_from:
            if sibling.resolve() == self.run_dir.resolve():
                continue
            record = RunState.load(sibling).data["stages"].get(stage.name)
            if not record or record.get("status") != "done" or record.get("fingerprint") != fp:
                continue
            sources = [sibling / p.relative_to(self.run_dir) for p in stage.outputs]
            if not all(src.exists() for src in sources):
                continue
            for out in stage.outputs:
                top = self.run_dir / out.relative_to(self.run_dir).parts[0]
                src = sibling / top.relative_to(self.run_dir)
                _link_tree(src, top)
            return record
        return None

    def execute(self, stage: Stage) -> Any:
        fp = self.stage_fingerprint(stage)
        self.fingerprints[stage.name] = fp
        stages = self.state.data["stages"]
        if self.is_done(stage, fp):
            self.skipped.append(stage.name)
            console.print(f"[dim]- {stage.name}: done already, skipped[/]")
            return stages[stage.name].get("summary")
        reused = self.reuse(stage, fp)
        if reused is not None:
            stages[stage.name] = reused
            self.state.save()
            self.skipped.append(stage.name)
            console.print(f"[dim]- {stage.name}: same as in a sibling run, reused[/]")
            return reused.get("summary")
        record = stages.get(stage.name) or {}
        resume = (bool(stage.resumable) and not self.force
                  and record.get("status") == "running" and record.get("fingerprint") == fp)
        console.print(f"[bold]> {stage.name}[/] {stage.description}"
                      f"{' (interrupted before: resuming)' if resume else ''}")
        stages[stage.name] = {"status": "running", "fingerprint": fp, "config": stage.config}
        self.state.save()
        start = time.perf_counter()
        with activity.doing(f"stage '{stage.name}' of {self.run_dir}", stage.resumable):
            summary = stage.run(resume=resume) if stage.resumable else stage.run()
        seconds = round(time.perf_counter() - start, 2)
        stages[stage.name] = {
            "status": "done",
            "fingerprint": fp,
            "config": stage.config,
            "seconds": seconds,
            "outputs": [
                str(p.relative_to(self.run_dir)) if p.is_relative_to(self.run_dir) else str(p)
                for p in stage.outputs
            ],
            "summary": config_dict(summary) if summary is not None else None,
        }
        self.state.save()
        self.ran.append(stage.name)
        console.print(f"[green]  {stage.name} done[/] in {seconds:.1f} s")
        return summary


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link (or copy, across devices) ``src`` to ``dst``, replacing ``dst``."""
    if dst.is_dir():
        shutil.rmtree(dst)
    elif dst.exists():
        dst.unlink()
    dst.parent.mkdir(parents=True, exist_ok=True)

    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    if src.is_dir():
        shutil.copytree(src, dst, copy_function=link)
    else:
        link(str(src), str(dst))
