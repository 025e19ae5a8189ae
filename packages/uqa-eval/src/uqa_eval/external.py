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
from uqa_data.layout import RunLayout

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
    for name in ("embedding", "embeddings"):
        if name in table.column_names:
            _check_finite(table.column(name), p, arr)
    return {int(u) for u in uniq}


def _check_finite(column: pa.ChunkedArray, path: Path, users: np.ndarray) -> None:
    """Every value of a (nested) list column is finite; else name the first bad row."""
    values = column.combine_chunks()
    rows = np.arange(len(values))
    while pa.types.is_list(values.type) or pa.types.is_fixed_size_list(values.type) \
            or pa.types.is_large_list(values.type):
        parents = pc.list_parent_indices(values).to_numpy()
        rows, values = rows[parents], pc.list_flatten(values)
    finite = np.isfinite(values.to_numpy(zero_copy_only=False).astype(np.float64))
    if not finite.all():
        bad = int(rows[np.flatnonzero(~finite)[0]])
        raise UqaInputError(f"{path}: row {bad} (user {int(users[bad])}) has non-finite "
                            "values")


def select_questions(
    questions_path: str | os.PathLike[str], users: set[int]
) -> tuple[pa.Table, Coverage]:
    """The questions of ``questions_path`` whose ``user_id`` is in ``users``, and the count.

    :raises UqaInputError: the file is missing, not a questions file, or empty.
    """
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
    return kept, Coverage(str(p), kept.num_rows, dropped.num_rows, missing)


