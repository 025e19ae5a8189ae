"""Which software each compared run used: ``run.json``'s package versions, and a warning
when runs side by side differ in torch, transformers or a uqa package."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

COMPARED: tuple[str, ...] = (
    "torch", "transformers", "uqa-data", "uqa-encoders", "uqa-align", "uqa-eval", "uqa-cli",
)
"""Packages whose versions must agree for accuracies to be compared without a caveat."""


def run_versions(run_dir: str | os.PathLike[str]) -> dict[str, str] | None:
    """``run.json``'s ``versions`` of a run (a baseline inside a run: the run's), or None."""
    p = Path(run_dir)
    candidates = [p / "run.json"]
    if p.parent.name == "baselines":
        candidates.append(p.parent.parent / "run.json")
    for candidate in candidates:
        try:
            data = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        versions = data.get("versions") if isinstance(data, dict) else None
        if isinstance(versions, dict):
            return {str(k): str(v) for k, v in versions.items()}
    return None


def version_warnings(run_dirs: Sequence[str | os.PathLike[str]]) -> list[str]:
    """One line per package of :data:`COMPARED` whose version differs between the runs
    (runs without a ``run.json`` are not judged)."""
    known = {str(d): v for d in run_dirs if (v := run_versions(d)) is not None}
    lines = []
    for package in COMPARED:
        by_version: dict[str, list[str]] = {}
        for run, versions in known.items():
            if package in versions:
                by_version.setdefault(versions[package], []).append(run)
        if len(by_version) > 1:
            listed = "; ".join(f"{v} ({', '.join(runs)})" for v, runs in sorted(by_version.items()))
            lines.append(f"the compared runs used different versions of {package}: {listed}; "
                         "their accuracies may differ for that reason alone")
    return lines
