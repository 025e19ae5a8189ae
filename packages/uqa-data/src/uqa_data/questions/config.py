"""`QuestionConfig`: how many questions of which sub-tasks, in which language, from which seed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from uqa_data.errors import UnknownNameError, UqaInputError
from uqa_data.presets import config_from_preset
from uqa_data.registry import get_component, unknown_name_message
from uqa_data.settings import check_at_least, check_choice

LANGS: tuple[str, ...] = ("en", "zh")
FORMATS: tuple[str, ...] = ("arrow", "official")
DISTRACTOR_POLICIES: tuple[str, ...] = ("population", "own-history")
"""See :data:`uqa_data.questions.balance.POLICIES` (same names, fallback order)."""

PRESETS: dict[str, dict[str, Any]] = {
    # tests: seconds
    "tiny": {"eval_per_task": 8, "align_per_task": 24},
    "small": {"eval_per_task": 40, "align_per_task": 120},
    # the CPU demo: 700 eval questions (a 135M LLM answers ~4-8 per second); 4,200
    # alignment questions, aligned once each (recipe a600-e1 in BENCHMARKS.md: more
    # distinct questions beat more epochs over fewer at the same cost; 800 per
    # sub-task gained nothing more in the headline run)
    "default": {"eval_per_task": 100, "align_per_task": 600},
    # paper scale: 7,192 evaluation questions in total, as in UQABench
    "full": {"eval_total": 7192, "align_per_task": 3000},
}
"""Preset name -> field overrides of :class:`QuestionConfig`."""


@dataclass(frozen=True)
class QuestionConfig:
    """Settings of :func:`uqa_data.questions.generate`.

    :param eval_per_task: evaluation questions per sub-task (from test users).
    :param align_per_task: alignment questions per sub-task (from training users).
    :param eval_total: if set, the evaluation total, split evenly over the
        sub-tasks (the first ones get the remainder); overrides ``eval_per_task``.
    :param tasks: sub-task names to generate; empty means every registered task.
    :param attributes: restrict attribute questions to these of category,
        brand, shop (empty: all); tasks without any of them keep their own.
    :param lang: template language, ``en`` or ``zh``.
    :param seed: seeds user sampling, template choice, distractors and shuffling.
    :param recent_window: clicks that count as "recent" for si and for each of
        the two windows of it (shrunk to half the history when shorter).
    :param max_position: df asks about one of the last ``max_position`` clicks.
    :param predict_last: ip/ap cut points: eval questions predict the last click;
        alignment questions predict one of the last ``align_cut_span`` clicks.
    :param align_cut_span: how many final clicks alignment prediction questions cut at.
    :param min_history: users with fewer clicks get no question.
    :param formats: ``arrow`` (always written) and optionally ``official``.
    :param distractors: how wrong options are drawn: ``population`` (other users'
        answers to the same kind of question) or ``own-history`` (values from the
        user's own history and re-orderings of the answer; harder). See
        :mod:`uqa_data.questions.balance`.
    """

    eval_per_task: int = 100
    align_per_task: int = 300
    eval_total: int | None = None
    tasks: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    lang: str = "en"
    seed: int = 0
    recent_window: int = 10
    max_position: int = 5
    align_cut_span: int = 3
    min_history: int = 4
    formats: tuple[str, ...] = ("arrow",)
    distractors: str = "population"
    preset: str = field(default="default", compare=False)

    @classmethod
    def from_preset(cls, name: str = "default", **overrides: Any) -> QuestionConfig:
        """The preset's settings with ``overrides`` applied (``None`` values are ignored)."""
        bases = {n: replace(cls(preset=n), **values) for n, values in PRESETS.items()}
        config = config_from_preset(cls, bases, name, overrides, what="question")
        if overrides.get("eval_per_task") is not None and overrides.get("eval_total") is None:
            config = replace(config, eval_total=None)  # a per-task count wins over a preset total
            config.validate()
        return config

    def validate(self) -> None:
        """Raise :class:`UqaInputError` naming the first bad field."""
        check_choice(self, "questions", "lang", LANGS, "language", "--lang")
        check_at_least(self, "questions", 0, "seed", "eval_per_task", "align_per_task",
                       "eval_total")
        check_at_least(self, "questions", 1, "max_position", "align_cut_span")
        check_at_least(self, "questions", 2, "recent_window", "min_history")
        for attr in self.attributes:
            if attr not in ("category", "brand", "shop"):
                raise UnknownNameError(unknown_name_message(
                    "attribute", attr, ["brand", "category", "shop"], flag="--attributes"))
        if self.distractors not in DISTRACTOR_POLICIES:
            raise UnknownNameError(unknown_name_message(
                "distractor policy", self.distractors, list(DISTRACTOR_POLICIES),
                flag="--distractors"))
        for name in self.tasks:  # a plugin's tasks too
            get_component("task", name, flag="--tasks")
        for fmt in self.formats:
            if fmt == "lm-eval":
                raise UqaInputError(
                    "format 'lm-eval' (--format): the lm-evaluation-harness tasks come from "
                    "`uqa questions --format lm-eval` once the questions exist; here: "
                    f"{' or '.join(FORMATS)}")
            if fmt not in FORMATS:
                raise UnknownNameError(
                    unknown_name_message("format", fmt, list(FORMATS), flag="--format")
                )

    def check_not_empty(self, flags: dict[str, str]) -> None:
        """Refuse settings that would write an empty question file over a run's own
        (``flags``: setting -> the flag that gave it)."""
        for name in ("eval_per_task", "align_per_task"):
            if getattr(self, name) == 0 and not (name == "eval_per_task" and self.eval_total):
                flag = flags.get(name, f"--set questions.{name}")
                raise UqaInputError(f"{flag} 0: expected an integer >= 1; it would write an "
                                    "empty question file")

    def counts(self, split: str, task_names: list[str]) -> dict[str, int]:
        """Questions per task for ``split`` (``train`` -> align, ``test`` -> eval)."""
        if split == "train":
            return {t: self.align_per_task for t in task_names}
        if self.eval_total is None:
            return {t: self.eval_per_task for t in task_names}
        base, extra = divmod(self.eval_total, max(len(task_names), 1))
        return {t: base + (1 if i < extra else 0) for i, t in enumerate(task_names)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (recorded in ``questions/generate.json`` and ``run.json``)."""
        d = asdict(self)
        d["tasks"] = list(self.tasks)
        d["formats"] = list(self.formats)
        d["attributes"] = list(self.attributes)
        return d
