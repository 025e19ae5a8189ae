"""evaluate(): the predictions file, acc vs acc_norm, baselines through the same path, bad input."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from uqa_align.testing import category_probe, embeddings_table, tiny_llm
from uqa_align.train import AlignConfig, align
from uqa_data.errors import UqaInputError
from uqa_data.io import read_table, write_table
from uqa_eval.evaluate import EvalConfig, evaluate


@pytest.fixture(scope="module")
def aligned(tmp_path_factory):
    d = tmp_path_factory.mktemp("aligned")
    q, e = category_probe(12)
    qp, ep = write_table(q, d / "q.arrow"), write_table(e, d / "e.arrow")
    align(qp, ep, None, d / "adapter", AlignConfig.from_preset("tiny", steps=2), llm=tiny_llm())
    return d, qp, ep


def test_predictions_file_columns_and_metrics(aligned):
    d, qp, ep = aligned
    s = evaluate(qp, ep, d / "adapter", None, d / "pred.arrow", EvalConfig.from_preset("tiny"),
                 llm=tiny_llm())
    t = read_table(d / "pred.arrow")
    assert t.column_names[:8] == ["question_id", "prediction", "prediction_norm", "correct",
                                  "correct_norm", "option_scores", "option_chars", "input_tokens"]
    assert t.schema.field("option_scores").type == pa.list_(pa.float64())
    q = read_table(qp)
    assert t.column("question_id").to_pylist() == q.column("question_id").to_pylist()
    for row, opts, gold in zip(t.to_pylist(), q.column("options").to_pylist(),
                               q.column("answer").to_pylist(), strict=True):
        scores = np.array(row["option_scores"])
        assert row["option_chars"] == [len(o) for o in opts]
        assert row["prediction"] == "ABCD"[int(np.argmax(scores))]
        assert row["prediction_norm"] == "ABCD"[int(np.argmax(scores / row["option_chars"]))]
        assert row["correct"] == (row["prediction"] == gold)
    assert s["acc"] == pytest.approx(np.mean(t.column("correct").to_pylist()))
    assert s["mean_input_tokens"] > 0
    from uqa_eval.report.aggregate import predictions_facts

    # the file says how it was answered (what run.json may not, after a stage command)
    assert predictions_facts(d / "pred.arrow") == {"mode": "loglik", "llm": "smollm2",
                                                   "precision": s["precision"]}
    assert s["precision"] in ("fp32", "bf16")


def test_shuffled_baseline_permutes_the_soft_tokens(aligned):
    d, qp, ep = aligned
    real = read_table_after(evaluate, qp, ep, d, None)
    shuf = read_table_after(evaluate, qp, ep, d, "shuffled")
    assert not np.allclose(real, shuf)  # other users' embeddings -> other scores
    none = read_table_after(evaluate, qp, ep, d, "none")
    assert none.shape == real.shape


def read_table_after(fn, qp, ep, d, baseline):
    out = d / f"pred-{baseline}.arrow"
    fn(qp, ep, d / "adapter", None, out, EvalConfig.from_preset("tiny", baseline=baseline),
       llm=tiny_llm())
    return np.array(read_table(out).column("option_scores").to_pylist())


def test_missing_users_and_wrong_width_are_clear_errors(aligned, tmp_path):
    d, qp, ep = aligned
    q = read_table(qp)
    users = q.column("user_id").to_numpy()
    few = write_table(embeddings_table(users[:3], np.zeros((3, 8))), tmp_path / "few.arrow")
    with pytest.raises(UqaInputError, match=r"9 of 12 question users have no embedding"):
        evaluate(qp, few, d / "adapter", None, tmp_path / "p.arrow",
                 EvalConfig.from_preset("tiny"), llm=tiny_llm())
    wide = write_table(embeddings_table(users, np.zeros((len(users), 5, 16))), tmp_path / "w.arrow")
    with pytest.raises(UqaInputError, match="embedding width 16 does not match the adapter"):
        evaluate(qp, wide, d / "adapter", None, tmp_path / "p.arrow",
                 EvalConfig.from_preset("tiny"), llm=tiny_llm())
    with pytest.raises(UqaInputError, match="aligned for answering mode 'loglik', not 'letters'"):
        evaluate(qp, ep, d / "adapter", None, tmp_path / "p.arrow",
                 EvalConfig.from_preset("tiny", mode="letters"), llm=tiny_llm())


def test_answer_letter_outside_options(tmp_path):
    q, _ = category_probe(3)
    bad = q.set_column(q.column_names.index("answer"), "answer", pa.array(["A", "F", "B"]))
    path = write_table(bad, tmp_path / "bad.arrow")
    with pytest.raises(UqaInputError, match=r"bad\.arrow: row 1 .*answer 'F' is not one of"):
        evaluate(path, None, None, None, tmp_path / "p.arrow",
                 EvalConfig.from_preset("tiny", baseline="none"), llm=tiny_llm())


def test_soft_tokens_are_computed_once_per_user_and_history():
    import torch
    from uqa_align.adapters import build_adapter
    from uqa_align.user_embeddings import UserEmbeddings
    from uqa_eval.evaluate import SoftTokenCache

    users = UserEmbeddings.from_vectors([1, 2, 3], np.eye(3, dtype=np.float32), path=None)
    adapter = build_adapter("mean_linear", 3, 8)
    seen: list[int] = []
    adapter.register_forward_hook(lambda m, args, out: seen.append(args[0].shape[0]))
    cache = SoftTokenCache(adapter, users, torch.device("cpu"), max_entries=2)
    a = cache(np.array([1, 2, 1]), np.array([5, 5, 5]))
    b = cache(np.array([2, 1]), np.array([5, 5]))
    assert seen == [2]  # users 1 and 2 once, then all from the cache
    assert torch.equal(a[0], a[2]) and torch.equal(b[0], a[1])
    cache(np.array([3]), np.array([5]))
    assert len(cache.cache) == 2 and (2, 5) not in cache.cache  # least recently used out
