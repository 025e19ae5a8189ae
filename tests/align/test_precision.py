"""Precision of the frozen LLM: auto picks bf16 only for a frozen model wide enough to
gain from it on a device with native bf16; bf16 alignment and answering run and are
recorded."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from uqa_align import llm as llm_mod
from uqa_align.llm import resolve_precision
from uqa_align.train import AlignConfig, align
from uqa_data import precision as precision_mod
from uqa_data.errors import UqaInputError


def test_auto_is_bf16_only_for_a_wide_frozen_model_on_native_bf16(monkeypatch) -> None:
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    wide, narrow = llm_mod.BF16_MIN_HIDDEN, llm_mod.BF16_MIN_HIDDEN - 1
    monkeypatch.setattr(precision_mod, "bf16_native", lambda device: True)
    assert resolve_precision("auto", cpu, frozen=True, hidden=wide) == "bf16"
    assert resolve_precision("auto", cpu, frozen=True, hidden=narrow) == "fp32"
    assert resolve_precision("auto", cuda, frozen=True, hidden=narrow) == "bf16"
    assert resolve_precision("auto", cpu, frozen=False, hidden=wide) == "fp32"
    monkeypatch.setattr(precision_mod, "bf16_native", lambda device: False)
    assert resolve_precision("auto", cpu, frozen=True, hidden=wide) == "fp32"
    assert resolve_precision("bf16", cpu, frozen=True, hidden=narrow) == "bf16"
    assert resolve_precision("fp32", cpu, frozen=True, hidden=wide) == "fp32"
    with pytest.raises(UqaInputError, match="precision"):
        resolve_precision("fp16", cpu, frozen=True, hidden=wide)
    with pytest.raises(UqaInputError, match="--strategy lora"):
        AlignConfig.from_preset("tiny", precision="bf16", strategy="lora")
    with pytest.raises(UqaInputError, match="did you mean 'bf16'"):
        AlignConfig.from_preset("tiny", precision="bf61")


def test_bf16_by_name_on_a_cpu_without_it_warns(monkeypatch, caplog) -> None:
    """``bf16`` asked for by name where the CPU lacks bf16 instructions is kept (the user
    asked) but warned about: PyTorch then runs its products several times slower than fp32."""
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(precision_mod, "bf16_native", lambda device: False)
    with caplog.at_level("WARNING", logger="uqa_data.precision"):
        assert resolve_precision("bf16", cpu, frozen=True, hidden=576,
                                 what="alignment") == "bf16"
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().startswith(
        "alignment: precision bf16 on a CPU without bf16 instructions")
    caplog.clear()
    with caplog.at_level("WARNING", logger="uqa_data.precision"):
        resolve_precision("auto", cpu, frozen=True, hidden=576)
        resolve_precision("fp32", cpu, frozen=True, hidden=576)
        resolve_precision("bf16", cuda, frozen=True, hidden=576)
        monkeypatch.setattr(precision_mod, "bf16_native", lambda device: True)
        resolve_precision("bf16", cpu, frozen=True, hidden=576)
    assert caplog.records == []


def test_bf16_alignment_and_answering_run_and_are_recorded(tmp_path) -> None:
    from uqa_align.testing import tiny_llm, write_probe
    from uqa_eval.evaluate import EvalConfig, evaluate

    q, e = write_probe(tmp_path, 24, n_cats=4)
    llm = tiny_llm(init_std=0.5)
    s = align(q, e, None, tmp_path / "adapter",
              AlignConfig.from_preset("tiny", steps=6, precision="bf16"), llm=llm)
    assert next(llm.model.parameters()).dtype == torch.bfloat16
    assert np.isfinite(s["final_loss"])
    meta = json.loads((tmp_path / "adapter" / "config.json").read_text())
    assert meta["precision"] == "bf16" and meta["align"]["precision"] == "bf16"
    r = evaluate(q, e, tmp_path / "adapter", None, tmp_path / "p.arrow",
                 EvalConfig.from_preset("tiny", precision="bf16"), llm=llm)
    assert r["precision"] == "bf16" and 0 <= r["acc"] <= 1
    # the predictions say how they were answered, and so does their report's caption
    from uqa_eval.report import build_report
    from uqa_eval.report.render import report_table

    report = build_report(tmp_path / "p.arrow", q, {"run": "r"})
    assert report["meta"]["precision"] == "bf16"
    assert "precision: bf16" in report_table(report).caption


def test_the_shared_head_is_encoded_again_after_a_cast() -> None:
    """One LLM object aligned in fp32 and then in bf16 (recipe searches, studies) must not
    reuse the fp32 head's keys and values: attention needs one dtype."""
    import torch
    from uqa_align.llm import set_precision
    from uqa_align.soft_prompt import head_cache
    from uqa_align.testing import tiny_llm

    llm = tiny_llm()
    head = (1, 2, 3, 4)
    assert head_cache(llm.model, head, 2).layers[0].keys.dtype == torch.float32
    set_precision(llm, "bf16")
    assert head_cache(llm.model, head, 2).layers[0].keys.dtype == torch.bfloat16


