"""`generate`: questions/align.arrow from training users, questions/eval.arrow from test users."""

from __future__ import annotations

import json
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from uqa_data.errors import UqaInputError
from uqa_data.io import write_json, write_table
from uqa_data.progress import stage_progress
from uqa_data.questions.base import Draft, QuestionContext, QuestionTask, Template
from uqa_data.questions.config import QuestionConfig
from uqa_data.questions.distractors import Popularity
from uqa_data.questions.source import Catalog, Sequences
from uqa_data.questions.templates import ATTR_WORDS
from uqa_data.registry import (
    UqaPluginWarning,
    get_component,
    get_plugin_manager,
    list_components,
)

LETTERS = "ABCD"
SPLITS: tuple[tuple[str, str], ...] = (("train", "align"), ("test", "eval"))
"""(data split, question file stem): training users -> align, test users -> eval."""

QUESTION_SCHEMA = pa.schema(
    [
        ("question_id", pa.string()),
        ("user_id", pa.int64()),
        ("split", pa.string()),
        ("task", pa.string()),
        ("dimension", pa.string()),
        ("template_id", pa.string()),
        ("lang", pa.string()),
        ("question", pa.string()),
        ("options", pa.list_(pa.string())),
        ("answer", pa.string()),
        ("answer_text", pa.string()),
        ("history_len", pa.int64()),
        ("attribute", pa.string()),
        ("params", pa.string()),
    ]
)
"""Columns of questions/{align,eval}.arrow; ``attribute`` and ``params`` (JSON of the
facts that fix the answer) are extras beyond the design's minimum."""

MAX_PASSES = 64
"""Passes over all users (in a new random order each) before a task gives up short."""
MIN_CHUNK = 256
"""Fewest candidate users handed to a task's ``drafts`` at once."""


@dataclass(frozen=True)
class ResolvedTask:
    """A registered task: its name, class and templates."""

    name: str
    cls: type[QuestionTask]
    templates: tuple[Template, ...]


def registered_templates() -> list[Template]:
    """Every template from the ``uqa_register_templates`` hook; duplicate ids warn, first wins."""
    hook = getattr(get_plugin_manager().hook, "uqa_register_templates", None)
    out: dict[str, Template] = {}
    for group in hook() if hook is not None else []:
        for t in group or []:
            if not isinstance(t, Template):
                warnings.warn(
                    f"uqa: uqa_register_templates returned {type(t).__name__}, "
                    "not Template; skipped",
                    UqaPluginWarning,
                    stacklevel=2,
                )
                continue
            if t.template_id in out:
                warnings.warn(
                    f"uqa: template id '{t.template_id}' registered twice; keeping the first",
                    UqaPluginWarning,
                    stacklevel=2,
                )
                continue
            out[t.template_id] = t
    # pluggy calls the latest-registered plugin first; keep built-ins first for stable ids
    return sorted(out.values(), key=lambda t: (t.task, t.variant, t.template_id))


def resolve_tasks(names: tuple[str, ...] | list[str] = ()) -> list[ResolvedTask]:
    """The tasks to generate (all registered when ``names`` is empty), with their templates."""
    chosen = list(names) or list(list_components("task"))
    templates = registered_templates()
    out = []
    for name in chosen:
        spec = get_component("task", name, flag="--tasks")
        cls = spec.load()
        if not (isinstance(cls, type) and issubclass(cls, QuestionTask)):
            raise UqaInputError(
                f"task '{name}' ({spec.target}, from {spec.provider}) is not a "
                "uqa_data.questions.base.QuestionTask subclass"
            )
        out.append(ResolvedTask(name, cls, tuple(t for t in templates if t.task == name)))
    return out


def _task_rng(seed: int, split: str, task: str) -> np.random.Generator:
    return np.random.default_rng([seed, 1 if split == "test" else 0, zlib.crc32(task.encode())])


def _templates_by_key(task: ResolvedTask, lang: str) -> dict[tuple[str, str], list[Template]]:
    """(variant, attribute) -> suitable templates in ``lang``, filled on demand."""

    class _Table(dict):
        def __missing__(self, key: tuple[str, str]) -> list[Template]:
            variant, attribute = key
            fits = [t for t in task.templates if t.suits(variant, attribute, lang)]
            if not fits:
                raise UqaInputError(
                    f"task '{task.name}' has no template for variant '{variant}' "
                    f"(attribute '{attribute}') in language '{lang}'; register one "
                    "through the uqa_register_templates hook"
                )
            self[key] = fits
            return fits

    return _Table()


