"""Soft-prompt injection and answer log-probabilities, computing logits only where needed.

A sequence is ``before + soft * n_soft + after + target``. Token ids are
embedded by the LLM's own embedding table and the adapter's soft tokens are
written over the placeholder positions. The decoder runs without its LM head;
the head is applied only to the hidden states that predict scored tokens, so a
batch of 100-token prompts with 5-token answers pays for 5 vocabulary
projections per row instead of 100.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from uqa_align.kv import cache_kwargs, cache_of, output_cache
from uqa_align.llm import numerics
from uqa_align.prompt import EncodedPrompt


def model_parts(model: Any) -> tuple[Any, Any, Any]:
    """``(decoder, lm_head, input_embeddings)`` of a causal LM (peft-wrapped or not)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.get_decoder(), base.get_output_embeddings(), base.get_input_embeddings()


@dataclass
class PackedBatch:
    """Right-padded sequences and the positions whose next token is scored.

    ``rows[k], cols[k]`` is the position whose hidden state predicts
    ``targets[k]``; ``example[k]`` says which sequence it belongs to.
    """

    ids: torch.Tensor  # [B, L] long
    soft_mask: torch.Tensor  # [B, L] bool
    attention: torch.Tensor  # [B, L] long
    rows: torch.Tensor  # [K]
    cols: torch.Tensor  # [K]
    targets: torch.Tensor  # [K]
    lengths: torch.Tensor  # [B] prompt tokens (soft included), without the target

    def to(self, device: torch.device | str) -> PackedBatch:
        return PackedBatch(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))


def pack_right(
    prompts: Sequence[EncodedPrompt], targets: Sequence[Sequence[int]], pad_id: int
) -> PackedBatch:
    """Right-pad ``prompt + target`` sequences; score every target token. The target's
    last token is left out: its hidden state would predict nothing scored."""
    seqs, soft_rows, lengths = [], [], []
    rows, cols, tgts = [], [], []
    for b, (p, t) in enumerate(zip(prompts, targets, strict=True)):
        ids = [*p.before, *([pad_id] * p.n_soft), *p.after, *t[:-1]]
        soft = [False] * len(p.before) + [True] * p.n_soft + [False] * (len(p.after) + len(t[:-1]))
        start = p.length
        for j, tok in enumerate(t):
            rows.append(b)
            cols.append(start + j - 1)
            tgts.append(int(tok))
        seqs.append(ids)
        soft_rows.append(soft)
        lengths.append(p.length)
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    soft_mask = torch.zeros((len(seqs), width), dtype=torch.bool)
    attention = torch.zeros((len(seqs), width), dtype=torch.long)
    for b, (s, m) in enumerate(zip(seqs, soft_rows, strict=True)):
        ids[b, : len(s)] = torch.tensor(s)
        soft_mask[b, : len(m)] = torch.tensor(m)
        attention[b, : len(s)] = 1
    return PackedBatch(ids, soft_mask, attention, torch.tensor(rows), torch.tensor(cols),
                       torch.tensor(tgts), torch.tensor(lengths))


_HEADS: weakref.WeakKeyDictionary[Any, dict[tuple, list]] = weakref.WeakKeyDictionary()
MIN_SHARED_HEAD = 4


def shared_head(prompts: Sequence[EncodedPrompt]) -> int:
    """Length of the token prefix every prompt shares (system turn, user header, marker).

    At least one token of every prompt is left out of it, so each prompt still
    has a last position of its own.
    """
    first = prompts[0].before
    limit = min(len(p.before) - (0 if p.n_soft or p.after else 1) for p in prompts)
    n = 0
    while n < limit and all(p.before[n] == first[n] for p in prompts):
        n += 1
    return n


