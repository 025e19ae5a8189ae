"""Strategies train exactly what they say; the adapter strategy leaves the LLM bit-identical."""

from __future__ import annotations

import pytest
import torch
from uqa_align.strategies import apply_strategy, check_trainables
from uqa_align.testing import write_probe
from uqa_align.train import AlignConfig, align


def test_adapter_strategy_leaves_llm_weights_bit_identical(tiny, tmp_path):
    q, e = write_probe(tmp_path, 8)
    before = {k: v.clone() for k, v in tiny.model.state_dict().items()}
    s = align(q, e, None, tmp_path / "adapter", AlignConfig.from_preset("tiny", steps=3,
              batch_size=4, lr=0.05), llm=tiny)
    after = tiny.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert s["llm_trainable_params"] == 0 and s["adapter_params"] > 0
    assert (tmp_path / "adapter" / "adapter.safetensors").is_file()


def test_lora_trains_only_lora_parameters(tiny, tmp_path):
    q, e = write_probe(tmp_path, 8)
    base = {k: v.clone() for k, v in tiny.model.state_dict().items()}
    s = align(q, e, None, tmp_path / "adapter", AlignConfig.from_preset(
        "tiny", steps=2, batch_size=4, strategy="lora", llm_lr=0.05), llm=tiny)
    assert s["llm_trainable_params"] > 0
    merged = tiny.model.get_base_model().state_dict()
    for k, v in base.items():
        lora_name = k.replace(".weight", ".base_layer.weight")
        assert torch.equal(merged[lora_name] if lora_name in merged else merged[k], v)
    assert (tmp_path / "adapter" / "lora" / "lora.safetensors").is_file()


def test_check_trainables_catches_a_mismatch(tiny):
    from uqa_align.adapters.mean_linear import MeanLinear

    adapter = MeanLinear(4, tiny.hidden_size)
    model = apply_strategy(tiny.model, "full")
    with pytest.raises(AssertionError, match="strategy 'adapter' but LLM parameters train"):
        check_trainables(model, adapter, "adapter")
    assert check_trainables(model, adapter, "full")["llm_trainable_params"] > 0
    model = apply_strategy(model, "adapter")
    with pytest.raises(AssertionError, match="strategy 'full' but some LLM"):
        check_trainables(model, adapter, "full")


def test_text_history_with_adapter_strategy_is_rejected():
    from uqa_data.errors import UqaInputError

    with pytest.raises(UqaInputError, match="use --strategy lora"):
        AlignConfig.from_preset("tiny", text_history=20, strategy="adapter")
