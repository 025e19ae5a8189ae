"""Stage orchestration: run stages into a run directory, resuming or reusing finished ones.

A stage is skipped when ``run.json`` records it as done with the same
fingerprint (its own resolved config plus the fingerprints of the stages it
reads) and every output it declared still exists. Changing any upstream config
therefore re-runs everything downstream of it, and an interrupted run resumes
from the first unfinished stage. A *resumable* stage (pre-training, alignment)
that was interrupted with the same fingerprint is called with ``resume=True``,
so it continues from its last checkpoint instead of step 0.

A stage done with the same fingerprint in a sibling run (``reuse_from``: the
other variants of a study) is not run again: its files are hard-linked (or
copied) in and its record is kept with ``reused_from``.

``uqa run`` (:mod:`uqa_cli.run`) and scoring embeddings made elsewhere
(:mod:`uqa_eval.external`) both drive a :class:`Pipeline` over the stages that
:mod:`uqa_eval.stages` builds.
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
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from uqa_data import activity
from uqa_data.layout import RunLayout, RunState, outputs_unchanged
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


def file_stamp(path: Path) -> str:
    """``path:size:mtime``: what a stage reading a file made elsewhere is keyed by."""
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def package_versions() -> dict[str, str]:
    """Versions of uqa's packages, its main dependencies and every plugin distribution
    loaded (whose encoder, adapter or task a run may use)."""
    from uqa_data.registry import FIRST_PARTY, plugin_sources

    plugins = sorted({dist for dist, _ in plugin_sources().values()} - FIRST_PARTY - {"?"})
    versions = {}
    for dist in (*DISTRIBUTIONS, "torch", "transformers", "numba", "pyarrow", "peft", *plugins):
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
    run: Callable[..., Any]
    config: dict[str, Any]
    outputs: Sequence[Path]
    after: Sequence[str] = ()
    description: str = ""
    resumable: str = ""
    """When set (how it resumes, in words), ``run`` takes ``resume: bool``: True when an
    interrupted earlier attempt of the same fingerprint may have left a checkpoint."""
    owns: Sequence[Path] = ()
    """Folders the stage writes wholly (``encoder/``, ``adapter/``): reused whole from a
    sibling run. Without any, only ``outputs`` are."""


def stage_fingerprint(stage: Stage, fingerprints: dict[str, str]) -> str:
    """What ``stage`` is recorded and reused under: its config and the fingerprints of
    the stages it comes ``after`` (``fingerprints``: those computed so far, by name)."""
    upstream = {name: fingerprints.get(name, "") for name in stage.after}
    return fingerprint({"config": stage.config, "upstream": upstream})


class Pipeline:
    """Runs stages in order into a run directory, recording each in ``run.json``."""

    def __init__(
        self,
        run_dir: Path | RunLayout,
        settings: dict[str, Any],
        *,
        force: bool = False,
        reuse_from: Sequence[Path] = (),
    ) -> None:
        self.layout = run_dir if isinstance(run_dir, RunLayout) else RunLayout(Path(run_dir))
        self.run_dir = self.layout.root
        self.reuse_from = [Path(p) for p in reuse_from]
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.state = RunState.load(self.layout)
        self.state.data["settings"] = settings
        self.state.data["versions"] = package_versions()
        self.state.data["lock"] = lock_record()
        self.state.data["python"] = platform.python_version()
        self.force = force
        self.fingerprints: dict[str, str] = {}
        self.ran: list[str] = []
        self.skipped: list[str] = []
        self.reused: list[str] = []

    def stage_fingerprint(self, stage: Stage) -> str:
        return stage_fingerprint(stage, self.fingerprints)

    def is_done(self, stage: Stage, fp: str) -> bool:
        """Finished with this fingerprint, and its outputs are still the files it wrote
        (a stage command run alone since, ``uqa eval --mode letters``, rewrites them)."""
        record = self.state.stages.get(stage.name)
        done = (
            not self.force
            and record is not None
            and record.get("status") == "done"
            and record.get("fingerprint") == fp
            and all(Path(p).exists() for p in stage.outputs)
        )
        if done and not outputs_unchanged(self.run_dir, record):
            console.print(f"[yellow]- {stage.name}: its outputs changed since this run wrote "
                          "them (a stage command run alone?); running it again[/]")
            return False
        return done

    def reuse(self, stage: Stage, fp: str) -> dict[str, Any] | None:
        """Link in a finished stage with the same fingerprint from a sibling run (studies)."""
        if self.force or not all(p.is_relative_to(self.run_dir) for p in stage.outputs):
            return None
        for sibling in self.reuse_from:
            if sibling.resolve() == self.run_dir.resolve():
                continue
            record = RunLayout(sibling).record()
            done = record.stage(stage.name) if record is not None else None
            if not done or done.get("status") != "done" or done.get("fingerprint") != fp:
                continue
            here = [*stage.owns, *(p for p in stage.outputs
                                   if not any(p.is_relative_to(o) for o in stage.owns))]
            there = {p: sibling / p.relative_to(self.run_dir) for p in [*here, *stage.outputs]}
            if not all(src.exists() for src in there.values()):
                continue
            for dst in here:
                _link_tree(there[dst], dst)
            return {**done, "reused_from": str(sibling)}
        return None

    def execute(self, stage: Stage) -> Any:
        fp = self.stage_fingerprint(stage)
        self.fingerprints[stage.name] = fp
        stages = self.state.stages
        if self.is_done(stage, fp):
            self.skipped.append(stage.name)
            console.print(f"[dim]- {stage.name}: done already, skipped[/]")
            return stages[stage.name].get("summary")
        reused = self.reuse(stage, fp)
        if reused is not None:
            stages[stage.name] = reused
            self.state.save()
            self.reused.append(stage.name)
            console.print(f"[dim]- {stage.name}: same as in {reused['reused_from']}, reused[/]")
            return reused.get("summary")
        record = stages.get(stage.name) or {}
        resume = (bool(stage.resumable) and not self.force
                  and record.get("status") in ("running", "failed")
                  and record.get("fingerprint") == fp)
        console.print(f"[bold]> {stage.name}[/] {stage.description}"
                      f"{' (interrupted before: resuming)' if resume else ''}")
        # The activity is recorded before run.json says "running", so an interrupt seen
        # after that always names the stage.
        with activity.doing(f"stage '{stage.name}' of {self.run_dir}", stage.resumable):
            self.state.begin(stage.name, fp, stage.config)
            start = time.perf_counter()
            try:
                summary = stage.run(resume=resume) if stage.resumable else stage.run()
            except Exception as exc:  # an interrupt is not an Exception: it stays "running"
                self.state.fail(stage.name, f"{type(exc).__name__}: {exc}".splitlines()[0])
                raise
        seconds = round(time.perf_counter() - start, 2)
        self.state.done(
            stage.name, config=stage.config, seconds=seconds, fingerprint=fp,
            outputs=[str(p.relative_to(self.run_dir)) if p.is_relative_to(self.run_dir)
                     else str(p) for p in stage.outputs],
            summary=config_dict(summary) if summary is not None else None,
        )
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
