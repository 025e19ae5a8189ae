"""Soft prompting, alignment losses and answering pass the KV cache under the installed
transformers' own name: no ``past_key_values`` deprecation warning on any path."""

from __future__ import annotations

import warnings

import torch
from uqa_align.prompt import PromptBuilder, PromptStyle
from uqa_align.soft_prompt import answer_loss, options_loss, pack_right, shared_head
from uqa_align.testing import tiny_llm
from uqa_eval.answering import generate, score_loglik

QUESTIONS = [
    ("Which category?", ["phones", "milk and bread", "a", "music"]),
    ("Which shop did the user visit last?", ["x", "y z", "blue", "games"]),
]


def test_no_cache_deprecation_on_any_path(capfd) -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.warning_once.cache_clear()  # "warn once" may have fired in an earlier test
    llm = tiny_llm(init_std=0.3)
    b = PromptBuilder(llm.tokenizer)
    prompts = [b.encode(q, o, n_soft=1) for q, o in QUESTIONS]
    soft = torch.randn(len(prompts), 1, llm.hidden_size)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        score_loglik(llm.model, prompts, soft, pad_id=2)  # prompt cache + options pass
        options_loss(llm.model, prompts, soft, torch.tensor([0, 1]), 2)
        h = shared_head(prompts)
        rest = [type(p)(p.before[h:], p.n_soft, p.after, p.continuations) for p in prompts]
        batch = pack_right(rest, [b.target(o, "A") for _, o in QUESTIONS], 2)
        answer_loss(llm.model, batch, soft, tuple(prompts[0].before[:h]))  # cached head
        g = PromptBuilder(llm.tokenizer, PromptStyle(mode="generate"))
        generate(llm.model, llm.tokenizer, [g.encode(q, o) for q, o in QUESTIONS], None, 2,
                 max_new_tokens=3)  # step-by-step decoding reads and passes the cache
    messages = [str(w.message) for w in caught] + [capfd.readouterr().err]
    assert not [m for m in messages if "past_key_values" in m], messages