def require_questions(coverage: Coverage, split: str, emb: Path, users: set[int]) -> None:
    """:raises UqaInputError: no question of ``coverage`` has a user in ``emb``."""
    if coverage.kept:
        return
    raise UqaInputError(
        f"{coverage.path}: none of its {coverage.dropped} questions has a user in {emb} "
        f"(question user_id {', '.join(str(u) for u in coverage.missing_users[:5])}...; "
        f"the embeddings hold {len(users)} users, e.g. "
        f"{', '.join(str(u) for u in sorted(users)[:5])}); nothing to "
        f"{'train on' if split == 'align' else 'evaluate'}"
    )


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
    align_seed: int | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train an adapter on ``embeddings_path``, answer the eval questions, build the report.

    A pipeline (:class:`~uqa_eval.pipeline.Pipeline`) into ``out_dir``, a run directory
    (:class:`~uqa_data.layout.RunLayout`): ``questions/{align,eval}.arrow`` (the questions
    kept), ``adapter/``, ``predictions/eval.arrow``, ``report/``, ``run.json`` and, per
    control, ``baselines/<control>/`` plus a side-by-side comparison in
    ``report/compare/``; the stages are :mod:`uqa_eval.stages`' (those of ``uqa run``), and
    finished ones are kept when it is run again. ``overrides`` go to both stage configs
    where they have a field of that name (``steps``, ``strategy``, ``mode``...);
    ``align_seed`` seeds the alignment alone (the adapter's initial weights and its batch
    order; default: the preset's), so runs that differ only there are alignments of the
    same embeddings (:func:`uqa_eval.report.alignments.alignment_report`).

    :returns: the report of the embeddings; ``meta.controls`` holds each
        control's overall accuracy.
    :raises UqaInputError: an unknown control, or no question left for
        alignment or evaluation once users without embeddings are dropped.
    """
    started = time.perf_counter()
    emb, layout = Path(embeddings_path), RunLayout(Path(out_dir))
    unknown = [c for c in controls if c not in CONTROLS]
    if unknown:
        raise UqaInputError(f"unknown control(s) {', '.join(unknown)} (--controls); "
                            f"valid: {', '.join(CONTROLS)}")
    if align_seed is not None:
        from uqa_data.settings import check_seed

        check_seed(align_seed, "--align-seed")
    users = embedded_users(emb)  # the file's schema, before anything is written
    for split, src in (("align", align_questions), ("eval", eval_questions)):
        require_questions(select_questions(src, users)[1], split, emb, users)
    from uqa_data.rundir import run_lock

    from uqa_eval.pipeline import Pipeline

    # every stage's config built and checked (--steps, --mode...) before anything is written
    stages = plan(emb, (Path(align_questions), Path(eval_questions)), layout,
                  data=Path(data_dir) if data_dir is not None else None, llm=llm,
                  adapter=adapter, preset=preset, controls=controls, overrides=overrides,
                  align_seed=align_seed, echo=echo, started=started)
    with run_lock(layout.root):
        pipe = Pipeline(layout, {"embeddings": str(emb), "llm": llm, "adapter": adapter,
                                 "preset": preset, "controls": list(controls),
                                 "overrides": dict(overrides or {})})
        pipe.state.data["name"] = layout.name
        for stage in stages:
            pipe.execute(stage)
        pipe.state.save()
        from uqa_eval.report import compare_runs, load_report, write_comparison

        if controls:
            write_comparison(compare_runs([layout.root, *(layout.baseline(c).root
                                                           for c in controls)]),
                             layout.compare)
        return load_report(layout.report_json)


def plan(emb: Path, questions: tuple[Path, Path], layout: RunLayout, *, data: Path | None,
         llm: str, adapter: str, preset: str, controls: Sequence[str],
         overrides: dict[str, Any] | None, echo: Callable[[str], None], started: float,
         align_seed: int | None = None) -> list[Any]:
    """The stages of :func:`score_embeddings`, in order; nothing runs here."""
    from uqa_align.llm import check_llm
    from uqa_align.train import AlignConfig
    from uqa_data.settings import flagged, given_flags

    from uqa_eval.baselines import get_baseline, in_answer_order
    from uqa_eval.evaluate import EvalConfig
    from uqa_eval.pipeline import build_config
    from uqa_eval.stages import (
        Wiring,
        align_stage,
        baseline_meta,
        baseline_stages,
        eval_stage,
        report_stage,
    )

    check_llm(llm, "--llm")  # a missing or unusable directory, before anything is written
    extra = dict(overrides or {})
    flags = given_flags(extra)  # --steps, --mode, --strategy
    seeded = {"seed": align_seed} if align_seed is not None else {}
    align_cfg = flagged(lambda: build_config(AlignConfig, preset, llm=llm, adapter=adapter,
                                             **extra, **seeded), flags)
    eval_cfg = flagged(lambda: build_config(EvalConfig, preset, llm=llm, **extra), flags)
    # One LLM for every step while it stays frozen (adapter-only training).
    shared = _LazyLLM(llm) if align_cfg.strategy == "adapter" else None
    w = Wiring(layout, embeddings=lambda split: emb, data=data, llm=shared)
    facts = {"llm": llm, "mode": eval_cfg.mode, "preset": preset}
    stages = [questions_stage(emb, questions, layout, echo), align_stage(
        w, align_cfg, description=f"{adapter} adapter on {emb.name}"), eval_stage(w, eval_cfg)]
    for name in in_answer_order(list(controls)):
        stages += baseline_stages(w, get_baseline(name), align_cfg, eval_cfg,
                                  baseline_meta(layout.name, get_baseline(name), facts))
    meta = {"run": layout.name, "encoder": f"external:{emb.name}", "embeddings": str(emb),
            "adapter": adapter, "strategy": align_cfg.strategy, **facts}
    after = ("eval", *(f"report-{c}" for c in controls))
    stages.append(report_stage(w, meta, after=after,
                               extra=lambda: _outcome(layout, controls, started)))
    return stages


def questions_stage(emb: Path, questions: tuple[Path, Path], layout: RunLayout,
                    echo: Callable[[str], None]) -> Any:
    """``questions``: the align and eval questions whose user has an embedding."""
    from uqa_eval.pipeline import Stage, file_stamp

    def run() -> dict[str, Any]:
        users = embedded_users(emb)
        dropped = {}
        for split, src in zip(("align", "eval"), questions, strict=True):
            kept, cov = select_questions(src, users)
            require_questions(cov, split, emb, users)  # before anything is written
            dropped[split] = cov.dropped
            if cov.dropped:
                echo(cov.message(str(emb)))
            write_table(kept, layout.questions(split))
        return {"questions_dropped": dropped}

    return Stage("questions", run, {"embeddings": file_stamp(emb),
                                    "questions": [file_stamp(q) for q in questions]},
                 [layout.questions("align"), layout.questions("eval")],
                 description="questions of the embedded users", owns=[layout.questions_dir])


def _outcome(layout: RunLayout, controls: Sequence[str], started: float) -> dict[str, Any]:
    """What the report of the embeddings adds once everything ran: questions dropped, the
    controls' overall accuracy, the stages' summaries and the wall time."""
    from uqa_data.io import read_json

    from uqa_eval.report import METRICS

    record = layout.record()
    assert record is not None  # the pipeline has written it
    summary = {k: (record.stage(k) or {}).get("summary") for k in ("questions", "align", "eval")}
    overall = {c: read_json(layout.baseline(c).report_json)["overall"] for c in controls}
    return {
        "questions_dropped": (summary["questions"] or {}).get("questions_dropped"),
        "controls": {c: {m: overall[c][m] for m in METRICS if m in overall[c]}
                     for c in controls},
        "align": summary["align"], "eval": summary["eval"],
        "questions_per_s": (summary["eval"] or {}).get("questions_per_s"),
        "wall_time_s": round(time.perf_counter() - started, 2),
    }


class _LazyLLM:
    """An LLM loaded on first use, then shared (nothing is loaded when every stage that
    would use it is already done)."""

    def __init__(self, source: str) -> None:
        self.source, self.loaded = source, None

    def __call__(self) -> Any:
        if self.loaded is None:
            from uqa_align.llm import load_llm

            self.loaded = load_llm(self.source)
        return self.loaded
