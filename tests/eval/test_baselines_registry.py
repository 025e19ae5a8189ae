"""Baselines: registered through the hook, and the oracle's planted-truth vectors."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from uqa_data.errors import UnknownNameError, UqaInputError
from uqa_data.io import write_table
from uqa_data.registry import list_components
from uqa_eval.baselines import (
    Baseline,
    baseline_embeddings,
    get_baseline,
    oracle_vectors,
    write_baseline_embeddings,
)


def test_all_baselines_are_registered_by_uqa_eval():
    table = list_components("baseline")
    for name in ("none", "random", "shuffled", "oracle", "text20", "text50"):
        assert table[name].provider == "uqa-eval"
        assert isinstance(get_baseline(name), Baseline)
    with pytest.raises(UnknownNameError, match="did you mean 'shuffled'"):
        get_baseline("shufled")


def test_text_baselines_use_lora_and_a_rendered_history():
    t = get_baseline("text20").align_overrides()
    assert t == {"text_history": 20, "strategy": "lora"}
    assert get_baseline("none").needs_alignment is False


def _truth(tmp_path):
    table = pa.table({
        "user_id": pa.array([1, 2], pa.int64()),
        "interest_cate_ids": pa.array([[7, 3], [3]], pa.list_(pa.int64())),
        "interest_weights": pa.array([[0.75, 0.25], [1.0]], pa.list_(pa.float64())),
        "pref_brand_ids": pa.array([[70, 30], [31]], pa.list_(pa.int64())),
        "pref_shop_ids": pa.array([[700, 300], [301]], pa.list_(pa.int64())),
        "phase_cate_ids": pa.array([[3, 7], [3]], pa.list_(pa.int64())),
    })
    return write_table(table, tmp_path / "raw" / "truth.arrow")


def test_oracle_vector_holds_mixture_brands_shops_and_the_last_two_phases(tmp_path):
    users, vecs = oracle_vectors(_truth(tmp_path))
    # slots: categories 3, 7 | brands 30, 31, 70 | shops 300, 301, 700 (width 8);
    # blocks: long-term mixture | last phase | the phase before it
    assert users.tolist() == [1, 2]
    one = [0.25, 0.75, 0.25, 0, 0.75, 0.25, 0, 0.75,  # 75% cate 7 (brand 70, shop 700)
           0, 1, 0, 0, 1, 0, 0, 1,  # last phase: cate 7 with its brand and shop
           1, 0, 1, 0, 0, 1, 0, 0]  # the phase before: cate 3, brand 30, shop 300
    two = [1, 0, 0, 1, 0, 0, 1, 0] * 3  # one interest, one phase
    np.testing.assert_allclose(vecs, [one, two])


def test_oracle_informs_the_attribute_questions_it_carries():
    from uqa_eval.baselines import oracle_informs

    assert oracle_informs("li", "brand") and oracle_informs("it", "shop")
    assert oracle_informs("ap", "category") and oracle_informs("df", "category")
    assert not oracle_informs("mf", "category") and not oracle_informs("ip", "title")
    assert not oracle_informs("df", "title")


def test_oracle_embeddings_are_written_once_per_run(tmp_path):
    _truth(tmp_path)
    write_baseline_embeddings(tmp_path, get_baseline("oracle"))  # the run's embed-oracle stage
    path = baseline_embeddings(tmp_path, get_baseline("oracle"), "test")
    assert path is not None and path.is_file()
    with pytest.raises(UqaInputError, match="needs the planted truth"):
        baseline_embeddings(tmp_path / "elsewhere", get_baseline("oracle"), "test")
    with pytest.raises(UqaInputError, match="--untrained"):
        baseline_embeddings(tmp_path, get_baseline("random"), "train")


def test_finding_a_baseline_embeddings_file_writes_nothing(tmp_path):
    from uqa_data.layout import RunLayout

    _truth(tmp_path)
    oracle = get_baseline("oracle")
    with pytest.raises(UqaInputError, match="needs the planted truth"):
        baseline_embeddings(tmp_path, oracle, "train")
    assert not RunLayout(tmp_path).baseline("oracle").root.exists()
    assert write_baseline_embeddings(tmp_path, oracle)["users"] == 2
    assert baseline_embeddings(tmp_path, oracle, "train") == (
        RunLayout(tmp_path).baseline("oracle").own_embeddings)
    assert write_baseline_embeddings(tmp_path, get_baseline("random")) is None


def test_one_rule_says_which_adapter_a_baseline_answers_with(tmp_path):
    from uqa_data.io import write_json
    from uqa_data.layout import RunLayout
    from uqa_eval.baselines import baseline_adapter

    run = RunLayout(tmp_path)
    assert baseline_adapter(run, get_baseline("none")) is None  # not aligned yet: bare LLM
    write_json({"align": {}}, run.adapter / "config.json")
    assert baseline_adapter(run, get_baseline("none")) == run.adapter  # its prompt wording
    assert baseline_adapter(run, get_baseline("shuffled")) == run.adapter
    assert baseline_adapter(run, None) == run.adapter
    for name in ("random", "oracle", "text20"):
        assert baseline_adapter(run, get_baseline(name)) == run.baseline(name).adapter
    assert baseline_adapter(run.baseline("text20"), get_baseline("shuffled")) == run.adapter


def test_only_the_untrained_baseline_waits_on_the_untrained_export(tmp_path) -> None:
    """Adding ``random`` to a run's baselines must not change the other baselines'
    upstream (their fingerprints), or a resumed run aligns them again."""
    from uqa_align.train import AlignConfig
    from uqa_data.layout import UNTRAINED_STAGE, RunLayout
    from uqa_eval.baselines import get_baseline
    from uqa_eval.evaluate import EvalConfig
    from uqa_eval.stages import Wiring, baseline_stages

    w = Wiring(RunLayout(tmp_path / "run"), embeddings=lambda s: tmp_path / f"{s}.arrow",
               data=None)
    after = {}
    for name in ("random", "oracle", "shuffled", "none"):
        for stage in baseline_stages(w, get_baseline(name), AlignConfig(), EvalConfig(), {}):
            after[stage.name] = stage.after
    assert UNTRAINED_STAGE in after["align-random"]
    assert UNTRAINED_STAGE not in after["align-oracle"]
    assert not any(UNTRAINED_STAGE in a for s, a in after.items() if not s.endswith("random"))
