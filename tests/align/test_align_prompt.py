"""Prompt layout: soft tokens inside the user turn after the marker, never at position 0."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from uqa_align.prompt import PromptBuilder, PromptStyle, letter_index
from uqa_data.errors import UqaInputError

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
               min_size=1, max_size=30)


@given(question=text, options=st.lists(text, min_size=4, max_size=4),
       n_soft=st.integers(1, 16))
def test_soft_tokens_never_first_and_follow_the_marker(tokenizer, question, options, n_soft):
    enc = PromptBuilder(tokenizer).encode(question, options, n_soft=n_soft)
    assert len(enc.before) > 0  # the soft tokens never sit at position 0
    head = tokenizer.decode(enc.before)
    assert head.rstrip().endswith("User history:")
    assert "<|im_start|>user" in head  # inside the user turn
    tail = tokenizer.decode(enc.after)
    assert tail.rstrip().endswith("<|im_start|>assistant")
    assert enc.length == len(enc.before) + n_soft + len(enc.after)


def test_short_system_message_replaces_the_default(tokenizer):
    b = PromptBuilder(tokenizer)
    enc = b.encode("Which brand?", ["a", "b", "c", "d"], n_soft=1)
    head = tokenizer.decode(enc.before)
    assert "SmolLM" not in head and PromptStyle.system in head
    default = tokenizer.apply_chat_template([{"role": "user", "content": "x"}], tokenize=True,
                                            add_generation_prompt=True)
    ours = tokenizer.apply_chat_template(
        [{"role": "system", "content": PromptStyle.system}, {"role": "user", "content": "x"}],
        tokenize=True, add_generation_prompt=True)
    ids = lambda r: r["input_ids"] if isinstance(r, dict) or hasattr(r, "keys") else r  # noqa: E731
    assert len(ids(ours)) <= len(ids(default)) - 10


def test_text_history_and_no_context_have_no_soft_tokens(tokenizer):
    b = PromptBuilder(tokenizer)
    t = b.encode("Q?", ["a", "b", "c", "d"], history_text="1. red shoes")
    assert t.n_soft == 0 and "1. red shoes" in tokenizer.decode(t.before)
    n = b.encode("Q?", ["a", "b", "c", "d"])
    assert "User history" not in tokenizer.decode(n.before)
    with pytest.raises(ValueError):
        b.encode("Q?", ["a"], n_soft=1, history_text="x")


def test_targets_by_mode(tokenizer):
    opts = ["phones", "milk bread", "c", "d"]
    loglik = PromptBuilder(tokenizer, PromptStyle(mode="loglik"))
    assert loglik.target(opts, "B") == tokenizer("milk bread", add_special_tokens=False)[
        "input_ids"]
    letters = PromptBuilder(tokenizer, PromptStyle(mode="letters"))
    assert tokenizer.decode(letters.target(opts, "C")) == "C"
    gen = PromptBuilder(tokenizer, PromptStyle(mode="generate"))
    assert gen.target(opts, "A")[-1] == tokenizer.eos_token_id


def test_answer_letter_outside_options_is_an_error():
    assert letter_index("c", 4) == 2
    with pytest.raises(UqaInputError, match="not one of the option letters A, B, C, D"):
        letter_index("E", 4)


def test_context_after_the_options_sits_right_before_the_answer(tokenizer):
    b = PromptBuilder(tokenizer, PromptStyle(position="after"))
    enc = b.encode("Which brand?", ["Gorbo", "Vexrex", "Corvio", "Solpix"], n_soft=2)
    head, tail = tokenizer.decode(enc.before), tokenizer.decode(enc.after)
    assert head.index("Which brand?") < head.index("D. Solpix") < head.index("User history:")
    assert head.rstrip().endswith("User history:")
    assert "<|im_start|>assistant" in tail and "Which brand?" not in tail
    with pytest.raises(UqaInputError, match="unknown user-context position 'middle'"):
        PromptBuilder(tokenizer, PromptStyle(position="middle"))
