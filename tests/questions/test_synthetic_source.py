"""On the project's synthetic source (uqa data synth + prepare, tiny): correctness and
agreement of li/si/it answers with the planted interests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_reference import check_set


@pytest.fixture(scope="module")
def synth_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from uqa_data.prepare import PrepareConfig, prepare
    from uqa_data.synth import synthesize

    root = tmp_path_factory.mktemp("synth")
    synthesize(root, preset="tiny", seed=0)
    prepare(root / "raw", root / "data", PrepareConfig.from_preset("tiny"))
    return root


def test_answers_match_reference_on_synthetic_source(synth_run: Path) -> None:
    from uqa_data.questions import QuestionConfig, generate

    config = QuestionConfig.from_preset("tiny", lang="zh", seed=4)
    summary = generate(synth_run / "data", synth_run / "questions", config)
    assert not summary["eval"]["short"] and not summary["align"]["short"]
    assert check_set(synth_run / "data", synth_run / "questions", config.recent_window) == 7 * 32


def test_interest_answers_agree_with_planted_truth(synth_run: Path) -> None:
    from uqa_data.questions import QuestionConfig, agreement, generate
    from uqa_data.synth.users import PHASE_DOMINANCE

    assert agreement.PHASE_DOMINANCE == PHASE_DOMINANCE
    config = QuestionConfig.from_preset(
        "tiny",
        tasks=("li", "si", "it"),
        attributes=("category",),
        eval_per_task=0,
        align_per_task=250,
    )
    generate(synth_run / "data", synth_run / "q_truth", config)
    rates = agreement.truth_agreement(
        synth_run / "data", synth_run / "raw" / "truth.arrow", synth_run / "q_truth" / "align.arrow"
    )
    assert rates["li_top1"]["strong"] >= 50 and rates["li_top1"]["rate"] >= 0.8
    assert rates["si"]["strong"] >= 100 and rates["si"]["rate"] >= 0.8
    assert rates["it"]["strong"] >= 100 and rates["it"]["rate"] >= 0.75


def _agreement_pick(options: list[str], sep: str) -> int:
    """A model of the options alone: the option sharing most (position, name) pairs,
    then most names, with the others. It finds an answer built as the centre of
    its distractors (near misses of the answer), whatever the user."""
    parts = [o.split(sep) for o in options]

    def score(i: int) -> tuple[int, int]:
        same_pos = sum(a == b for j, p in enumerate(parts) if j != i
                       for a, b in zip(parts[i], p, strict=False))
        names = sum(len(set(parts[i]) & set(p)) for j, p in enumerate(parts) if j != i)
        return same_pos, names

    return max(range(len(options)), key=score)


def test_list_and_path_options_do_not_point_at_the_answer(synth_run: Path) -> None:
    """Own-history distractors: no option-only rule beats chance by much on li, it and
    df's last-k lists: the answer is not the option that agrees most with the others."""
    import pyarrow.ipc as ipc
    from uqa_data.questions import QuestionConfig, generate

    config = QuestionConfig.from_preset("tiny", tasks=("li", "it", "df"), eval_per_task=0,
                                        align_per_task=300, seed=1, distractors="own-history")
    generate(synth_run / "data", synth_run / "q_leak", config)
    rows = ipc.open_file(synth_run / "q_leak" / "align.arrow").read_all().to_pylist()
    for task, sep in (("li", ", "), ("it", ", then "), ("df", "; ")):
        picked = [r for r in rows if r["task"] == task
                  and (task != "df" or r["template_id"].startswith("df_last_k"))]
        assert len(picked) >= (40 if task == "df" else 150), task
        hits = sum("ABCD"[_agreement_pick(r["options"], sep)] == r["answer"] for r in picked)
        assert hits / len(picked) <= 0.36, (task, hits / len(picked))
        if task == "it":  # all options share the answer's form
            for r in picked:
                stayed = [a == b for a, b in (o.split(sep) for o in r["options"])]
                assert len(set(stayed)) == 1, r["options"]
                names = {n for o in r["options"] for n in o.split(sep)}
                assert len(names) == (4 if stayed[0] else 3), r["options"]
        else:  # every option orders the same three names (li) or titles (df)
            for r in picked:
                assert len({frozenset(o.split(sep)) for o in r["options"]}) == 1, r["options"]
