"""Answering multiple-choice questions with an LLM: ``loglik``, ``letters``, ``generate``.

``loglik`` scores each option's text as the continuation of the prompt, as
lm-evaluation-harness scores multiple choice: the prompt (with its soft tokens)
is encoded once per question into a KV cache, the cache is repeated for the
options, and all options of all questions in the batch are scored in one more
forward pass. The LM head is applied only at the positions that predict a
scored token. ``letters`` reads the next-token log-probabilities of the option
letters from the same single prompt pass; ``generate`` decodes greedily.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from uqa_align.kv import cache_kwargs, output_cache
from uqa_align.prompt import LETTERS, EncodedPrompt
from uqa_align.soft_prompt import (
    encode_prefix,
    model_parts,
    option_logprobs,
    pack_left,
    shared_head,
)

__all__ = ["generate", "letter_of", "pack_left", "score_letters", "score_loglik",
           "score_loglik_nocache", "shared_head"]


@torch.no_grad()
def score_loglik(model: Any, prompts: Sequence[EncodedPrompt], soft: torch.Tensor | None,
                 pad_id: int, *, cached: Any = None) -> list[list[float]]:
    """Summed log-probability of every option's tokens after each prompt (KV-cached;
    ``cached``: a prefix cache, see :func:`uqa_align.soft_prompt.option_logprobs`)."""
    return [row.cpu().tolist()
            for row in option_logprobs(model, prompts, soft, pad_id, cached=cached)]


@torch.no_grad()
def score_loglik_nocache(model: Any, prompts: Sequence[EncodedPrompt],
                         soft: torch.Tensor | None, pad_id: int) -> list[list[float]]:
    """Reference: the same scores from full ``prompt + option`` sequences (no cache)."""
    from uqa_align.soft_prompt import pack_right, target_logprobs

    rows, targets, owners = [], [], []
    for i, p in enumerate(prompts):
        for c in p.continuations:
            rows.append(p)
            targets.append(c)
            owners.append(i)
    batch = pack_right(rows, targets, pad_id).to(next(model.parameters()).device)
    s = None
    if soft is not None:
        s = soft[torch.tensor(owners, device=soft.device)]
    lp = target_logprobs(model, batch, s)
    sums = torch.zeros(len(rows)).index_add_(0, batch.rows.cpu(), lp.cpu()).tolist()
    out, r = [], 0
    for p in prompts:
        out.append(sums[r : r + len(p.continuations)])
        r += len(p.continuations)
    return out


@torch.no_grad()
def score_letters(model: Any, prompts: Sequence[EncodedPrompt], soft: torch.Tensor | None,
                  pad_id: int) -> list[list[float]]:
    """Next-token log-probability of each option letter (one pass, no cache)."""
    _, head, _ = model_parts(model)
    _, out = encode_prefix(model, prompts, soft, pad_id, use_cache=True)
    lp = torch.log_softmax(head(out.last_hidden_state[:, -1]).float(), -1)  # [B, V]
    return [[float(lp[i, c[0]]) for c in p.continuations] for i, p in enumerate(prompts)]


@torch.no_grad()
def generate(model: Any, tokenizer: Any, prompts: Sequence[EncodedPrompt],
             soft: torch.Tensor | None, pad_id: int, max_new_tokens: int = 4
             ) -> tuple[list[str], list[list[float]]]:
    """Greedy decoding from the cached prompt; returns texts and first-step letter scores."""
    decoder, head, embed = model_parts(model)
    packed, out = encode_prefix(model, prompts, soft, pad_id, use_cache=True)
    device = packed["ids"].device
    cache = output_cache(out)
    attn = packed["attention"]
    pos = packed["lengths"].to(device)
    lp = torch.log_softmax(head(out.last_hidden_state[:, -1]).float(), -1)
    letter_scores = [[float(lp[i, c[0]]) for c in p.continuations] for i, p in enumerate(prompts)]
    tokens: list[list[int]] = [[] for _ in prompts]
    done = torch.zeros(len(prompts), dtype=torch.bool, device=device)
    eos = tokenizer.eos_token_id
    nxt = lp.argmax(-1)
    for _ in range(max_new_tokens):
        for i, t in enumerate(nxt.tolist()):
            if not done[i]:
                tokens[i].append(t)
        if eos is not None:
            done |= nxt == eos
        if bool(done.all()):
            break
        attn = torch.cat([attn, torch.ones_like(attn[:, :1])], dim=1)
        o = decoder(inputs_embeds=embed(nxt[:, None]), attention_mask=attn,
                    position_ids=pos[:, None], **cache_kwargs(cache), use_cache=True)
        cache = output_cache(o)
        pos = pos + 1
        nxt = head(o.last_hidden_state[:, -1]).float().argmax(-1)
    texts = [tokenizer.decode(t, skip_special_tokens=True).strip() for t in tokens]
    return texts, letter_scores


def letter_of(text: str, n_options: int) -> str:
    """The option letter a generated answer starts with, or ``""``."""
    head = text.strip()[:1].upper()
    return head if head and head in LETTERS[:n_options] else ""