def _rounded_products_reference(model: torch.nn.Module) -> None:
    """Round every linear layer's weight, input and output to bf16 through hooks: what a
    bf16 product with fp32 accumulation gives, written apart from ``set_precision``."""
    def rnd(t: torch.Tensor) -> torch.Tensor:
        return t.to(torch.bfloat16).float()

    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            m.weight = torch.nn.Parameter(rnd(m.weight.detach()), requires_grad=False)
            m.register_forward_pre_hook(lambda _m, args: (rnd(args[0]),))
            m.register_forward_hook(lambda _m, _args, out: rnd(out))


def test_bf16_mixed_rounds_the_products_and_nothing_else() -> None:
    """``bf16-mixed`` keeps the weights, the residual stream, norms and attention in fp32
    and multiplies in bf16; back to fp32 it computes exactly what it did before."""
    import copy

    from uqa_align.llm import numerics, set_precision
    from uqa_align.testing import tiny_llm

    llm = tiny_llm(hidden=64, init_std=0.5)
    ids = torch.randint(0, 1000, (3, 12), generator=torch.Generator().manual_seed(1))
    fp32 = llm.model(input_ids=ids).logits
    reference = copy.deepcopy(llm.model)
    _rounded_products_reference(reference)
    expected = reference(input_ids=ids).logits
    state = {k: v.clone() for k, v in llm.model.state_dict().items()}

    set_precision(llm, "bf16-mixed")
    assert numerics(llm.model) == "torch.float32+bf16-products"
    assert all(p.dtype == torch.float32 for p in llm.model.parameters())
    mixed = llm.model(input_ids=ids).logits
    assert mixed.dtype == torch.float32
    gap = (fp32 - expected).abs().mean()
    assert gap > 0  # the rounding shows, and it is the products' (up to where a kernel's
    # summation order tips a value to the next bf16 number)
    assert (mixed - expected).abs().mean() <= 0.2 * gap
    assert (mixed == expected).float().mean() > 0.5 > (fp32 == expected).float().mean()
    assert state.keys() == llm.model.state_dict().keys()  # no bf16 copies saved
    # gradients reach the inputs through the bf16 products
    emb = llm.model.get_input_embeddings()(ids).detach().requires_grad_()
    llm.model(inputs_embeds=emb).logits.sum().backward()
    assert emb.grad is not None and torch.isfinite(emb.grad).all() and emb.grad.abs().sum() > 0

    set_precision(llm, "fp32")
    assert numerics(llm.model) == "torch.float32"
    assert torch.equal(llm.model(input_ids=ids).logits, fp32)
    assert all(torch.equal(v, state[k]) for k, v in llm.model.state_dict().items())


def test_bf16_mixed_alignment_and_answering_run_and_are_recorded(tmp_path, monkeypatch,
                                                                 caplog) -> None:
    from uqa_align.testing import tiny_llm, write_probe
    from uqa_eval.evaluate import EvalConfig, evaluate

    q, e = write_probe(tmp_path, 24, n_cats=4)
    llm = tiny_llm(init_std=0.5)
    monkeypatch.setattr(precision_mod, "bf16_native", lambda device: False)
    with caplog.at_level("WARNING", logger="uqa_data.precision"):
        s = align(q, e, None, tmp_path / "adapter",
                  AlignConfig.from_preset("tiny", steps=6, precision="bf16-mixed"), llm=llm)
    assert [r.getMessage().split(" on a CPU")[0] for r in caplog.records] == [
        "alignment: precision bf16-mixed"]
    assert np.isfinite(s["final_loss"])
    meta = json.loads((tmp_path / "adapter" / "config.json").read_text())
    assert meta["precision"] == "bf16-mixed"
    r = evaluate(q, e, tmp_path / "adapter", None, tmp_path / "p.arrow",
                 EvalConfig.from_preset("tiny", precision="bf16-mixed"), llm=llm)
    assert r["precision"] == "bf16-mixed" and 0 <= r["acc"] <= 1
    with pytest.raises(UqaInputError, match=r"--precision bf16-mixed .* --strategy lora"):
        AlignConfig.from_preset("tiny", precision="bf16-mixed", strategy="lora")
