"""How often li/si/it answers agree with the synthetic source's planted interests.

The synthetic source (:mod:`uqa_data.synth`) plants, per user, a long-term
mixture over interest categories (``interest_cate_ids``, ``interest_weights``)
and drift phases, each with a dominant category that takes
``PHASE_DOMINANCE`` (70%) of the phase's sessions while the rest follow the
mixture. From ``raw/truth.arrow`` this module derives what each question
*should* answer where the planted signal is strong, and compares:

- li (category): the planted expected click share of each interest over the
  question's history, ``sum over phases of clicks_in_phase * (d * [dominant]
  + (1 - d) * weight)``. Reported twice: ``li_top1`` (the answer's first value
  is the planted favourite; strong when it leads the runner-up's expected
  share by ``margin`` and ``min_gap`` expected clicks) and ``li`` (the whole
  ordered top 3; strong when the user has >= 3 interests and the top 4
  expected shares are each that far apart, which the synthetic source rarely
  plants: its 2nd and 3rd interests are close to the noise clicks).
- si (category): strong when the recent window lies inside one phase; agreement:
  the answer is that phase's dominant category.
- it (category): strong when each of the two windows lies inside one phase;
  agreement: (earlier dominant, recent dominant) equals the phases' dominants.

Phases are located in ``data/`` by timestamp (prepared sequences lose
duplicate and filtered clicks), as ``raw/truth.arrow``'s schema describes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from uqa_data.io import INT, list_of, read_table

PHASE_DOMINANCE = 0.7
"""Mirror of ``uqa_data.synth.users.PHASE_DOMINANCE`` (checked in the tests)."""


def _phase_starts(timestamps: np.ndarray, phase_ts: list[int]) -> list[int]:
    return [int(np.searchsorted(timestamps, t, side="left")) for t in phase_ts]


def _phase_of_window(starts: list[int], lo: int, hi: int) -> int | None:
    """Index of the phase containing clicks ``lo..hi-1`` entirely, else None."""
    bounds = [*starts[1:], 1 << 62]
    for p, s in enumerate(starts):
        if s <= lo and hi <= bounds[p]:
            return p
    return None


def truth_agreement(
    data_dir: Path,
    truth_path: Path,
    questions_path: Path,
    *,
    margin: float = 0.1,
    min_gap: float = 4.0,
) -> dict[str, Any]:
    """Agreement of category li/si/it answers with the planted truth, per task.

    :param margin: li: least gap between consecutive planted expected shares.
    :param min_gap: li: least gap in expected clicks (short histories need more).

    :returns: ``{task: {"strong": n questions with a strong planted signal,
        "agree": n agreeing, "rate": agree / strong, "questions": n category
        questions}}``.
    """
    items = read_table(
        Path(data_dir) / "items.arrow", {"cate_id": (INT, "int64"), "raw_cate_id": (INT, "int64")}
    )
    dense_of_raw = dict(
        zip(
            items.column("raw_cate_id").to_pylist(),
            items.column("cate_id").to_pylist(),
            strict=True,
        )
    )
    truth = {
        r["user_id"]: r
        for r in read_table(
            truth_path, {"user_id": (INT, "int64"), "phase_start_ts": (list_of(INT), "list")}
        ).to_pylist()
    }
    seq_cols = {"user_id": (INT, "int64"), "timestamps": (list_of(INT), "list<int64>")}
    stamps = {
        split: {
            r["user_id"]: np.asarray(r["timestamps"], dtype=np.int64)
            for r in read_table(Path(data_dir) / f"{split}.arrow", seq_cols).to_pylist()
        }
        for split in ("train", "test")
    }
    out = {t: {"questions": 0, "strong": 0, "agree": 0} for t in ("li", "li_top1", "si", "it")}
    for q in read_table(questions_path).to_pylist():
        task = q["task"]
        if (
            task not in ("li", "si", "it")
            or q["attribute"] != "category"
            or q["user_id"] not in truth
        ):
            continue
        out[task]["questions"] += 1
        if task == "li":
            out["li_top1"]["questions"] += 1
        t = truth[q["user_id"]]
        ts = stamps[q["split"]][q["user_id"]]
        h = q["history_len"]
        params = json.loads(q["params"])
        starts = _phase_starts(ts, t["phase_start_ts"])
        phase_cates = [dense_of_raw.get(c, -1) for c in t["phase_cate_ids"]]
        if task == "li":
            top1, top3 = _planted_top(t, starts, h, dense_of_raw, margin, min_gap)
            if top1 is not None:
                out["li_top1"]["strong"] += 1
                out["li_top1"]["agree"] += int(params["values"][0] == top1)
            if top3 is None:
                continue
            out[task]["strong"] += 1
            out[task]["agree"] += int(list(params["values"]) == top3)
        elif task == "si":
            w = params["window"]
            p = _phase_of_window(starts, h - w, h)
            if p is None:
                continue
            out[task]["strong"] += 1
            out[task]["agree"] += int(params["value"] == phase_cates[p])
        else:
            w = params["window"]
            pa_, pb = _phase_of_window(starts, h - 2 * w, h - w), _phase_of_window(starts, h - w, h)
            if pa_ is None or pb is None:
                continue
            out[task]["strong"] += 1
            out[task]["agree"] += int(
                (params["from"], params["to"]) == (phase_cates[pa_], phase_cates[pb])
            )
    for v in out.values():
        v["rate"] = round(v["agree"] / v["strong"], 4) if v["strong"] else None
    return out


def _planted_top(
    t: dict[str, Any],
    starts: list[int],
    h: int,
    dense_of_raw: dict[int, int],
    margin: float,
    min_gap: float,
) -> tuple[int | None, list[int] | None]:
    """(planted favourite if it leads the runner-up by ``margin``, planted ordered
    top 3 if the top 4 expected shares are each ``margin`` apart; None where weak)."""
    cates, weights = t["interest_cate_ids"], np.asarray(t["interest_weights"])
    bounds = [*starts[1:], h]
    share = np.zeros(len(cates))
    for p, raw_dom in enumerate(t["phase_cate_ids"]):
        n = max(0, min(bounds[p], h) - min(starts[p], h))
        dominant = np.asarray([c == raw_dom for c in cates], dtype=float)
        share += n * (PHASE_DOMINANCE * dominant + (1 - PHASE_DOMINANCE) * weights)
    share /= max(h, 1)
    order = np.argsort(-share, kind="stable")
    top = np.append(share[order], [0.0, 0.0, 0.0])  # non-interests get ~no planted share
    gap = max(margin, min_gap / max(h, 1))
    top1 = dense_of_raw.get(cates[order[0]], -1) if top[0] - top[1] >= gap else None
    if len(cates) < 3 or np.any(top[:3] - top[1:4] < gap):
        return top1, None
    return top1, [dense_of_raw.get(cates[i], -1) for i in order[:3]]