def _phrase(template: Template, draft: Draft, lang: str, memo: dict[Any, str]) -> str:
    """The stem of ``draft`` in ``template`` (memoised on template, attribute and fields)."""
    key = (template.template_id, draft.attribute, *sorted(draft.fields.items()))
    try:
        return memo[key]
    except KeyError:
        pass
    except TypeError:  # unhashable field values: format without the memo
        key = None
    words = ATTR_WORDS[lang].get(draft.attribute, (draft.attribute, draft.attribute))
    values = {"attr": words[0], "attrs": words[1], **draft.fields}
    try:
        text = template.text[lang].format(**values)
    except (KeyError, IndexError) as exc:
        raise UqaInputError(
            f"template '{template.template_id}' ({lang}) uses placeholder {exc} that "
            f"task '{template.task}' variant '{template.variant}' does not provide "
            f"(provided: {', '.join(sorted(values))})"
        ) from exc
    if key is not None:
        memo[key] = text
    return text


def draft_task(
    task: ResolvedTask, ctx: QuestionContext, n: int, rng: np.random.Generator
) -> list[Draft]:
    """Up to ``n`` distinct drafts, users drawn in seeded random order, pass after pass.

    A draft is dropped when it repeats an earlier one (same user, variant,
    attribute, history_len and params), has no answer, or has fewer than three
    distinct distractors different from the answer. A pass that adds nothing ends.
    """
    instance = task.cls()
    instance.prepare(ctx)
    drafts: list[Draft] = []
    seen: set[tuple[Any, ...]] = set()
    n_users = len(ctx.sequences)
    if n == 0 or n_users == 0:
        return drafts
    for _ in range(MAX_PASSES):
        before = len(drafts)
        order = rng.permutation(n_users)
        start = 0
        while start < n_users:
            # tasks vectorise over the users they are given: hand them a chunk
            # about twice what is still missing rather than every user
            size = max(MIN_CHUNK, 2 * (n - len(drafts)))
            chunk, start = order[start : start + size], start + size
            for d in instance.drafts(ctx, chunk, rng):
                key = (
                    d.user,
                    d.variant,
                    d.attribute,
                    d.history_len,
                    repr(sorted(d.params.items())),
                )
                if key in seen or not d.answer:
                    continue
                distractors = d.distractors() if callable(d.distractors) else d.distractors
                distinct = list(dict.fromkeys(x for x in distractors if x != d.answer))
                if len(distinct) < 3:
                    continue
                seen.add(key)
                d.distractors = distinct[:3]
                drafts.append(d)
                if len(drafts) == n:
                    return drafts
        if len(drafts) == before:
            break
    return drafts


def params_json(params: dict[str, Any]) -> str:
    """``json.dumps(params, sort_keys=True)``, with a fast path for int and int-list values."""
    parts = []
    for key in sorted(params):
        v = params[key]
        if not (type(key) is str and key.isascii() and key.isidentifier()):
            return json.dumps(params, sort_keys=True, ensure_ascii=False)
        if type(v) is int:
            parts.append(f'"{key}": {v}')
        elif type(v) is list and all(type(x) is int for x in v):
            parts.append(f'"{key}": [{", ".join(map(str, v))}]')
        else:
            return json.dumps(params, sort_keys=True, ensure_ascii=False)
    return "{" + ", ".join(parts) + "}"


_PERMUTATIONS_3 = ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))


