"""The alignment loss covers the answer tokens only, computed from the sliced hidden states."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from uqa_align.prompt import PromptBuilder, PromptStyle
from uqa_align.soft_prompt import answer_loss, embed_with_soft, pack_right


def test_loss_is_the_mean_nll_of_answer_tokens_only(tiny):
    b = PromptBuilder(tiny.tokenizer)
    prompts = [b.encode("Which one?", ["phones", "milk", "a b c", "d"], n_soft=2),
               b.encode("A longer question about the user here?", ["x", "y", "z", "w"], n_soft=2)]
    targets = [b.target(["phones", "milk", "a b c", "d"], "C"), b.target(["x", "y", "z", "w"], "A")]
    batch = pack_right(prompts, targets, pad_id=2)
    soft = torch.randn(2, 2, tiny.hidden_size)
    loss = answer_loss(tiny.model, batch, soft)

    # reference: whole sequences (the answer's last token too), the full model's logits
    # everywhere, cross-entropy at answer positions only
    seqs = [[*p.before, *([2] * p.n_soft), *p.after, *t]
            for p, t in zip(prompts, targets, strict=True)]
    width = max(len(x) for x in seqs)
    ids = torch.full((2, width), 2)
    attention = torch.zeros((2, width), dtype=torch.long)
    soft_mask = torch.zeros((2, width), dtype=torch.bool)
    labels = torch.full_like(ids, -100)
    for i, (x, p, t) in enumerate(zip(seqs, prompts, targets, strict=True)):
        ids[i, : len(x)] = torch.tensor(x)
        attention[i, : len(x)] = 1
        soft_mask[i, len(p.before) : len(p.before) + p.n_soft] = True
        labels[i, p.length : p.length + len(t)] = torch.tensor(t)
    emb = embed_with_soft(tiny.model, ids, soft_mask, soft)
    logits = tiny.model(inputs_embeds=emb, attention_mask=attention).logits
    ref = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                            labels[:, 1:].reshape(-1), ignore_index=-100)
    assert torch.allclose(loss, ref, atol=1e-5)
    assert batch.targets.numel() == sum(len(t) for t in targets)
    # the answer's last token is no input: it would predict nothing scored
    assert batch.ids.shape[1] == width - 1


def test_soft_tokens_land_at_the_placeholders(tiny):
    b = PromptBuilder(tiny.tokenizer)
    p = b.encode("Q?", ["a", "b", "c", "d"], n_soft=3)
    batch = pack_right([p], [[5]], pad_id=2)
    soft = torch.full((1, 3, tiny.hidden_size), 7.0)
    emb = embed_with_soft(tiny.model, batch.ids, batch.soft_mask, soft)
    pos = batch.soft_mask[0].nonzero()[:, 0].tolist()
    assert pos == list(range(len(p.before), len(p.before) + 3)) and pos[0] > 0
    assert (emb[0, pos] == 7.0).all() and not (emb[0, 0] == 7.0).all()


def test_changing_the_prompt_padding_does_not_change_the_loss(tiny):
    b = PromptBuilder(tiny.tokenizer)
    short = b.encode("Q?", ["a", "b", "c", "d"], n_soft=1)
    long = b.encode("A much longer question with many more tokens in it?", ["a", "b", "c", "d"],
                    n_soft=1)
    soft = torch.randn(1, 1, tiny.hidden_size)
    alone = answer_loss(tiny.model, pack_right([short], [[42, 43]], 2), soft)
    both = pack_right([short, long], [[42, 43], [44]], 2)
    from uqa_align.soft_prompt import target_logprobs

    lp = target_logprobs(tiny.model, both, soft.repeat(2, 1, 1))
    assert torch.allclose(-lp[:2].mean(), alone, atol=1e-5)  # right padding never leaks in


def test_cached_shared_head_gives_the_same_loss_and_gradient(tiny):
    from uqa_align.prompt import EncodedPrompt
    from uqa_align.soft_prompt import shared_head

    b = PromptBuilder(tiny.tokenizer, PromptStyle(position="before"))
    prompts = [b.encode("Which one?", ["phones", "milk", "x", "d"], n_soft=1),
               b.encode("Which brand lately, in one word?", ["x", "y", "z", "w"], n_soft=1)]
    h = shared_head(prompts)
    assert h == len(prompts[0].before)  # system turn, user header and marker
    rest = [EncodedPrompt(p.before[h:], p.n_soft, p.after) for p in prompts]
    targets = [[42, 43], [44]]
    grads = []
    for batch, head in ((pack_right(prompts, targets, 2), ()),
                        (pack_right(rest, targets, 2), tuple(prompts[0].before[:h]))):
        soft = torch.randn(2, 1, tiny.hidden_size, generator=torch.Generator().manual_seed(0),
                           requires_grad=True)
        loss = answer_loss(tiny.model, batch, soft, head)
        loss.backward()
        grads.append((loss.detach(), soft.grad))
    assert torch.allclose(grads[0][0], grads[1][0], atol=1e-5)
    assert torch.allclose(grads[0][1], grads[1][1], atol=1e-5)


def test_options_loss_is_the_cross_entropy_over_uncached_option_loglikelihoods(tiny):
    from uqa_align.soft_prompt import options_loss, target_logprobs

    b = PromptBuilder(tiny.tokenizer)
    opts = [["phones", "milk", "a b c", "d"], ["x y", "zz top", "w", "the long option"]]
    prompts = [b.encode("Which one?", opts[0], n_soft=2),
               b.encode("A longer question about the user here?", opts[1], n_soft=2)]
    answers = torch.tensor([2, 0])
    grads, losses = [], []
    for cached in (True, False):
        soft = torch.randn(2, 2, tiny.hidden_size, generator=torch.Generator().manual_seed(1),
                           requires_grad=True)
        if cached:
            loss = options_loss(tiny.model, prompts, soft, answers, pad_id=2)
        else:  # every prompt + option as its own right-padded sequence, no KV cache
            rows = [(i, c) for i, p in enumerate(prompts) for c in p.continuations]
            batch = pack_right([prompts[i] for i, _ in rows], [c for _, c in rows], 2)
            lp = target_logprobs(tiny.model, batch, soft[torch.tensor([i for i, _ in rows])])
            sums = torch.zeros(len(rows)).index_add(0, batch.rows, lp).view(2, 4)
            loss = torch.nn.functional.cross_entropy(sums, answers)
        loss.backward()
        losses.append(loss.detach())
        grads.append(soft.grad)
    assert torch.allclose(losses[0], losses[1], atol=1e-5)
    assert torch.allclose(grads[0], grads[1], atol=1e-5)
    assert grads[0].abs().sum() > 0


def test_loss_names_are_checked_against_the_mode():
    import pytest
    from uqa_align.train import AlignConfig
    from uqa_data.errors import UqaInputError

    with pytest.raises(UqaInputError, match=r"--loss options .* needs --mode loglik"):
        AlignConfig(loss="options", mode="letters").validate()
    with pytest.raises(UqaInputError, match="unknown alignment loss 'hinge'"):
        AlignConfig(loss="hinge").validate()
    AlignConfig(loss="options").validate()


@pytest.mark.parametrize("position", ["after", "before"])  # prefix-cached, and not
def test_answer_sum_is_each_answers_summed_nll_averaged_over_questions(tmp_path, position):
    """``--loss answer_sum``: a question with a long answer counts once, not once per
    token; the same value whether the frozen prefix is read from the cache or not."""
    import numpy as np

    values = {}
    for loss in ("answer", "answer_sum"):
        recipe = _probe_recipe(tmp_path, loss, position)
        idx = np.arange(4)
        with torch.no_grad():
            got, weight = recipe._loss(idx, recipe.llm.tokenizer.pad_token_id or 0)
            # the reference: every question's full prompt, uncached, one at a time
            full = [recipe.builder.encode(qq, o, n_soft=1) for qq, o in
                    zip(recipe.qs.questions[:4], recipe.qs.options[:4], strict=True)]
            soft = recipe.soft_tokens(idx)
            nll = [-float(target_logprobs_of(recipe, full[i], recipe.targets[i], soft[i:i + 1]))
                   for i in range(4)]
        values[loss] = float(got)
        lengths = [len(recipe.targets[i]) for i in range(4)]
        if loss == "answer_sum":
            assert weight == 4
            assert abs(float(got) - np.mean(nll)) < 1e-4
        else:
            assert weight == sum(lengths)
            assert abs(float(got) - sum(nll) / sum(lengths)) < 1e-4
    assert len(set(lengths)) > 1 or values["answer"] == values["answer_sum"]


def _probe_recipe(tmp_path, loss, position):
    """An alignment recipe set up on 8 probe questions with a tiny LLM; the prefix is
    cached exactly when the user context comes ``after`` the options."""
    from uqa_align.testing import tiny_llm, write_probe
    from uqa_align.train import AlignConfig, AlignRecipe

    q, e = write_probe(tmp_path, 8, n_cats=4)
    recipe = AlignRecipe(AlignConfig.from_preset("tiny", loss=loss, position=position),
                         tmp_path / f"{loss}-{position}")
    recipe.setup(q, e, None, llm=tiny_llm(init_std=0.5))
    assert (recipe.prefix_cache is not None) == (position == "after")
    return recipe


def target_logprobs_of(recipe, prompt, target, soft):
    """Summed log-probability of ``target`` after the whole ``prompt``, no cache."""
    from uqa_align.soft_prompt import target_logprobs

    batch = pack_right([prompt], [target], recipe.llm.tokenizer.pad_token_id or 0)
    return target_logprobs(recipe.llm.model, batch, soft).sum()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=5), min_size=2, max_size=4))
def test_decisive_tokens_are_the_shortest_prefix_no_other_option_starts_with(options):
    """Each option cut after its decisive token starts no other option (unless the option is
    itself the start of another, when all of it is kept), and one token fewer would."""
    from uqa_align.prompt import decisive_continuations

    cut = decisive_continuations(options)
    for i, (c, full) in enumerate(zip(cut, options, strict=True)):
        others = [o for j, o in enumerate(options) if j != i]
        assert 1 <= len(c) <= len(full) and full[: len(c)] == c
        starts_another = any(o[: len(c)] == c for o in others)
        assert not starts_another or c == full
        if len(c) > 1:
            assert any(o[: len(c) - 1] == c[:-1] for o in others)


@pytest.mark.parametrize("position", ["after", "before"])  # prefix-cached, and not
def test_choice_loss_is_the_options_loss_over_decisive_tokens(tmp_path, position):
    """``--loss choice``: the cross-entropy over the options' summed log-likelihoods, each
    option cut after its decisive token; from the cache or not, the same value."""
    import numpy as np
    from uqa_align.prompt import decisive_continuations

    recipe = _probe_recipe(tmp_path, "choice", position)
    idx = np.arange(4)
    with torch.no_grad():
        got, weight = recipe._loss(idx, recipe.llm.tokenizer.pad_token_id or 0)
        soft = recipe.soft_tokens(idx)
        expected = []
        for i in range(4):  # every option's full prompt, uncached, option by option
            full = recipe.builder.encode(recipe.qs.questions[i], recipe.qs.options[i], n_soft=1)
            cut = decisive_continuations(full.continuations)
            scores = torch.stack([target_logprobs_of(recipe, full, c, soft[i:i + 1])
                                  for c in cut])
            expected.append(-torch.log_softmax(scores, 0)[int(recipe.qs.answers[i])])
    assert weight == 4
    assert abs(float(got) - float(torch.stack(expected).mean())) < 1e-4
