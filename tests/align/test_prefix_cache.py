"""The frozen-LLM prefix cache: the same loss and gradient as the full sequence on a first
visit, bf16 prefixes on later visits whether stored or recomputed (resume-safe), and
training through it with epochs."""

from __future__ import annotations

import itertools
import json

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from uqa_align.prefix_cache import PrefixCache, cached_target_logprobs, length_groups
from uqa_align.prompt import EncodedPrompt, PromptBuilder, PromptStyle
from uqa_align.soft_prompt import pack_right, shared_head, target_logprobs

QUESTIONS = [
    ("Which category will the user click next?", ["phones", "milk", "tea", "socks"]),
    ("Which brand lately, in one word?", ["Acme", "Zeta", "Nova", "Orbit"]),
    ("What are the user's 3 favourite shops, in order?", ["A, B, C", "B, A, C", "C, B, A", "x"]),
]
TARGETS = [[42, 43], [44], [45, 46, 47]]


def _setup(tiny, cap: int):
    b = PromptBuilder(tiny.tokenizer, PromptStyle(position="after"))
    full = [b.encode(q, o, n_soft=1) for q, o in QUESTIONS]
    h = shared_head(full)
    head = tuple(full[0].before[:h])
    rest = [EncodedPrompt(p.before[h:], p.n_soft, p.after) for p in full]
    return full, head, rest, PrefixCache(tiny.model, head, rest, cap)


def _soft(n: int, hidden: int) -> torch.Tensor:
    return torch.randn(n, 1, hidden, generator=torch.Generator().manual_seed(1),
                       requires_grad=True)


def test_first_visit_matches_the_full_sequence_loss_and_gradient(tiny) -> None:
    full, _, _, cache = _setup(tiny, 1 << 30)
    text = tiny.tokenizer.decode(full[0].before)
    assert "D. socks" in text and text.endswith("User history:")  # context after the options
    idx = [2, 0, 1]
    soft_a, soft_b = _soft(3, tiny.hidden_size), _soft(3, tiny.hidden_size)
    cached = cached_target_logprobs(tiny.model, cache, idx, [True] * 3,
                                    [TARGETS[i] for i in idx], soft_a, 2)
    whole = target_logprobs(tiny.model, pack_right([full[i] for i in idx],
                                                   [TARGETS[i] for i in idx], 2), soft_b)
    assert torch.allclose(cached, whole, atol=1e-5)
    cached.sum().backward()
    whole.sum().backward()
    assert torch.allclose(soft_a.grad, soft_b.grad, atol=1e-5)
    assert set(cache.stored) == {cache.key(i) for i in range(3)} and len(cache.stored) == 3
    assert all(v.dtype == torch.bfloat16 for v in cache.stored.values())


def test_later_visits_use_bf16_prefixes_stored_or_not(tiny) -> None:
    """A run whose cache is full (or that resumed and never stored the prefix) computes
    exactly what a run reading the stored copy computes."""
    _, _, _, stored = _setup(tiny, 1 << 30)
    _, _, _, none = _setup(tiny, 0)
    soft = _soft(3, tiny.hidden_size).detach()
    idx = [0, 1, 2]
    targets = [TARGETS[i] for i in idx]
    first = cached_target_logprobs(tiny.model, stored, idx, [True] * 3, targets, soft, 2)
    again = cached_target_logprobs(tiny.model, stored, idx, [False] * 3, targets, soft, 2)
    recomputed = cached_target_logprobs(tiny.model, none, idx, [False] * 3, targets, soft, 2)
    assert torch.equal(again, recomputed)
    assert none.recomputed == 3 and not none.stored and none.full
    assert torch.allclose(first, again, atol=5e-2)  # bf16 keys/values: close, not equal


