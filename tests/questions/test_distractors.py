"""Distractor policies: no option-only rule finds the answer, population distractors are
other users' answers, small groups fall back to own-history and say so."""

from __future__ import annotations

from pathlib import Path

import pyarrow.ipc as ipc
import pytest
from uqa_data.errors import UnknownNameError

from .reference import Reference
from .synthetic import make_data

TASKS = ("df", "mf", "ip", "ap", "li", "si", "it")


def _rows(path: Path) -> list[dict]:
    return ipc.open_file(str(path)).read_all().to_pylist()


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default preset's data (3,000 synthetic users), as `uqa run` makes it."""
    from uqa_data.prepare import PrepareConfig, prepare
    from uqa_data.synth import synthesize

    root = tmp_path_factory.mktemp("default")
    synthesize(root, preset="default", seed=0)
    prepare(root / "raw", root / "data", PrepareConfig.from_preset("default"))
    return root


@pytest.mark.parametrize("policy", ["population", "own-history"])
def test_option_only_rules_stay_near_chance_on_the_default_questions(
    default_run: Path, policy: str
) -> None:
    """Every rule that sees only the options (and the alignment answers) scores at most
    30% on every sub-task: most/least popular, longest/shortest, most agreeing."""
    from uqa_data.questions import QuestionConfig, generate
    from uqa_data.questions.option_rules import option_only_accuracy

    out = default_run / f"q-{policy}"
    summary = generate(default_run / "data", out,
                       QuestionConfig.from_preset("default", distractors=policy))
    align, evals = _rows(out / "align.arrow"), _rows(out / "eval.arrow")
    assert summary["eval"]["per_task"] == dict.fromkeys(TASKS, 100)
    assert summary["align"]["per_task"] == dict.fromkeys(TASKS, 600)
    for name, result in (("align", option_only_accuracy(align)),
                         ("eval", option_only_accuracy(evals, align))):
        assert set(result) == set(TASKS)
        for task, rules in result.items():
            assert "popular" in rules or name == "align"
            for rule, acc in rules.items():
                if rule != "n":
                    assert acc <= 0.30, (policy, name, task, rule, acc)
    policies = {r["distractor_policy"] for r in evals + align}
    assert policies == {policy}
    schema = ipc.open_file(str(out / "eval.arrow")).schema
    assert schema.metadata[b"uqa.distractors"] == policy.encode()


def test_rules_find_the_answer_when_options_point_at_it() -> None:
    """The rules are not blind: option sets built around the answer are caught."""
    from uqa_data.questions.option_rules import option_only_accuracy

    rows = [  # the answer is the longest and agrees most with the near misses
        {"task": "li", "answer": "B", "answer_text": "Toys, Books, Shoes",
         "options": ["Toys, Books, Hats", "Toys, Books, Shoes", "Toys, Bags, Shoes", "Cups"]},
        {"task": "li", "answer": "A", "answer_text": "Pens, Inks, Paper",
         "options": ["Pens, Inks, Paper", "Pens, Inks, Glue", "Pens, Tip, Paper", "Cars"]},
    ]
    reference = [{"task": "li", "answer_text": "Pens, Inks, Paper"},
                 {"task": "li", "answer_text": "Toys, Books, Shoes"}]
    result = option_only_accuracy(rows, reference)["li"]
    assert result["agreement"] == 1.0 and result["longest"] == 1.0 and result["popular"] == 1.0


def test_population_distractors_are_other_users_answers(default_run: Path) -> None:
    """Recomputed independently: each distractor of an ip/ap/li/si/it evaluation
    question is what another test user would answer to the same kind of question."""
    from uqa_data.questions import QuestionConfig, generate

    out = default_run / "q-check"
    config = QuestionConfig.from_preset("default", tasks=("ip", "ap", "li", "si", "it"),
                                        eval_per_task=40, align_per_task=40)
    generate(default_run / "data", out, config)
    ref = Reference(default_run / "data")
    answers: dict[tuple[str, str], dict[str, set[int]]] = {}
    for user, seq in ref.seqs["test"].items():
        for task in ("ip", "ap", "li", "si", "it"):
            for attribute in (("title",) if task == "ip" else ("category", "brand", "shop")):
                row = {"split": "test", "user_id": user, "task": task, "attribute": attribute,
                       "lang": "en", "params": "{}", "question": "",
                       "history_len": len(seq) - 1 if task in ("ip", "ap") else len(seq)}
                try:
                    text = ref.check(row, config.recent_window)
                except AssertionError:  # the question does not fit this user
                    continue
                answers.setdefault((task, attribute), {}).setdefault(text, set()).add(user)
    checked = 0
    for r in _rows(out / "eval.arrow"):
        assert r["distractor_policy"] == "population"
        for option in r["options"]:
            if option == r["answer_text"]:
                continue
            users = answers[(r["task"], r["attribute"])].get(option, set())
            assert users - {r["user_id"]}, (r["question_id"], option)
            checked += 1
    assert checked == 3 * 200


def test_small_groups_fall_back_to_own_history_and_say_so(tmp_path: Path) -> None:
    """Three test users cannot give four distinct answers: every evaluation question
    falls back, its row and the summary say so; alignment questions do not."""
    from uqa_data.questions import QuestionConfig, generate

    data = tmp_path / "data"
    make_data(data, seed=5, n_train=60, n_test=3)
    summary = generate(data, tmp_path / "q",
                       QuestionConfig.from_preset("tiny", tasks=("ap", "si"), eval_per_task=3))
    rows = _rows(tmp_path / "q" / "eval.arrow")
    assert rows and {r["distractor_policy"] for r in rows} == {"own-history"}
    fallback = summary["eval"]["distractors"]["fallback"]
    assert sum(fallback.values()) == len(rows)
    align = _rows(tmp_path / "q" / "align.arrow")
    assert {r["distractor_policy"] for r in align} == {"population"}
    assert not summary["align"]["distractors"]["fallback"]


def test_unknown_policy_lists_the_valid_ones() -> None:
    from uqa_data.questions import QuestionConfig

    with pytest.raises(UnknownNameError, match=r"--distractors.*own-history, population"):
        QuestionConfig.from_preset("tiny", distractors="popular")
