"""The question-task interface: what a sub-task (built-in or plugin) implements.

A sub-task is a :class:`QuestionTask` subclass registered through the
``uqa_register_tasks`` hook as ``ComponentSpec(kind="task", name="df",
target="my_module:MyTask")``. Its templates (stems with ``{placeholders}``
in one or more languages) come from the ``uqa_register_templates`` hook, so a
plugin can add phrasings to a built-in task without touching uqa-data.

Generation (:func:`uqa_data.questions.generate`) does, per split and task:

1. ``task = TaskClass()``; candidate users are drawn in seeded random order;
2. ``task.drafts(ctx, users, rng)`` yields :class:`Draft` objects: the answer
   text, at least three distractor texts, the template variant and the
   placeholder values, and ``history_len`` (how many of the user's first clicks
   the question may see; prediction tasks stop *before* the answer's click);
3. the generator picks a template of the draft's variant in the requested
   language, fills it, places the answer at a letter balanced over the task's
   questions and the distractors in the other three places, and writes rows.

A minimal plugin task::

    from uqa_data.questions.base import Draft, QuestionTask, Template

    class LastShop(QuestionTask):
        name = "ls"
        dimension = "sequence_understanding"
        description = "shop of the most recent click"

        def drafts(self, ctx, users, rng):
            shops = ctx.sequences.attr_values(ctx.catalog, "shop")
            for u in users:
                n = ctx.length(u)
                if n < ctx.config.min_history:
                    continue
                shop = int(shops[ctx.sequences.offsets[u] + n - 1])
                yield Draft(
                    user=int(u), variant="last_shop", attribute="shop",
                    answer=ctx.name("shop", shop),
                    distractors=ctx.distractors("shop", shop, rng),
                    history_len=n, params={"value": shop},
                )

and, from the plugin's ``uqa_register_templates`` hook,
``Template(task="ls", variant="last_shop", template_id="ls_1",
text={"en": "Which shop did the user click last?"})``.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from uqa_data.schemas import DIMENSIONS, TASK_DIMENSION

if TYPE_CHECKING:
    from uqa_data.questions.config import QuestionConfig
    from uqa_data.questions.distractors import Popularity
    from uqa_data.questions.source import Catalog, Sequences

__all__ = ["DIMENSIONS"]  # re-exported: the dimensions live in uqa_data.schemas


@dataclass(frozen=True)
class Template:
    """One phrasing of a question stem.

    :param task: sub-task name (``df``...).
    :param variant: which kind of question of the task it phrases (``attr``,
        ``title``, ``last_k``...); a draft names its variant.
    :param template_id: unique id stored with every question (``df_attr_1``).
    :param text: language -> stem with ``str.format`` placeholders, e.g.
        ``{attr}`` (attribute word), ``{attrs}`` (plural), ``{n}``, ``{k}``,
        ``{ordinal}``, ``{value}``: whatever the task's drafts provide.
    :param attributes: attributes it suits (empty: all).
    """

    task: str
    variant: str
    template_id: str
    text: Mapping[str, str]
    attributes: tuple[str, ...] = ()

    def suits(self, variant: str, attribute: str, lang: str) -> bool:
        return (
            self.variant == variant
            and lang in self.text
            and (not self.attributes or attribute in self.attributes)
        )


@dataclass
class Draft:
    """A question before it is phrased and shuffled.

    :param user: row index of the user in the split's :class:`Sequences`.
    :param variant: template variant to phrase it with.
    :param attribute: ``category``/``brand``/``shop``/``title``/``length``...
    :param answer: the correct option's text.
    :param distractors: the task's own wrong-option candidates (``own-history``
        policy), best first: at least three distinct texts, better several more,
        since the generator takes the first ones that keep the answer's
        popularity rank among the options balanced (see
        :mod:`uqa_data.questions.balance`); or a callable returning them, called
        only when they are needed. Under the ``population`` policy the options
        are other users' answers instead, and these are the fallback.
    :param history_len: the question may see the user's first ``history_len`` clicks.
    :param fields: extra placeholder values for the template (``n``, ``value``...).
    :param params: JSON-able facts that determine the answer (stored as the
        ``params`` column so the answer can be recomputed independently).
    :param also_right: for answers with ties, whether another option text would be
        right too (such texts are never drawn as distractors); None: only the answer.
    """

    user: int
    variant: str
    attribute: str
    answer: str
    distractors: list[str] | Callable[[], list[str]]
    history_len: int
    fields: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    also_right: Callable[[str], bool] | None = None


@dataclass
class QuestionContext:
    """What a task sees while drafting: one split's sequences, the catalog, popularity."""

    sequences: Sequences
    catalog: Catalog
    popularity: Popularity
    config: QuestionConfig
    lang: str

    _randoms: dict[int, tuple[np.random.Generator, random.Random]] = field(
        default_factory=dict, repr=False
    )

    def random(self, rng: np.random.Generator) -> random.Random:
        """A :class:`random.Random` seeded once from ``rng``, for cheap scalar draws."""
        hit = self._randoms.get(id(rng))
        if hit is None or hit[0] is not rng:
            hit = (rng, random.Random(int(rng.integers(2**63))))
            self._randoms[id(rng)] = hit
        return hit[1]

    def neighbours(
        self, attribute: str, value: int, rng: np.random.Generator, count: int
    ) -> list[int]:
        """Up to ``count`` other values of similar popularity (random, distinct)."""
        return self.popularity.neighbours(attribute, value, self.random(rng), count)

    def length(self, u: int) -> int:
        return int(self.sequences.offsets[u + 1] - self.sequences.offsets[u])

    def name(self, attribute: str, value: int) -> str:
        return self.catalog.name(attribute, value)

    def distractors(
        self,
        attribute: str,
        value: int,
        rng: np.random.Generator,
        *,
        prefer: list[int] | None = None,
        n: int = 8,
    ) -> list[str]:
        """``n`` names of other ``attribute`` values near ``value`` in popularity.

        ``prefer`` lists values to try first (e.g. the user's other interests),
        which makes harder, more plausible distractors.
        """
        return self.popularity.distractor_names(
            self.catalog, attribute, value, self.random(rng), prefer=prefer or [], n=n
        )


