"""``uqa_cpu`` attention: the values and gradients of transformers' own, sdpa reading
grouped keys without gradients, on the prefix-cached alignment step and on whole
sequences."""

from __future__ import annotations

import pytest
import torch
from uqa_align.attention import NAME, grouped_attention, use_cpu_attention
from uqa_align.prefix_cache import PrefixCache, cached_target_logprobs
from uqa_align.prompt import EncodedPrompt, PromptBuilder
from uqa_align.soft_prompt import pack_right, shared_head, target_logprobs

QUESTIONS = [
    ("Which category will the user click next?", ["phones", "milk", "tea", "socks"]),
    ("Which brand lately, in one word?", ["Acme", "Zeta", "Nova", "Orbit"]),
    ("What are the user's 3 favourite shops, most favourite first?", ["A, B, C", "x", "y", "z"]),
]
TARGETS = [[42, 43, 44, 45, 46], [44], [45, 46, 47]]


def _cached_step(llm, impl: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Target log-probabilities of the three questions (prefixes padded to different
    lengths, suffixes in one batch) and the soft tokens' gradient under ``impl``."""
    if impl == NAME:
        assert use_cpu_attention(llm.model)
    else:
        llm.model.set_attn_implementation(impl)
    builder = PromptBuilder(llm.tokenizer)
    full = [builder.encode(q, o, n_soft=1) for q, o in QUESTIONS]
    h = shared_head(full)
    rest = [EncodedPrompt(p.before[h:], p.n_soft, p.after) for p in full]
    cache = PrefixCache(llm.model, tuple(full[0].before[:h]), rest, 1 << 30)
    soft = torch.randn(3, 1, llm.hidden_size, generator=torch.Generator().manual_seed(3),
                       requires_grad=True)
    lp = cached_target_logprobs(llm.model, cache, [0, 1, 2], [True] * 3, TARGETS, soft, 2,
                                call_tokens=None)
    lp.sum().backward()
    return lp.detach(), soft.grad


@pytest.mark.parametrize("reference", ["sdpa", "eager"])
def test_cached_step_matches_transformers_attention(tiny, reference) -> None:
    lp, grad = _cached_step(tiny, NAME)
    lp_ref, grad_ref = _cached_step(tiny, reference)
    assert lp.shape == (9,)
    assert torch.allclose(lp, lp_ref, atol=1e-5)
    assert torch.allclose(grad, grad_ref, atol=1e-5)
    assert grad.abs().sum() > 0


def test_whole_sequences_with_padding_match_eager(tiny) -> None:
    builder = PromptBuilder(tiny.tokenizer)
    prompts = [builder.encode(q, o, n_soft=1) for q, o in QUESTIONS]
    batch = pack_right(prompts, TARGETS, 2)  # right-padded: rows of different lengths
    out = {}
    for impl in ("eager", NAME):
        if impl == NAME:
            use_cpu_attention(tiny.model)
        else:
            tiny.model.set_attn_implementation(impl)
        soft = torch.ones(3, 1, tiny.hidden_size, requires_grad=True)
        lp = target_logprobs(tiny.model, batch, soft)
        lp.sum().backward()
        out[impl] = (lp.detach(), soft.grad)
    assert torch.allclose(out[NAME][0], out["eager"][0], atol=1e-5)
    assert torch.allclose(out[NAME][1], out["eager"][1], atol=1e-5)


def test_grouped_heads_match_repeated_keys() -> None:
    """Nine query heads over three key/value heads, a boolean mask with a padded key."""
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 9, 4, 8, generator=g, requires_grad=True)
    k = torch.randn(2, 3, 6, 8, generator=g, requires_grad=True)
    v = torch.randn(2, 3, 6, 8, generator=g, requires_grad=True)
    mask = torch.ones(2, 1, 4, 6, dtype=torch.bool).tril(2)
    mask[1, :, :, 0] = False

    class Module(torch.nn.Module):
        num_key_value_groups = 3
        is_causal = True
        training = False

    out, _ = grouped_attention(Module(), q, k, v, mask, scaling=0.3)
    kr, vr = (x.repeat_interleave(3, dim=1) for x in (k, v))
    scores = (q @ kr.transpose(2, 3) * 0.3).masked_fill(~mask, float("-inf"))
    ref = (scores.softmax(-1) @ vr).transpose(1, 2)
    assert out.shape == (2, 4, 9, 8) and torch.allclose(out, ref, atol=1e-6)
    grads = torch.autograd.grad(out.sum(), (q, k, v))
    refs = torch.autograd.grad(ref.sum(), (q, k, v))
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(grads, refs, strict=True))


def test_without_gradients_it_is_sdpa_reading_grouped_keys(tiny, monkeypatch) -> None:
    """No gradients (answering, prefixes): sdpa over the grouped keys and values as they
    are (``enable_gqa``, no copy per query head), the values of transformers' own sdpa."""
    import uqa_align.attention as attention

    builder = PromptBuilder(tiny.tokenizer)
    batch = pack_right([builder.encode(q, o) for q, o in QUESTIONS], TARGETS, 2)
    tiny.model.set_attn_implementation("sdpa")
    with torch.no_grad():
        ref = target_logprobs(tiny.model, batch, None)
    calls = []
    real = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention",
                        lambda q, k, v, **kw: calls.append(
                            (q.shape[1], k.shape[1], kw.get("enable_gqa"))) or real(q, k, v, **kw))
    use_cpu_attention(tiny.model)
    with torch.no_grad():
        got = target_logprobs(tiny.model, batch, None)
    assert torch.allclose(got, ref, atol=1e-5)
    heads, kv_heads = (tiny.model.config.num_attention_heads,
                       tiny.model.config.num_key_value_heads)
    assert kv_heads < heads
    assert calls == [(heads, kv_heads, True)] * tiny.model.config.num_hidden_layers
    monkeypatch.setattr(attention, "SDPA_GQA", False)  # PyTorch < 2.5: transformers' own
    calls.clear()
    with torch.no_grad():
        assert torch.allclose(target_logprobs(tiny.model, batch, None), ref, atol=1e-5)
    assert all(k == heads for _, k, _ in calls)
