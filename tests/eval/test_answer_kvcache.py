"""Answering from a cached prompt gives the same scores as scoring full sequences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from uqa_align.prompt import PromptBuilder, PromptStyle
from uqa_align.testing import tiny_llm
from uqa_eval.answering import (
    generate,
    letter_of,
    pack_left,
    score_letters,
    score_loglik,
    score_loglik_nocache,
    shared_head,
)

QUESTIONS = [
    ("Which category?", ["phones", "milk and bread", "a", "very long option text here"]),
    ("A much longer question about what the user clicked five items ago?",
     ["x", "y z", "blue", "music games"]),
    ("Short?", ["one two three four", "b", "shirts", "d"]),
]


@pytest.fixture(scope="module")
def tiny_mod():
    return tiny_llm(init_std=0.3)


@pytest.mark.parametrize("n_soft", [0, 1, 4])
def test_kv_cache_scores_equal_full_sequence_scores(tiny_mod, n_soft):
    b = PromptBuilder(tiny_mod.tokenizer)
    prompts = [b.encode(q, o, n_soft=n_soft) for q, o in QUESTIONS]
    soft = torch.randn(len(prompts), n_soft, tiny_mod.hidden_size) if n_soft else None
    assert shared_head(prompts) >= 10  # the system turn and user header are encoded once
    cached = np.array(score_loglik(tiny_mod.model, prompts, soft, pad_id=2))
    full = np.array(score_loglik_nocache(tiny_mod.model, prompts, soft, pad_id=2))
    assert cached.shape == (3, 4)
    np.testing.assert_allclose(cached, full, rtol=1e-4, atol=1e-4)
    # each question scored alone (no padding at all) agrees too
    alone = [score_loglik(tiny_mod.model, [p], None if soft is None else soft[i : i + 1], 2)[0]
             for i, p in enumerate(prompts)]
    np.testing.assert_allclose(cached, np.array(alone), rtol=1e-4, atol=1e-4)


def test_options_in_length_groups_score_as_one_padded_batch(tiny_mod, monkeypatch):
    """Options run in groups of similar length, each reading its question's cache rows:
    every split scores what one padded batch of all options does."""
    import uqa_align.prefix_cache as prefix_cache

    b = PromptBuilder(tiny_mod.tokenizer)
    prompts = [b.encode(q, o, n_soft=1) for q, o in QUESTIONS]
    soft = torch.randn(len(prompts), 1, tiny_mod.hidden_size,
                       generator=torch.Generator().manual_seed(0))
    full = np.array(score_loglik_nocache(tiny_mod.model, prompts, soft, pad_id=2))
    calls = []
    real = prefix_cache.length_groups
    monkeypatch.setattr(prefix_cache, "length_groups",
                        lambda *a, **k: calls.append(real(*a, **k)) or calls[-1])
    for call_tokens in (10_000, 0):  # one group; one per option length
        monkeypatch.setattr(prefix_cache, "PREFIX_CALL_TOKENS", call_tokens)
        got = np.array(score_loglik(tiny_mod.model, prompts, soft, pad_id=2))
        np.testing.assert_allclose(got, full, rtol=1e-4, atol=1e-4)
    lengths = {len(c) for p in prompts for c in p.continuations}
    assert len(calls[0]) == 1 and len(calls[1]) >= len(lengths) > 3


def test_left_padding_positions_restart_at_zero(tiny_mod):
    b = PromptBuilder(tiny_mod.tokenizer)
    p = [b.encode(q, o, n_soft=1) for q, o in QUESTIONS[:2]]
    packed = pack_left(p, pad_id=2)
    short = int(np.argmin([x.length for x in p]))
    row_pos = packed["position_ids"][short][packed["attention"][short].bool()]
    assert row_pos.tolist() == list(range(p[short].length))
    assert packed["soft_mask"].sum(1).tolist() == [1, 1]


def test_letters_and_generate_agree_on_the_first_token(tiny_mod):
    b = PromptBuilder(tiny_mod.tokenizer, PromptStyle(mode="letters"))
    prompts = [b.encode(q, o) for q, o in QUESTIONS]
    letters = score_letters(tiny_mod.model, prompts, None, 2)
    texts, first = generate(tiny_mod.model, tiny_mod.tokenizer, prompts, None, 2, 2)
    np.testing.assert_allclose(np.array(letters), np.array(first), rtol=1e-4, atol=1e-4)
    assert len(texts) == 3
    assert letter_of(" b. text", 4) == "B" and letter_of("E", 4) == "" and letter_of("", 4) == ""
