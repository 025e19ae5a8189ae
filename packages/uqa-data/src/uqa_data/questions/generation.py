"""`generate`: questions/align.arrow from training users, questions/eval.arrow from test users."""

from __future__ import annotations

import json
import random
import time
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from uqa_data.errors import UqaInputError
from uqa_data.io import write_json, write_table
from uqa_data.progress import stage_progress
from uqa_data.questions.balance import (
    MIN_DISTINCT,
    GroupBalancer,
    Population,
    RuleCredits,
    own_sets,
)
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
from uqa_data.schemas import OPTION_LETTERS
from uqa_data.schemas import QUESTIONS as QUESTION_SCHEMA

SPLITS: tuple[tuple[str, str], ...] = (("train", "align"), ("test", "eval"))
"""(data split, question file stem): training users -> align, test users -> eval."""

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
    attribute, history_len and params) or has no answer. Distractors are not
    evaluated here (see :func:`assign_distractors`). A pass that adds nothing ends.
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
                seen.add(key)
                drafts.append(d)
                if len(drafts) == n:
                    return drafts
        if len(drafts) == before:
            break
    return drafts


def pool_size(n: int) -> int:
    """Candidate drafts per task: the kept ``n`` plus room for dropped ones and for
    the population that distractors are drawn from."""
    return 0 if n == 0 else max(3 * n, MIN_CHUNK)


def group_of(d: Draft) -> tuple[str, str]:
    """The population a draft's distractors come from: same variant and attribute."""
    return (d.variant, d.attribute)


def own_candidates(d: Draft, memo: dict[int, list[str]]) -> list[str]:
    """The task's own distractor candidates of ``d`` (evaluated once, in order)."""
    hit = memo.get(id(d))
    if hit is None:
        raw = d.distractors() if callable(d.distractors) else d.distractors
        hit = memo[id(d)] = [x for x in dict.fromkeys(raw) if x and x != d.answer]
    return hit


@dataclass
class Assigned:
    """A kept draft, its three distractors, the policy that drew them and whether it
    was kept within the rules' balance (False: kept when the pool ran out)."""

    draft: Draft
    distractors: list[str]
    policy: str
    balanced: bool = True


def assign_distractors(
    drafts: list[Draft],
    n: int,
    policy: str,
    rules: RuleCredits,
    rnd: random.Random,
    memo: dict[int, list[str]],
    *,
    population_ok: bool = True,
    seed: int = 0,
) -> list[Assigned]:
    """Up to ``n`` drafts with three distractors each, in the order they were kept.

    ``population`` draws them from the answers of other users' drafts of the same
    group (falling back to ``own-history`` when the group has fewer than four
    distinct answers, or the task does not allow it: ``population_ok``);
    ``own-history`` takes the task's candidates in order. Either way each group
    keeps the option-only rules' credit at a quarter (``rules``; see
    :mod:`uqa_data.questions.balance`). ``memo`` caches each draft's own candidates.
    """
    populations: dict[tuple[str, str], Population] = {}
    if policy == "population" and population_ok:
        answers: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for d in drafts:
            answers.setdefault(group_of(d), []).append((d.user, d.answer))
        populations = {g: Population(pairs, rules.counts, seed) for g, pairs in answers.items()
                       if len(dict.fromkeys(t for _, t in pairs)) >= MIN_DISTINCT}
    balancers: dict[tuple[str, str], GroupBalancer] = {}
    kept: list[Assigned] = []
    for d in drafts:
        group = group_of(d)
        population = populations.get(group)
        balancer = balancers.setdefault(group, GroupBalancer(rules))
        if population is not None:
            sets = population.sets(d.user, d.answer, rnd, d.also_right)
            which = "population"
        else:
            sets = own_sets(own_candidates(d, memo))
            which = "own-history"
        for item, picked in balancer.offer(d, d.answer, sets):
            kept.append(Assigned(item, picked, which))
            if len(kept) == n:
                return kept
    for group, balancer in balancers.items():  # the pool ran out: keep what waits
        which = "population" if group in populations else "own-history"
        for item, picked in balancer.leftovers():
            if len(kept) == n:
                return kept
            kept.append(Assigned(item, picked, which, balanced=False))
    return kept


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
        answers.append(OPTION_LETTERS[letters[i]])
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


