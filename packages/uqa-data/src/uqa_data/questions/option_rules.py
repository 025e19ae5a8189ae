"""Option-only rules: how far a question set can be answered without knowing the user.

Each rule looks at a question's four options (and, for ``popular``, at the
alignment questions) and never at the user. A rule that beats chance (25%) by
much means the option sets point at the answer, so an LLM could learn the rule
instead of the user. Ties are split: a rule torn between k options that include
the answer earns 1/k, so "no information" scores exactly 25% in expectation.

- ``popular``: the option that is most often the answer of the sub-task in the
  alignment questions (what a model trained on them could learn), scored on the
  evaluation questions. (On the alignment questions themselves the rule has no
  fair form: counting a question's own answer favours any answer over
  distractors that are nobody's answer, leaving it out disfavours an answer
  among distractors that are other users' answers.)
- ``longest``: the option with the most characters;
- ``agreement``: the option sharing the most (position, part) pairs, then the
  most parts, with the other options (parts of lists like "A, B, C" or
  "A, then B"); an answer built as the centre of near-miss distractors wins it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from uqa_data.schemas import OPTION_LETTERS

RULES: tuple[str, ...] = ("popular", "longest", "agreement")
PARTS = re.compile(r", then |, |; |、|；|从|转向|一直是")
"""What splits a list-like option ("A, B, C", "A, then B", zh forms) into parts."""


def _parts(option: str) -> list[str]:
    return [p for p in PARTS.split(option) if p]


def credit(scores: Sequence[Any], answer: int) -> float:
    """What "pick the option with the highest score" earns: 1/k when the answer is
    among the k options tied for the highest score, else 0."""
    best = max(scores)
    top = [i for i, s in enumerate(scores) if s == best]
    return 1.0 / len(top) if answer in top else 0.0


def agreement_scores(options: Sequence[str]) -> list[tuple[int, int]]:
    """Per option: (position-wise equal parts, shared parts) summed over the others."""
    parts = [_parts(o) for o in options]
    out = []
    for i, p in enumerate(parts):
        same_pos = sum(a == b for j, q in enumerate(parts) if j != i
                       for a, b in zip(p, q, strict=False))
        shared = sum(len(set(p) & set(q)) for j, q in enumerate(parts) if j != i)
        out.append((same_pos, shared))
    return out


def rule_credits(
    rows: Sequence[Mapping[str, Any]], reference: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, np.ndarray]:
    """Per rule, the credit (0..1) each question of ``rows`` earns.

    :param rows: questions (task, options, answer, answer_text).
    :param reference: the alignment questions whose answers ``popular`` counts;
        without it ``popular`` is left out.
    """
    scorers: dict[str, Callable[[Mapping[str, Any]], list[Any]]] = {
        "longest": lambda r: [len(o) for o in r["options"]],
        "agreement": lambda r: agreement_scores(r["options"]),
    }
    if reference is not None:
        by_task: dict[str, Counter[str]] = {}
        for r in reference:
            by_task.setdefault(r["task"], Counter())[r["answer_text"]] += 1
        scorers["popular"] = lambda r: [by_task.get(r["task"], Counter()).get(o, 0)
                                        for o in r["options"]]
    out = {}
    for rule, scorer in scorers.items():
        out[rule] = np.array(
            [credit(scorer(r), OPTION_LETTERS.index(r["answer"])) for r in rows], dtype=np.float64
        )
    return out


def option_only_accuracy(
    rows: Sequence[Mapping[str, Any]], reference: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """``{task: {"n": count, rule: accuracy, ...}}`` of every rule on every sub-task
    (``reference``: as in :func:`rule_credits`)."""
    credits = rule_credits(rows, reference)
    tasks = np.array([r["task"] for r in rows], dtype=object)
    out: dict[str, dict[str, Any]] = {}
    for task in dict.fromkeys(tasks.tolist()):
        mask = tasks == task
        out[task] = {"n": int(mask.sum()),
                     **{rule: float(c[mask].mean()) for rule, c in credits.items()}}
    return out
