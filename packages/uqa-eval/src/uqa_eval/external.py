"""Scoring user embeddings made elsewhere: align an adapter on them, answer, report.

Only uqa-data, uqa-align and uqa-eval are needed (never uqa-encoders or
uqa-cli). The embeddings file follows the design schema: ``user_id`` plus
``embedding`` (one vector per user) and/or ``embeddings`` (one per position).
Questions whose user has no embedding are dropped with a count, never a crash.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from uqa_data.errors import UqaInputError
from uqa_data.io import INT, STRING, read_table, write_table

EMBEDDING_COLUMNS = ("embedding", "embeddings")


@dataclass(frozen=True)
class Coverage:
    """How many questions of a file kept an embedded user."""

    path: str
    kept: int
    dropped: int
    missing_users: tuple[int, ...]

    def message(self, embeddings: str) -> str:
        users = ", ".join(str(u) for u in self.missing_users[:5])
        more = ", ..." if len(self.missing_users) > 5 else ""
        return (
            f"{self.path}: dropped {self.dropped} of {self.kept + self.dropped} questions whose "
            f"{len(self.missing_users)} user(s) have no embedding in {embeddings} "
            f"(user_id {users}{more}); {self.kept} kept"
        )


def embedded_users(embeddings_path: str | os.PathLike[str]) -> set[int]:
    """The user ids of an embeddings file, after checking its schema.

    :raises UqaInputError: no ``user_id`` integer column, neither ``embedding``
        nor ``embeddings`` (or one of the wrong type), a null, zero-width or ragged
        vector, a repeated or null user id, or no rows.
    """
    p = Path(embeddings_path)
    table = read_table(
        p, {"user_id": (INT, "int64 user ids")}, what="embeddings file", allow_empty=False
    )
    from uqa_align.user_embeddings import check_vector_columns

    check_vector_columns(table, p)  # types, and every vector whole and of one width
    ids = table.column("user_id")
    if ids.null_count:
        raise UqaInputError(f"{p}: column 'user_id' has {ids.null_count} null value(s)")
    arr = ids.to_numpy()
    uniq, counts = np.unique(arr, return_counts=True)
    if (counts > 1).any():
        dup = int(uniq[counts > 1][0])
        raise UqaInputError(f"{p}: user_id {dup} appears {int(counts[uniq == dup][0])} times; "
                            "expected one row per user")
    return {int(u) for u in uniq}


def filter_questions(
    questions_path: str | os.PathLike[str],
    users: set[int],
    out_path: str | os.PathLike[str],
) -> Coverage:
    """Write the questions whose ``user_id`` is in ``users`` to ``out_path`` (atomically)."""
    p = Path(questions_path)
    table = read_table(
        p,
        {
            "question_id": (STRING, "string"),
            "user_id": (INT, "int64 user ids"),
            "task": (STRING, "string"),
        },
        what="questions file",
        allow_empty=False,
    )
    keep = pc.is_in(table.column("user_id"), value_set=pa.array(sorted(users), pa.int64()))
    keep = pc.fill_null(keep, False)
    kept = table.filter(keep)
    dropped = table.filter(pc.invert(keep))
    missing = tuple(sorted({int(u) for u in dropped.column("user_id").to_pylist()
                            if u is not None}))
    write_table(kept, out_path)
    return Coverage(str(p), kept.num_rows, dropped.num_rows, missing)


CONTROLS: tuple[str, ...] = ("none", "shuffled")
"""Controls ``score_embeddings`` can run beside the embeddings: ``none`` (no user
context: the LLM's prior) and ``shuffled`` (the same adapter fed another user's
embedding: what remains when the answer cannot come from this user)."""


def score_embeddings(
    embeddings_path: str | os.PathLike[str],
    align_questions: str | os.PathLike[str],
    eval_questions: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    llm: str = "smollm2",
    adapter: str = "mean_linear",
    preset: str = "default",
    controls: Sequence[str] = CONTROLS,
    overrides: dict[str, Any] | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train an adapter on ``embeddings_path``, answer the eval questions, build the report.

    Writes ``out_dir/questions/{align,eval}.arrow`` (the questions kept),
    ``out_dir/adapter/``, ``out_dir/predictions/eval.arrow``, ``out_dir/report/``
    and, per control, ``out_dir/baselines/<control>/`` plus a side-by-side
    comparison in ``out_dir/report/compare/``. ``overrides`` go to both stage
    configs where they have a field of that name (``steps``, ``strategy``,
    ``mode``...).

    :returns: the report of the embeddings; ``meta.controls`` holds each
        control's overall accuracy.
    :raises UqaInputError: an unknown control, or no question left for
        alignment or evaluation once users without embeddings are dropped.
    """
    started = time.perf_counter()
    emb = Path(embeddings_path)
    out = Path(out_dir)
    unknown = [c for c in controls if c not in CONTROLS]
    if unknown:
        raise UqaInputError(f"unknown control(s) {', '.join(unknown)} (--controls); "
                            f"valid: {', '.join(CONTROLS)}")
    users = embedded_users(emb)
    coverage = {}
    for split, src in (("align", align_questions), ("eval", eval_questions)):
        cov = filter_questions(src, users, out / "questions" / f"{split}.arrow")
        coverage[split] = cov
        if cov.dropped:
            echo(cov.message(str(emb)))
        if cov.kept == 0:
            raise UqaInputError(
                f"{src}: none of its {cov.dropped} questions has a user in {emb} "
                f"(question user_id {', '.join(str(u) for u in cov.missing_users[:5])}...; "
                f"the embeddings hold {len(users)} users, e.g. "
                f"{', '.join(str(u) for u in sorted(users)[:5])}); nothing to "
                f"{'train on' if split == 'align' else 'evaluate'}"
            )

    # Heavy imports (torch, transformers) only once the inputs are known to be usable.
    from dataclasses import replace

    from uqa_align.llm import load_llm
    from uqa_align.train import AlignConfig, align

    from uqa_eval.curves import attach_curves
    from uqa_eval.evaluate import EvalConfig, evaluate
    from uqa_eval.report import build_report, compare_runs, write_comparison, write_report

    extra = dict(overrides or {})
    align_cfg = _config(AlignConfig, preset, llm=llm, adapter=adapter, **extra)
    eval_cfg = _config(EvalConfig, preset, llm=llm, **extra)
    data = Path(data_dir) if data_dir is not None else None
    questions = out / "questions" / "eval.arrow"
    adapter_dir = out / "adapter"
    predictions = out / "predictions" / "eval.arrow"
    # One LLM for every step while it stays frozen (adapter-only training).
    shared = load_llm(llm) if align_cfg.strategy == "adapter" else None
    align_summary = align(out / "questions" / "align.arrow", emb, data, adapter_dir, align_cfg,
                          llm=shared)
    eval_summary = evaluate(questions, emb, adapter_dir, data, predictions, eval_cfg, llm=shared)
    base_meta = {"llm": llm, "mode": eval_cfg.mode, "preset": preset}
    control_dirs, control_overall = [], {}
    for name in controls:
        cdir = out / "baselines" / name
        # `none` gets the adapter dir only for its prompt style; it answers without context.
        summary = evaluate(questions, emb, adapter_dir, data, cdir / "predictions" / "eval.arrow",
                           replace(eval_cfg, baseline=name), llm=shared)
        creport = build_report(cdir / "predictions" / "eval.arrow", questions, {
            "run": f"{out.name}/{name}", "method": name, "baseline": name, **base_meta,
            "eval": _jsonable(summary), "questions_per_s": summary.get("questions_per_s"),
        })
        write_report(creport, cdir / "report")
        control_dirs.append(cdir)
        control_overall[name] = {m: creport["overall"][m] for m in ("acc", "acc_norm")}
    meta = {
        "run": out.name,
        "encoder": f"external:{emb.name}",
        "embeddings": str(emb),
        "adapter": adapter,
        "strategy": align_cfg.strategy,
        **base_meta,
        "questions_dropped": {k: c.dropped for k, c in coverage.items()},
        "controls": control_overall,
        "align": _jsonable(align_summary),
        "eval": _jsonable(eval_summary),
        "questions_per_s": eval_summary.get("questions_per_s"),
        "wall_time_s": round(time.perf_counter() - started, 2),
    }
    report = attach_curves(build_report(predictions, questions, meta), out)
    write_report(report, out / "report")
    if control_dirs:
        write_comparison(compare_runs([out, *control_dirs]), out / "report" / "compare")
    return report


def _config(cls: Any, preset: str, **overrides: Any) -> Any:
    """``cls.from_preset(preset, **overrides)`` with only the overrides ``cls`` has."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    kept = {k: v for k, v in overrides.items() if v is not None and (not names or k in names)}
    return cls.from_preset(preset, **kept)


def _jsonable(obj: Any) -> Any:
    import json

    try:
        return json.loads(json.dumps(obj, default=str))
    except (TypeError, ValueError):
        return str(obj)
