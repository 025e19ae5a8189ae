"""A plugin adds a sub-task and extra templates through the hooks, without touching uqa-data."""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from uqa_data import hookimpl
from uqa_data.io import read_table
from uqa_data.questions.base import Draft, QuestionContext, QuestionTask, Template
from uqa_data.registry import ComponentSpec, get_plugin_manager, list_components, reset_registry


class LastShop(QuestionTask):
    """Test plugin task: the shop of the most recent click."""

    name = "ls"
    dimension = "sequence_understanding"
    description = "shop of the most recent click"

    def drafts(
        self, ctx: QuestionContext, users: np.ndarray, rng: np.random.Generator
    ) -> Iterator[Draft]:
        shops = ctx.sequences.attr_values(ctx.catalog, "shop")
        for u in users:
            n = ctx.length(int(u))
            if n < ctx.config.min_history:
                continue
            shop = int(shops[ctx.sequences.offsets[u] + n - 1])
            yield Draft(
                user=int(u),
                variant="last_shop",
                attribute="shop",
                answer=ctx.name("shop", shop),
                distractors=ctx.distractors("shop", shop, rng),
                history_len=n,
                params={"value": shop},
            )


def _plugin() -> types.SimpleNamespace:
    @hookimpl
    def uqa_register_tasks() -> list[ComponentSpec]:
        return [ComponentSpec(kind="task", name="ls", target=f"{__name__}:LastShop")]

    @hookimpl
    def uqa_register_templates() -> list[Template]:
        return [
            Template("ls", "last_shop", "ls_1", {"en": "Which shop did the user click last?"}),
            Template("si", "attr", "si_attr_plugin", {"en": "Lately the user loves which {attr}?"}),
        ]

    return types.SimpleNamespace(
        uqa_register_tasks=uqa_register_tasks, uqa_register_templates=uqa_register_templates
    )


@pytest.fixture
def with_plugin() -> Iterator[None]:
    reset_registry()
    get_plugin_manager().register(_plugin(), name="test-questions-plugin")
    yield
    reset_registry()


def test_plugin_task_and_template_are_generated(
    with_plugin: None, data_dir: Path, tmp_path: Path
) -> None:
    from uqa_data.questions import QuestionConfig, generate

    assert "ls" in list_components("task")
    summary = generate(
        data_dir, tmp_path, QuestionConfig.from_preset("tiny", eval_per_task=30, align_per_task=0)
    )
    assert summary["tasks"][-1] == "ls" and summary["eval"]["per_task"]["ls"] == 30
    rows = read_table(tmp_path / "eval.arrow").to_pylist()
    ls = [r for r in rows if r["task"] == "ls"]
    assert {r["question"] for r in ls} == {"Which shop did the user click last?"}
    si_templates = {r["template_id"] for r in rows if r["task"] == "si"}
    assert "si_attr_plugin" in si_templates and len(si_templates) >= 2


def test_missing_language_template_is_a_clear_error(
    with_plugin: None, data_dir: Path, tmp_path: Path
) -> None:
    from uqa_data.errors import UqaInputError
    from uqa_data.questions import QuestionConfig, generate

    config = QuestionConfig.from_preset("tiny", lang="zh", tasks=("ls",))
    with pytest.raises(UqaInputError, match=r"task 'ls' has no template .* language 'zh'"):
        generate(data_dir, tmp_path, config)


def test_builtins_register_through_the_hook() -> None:
    reset_registry()
    tasks = list_components("task")
    assert list(tasks)[:7] == ["df", "mf", "ip", "ap", "li", "si", "it"]
    builtin = ("df", "mf", "ip", "ap", "li", "si", "it")
    assert all(tasks[name].provider == "uqa-data" for name in builtin)
    assert all(tasks[name].plugin == "uqa_data.questions.builtins" for name in builtin)
    for spec in tasks.values():
        assert issubclass(spec.load(), QuestionTask)
