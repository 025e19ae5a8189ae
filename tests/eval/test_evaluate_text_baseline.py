"""Text baselines: the history rendered in the prompt, LoRA instead of an adapter."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from uqa_align.testing import category_probe, tiny_llm
from uqa_align.train import AlignConfig, align
from uqa_data.io import read_table, write_table
from uqa_data.schemas import ITEMS, SEQUENCES
from uqa_eval.baselines import get_baseline
from uqa_eval.evaluate import EvalConfig, evaluate


def _data_dir(tmp_path, users):
    n = 6
    cols = {
        "item_id": list(range(1, n + 1)), "cate_id": [1, 2, 1, 2, 1, 2],
        "brand_id": [1] * n, "shop_id": [1] * n, "seller_id": [1] * n,
        "title": [f"item title {i}" for i in range(1, n + 1)],
        "cate_name": ["Shoes", "Phones"] * 3, "brand_name": ["Acme"] * n,
        "shop_name": ["North"] * n, "seller_name": ["S"] * n,
        "raw_item_id": list(range(1, n + 1)), "raw_cate_id": [1, 2] * 3,
        "raw_brand_id": [1] * n, "raw_shop_id": [1] * n, "raw_seller_id": [1] * n,
    }
    write_table(pa.table(cols, schema=ITEMS), tmp_path / "data" / "items.arrow")
    seqs = pa.table({"user_id": users, "item_ids": [[1, 2, 3, 4, 5]] * len(users),
                     "timestamps": [[1, 2, 3, 4, 5]] * len(users),
                     "train_len": [5] * len(users)}, schema=SEQUENCES)
    write_table(seqs, tmp_path / "data" / "train.arrow")
    return tmp_path / "data"


def test_text_baseline_renders_history_and_trains_lora(tmp_path):
    q, e = category_probe(6)
    qp = write_table(q, tmp_path / "q.arrow")
    ep = write_table(e, tmp_path / "e.arrow")
    data = _data_dir(tmp_path, q.column("user_id").to_pylist())
    base = get_baseline("text20")
    cfg = AlignConfig.from_preset("tiny", steps=2, **base.align_overrides())
    s = align(qp, None, data, tmp_path / "text", cfg, llm=tiny_llm())
    assert s["adapter_params"] == 0 and s["llm_trainable_params"] > 0
    out = evaluate(qp, None, tmp_path / "text", data, tmp_path / "t.arrow",
                   EvalConfig.from_preset("tiny", baseline="text20"), llm=tiny_llm())
    align(qp, ep, None, tmp_path / "emb", AlignConfig.from_preset("tiny", steps=1),
          llm=tiny_llm())
    soft = evaluate(qp, ep, tmp_path / "emb", None, tmp_path / "s.arrow",
                    EvalConfig.from_preset("tiny"), llm=tiny_llm())
    # history_len 5 -> 5 rendered clicks of ~20 tokens each, vs one soft token
    assert out["mean_input_tokens"] > soft["mean_input_tokens"] + 60
    t = read_table(tmp_path / "t.arrow")
    assert np.isfinite(np.array(t.column("option_scores").to_pylist())).all()