def build_rows(
    task: ResolvedTask,
    drafts: list[Draft],
    ctx: QuestionContext,
    stem: str,
    rng: np.random.Generator,
) -> dict[str, list[Any]]:
    """Phrase, shuffle (answer letters balanced over the task) and lay out as columns."""
    n = len(drafts)
    letters = np.tile(np.arange(4), -(-n // 4))[:n][rng.permutation(n)].tolist()
    template_u = rng.random(n).tolist()
    shuffles = rng.integers(0, 6, size=n).tolist()
    lang = ctx.lang
    templates = _templates_by_key(task, lang)
    questions, template_ids, options_col, answers = [], [], [], []
    memo: dict[Any, str] = {}
    for i, d in enumerate(drafts):
        fits = templates[(d.variant, d.attribute)]
        template = fits[int(template_u[i] * len(fits))]
        a, b, c = _PERMUTATIONS_3[shuffles[i]]
        options = [d.distractors[a], d.distractors[b], d.distractors[c]]
        options.insert(letters[i], d.answer)
        options_col.append(options)
        answers.append(LETTERS[letters[i]])
        questions.append(_phrase(template, d, lang, memo))
        template_ids.append(template.template_id)
    users = np.asarray([d.user for d in drafts], dtype=np.int64)
    return {
        "question_id": [f"{stem}-{task.name}-{i:05d}" for i in range(n)],
        "user_id": ctx.sequences.user_ids[users].tolist(),
        "split": [ctx.sequences.split] * n,
        "task": [task.name] * n,
        "dimension": [task.cls.dimension] * n,
        "template_id": template_ids,
        "lang": [lang] * n,
        "question": questions,
        "options": options_col,
        "answer": answers,
        "answer_text": [d.answer for d in drafts],
        "history_len": [int(d.history_len) for d in drafts],
        "attribute": [d.attribute for d in drafts],
        "params": [params_json(d.params) for d in drafts],
    }


def generate_split(
    sequences: Sequences,
    catalog: Catalog,
    popularity: Popularity,
    tasks: list[ResolvedTask],
    config: QuestionConfig,
) -> tuple[pa.Table, dict[str, int]]:
    """All questions of one split as a table, plus the count per task."""
    stem = dict(SPLITS)[sequences.split]
    ctx = QuestionContext(sequences, catalog, popularity, config, config.lang)
    counts = config.counts(sequences.split, [t.name for t in tasks])
    columns: dict[str, list[Any]] = {f.name: [] for f in QUESTION_SCHEMA}
    per_task: dict[str, int] = {}
    with stage_progress(f"questions {stem}", total=sum(counts.values())) as bar:
        for task in tasks:
            rng = _task_rng(config.seed, sequences.split, task.name)
            drafts = draft_task(task, ctx, counts[task.name], rng)
            rows = build_rows(task, drafts, ctx, stem, rng)
            for k, v in rows.items():
                columns[k].extend(v)
            per_task[task.name] = len(drafts)
            bar.advance(counts[task.name], task=task.name)
    return pa.Table.from_pydict(columns, schema=QUESTION_SCHEMA), per_task


def generate(data_dir: Path, questions_dir: Path, config: QuestionConfig) -> dict[str, Any]:
    """Write ``questions/align.arrow`` and ``questions/eval.arrow`` (+ ``generate.json``).

    :param data_dir: holds ``items.arrow``, ``train.arrow``, ``test.arrow``.
    :param questions_dir: output folder.
    :returns: counts per split and task, the resolved config and timings.
    """
    data_dir, questions_dir = Path(data_dir), Path(questions_dir)
    config.validate()
    started = time.perf_counter()
    catalog = Catalog.load(data_dir / "items.arrow")
    seqs = {s: Sequences.load(data_dir / f"{s}.arrow", s, catalog.n_items) for s, _ in SPLITS}
    popularity = Popularity(catalog, seqs.values())
    tasks = resolve_tasks(config.tasks)
    summary: dict[str, Any] = {"config": config.to_dict(), "tasks": [t.name for t in tasks]}
    tables: dict[str, pa.Table] = {}
    for split, stem in SPLITS:
        table, per_task = generate_split(seqs[split], catalog, popularity, tasks, config)
        tables[stem] = table
        wanted = config.counts(split, [t.name for t in tasks])
        summary[stem] = {
            "path": str(questions_dir / f"{stem}.arrow"),
            "questions": table.num_rows,
            "per_task": per_task,
            "short": {t: wanted[t] - c for t, c in per_task.items() if c < wanted[t]},
        }
    for stem, table in tables.items():
        write_table(table, questions_dir / f"{stem}.arrow")
    if "official" in config.formats:
        from uqa_data.questions.official import write_official

        summary["official"] = {
            stem: str(write_official(table, questions_dir / "official" / f"{stem}.jsonl"))
            for stem, table in tables.items()
        }
    summary["seconds"] = round(time.perf_counter() - started, 3)
    write_json(summary, questions_dir / "generate.json")
    return summary
