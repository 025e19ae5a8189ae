"""Answering reads a frozen LLM's prompt prefixes from one process-wide cache: the same
option scores as encoding every prompt whole, and a second evaluation reuses them."""

from __future__ import annotations

import numpy as np
import pyarrow.ipc as ipc
from uqa_align.testing import tiny_llm, write_probe
from uqa_align.train import AlignConfig, align
from uqa_eval.evaluate import EvalConfig, evaluate


def _scores(path) -> np.ndarray:
    return np.array(ipc.open_file(str(path)).read_all().column("option_scores").to_pylist())


def test_cached_prefixes_give_the_scores_of_whole_prompts(tmp_path) -> None:
    from uqa_align import prefix_cache

    q, e = write_probe(tmp_path, 24, n_cats=4)
    llm = tiny_llm(init_std=0.5)
    align(q, e, None, tmp_path / "adapter", AlignConfig.from_preset("tiny", steps=4), llm=llm)
    prefix_cache._SHARED.clear()
    whole = evaluate(q, e, tmp_path / "adapter", None, tmp_path / "whole.arrow",
                     EvalConfig.from_preset("tiny", prefix_cache_gb=0), llm=llm)
    assert not prefix_cache._SHARED  # nothing cached when switched off
    cached = evaluate(q, e, tmp_path / "adapter", None, tmp_path / "cached.arrow",
                      EvalConfig.from_preset("tiny"), llm=llm)
    (store,) = prefix_cache._SHARED.values()
    assert store and all(t.dtype.is_floating_point and t.element_size() == 4
                         for t in store.values())
    np.testing.assert_allclose(_scores(tmp_path / "cached.arrow"),
                               _scores(tmp_path / "whole.arrow"), atol=1e-4)
    assert cached["acc"] == whole["acc"]
    kept = {k: v.data_ptr() for k, v in store.items()}
    evaluate(q, e, tmp_path / "adapter", None, tmp_path / "shuffled.arrow",
             EvalConfig.from_preset("tiny", baseline="shuffled"), llm=llm)
    assert {k: v.data_ptr() for k, v in store.items()} == kept  # reused, not re-encoded


def test_the_none_baseline_reads_the_prefixes_the_run_stored(tmp_path) -> None:
    """``none`` (no user context) shares each prompt up to the marker with the soft-token
    prompt: it reads those cached prefixes, cut there, and scores as whole prompts do."""
    from uqa_align import prefix_cache

    q, e = write_probe(tmp_path, 24, n_cats=4)
    llm = tiny_llm(init_std=0.5)
    align(q, e, None, tmp_path / "adapter", AlignConfig.from_preset("tiny", steps=4), llm=llm)
    prefix_cache._SHARED.clear()
    whole = evaluate(q, None, tmp_path / "adapter", None, tmp_path / "whole.arrow",
                     EvalConfig.from_preset("tiny", baseline="none", prefix_cache_gb=0),
                     llm=llm)
    assert not prefix_cache._SHARED
    evaluate(q, e, tmp_path / "adapter", None, tmp_path / "run.arrow",
             EvalConfig.from_preset("tiny"), llm=llm)
    (store,) = prefix_cache._SHARED.values()
    kept = {k: v.data_ptr() for k, v in store.items()}
    cached = evaluate(q, None, tmp_path / "adapter", None, tmp_path / "none.arrow",
                      EvalConfig.from_preset("tiny", baseline="none"), llm=llm)
    assert {k: v.data_ptr() for k, v in store.items()} == kept  # read, none encoded again
    np.testing.assert_allclose(_scores(tmp_path / "none.arrow"),
                               _scores(tmp_path / "whole.arrow"), atol=1e-4)
    assert cached["acc"] == whole["acc"]
    # alone (nothing stored), it encodes the same prefixes and scores the same
    prefix_cache._SHARED.clear()
    evaluate(q, None, tmp_path / "adapter", None, tmp_path / "alone.arrow",
             EvalConfig.from_preset("tiny", baseline="none"), llm=llm)
    assert len(next(iter(prefix_cache._SHARED.values()))) == len(kept)
    np.testing.assert_allclose(_scores(tmp_path / "alone.arrow"),
                               _scores(tmp_path / "whole.arrow"), atol=1e-4)
