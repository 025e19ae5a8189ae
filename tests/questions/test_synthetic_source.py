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
