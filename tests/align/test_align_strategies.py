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


@pytest.mark.parametrize("strategy", ["lora", "full"])
def test_saved_alignment_reloads_to_the_same_scores(tmp_path, strategy):
    from uqa_align.aligned import load_aligned
    from uqa_align.soft_prompt import pack_right, target_logprobs
    from uqa_align.testing import tiny_llm

    q, e = write_probe(tmp_path, 8)
    trained = tiny_llm()
    align(q, e, None, tmp_path / "a", AlignConfig.from_preset(
        "tiny", steps=2, batch_size=4, strategy=strategy, llm_lr=0.05), llm=trained)
    reloaded = load_aligned(tmp_path / "a", llm=tiny_llm())
    assert reloaded.config.strategy == strategy
    p = reloaded.builder.encode("Which one?", ["phones", "milk", "books", "blue"], n_soft=1)
    batch = pack_right([p], [[42, 43, 44]], 2)
    soft = reloaded.adapter(torch.ones(1, 1, 8), torch.ones(1, 1, dtype=torch.bool))
    trained.model.eval()
    before = target_logprobs(trained.model, batch, soft)
    after = target_logprobs(reloaded.llm.model, batch, soft)
    fresh = target_logprobs(tiny_llm().model, batch, soft)
    assert torch.allclose(before, after, atol=1e-4)
    assert not torch.allclose(before, fresh, atol=1e-4)  # the LLM really changed


def test_fsdp_refuses_full_fine_tuning_before_anything_loads():
    import pytest
    from uqa_align.train import AlignConfig
    from uqa_data.errors import UqaInputError

    with pytest.raises(UqaInputError, match="'full' fine-tuning under FSDP is not supported"):
        AlignConfig(fsdp=True, strategy="full").validate()
    AlignConfig(fsdp=True, strategy="lora").validate()


def test_lora_wrapping_prints_no_deprecation_of_transformers(tiny, recwarn) -> None:
    """peft reads `is_gradient_checkpointing`, which transformers 5 deprecates: users of
    `--strategy lora` saw that warning on every run."""
    apply_strategy(tiny.model, "lora")
    assert not [w for w in recwarn if "is_gradient_checkpointing" in str(w.message)]