def test_epochs_set_the_steps_and_train_through_the_cache(tmp_path) -> None:
    from uqa_align.testing import tiny_llm, write_probe
    from uqa_align.train import AlignConfig, AlignRecipe

    q, e = write_probe(tmp_path, 24, n_cats=4)
    config = AlignConfig.from_preset("tiny", epochs=2, batch_size=8, lr=0.02)
    recipe = AlignRecipe(config, tmp_path / "adapter")
    recipe.setup(q, e, None, llm=tiny_llm(init_std=0.5))
    assert recipe.config.steps == 6 and recipe.prefix_cache is not None
    recipe.train()
    distinct = {recipe.prefix_cache.key(i) for i in range(24)}  # identical prompts share
    assert set(recipe.prefix_cache.stored) == distinct and recipe.prefix_cache.recomputed == 0
    assert np.isfinite(recipe.losses).all() and len(recipe.losses) == 6


def test_metrics_say_how_much_of_the_cache_was_kept(tmp_path, caplog) -> None:
    """A cap too small for every prefix: the second epoch re-encodes the rest, the
    adapter's metrics.json and the stage summary count those visits, and a warning says
    which setting to raise; with room for all, nothing is re-encoded."""
    from uqa_align.testing import tiny_llm, write_probe
    from uqa_align.train import AlignConfig, align

    q, e = write_probe(tmp_path, 24, n_cats=4)
    llm = tiny_llm(init_std=0.5)
    stats = {}
    for gb in (2e-6, 1.0):  # 2e-6 GiB (~2 KiB) holds no tiny prefix; 1 GiB holds all
        config = AlignConfig.from_preset("tiny", epochs=2, batch_size=8, lr=0.02,
                                         prefix_cache_gb=gb)
        with caplog.at_level("WARNING", logger="uqa_align.train"):
            caplog.clear()
            summary = align(q, e, None, tmp_path / f"a{gb}", config, llm=llm)
            warned = "align.prefix_cache_gb" in caplog.text
        saved = json.loads((tmp_path / f"a{gb}" / "metrics.json").read_text())
        assert saved["prefix_cache"] == summary["prefix_cache"]
        stats[gb] = (summary["prefix_cache"], warned)
    small, warned_small = stats[2e-6]
    import pyarrow.feather as feather

    prompts = {tuple(o) for o in feather.read_table(q).column("options").to_pylist()}
    assert 1 < len(prompts) < 24  # every visit but each prompt's first re-encodes
    assert small["stored_questions"] == 0 and small["reencoded_visits"] == 48 - len(prompts)
    assert small["cap_gib"] == 2e-6 and warned_small
    big, warned_big = stats[1.0]
    assert big["reencoded_visits"] == 0 and big["stored_questions"] > 0 and not warned_big
    assert 0 < big["stored_gib"] <= 1.0


def test_option_scores_from_the_cache_match_the_full_prompts(tiny) -> None:
    """Answering and the options loss read the same scores from a cached prefix."""
    from uqa_align.soft_prompt import option_logprobs

    b = PromptBuilder(tiny.tokenizer, PromptStyle(position="after"))
    full = [b.encode(q, o, n_soft=1) for q, o in QUESTIONS]
    h = shared_head(full)
    rest = [EncodedPrompt(p.before[h:], p.n_soft, p.after, p.continuations) for p in full]
    soft = _soft(3, tiny.hidden_size).detach()
    with torch.no_grad():
        whole = option_logprobs(tiny.model, full, soft, 2)
        for exact in (True, False):
            cache = PrefixCache(tiny.model, tuple(full[0].before[:h]), rest, 1 << 30,
                                exact=exact)
            for first in (True, False):  # exact: float32 every visit; else bf16 later
                got = option_logprobs(tiny.model, rest, soft, 2,
                                      cached=(cache, [0, 1, 2], [first] * 3))
                tol = 1e-5 if exact or first else 5e-2
                for w, g in zip(whole, got, strict=True):
                    assert torch.allclose(w, g, atol=tol), (exact, first, w, g)
            assert len(cache.stored) == 3
            shared = PrefixCache(tiny.model, cache.head, rest, 1 << 30, exact=exact,
                                 store=cache.stored)
            assert shared.bytes == cache.bytes and shared.stored is cache.stored


