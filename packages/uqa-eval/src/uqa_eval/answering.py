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
from uqa_align.prompt import LETTERS, EncodedPrompt
from uqa_align.soft_prompt import (
    MIN_SHARED_HEAD,
    embed_with_soft,
    head_cache,
    model_parts,
    shared_head,
)

__all__ = ["generate", "letter_of", "pack_left", "score_letters", "score_loglik",
           "score_loglik_nocache", "shared_head"]


def pack_left(prompts: Sequence[EncodedPrompt], pad_id: int) -> dict[str, torch.Tensor]:
    """Left-pad prompts (so every prompt ends at the last column) with position ids."""
    width = max(p.length for p in prompts)
    b = len(prompts)
    ids = torch.full((b, width), pad_id, dtype=torch.long)
    soft = torch.zeros((b, width), dtype=torch.bool)
    attn = torch.zeros((b, width), dtype=torch.long)
    for i, p in enumerate(prompts):
        off = width - p.length
        row = [*p.before, *([pad_id] * p.n_soft), *p.after]
        ids[i, off:] = torch.tensor(row)
        soft[i, off + len(p.before) : off + len(p.before) + p.n_soft] = True
        attn[i, off:] = 1
    pos = (attn.cumsum(1) - 1).clamp_min(0)
    return {"ids": ids, "soft_mask": soft, "attention": attn, "position_ids": pos,
            "lengths": torch.tensor([p.length for p in prompts])}


def _encode_prefix(model: Any, prompts: Sequence[EncodedPrompt], soft: torch.Tensor | None,
                   pad_id: int, use_cache: bool) -> tuple[dict[str, torch.Tensor], Any]:
    """Encode the prompts; the prefix they all share is encoded once and cached per model."""
    decoder, _, _ = model_parts(model)
    device = next(model.parameters()).device
    h = shared_head(prompts) if use_cache else 0
    if h < MIN_SHARED_HEAD:
        h = 0
    rest = [EncodedPrompt(p.before[h:], p.n_soft, p.after) for p in prompts]
    packed = {k: v.to(device) for k, v in pack_left(rest, pad_id).items()}
    emb = embed_with_soft(model, packed["ids"], packed["soft_mask"], soft)
    cache = None
    if h:
        b = len(prompts)
        cache = head_cache(model, tuple(prompts[0].before[:h]), b)
        packed["attention"] = torch.cat(
            [torch.ones(b, h, dtype=torch.long, device=device), packed["attention"]], dim=1)
        packed["position_ids"] = packed["position_ids"] + h
        packed["lengths"] = packed["lengths"] + h
    out = decoder(inputs_embeds=emb, attention_mask=packed["attention"],
                  position_ids=packed["position_ids"], past_key_values=cache,
                  use_cache=use_cache)
    return packed, out


@torch.no_grad()
def score_loglik(model: Any, prompts: Sequence[EncodedPrompt], soft: torch.Tensor | None,
                 pad_id: int) -> list[list[float]]:
    """Summed log-probability of every option's tokens after each prompt (KV-cached)."""
    decoder, head, embed = model_parts(model)
    packed, out = _encode_prefix(model, prompts, soft, pad_id, use_cache=True)
    device = packed["ids"].device
    n_opts = [len(p.continuations) for p in prompts]
    k = n_opts[0]
    if any(n != k for n in n_opts):  # ragged option counts: score question by question
        return [score_loglik(model, [p], None if soft is None else soft[i : i + 1], pad_id)[0]
                for i, p in enumerate(prompts)]
    cache = out.past_key_values
    cache.batch_repeat_interleave(k)
    conts = [c for p in prompts for c in p.continuations]  # [B*K] lists
    width = max(len(c) for c in conts)
    cids = torch.full((len(conts), width), pad_id, dtype=torch.long, device=device)
    cmask = torch.zeros((len(conts), width), dtype=torch.long, device=device)
    for r, c in enumerate(conts):
        cids[r, : len(c)] = torch.tensor(c, device=device)
        cmask[r, : len(c)] = 1
    attn = torch.cat([packed["attention"].repeat_interleave(k, 0), cmask], dim=1)
    pos = packed["lengths"].to(device).repeat_interleave(k)[:, None] + torch.arange(
        width, device=device)[None, :]
    out2 = decoder(inputs_embeds=embed(cids), attention_mask=attn, position_ids=pos,
                   past_key_values=cache, use_cache=True)
    last = out.last_hidden_state[:, -1].repeat_interleave(k, 0)  # predicts each option's 1st token
    pred = torch.cat([last[:, None], out2.last_hidden_state[:, :-1]], dim=1)  # [B*K, C, H]
    valid = cmask.bool()
    logits = head(pred[valid]).float()  # only the scored positions
    lp = torch.log_softmax(logits, -1).gather(1, cids[valid][:, None]).squeeze(1)
    sums = torch.zeros(len(conts), device=device).index_add_(
        0, valid.nonzero()[:, 0], lp).cpu().tolist()
    return [sums[i * k : (i + 1) * k] for i in range(len(prompts))]


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
    _, out = _encode_prefix(model, prompts, soft, pad_id, use_cache=True)
    lp = torch.log_softmax(head(out.last_hidden_state[:, -1]).float(), -1)  # [B, V]
    return [[float(lp[i, c[0]]) for c in p.continuations] for i, p in enumerate(prompts)]


@torch.no_grad()
def generate(model: Any, tokenizer: Any, prompts: Sequence[EncodedPrompt],
             soft: torch.Tensor | None, pad_id: int, max_new_tokens: int = 4
             ) -> tuple[list[str], list[list[float]]]:
    """Greedy decoding from the cached prompt; returns texts and first-step letter scores."""
    decoder, head, embed = model_parts(model)
    packed, out = _encode_prefix(model, prompts, soft, pad_id, use_cache=True)
    device = packed["ids"].device
    cache = out.past_key_values
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
                    position_ids=pos[:, None], past_key_values=cache, use_cache=True)
        cache = o.past_key_values
        pos = pos + 1
        nxt = head(o.last_hidden_state[:, -1]).float().argmax(-1)
    texts = [tokenizer.decode(t, skip_special_tokens=True).strip() for t in tokens]
    return texts, letter_scores


def letter_of(text: str, n_options: int) -> str:
    """The option letter a generated answer starts with, or ``""``."""
    head = text.strip()[:1].upper()
    return head if head and head in LETTERS[:n_options] else ""
