"""Choosing three distractors so that no option-only rule finds the answer.

Two policies (``QuestionConfig.distractors``):

- ``population``: every distractor is the answer of another user of the same
  split to a question of the same sub-task, variant and attribute, so every
  option is a real user's answer; they are drawn among the texts nearest the
  answer in popularity;
- ``own-history``: the task's own candidates (values from the user's own
  history, re-orderings of the answer's values, values of similar popularity),
  in the task's order of preference: the harder variant.

Drawing distractors uniformly from other users' answers is not enough: a
popular answer cannot be its own distractor, so it would be the most popular
option more often than chance. So for every group of questions (sub-task,
variant, attribute) the generator keeps the running credit of the option-only
rules of :mod:`uqa_data.questions.option_rules` (most and least popular,
longest and shortest, most agreeing) at a quarter per question: of the option
sets a draft can have, it takes the first (in the policy's order) that keeps
every rule's running total within :data:`TOLERANCE` of a quarter of the
questions kept; a draft with none waits until the totals have moved
(:class:`GroupBalancer`). Popularity is how often a text is the sub-task's
answer in the alignment questions (what a model trained on them could learn).
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from uqa_data.questions.option_rules import PARTS as _SEPARATORS
from uqa_data.questions.option_rules import agreement_scores, credit

POLICIES: tuple[str, ...] = ("population", "own-history")
"""Distractor policies, in fallback order: a group with fewer than four distinct
answers cannot use ``population`` and falls back to ``own-history``."""

MIN_DISTINCT = 4
"""Distinct answers a group needs for ``population`` distractors (answer + 3)."""

WIDTH = 4
"""Population distractors are drawn from the ``WIDTH`` texts nearest in popularity
above and below the answer (then twice as many)."""

TOLERANCE = 0.75
"""How far (in questions) each rule's running credit may stray from a quarter."""

TRIES = 24
"""Option sets tried per draft before it waits."""

REACH = 6
"""How far past the first three own-history candidates other option sets may reach."""

PATIENCE = 12
"""Drafts that may wait in a group before the best of them is kept anyway."""

RULE_NAMES: tuple[str, ...] = ("popular", "unpopular", "longest", "shortest", "agreement")


class RuleCredits:
    """The credits (0..1) the balanced rules give the answer of one option set.

    :param counts: text -> times it is the sub-task's answer in the alignment set.
    :param own: the questions balanced are alignment questions whose own answer is
        in ``counts``; it is left out for them (leave-one-out).
    """

    def __init__(self, counts: Mapping[str, int], own: bool = False) -> None:
        self.counts = counts
        self.own = own

    def count(self, text: str) -> int:
        return int(self.counts.get(text, 0))

    def __call__(self, answer: str, distractors: Sequence[str]) -> tuple[float, ...]:
        options = [answer, *distractors]
        pop = [self.count(answer) - self.own, *(self.count(t) for t in distractors)]
        lengths = [len(t) for t in options]
        lists = any(_SEPARATORS.search(t) for t in options)
        return (
            credit(pop, 0),
            credit([-c for c in pop], 0),
            credit(lengths, 0),
            credit([-n for n in lengths], 0),
            credit(agreement_scores(options), 0) if lists else 0.25,  # no parts: a tie
        )


class _Draft:
    """A draft offered to a balancer: its option sets and their credits, computed once."""

    def __init__(self, item: Any, answer: str, sets: Iterable[list[str]],
                 rules: RuleCredits) -> None:
        self.item = item
        self.answer = answer
        self.rest = iter(itertools.islice(sets, TRIES))
        self.rules = rules
        self.done: list[tuple[list[str], tuple[float, ...]]] = []

    def options(self) -> Iterator[tuple[list[str], tuple[float, ...]]]:
        yield from self.done
        for picked in self.rest:
            entry = (picked, self.rules(self.answer, picked))
            self.done.append(entry)
            yield entry


