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