def head_cache(model: Any, head: tuple[int, ...], batch: int) -> Any:
    """A KV cache of ``head`` for ``batch`` rows; the head is encoded once per model
    (again only after the model's weights or their dtype change), without gradients."""
    memo = _HEADS.setdefault(model, {})
    # weights changed (or cast to another precision) -> recompute
    key = (head, numerics(model), sum(p._version for p in model.parameters()))
    if key not in memo:
        decoder, _, _ = model_parts(model)
        device = next(model.parameters()).device
        with torch.no_grad():
            out = decoder(input_ids=torch.tensor([head], device=device), use_cache=True)
        memo.clear()  # one head per model is the common case; keep memory flat
        memo[key] = [(layer.keys, layer.values) for layer in output_cache(out).layers]
    return cache_of((k.expand(batch, -1, -1, -1).contiguous(),
                     v.expand(batch, -1, -1, -1).contiguous()) for k, v in memo[key])


def embed_with_soft(
    model: Any, ids: torch.Tensor, soft_mask: torch.Tensor, soft: torch.Tensor | None
) -> torch.Tensor:
    """Token embeddings of ``ids`` with ``soft [B, n, H]`` written at ``soft_mask``."""
    _, _, embed = model_parts(model)
    emb = embed(ids)
    if soft is not None and soft.numel():
        emb = emb.clone()
        emb[soft_mask] = soft.reshape(-1, soft.shape[-1]).to(emb.dtype)
    return emb


def target_logprobs(model: Any, batch: PackedBatch, soft: torch.Tensor | None,
                    head_ids: tuple[int, ...] = ()) -> torch.Tensor:
    """Log-probability of every scored target token, ``[K]`` (float32).

    ``head_ids``: a prefix shared by every sequence and left out of ``batch``
    (a frozen LLM's system turn): it is read from a cached KV instead.
    """
    decoder, lm_head, _ = model_parts(model)
    emb = embed_with_soft(model, batch.ids, batch.soft_mask, soft)
    attention, positions, cache = batch.attention, None, None
    if head_ids:
        b, n, h = batch.ids.shape[0], batch.ids.shape[1], len(head_ids)
        cache = head_cache(model, head_ids, b)
        attention = torch.cat([attention.new_ones(b, h), attention], dim=1)
        positions = (h + torch.arange(n, device=emb.device)).expand(b, n)
    hidden = decoder(inputs_embeds=emb, attention_mask=attention, position_ids=positions,
                     **cache_kwargs(cache), use_cache=cache is not None)
    hs = hidden.last_hidden_state[batch.rows, batch.cols]  # [K, H]
    logits = lm_head(hs).float()  # [K, V]: only where the loss needs them
    return torch.log_softmax(logits, dim=-1).gather(1, batch.targets[:, None]).squeeze(1)


def answer_loss(model: Any, batch: PackedBatch, soft: torch.Tensor | None,
                head_ids: tuple[int, ...] = ()) -> torch.Tensor:
    """Mean negative log-likelihood over the answer tokens only."""
    return -target_logprobs(model, batch, soft, head_ids).mean()


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


def encode_prefix(model: Any, prompts: Sequence[EncodedPrompt], soft: torch.Tensor | None,
                  pad_id: int, use_cache: bool) -> tuple[dict[str, torch.Tensor], Any]:
    """Encode left-padded prompts; the prefix they all share is read from a cached KV."""
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
                  position_ids=packed["position_ids"], **cache_kwargs(cache),
                  use_cache=use_cache)
    return packed, out