def test_encoding_prefixes_ahead_trains_exactly_as_step_by_step(tmp_path, monkeypatch) -> None:
    from uqa_align import train
    from uqa_align.testing import tiny_llm, write_probe
    from uqa_align.train import AlignConfig, AlignRecipe

    q, e = write_probe(tmp_path, 40, n_cats=4)
    losses = []
    # one thread (as under pytest -n): with more, a float32 product's rounding follows
    # how many rows its batch has, and twenty steps carry that to ~1e-4 in the loss
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for ahead in (True, False):  # batched ahead, and step by step
            if not ahead:
                monkeypatch.setattr(PrefixCache, "encode_ahead",
                                    lambda self, idx, chunk=32: None)
            recipe = AlignRecipe(
                AlignConfig.from_preset("tiny", epochs=2, batch_size=4, lr=0.02),
                tmp_path / f"a{ahead}")
            recipe.setup(q, e, None, llm=tiny_llm(init_std=0.5))
            recipe.train()
            assert not recipe.prefix_cache.ahead  # every prefix encoded ahead was used
            losses.append(recipe.losses)
    finally:
        torch.set_num_threads(threads)
    assert train.AHEAD > 1
    np.testing.assert_allclose(losses[0], losses[1], atol=1e-5)


def test_default_preset_trains_two_epochs_unless_steps_are_given() -> None:
    from uqa_align.train import AlignConfig

    assert AlignConfig.from_preset("default").epochs == 2
    given = AlignConfig.from_preset("default", steps=40)
    assert (given.steps, given.epochs) == (40, None)
    both = AlignConfig.from_preset("default", steps=40, epochs=3)
    assert both.epochs == 3


def test_grouped_suffixes_match_one_batch(tiny) -> None:
    """Suffixes run in groups of similar length give one batch's values and gradients,
    in the order of the questions."""
    _, _, _, grouped = _setup(tiny, 1 << 30)
    _, _, _, single = _setup(tiny, 1 << 30)
    idx = [2, 0, 1]
    targets = [[45, 46, 47, 48, 49, 50, 51, 52], [42], [44, 43]]
    soft_a, soft_b = _soft(3, tiny.hidden_size), _soft(3, tiny.hidden_size)
    a = cached_target_logprobs(tiny.model, grouped, idx, [True] * 3, targets, soft_a, 2,
                               call_tokens=0)
    b = cached_target_logprobs(tiny.model, single, idx, [True] * 3, targets, soft_b, 2,
                               call_tokens=None)
    widths = [1 + len(grouped.prompts[i].after) + len(t) for i, t in zip(idx, targets, strict=True)]
    assert len(length_groups(widths, 0)) > 1  # really grouped
    assert a.shape == (11,) and torch.allclose(a, b, atol=1e-5)
    a.sum().backward()
    b.sum().backward()
    assert torch.allclose(soft_a.grad, soft_b.grad, atol=1e-5)


def _padded_cost(lengths, groups, call_tokens):
    return sum(len(g) * max(lengths[i] for i in g) + call_tokens for g in groups)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=7), st.integers(0, 50),
       st.one_of(st.none(), st.integers(20, 120)))
def test_length_groups_is_an_optimal_partition(lengths, call_tokens, budget) -> None:
    """Every position once; within the budget (a lone row may exceed it); and no
    partition into runs of the sorted lengths within the budget costs less."""
    groups = length_groups(lengths, call_tokens, budget)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for g in groups:
        assert len(g) == 1 or budget is None or len(g) * max(lengths[i] for i in g) <= budget
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    best = None
    for cuts in itertools.product([False, True], repeat=len(lengths) - 1):
        runs, start = [], 0
        for k, cut in enumerate(cuts, 1):
            if cut:
                runs.append(order[start:k])
                start = k
        runs.append(order[start:])
        if budget is not None and any(
                len(r) > 1 and len(r) * max(lengths[i] for i in r) > budget for r in runs):
            continue
        cost = _padded_cost(lengths, runs, call_tokens)
        best = cost if best is None else min(best, cost)
    assert _padded_cost(lengths, groups, call_tokens) == best