class GroupBalancer:
    """Keeps one group's questions with every rule's running credit near a quarter.

    Drafts arrive in order (:meth:`offer`) with the option sets (three distractors
    each) they could have, best first. The first set that keeps every running
    total within :data:`TOLERANCE` of ``kept / 4`` is taken; a draft without one
    waits and is tried again whenever a draft is kept. When :data:`PATIENCE`
    drafts wait, the one whose best set strays least is kept.
    """

    def __init__(self, rules: RuleCredits) -> None:
        self.rules = rules
        self.sums = [0.0] * len(RULE_NAMES)
        self.kept = 0
        self.waiting: list[_Draft] = []

    def _best(self, draft: _Draft) -> tuple[float, list[str], tuple[float, ...]] | None:
        best = None
        target = (self.kept + 1) / 4
        for picked, c in draft.options():
            stray = max(abs(s + x - target) for s, x in zip(self.sums, c, strict=True))
            if best is None or stray < best[0]:
                best = (stray, picked, c)
            if stray <= TOLERANCE:
                break
        return best

    def _keep(self, c: tuple[float, ...]) -> None:
        self.sums = [s + x for s, x in zip(self.sums, c, strict=True)]
        self.kept += 1

    def offer(self, item: Any, answer: str, sets: Iterable[list[str]]
              ) -> list[tuple[Any, list[str]]]:
        """Offer a draft; returns the drafts kept now, with their distractors."""
        kept: list[tuple[Any, list[str]]] = []
        draft = _Draft(item, answer, sets, self.rules)
        best = self._best(draft)
        if best is None:  # no option set at all
            return kept
        if best[0] <= TOLERANCE:
            self._keep(best[2])
            kept.append((item, best[1]))
        else:
            self.waiting.append(draft)
            if len(self.waiting) < PATIENCE:
                return kept
            scored = [(b, i) for i, w in enumerate(self.waiting) if (b := self._best(w))]
            (_, picked, c), i = min(scored, key=lambda t: t[0][0])
            self._keep(c)
            kept.append((self.waiting.pop(i).item, picked))
        self._drain(kept)
        return kept

    def _drain(self, kept: list[tuple[Any, list[str]]]) -> None:
        """Keep waiting drafts that fit now that the totals moved."""
        progress = True
        while progress and self.waiting:
            progress = False
            for i, w in enumerate(self.waiting):
                best = self._best(w)
                if best is not None and best[0] <= TOLERANCE:
                    self._keep(best[2])
                    kept.append((w.item, best[1]))
                    del self.waiting[i]
                    progress = True
                    break

    def leftovers(self) -> list[tuple[Any, list[str]]]:
        """The waiting drafts with their best option sets, for a pool that ran out
        before enough questions were kept (the totals may then stray further)."""
        out = []
        for w in self.waiting:
            best = self._best(w)
            if best is not None:
                self._keep(best[2])
                out.append((w.item, best[1]))
        self.waiting = []
        return out


def own_sets(candidates: Sequence[str]) -> Iterator[list[str]]:
    """Option sets from own-history candidates: the first three, then sets reaching
    further down the list (at most :data:`REACH` candidates), earlier ones first."""
    if len(candidates) < 3:
        return
    pool = list(candidates[: 3 + REACH])
    for r in range(3, len(pool) + 1):
        for combo in itertools.combinations(pool[:r], 3):
            if pool[r - 1] in combo or r == 3:
                yield list(combo)


class Population:
    """One group's answers ordered by popularity, for popularity-matched draws.

    :param answers: ``(user, text)`` of every draft of the group.
    :param counts: text -> popularity (times it is an alignment answer).
    :param seed: seeds the order of texts of equal popularity.
    """

    def __init__(self, answers: Sequence[tuple[int, str]], counts: Mapping[str, int],
                 seed: int) -> None:
        users: dict[str, set[int]] = {}
        for user, text in answers:
            users.setdefault(text, set()).add(user)
        order = random.Random(seed)
        tie = {t: order.random() for t in sorted(users)}
        self.counts = counts
        self.texts = sorted(users, key=lambda t: (-counts.get(t, 0), tie[t]))
        self.keys = [-counts.get(t, 0) for t in self.texts]
        self.users = [users[t] for t in self.texts]

    def __len__(self) -> int:
        return len(self.texts)

    def sets(self, user: int, answer: str, rnd: random.Random,
             also_right: Callable[[str], bool] | None = None) -> Iterator[list[str]]:
        """Option sets of three other users' answers near ``answer`` in popularity (at
        random among the :data:`WIDTH` nearest on each side, then twice as many),
        never ``answer`` itself, the user's own answers or texts that are right too."""
        key = -self.counts.get(answer, 0)
        lo = bisect.bisect_left(self.keys, key)
        hi = bisect.bisect_right(self.keys, key)
        mid = (lo + hi) // 2

        def ok(i: int) -> bool:
            text = self.texts[i]
            return (text != answer and bool(self.users[i] - {user})
                    and not (also_right is not None and also_right(text)))

        def scan(indices: Iterable[int], want: int) -> list[str]:
            out = []
            for i in indices:
                if ok(i):
                    out.append(self.texts[i])
                    if len(out) == want:
                        break
            return out

        ups = scan(range(mid - 1, -1, -1), 2 * WIDTH)
        downs = scan(range(mid, len(self.texts)), 2 * WIDTH)
        for width in (WIDTH, 2 * WIDTH):
            u, d = ups[:width], downs[:width]
            if len(u) + len(d) < 3:
                continue
            for _ in range(TRIES // 2):
                above = rnd.randint(max(0, 3 - len(d)), min(3, len(u)))
                yield rnd.sample(u, above) + rnd.sample(d, 3 - above)
