"""Training curves of a run: pre-training loss and HR@10 per epoch, alignment loss per step.

Read from the files the training stages already write: ``encoder/metrics.json``
(``history``: one entry per epoch) and ``adapter/metrics.json`` (``losses``: one per
optimizer step that was taken). The controls of a run that were aligned on their own
(``baselines/<name>/adapter/``: random, oracle, text20...) are drawn beside the run's own
alignment curve; a control evaluated with the run's own adapter (``shuffled``) has no
curve of its own and is listed under ``shared_adapter``.

``report.json`` holds them under ``curves``::

    {"pretrain": {"epoch": [...], "step": [...], "loss": [...], "hr@10": [...],
                  "ndcg@10": [...], "most_popular_hr@10": x},
     "align": {"step": [...], "loss": [...]},
     "controls": {"random": {"step": [...], "loss": [...]}, ...},
     "shared_adapter": ["shuffled"]}

and ``report/curves.png`` draws them.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from uqa_data.layout import RunLayout

CURVES_PNG = "curves.png"


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def pretrain_curve(encoder_dir: Path) -> dict[str, Any] | None:
    """Loss, HR@10 and NDCG@10 per epoch from ``encoder_dir/metrics.json``."""
    metrics = _read(Path(encoder_dir) / "metrics.json")
    history = metrics.get("history") if metrics else None
    if not isinstance(history, list) or not history:
        return None
    rows = [h for h in history if isinstance(h, dict)]
    curve: dict[str, Any] = {key: [h.get(key) for h in rows]
                             for key in ("epoch", "step", "loss", "hr@10", "ndcg@10")}
    popular = metrics.get("most_popular") if metrics else None
    if isinstance(popular, dict) and popular.get("hr@10") is not None:
        curve["most_popular_hr@10"] = popular["hr@10"]
    return curve


def align_curve(adapter_dir: Path) -> dict[str, Any] | None:
    """Loss per optimizer step from ``adapter_dir/metrics.json``."""
    metrics = _read(Path(adapter_dir) / "metrics.json")
    losses = metrics.get("losses") if metrics else None
    if not isinstance(losses, list) or not losses:
        return None
    return {"step": list(range(1, len(losses) + 1)), "loss": [float(x) for x in losses]}


def training_curves(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Every curve the run directory's training files hold (see the module docstring)."""
    run = RunLayout(Path(run_dir))
    curves: dict[str, Any] = {}
    pre = pretrain_curve(run.encoder)
    if pre is not None:
        curves["pretrain"] = pre
    own = align_curve(run.adapter)
    if own is not None:
        curves["align"] = own
    controls: dict[str, Any] = {}
    shared: list[str] = []
    for b in run.baselines():
        curve = align_curve(b.adapter)
        if curve is not None:
            controls[b.name] = curve
        elif _uses_run_adapter(b.name) and own is not None:
            shared.append(b.name)
    if controls:
        curves["controls"] = controls
    if shared:
        curves["shared_adapter"] = shared
    return curves


def _uses_run_adapter(name: str) -> bool:
    try:
        from uqa_eval.baselines import get_baseline

        return get_baseline(name).permute
    except Exception:  # an unregistered name: a folder someone else made
        return False


def attach_curves(report: dict[str, Any], run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Put the run's :func:`training_curves` into ``report["curves"]`` (when it has any)."""
    curves = training_curves(run_dir)
    if curves:
        report["curves"] = curves
    return report


def curves_png(curves: Mapping[str, Any], title: str) -> bytes:
    """PNG bytes: pre-training loss and HR@10 per epoch, alignment loss per step (raw,
    faint, and a trailing mean over a twentieth of the steps) for the run and its controls."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    pre, own, controls = curves.get("pretrain"), curves.get("align"), curves.get("controls", {})
    panels = (["loss", "hr"] if pre else []) + (["align"] if own or controls else [])
    fig = Figure(figsize=(4.6 * max(1, len(panels)), 3.8))
    axes = fig.subplots(1, max(1, len(panels)), squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=False):
        if panel == "loss":
            ax.plot(pre["epoch"], _floats(pre["loss"]), marker="o")
            ax.set(title="pre-training loss", xlabel="epoch", ylabel="mean loss")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        elif panel == "hr":
            ax.plot(pre["epoch"], _floats(pre["hr@10"]), marker="o", label="encoder")
            if pre.get("most_popular_hr@10") is not None:
                ax.axhline(pre["most_popular_hr@10"], color="gray", linestyle="--",
                           label="most popular")
            ax.set(title="pre-training HR@10 (held-out users)", xlabel="epoch", ylabel="HR@10")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(fontsize="small")
        else:
            series = ([("this run", own)] if own else []) + list(controls.items())
            for name, curve in series:
                line = ax.plot(curve["step"], curve["loss"], linewidth=0.8, alpha=0.35)[0]
                ax.plot(curve["step"], _smooth(curve["loss"]), color=line.get_color(),
                        linewidth=1.8 if name == "this run" else 1.2, label=name)
            shared = curves.get("shared_adapter") or []
            label = "alignment loss per step"
            if shared:
                label += f"\n({', '.join(shared)}: this run's adapter)"
            ax.set(title=label, xlabel="step", ylabel="loss")
            ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def _smooth(values: list[float]) -> list[float]:
    """Trailing mean over a twentieth of the steps (the raw curve is drawn faintly beneath)."""
    window = max(1, len(values) // 20)
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def _floats(values: list[Any]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]