def generate(data_dir: Path, questions_dir: Path, config: QuestionConfig) -> dict[str, Any]:
    """Write ``questions/align.arrow`` and ``questions/eval.arrow`` (+ ``generate.json``).

    Two passes: every task drafts a pool of candidate questions (answers only)
    for both splits; then each split's drafts get their distractors, balanced by
    how often each text is an answer in the other split (see
    :func:`assign_distractors`), and the first ones that fit are kept.

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
    names = [t.name for t in tasks]
    summary: dict[str, Any] = {"config": config.to_dict(), "tasks": names}
    ctxs = {s: QuestionContext(seqs[s], catalog, popularity, config, config.lang)
            for s, _ in SPLITS}
    wanted = {s: config.counts(s, names) for s, _ in SPLITS}
    pools: dict[tuple[str, str], tuple[np.random.Generator, list[Draft]]] = {}
    total = sum(sum(w.values()) for w in wanted.values())
    with stage_progress("questions", total=2 * total) as bar:
        for split, _ in SPLITS:
            for task in tasks:
                rng = _task_rng(config.seed, split, task.name)
                n = wanted[split][task.name]
                pools[(split, task.name)] = (rng, draft_task(task, ctxs[split], pool_size(n), rng))
                bar.advance(n, task=task.name)
        # Popularity: how often a text is the task's answer in the alignment set (what
        # a model trained on it could learn): estimated from the alignment candidates
        # for alignment questions (own-history distractors are rarely anyone's answer,
        # so there a question's own answer is left out), then exactly from the kept
        # ones for evaluation questions.
        memo: dict[int, list[str]] = {}
        assigned: dict[tuple[str, str], list[Assigned]] = {}
        for task in tasks:
            rules = RuleCredits(Counter(d.answer for d in pools[("train", task.name)][1]),
                                own=config.distractors == "own-history")
            for split, _ in SPLITS:
                key = (split, task.name)
                rnd = random.Random(zlib.crc32(f"{config.seed}:{split}:{task.name}".encode()))
                assigned[key] = assign_distractors(
                    pools[key][1], wanted[split][task.name], config.distractors,
                    rules, rnd, memo, population_ok=task.cls.population_distractors,
                    seed=config.seed)
                rules = RuleCredits(Counter(a.draft.answer for a in assigned[key]))
        tables: dict[str, pa.Table] = {}
        for split, stem in SPLITS:
            columns: dict[str, list[Any]] = {f.name: [] for f in QUESTION_SCHEMA}
            per_task: dict[str, int] = {}
            fallback: dict[str, int] = {}
            unbalanced: dict[str, int] = {}
            for task in tasks:
                rng, _ = pools[(split, task.name)]
                kept = assigned[(split, task.name)]
                drafts = []
                for a in kept:
                    a.draft.distractors = a.distractors
                    drafts.append(a.draft)
                rows = build_rows(task, drafts, ctxs[split], stem, rng)
                rows["distractor_policy"] = [a.policy for a in kept]
                for k, v in rows.items():
                    columns[k].extend(v)
                per_task[task.name] = len(kept)
                n_fallback = sum(a.policy != config.distractors for a in kept)
                if n_fallback:
                    fallback[task.name] = n_fallback
                n_unbalanced = sum(not a.balanced for a in kept)
                if n_unbalanced:
                    unbalanced[task.name] = n_unbalanced
                bar.advance(wanted[split][task.name], task=task.name)
            schema = QUESTION_SCHEMA.with_metadata({"uqa.distractors": config.distractors})
            tables[stem] = pa.Table.from_pydict(columns, schema=schema)
            summary[stem] = {
                "path": str(questions_dir / f"{stem}.arrow"),
                "questions": tables[stem].num_rows,
                "per_task": per_task,
                "short": {t: wanted[split][t] - c for t, c in per_task.items()
                          if c < wanted[split][t]},
                "distractors": {"policy": config.distractors, "fallback": fallback,
                                "unbalanced": unbalanced},
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