class QuestionTask(ABC):
    """Base class of a sub-task. Subclasses set the class attributes and :meth:`drafts`.

    :cvar name: the sub-task name stored in the ``task`` column.
    :cvar dimension: one of :data:`DIMENSIONS` (or a new dimension a plugin introduces);
        the paper's seven sub-tasks take theirs from
        :data:`uqa_data.schemas.TASK_DIMENSION` when they set none.
    :cvar description: one line for ``uqa list tasks``.
    :cvar attributes: attributes the task asks about (for docs and ``params``).
    :cvar population_distractors: whether another user's answer to the same kind of
        question is always a wrong answer for this user (true of "which category
        did the user click last", false of "which category did the user never
        click"); only then does the ``population`` policy draw distractors from
        other users' answers, otherwise the task's own candidates are used.
    """

    name: ClassVar[str]
    dimension: ClassVar[str]
    description: ClassVar[str] = ""
    attributes: ClassVar[tuple[str, ...]] = ("category", "brand", "shop")
    population_distractors: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if "dimension" not in cls.__dict__ and name in TASK_DIMENSION:
            cls.dimension = TASK_DIMENSION[name]

    def active_attributes(self, ctx: QuestionContext) -> tuple[str, ...]:
        """:attr:`attributes` restricted to ``config.attributes`` (all when that is
        empty or shares none with this task)."""
        chosen = tuple(a for a in self.attributes if a in ctx.config.attributes)
        return chosen or self.attributes

    def prepare(self, ctx: QuestionContext) -> None:  # noqa: B027 - optional hook
        """Optional: precompute over the whole split before drafting (numba kernels)."""

    @abstractmethod
    def drafts(
        self, ctx: QuestionContext, users: np.ndarray, rng: np.random.Generator
    ) -> Iterator[Draft]:
        """Yield drafts for (a prefix of) ``users`` in order; skip users that do not fit.

        The generator stops consuming once it has enough questions, so expensive
        work should be vectorised over ``users`` up front or done lazily per user.
        Must be deterministic given ``rng``.
        """