def option_logprobs(model: Any, prompts: Sequence[EncodedPrompt], soft: torch.Tensor | None,
                    pad_id: int, *, cached: Any = None) -> list[torch.Tensor]:
    """Summed log-probability of each option's tokens (``p.continuations``) after its prompt.

    One tensor ``[K]`` per prompt, differentiable (alignment's ``options`` loss) or
    under ``torch.no_grad`` (answering). Each prompt is encoded once into a KV cache;
    the options then run in groups of similar length (:func:`uqa_align.prefix_cache.
    length_groups`: options differ in length within a question as across questions),
    each option reading its own question's rows of that cache; the LM head runs only at
    the positions that predict an option token.

    ``cached``: ``(PrefixCache, question indices, first visits)``; each prompt's frozen
    prefix is then read from the cache (:func:`uqa_align.prefix_cache.encode_cached`).
    """
    decoder, head, embed = model_parts(model)
    k = len(prompts[0].continuations)
    if any(len(p.continuations) != k for p in prompts):  # ragged: question by question
        return [option_logprobs(
            model, [p], None if soft is None else soft[i : i + 1], pad_id,
            cached=None if cached is None else (cached[0], [cached[1][i]], [cached[2][i]]),
        )[0] for i, p in enumerate(prompts)]
    if cached is not None:
        from uqa_align.prefix_cache import encode_cached

        packed, out = encode_cached(model, *cached, soft, pad_id)
    else:
        packed, out = encode_prefix(model, prompts, soft, pad_id, use_cache=True)
    device = packed["ids"].device
    conts = [c for p in prompts for c in p.continuations]  # [B*K] lists
    owners = [i for i, p in enumerate(prompts) for _ in p.continuations]
    fed = [max(len(c) - 1, 0) for c in conts]  # every option token but the last is an input
    last = out.last_hidden_state[:, -1]  # [B, H]: predicts each option's first token
    none = last.new_zeros((0, last.shape[-1]))
    states = [none] * len(conts)  # per option, the states after its fed tokens: [fed, H]
    lengths = packed["lengths"].to(device)
    if max(fed) > 0:
        from uqa_align.prefix_cache import PREFIX_CALL_TOKENS, length_groups

        cache = output_cache(out)
        # options of similar length run together, each reading its question's cache rows
        for group in length_groups(fed, PREFIX_CALL_TOKENS):
            width = max(fed[r] for r in group)
            if width == 0:
                continue
            sel = torch.tensor([owners[r] for r in group], device=device)
            ids = torch.full((len(group), width), pad_id, dtype=torch.long, device=device)
            mask = torch.zeros((len(group), width), dtype=torch.long, device=device)
            for j, r in enumerate(group):
                ids[j, : fed[r]] = torch.tensor(conts[r][: fed[r]], device=device)
                mask[j, : fed[r]] = 1
            attn = torch.cat([packed["attention"][sel], mask], dim=1)
            pos = lengths[sel][:, None] + torch.arange(width, device=device)[None, :]
            out2 = decoder(inputs_embeds=embed(ids), attention_mask=attn, position_ids=pos,
                           **cache_kwargs(_select_rows(cache, sel)), use_cache=True)
            for j, r in enumerate(group):
                states[r] = out2.last_hidden_state[j, : fed[r]]
    pred = torch.cat([torch.cat([last[o][None], s])[: len(c)]
                      for c, o, s in zip(conts, owners, states, strict=True)])
    targets = torch.tensor([t for c in conts for t in c], dtype=torch.long, device=device)
    logits = head(pred).float()  # only the scored positions
    lp = torch.log_softmax(logits, -1).gather(1, targets[:, None]).squeeze(1)
    rows = torch.tensor([r for r, c in enumerate(conts) for _ in c], dtype=torch.long,
                        device=device)
    sums = torch.zeros(len(conts), device=device).index_add(0, rows, lp)
    return list(sums.view(len(prompts), k).unbind(0))


def _select_rows(cache: Any, rows: torch.Tensor) -> Any:
    """A new transformers KV cache holding rows ``rows`` of ``cache`` (any order, repeats)."""
    return cache_of((layer.keys.index_select(0, rows), layer.values.index_select(0, rows))
                    for layer in cache.layers)


def options_loss(model: Any, prompts: Sequence[EncodedPrompt], soft: torch.Tensor | None,
                 answers: torch.Tensor, pad_id: int, *, cached: Any = None) -> torch.Tensor:
    """Cross-entropy over the options' summed log-likelihoods: the choice ``loglik``
    answering makes, trained directly (gold option index per prompt in ``answers``;
    ``cached`` as in :func:`option_logprobs`)."""
    scores = option_logprobs(model, prompts, soft, pad_id, cached=cached)
    picked = [torch.log_softmax(s, 0)[int(a)] for s, a in zip(scores, answers, strict=True)]
    return -torch.stack(picked).mean()