def test_one_epoch_stores_no_prefix(tmp_path) -> None:
    """Nothing reads a stored prefix back when no question is visited twice."""
    from uqa_align.testing import tiny_llm, write_probe
    from uqa_align.train import AlignConfig, AlignRecipe

    q, e = write_probe(tmp_path, 24, n_cats=4)
    recipe = AlignRecipe(AlignConfig.from_preset("tiny", epochs=1, batch_size=8),
                         tmp_path / "adapter")
    recipe.setup(q, e, None, llm=tiny_llm())
    recipe.train()
    assert recipe.config.steps == 3 and recipe.prefix_cache.max_bytes == 0
    distinct = {recipe.prefix_cache.key(i) for i in range(24)}
    assert not recipe.prefix_cache.stored  # a prompt two questions share is encoded twice
    assert recipe.prefix_cache.recomputed == 24 - len(distinct) > 0


def test_a_later_alignment_reads_the_prefixes_an_earlier_one_stored(tmp_path,
                                                                     monkeypatch) -> None:
    """Inside ``keeping_alignment_prefixes``, with a frozen LLM computing in bf16, an
    alignment of the same questions, seed and batch size as an earlier one encodes no
    prefix and ends with the same weights, bit for bit, as one run alone; another seed,
    or float32 (whose first visit uses float32 prefixes, not the bf16 copies), encodes
    its own; the block's end drops the store."""
    from safetensors.torch import load_file
    from uqa_align import prefix_cache
    from uqa_align.adapter_files import ADAPTER_WEIGHTS
    from uqa_align.testing import tiny_llm, write_probe
    from uqa_align.train import AlignConfig, align

    encoded = []
    real = PrefixCache._encode
    monkeypatch.setattr(PrefixCache, "_encode",
                        lambda self, idx: encoded.extend(idx) or real(self, idx))
    q, e = write_probe(tmp_path, 40, n_cats=8)  # options in 1,680 orders: few prompts repeat

    def run(name: str, **kw):
        encoded.clear()
        config = AlignConfig.from_preset("tiny", **{"epochs": 2, "batch_size": 4, "lr": 0.02,
                                                    **kw})
        summary = align(q, e, None, tmp_path / name, config, llm=tiny_llm(init_std=0.5))
        return (summary["prefix_cache"], len(encoded),
                load_file(str(tmp_path / name / ADAPTER_WEIGHTS)))

    _, alone_encoded, alone = run("alone", precision="bf16")
    with prefix_cache.keeping_alignment_prefixes():
        first, first_encoded, first_weights = run("first", precision="bf16")
        second, second_encoded, weights = run("second", precision="bf16", lr=0.05)
        other_seed = run("seed", precision="bf16", seed=3)
        fp32 = [run(f"fp32-{i}", precision="fp32") for i in range(2)]
        assert any(k[1].startswith(prefix_cache.ALIGNMENT_KIND) for k in prefix_cache._SHARED)
    assert not any(k[1].startswith(prefix_cache.ALIGNMENT_KIND) for k in prefix_cache._SHARED)
    assert first_encoded == alone_encoded > 0 and first["read_from_earlier_alignment"] == 0
    assert all(torch.equal(t, first_weights[n]) for n, t in alone.items())
    assert second_encoded < alone_encoded // 4  # only prompts two questions share
    assert second["read_from_earlier_alignment"] > 0
    assert second["stored_questions"] == first["stored_questions"]
    _, again_encoded, again = run("again", precision="bf16", lr=0.05)  # alone, its lr
    assert again_encoded == alone_encoded
    for name, tensor in again.items():
        assert torch.equal(tensor, weights[name]), name
    assert other_seed[0]["read_from_earlier_alignment"] == 0 and other_seed[1] == alone_encoded
    assert all(f[0]["read_from_earlier_alignment"] == 0 for f in fp32)
    assert fp32[0][1] == fp32[1][1] > 0
