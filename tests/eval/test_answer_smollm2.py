"""The real SmolLM2 (marked llm): cached answering equals full-sequence scoring."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.mark.llm
def test_smollm2_cached_scores_match_and_prefer_the_stated_answer():
    from uqa_align.llm import load_llm
    from uqa_align.prompt import PromptBuilder
    from uqa_eval.answering import score_loglik, score_loglik_nocache

    llm = load_llm("smollm2")
    b = PromptBuilder(llm.tokenizer)
    prompts = [
        b.encode("The user only buys coffee. Which category does the user like most?",
                 ["garden tools", "coffee", "socks", "lamps"], n_soft=1),
        b.encode("Which colour?", ["red", "blue", "green", "yellow"], n_soft=1),
    ]
    soft = torch.zeros(2, 1, llm.hidden_size)
    cached = np.array(score_loglik(llm.model, prompts, soft, 2))
    full = np.array(score_loglik_nocache(llm.model, prompts, soft, 2))
    np.testing.assert_allclose(cached, full, rtol=1e-3, atol=1e-3)
    assert int(np.argmax(cached[0])) == 1  # text scoring reads the answer stated in words
