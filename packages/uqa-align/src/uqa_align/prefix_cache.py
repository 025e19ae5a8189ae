"""Frozen-LLM alignment that pays only for what can change: a per-question prefix cache.

With the ``adapter`` strategy the LLM is frozen, so with the user context after
the question and options (``position="after"``) everything before the soft
tokens (system turn, question, options, marker) is the same in every epoch.
:class:`PrefixCache` encodes that prefix once per question without gradients
and keeps its keys and values (bf16, up to a memory cap); a training step then
runs the decoder, with gradients, over the soft tokens, the end of the user
turn, the assistant header and the answer only, attending to the cached prefix.

The prefix a question sees does not depend on whether it was cached: on its
prompt's first visit (epoch 0; questions with the same prompt share one) the
freshly computed float32 prefix is used; on later visits the bf16 copy (from the
cache, or recomputed and rounded the same way when the cache is full), so a
resumed run computes exactly what an uninterrupted one does. Where the LLM
computes in bf16 the fresh prefix is that copy, so alignments of the same
questions in one process can share what the first stored
(:func:`keeping_alignment_prefixes`).

Layout of one row in a training step (keys are rotated by their absolute
positions, so padding in the middle is only masked, never shifted)::

    [shared head (system turn) | prefix_i, padding | soft, after_i, target_i, padding]
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from uqa_align.kv import cache_kwargs, cache_of, output_cache
from uqa_align.prompt import EncodedPrompt
from uqa_align.soft_prompt import PackedBatch, embed_with_soft, head_cache, model_parts

STORE_DTYPE = torch.bfloat16
"""How cached prefixes are stored (half the memory of float32)."""
PREFIX_CALL_TOKENS = 32
"""What one more decoder call costs, in padded tokens, when grouping prefixes to encode."""
SUFFIX_CALL_TOKENS = 64
"""The same for a training step's suffix pass, forward and backward: on a CPU each pass
streams every weight of the frozen LLM from memory whatever the rows (measured here:
~130 ms for one row of SmolLM2, ~1 ms per further token)."""
ENCODE_BUDGET = 4096
"""Most padded tokens in one prefix-encoding call (bounds its activations)."""


def length_groups(lengths: Sequence[int], call_tokens: int, budget: int | None = None,
                  max_items: int = 64) -> list[list[int]]:
    """Split positions ``0..n-1`` into groups run as one right-padded batch each,
    minimising the padded tokens computed plus ``call_tokens`` per group.

    Positions are sorted by length, so a group is a run of similar lengths; ``budget``
    caps a group's padded tokens (``rows x longest``; a single row may exceed it) and
    ``max_items`` its rows. Exact dynamic programme over the sorted runs.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    sizes = [lengths[i] for i in order]
    n = len(sizes)
    best = [0] + [None] * n
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j - 1, max(-1, j - 1 - max_items), -1):
            padded = (j - i) * sizes[j - 1]
            if budget is not None and padded > budget and j - i > 1:
                break
            cost = best[i] + padded + call_tokens
            if best[j] is None or cost < best[j]:
                best[j], cut[j] = cost, i
    groups = []
    j = n
    while j > 0:
        groups.append(order[cut[j] : j])
        j = cut[j]
    return groups[::-1]


class PrefixCache:
    """Keys and values of each question's frozen prefix (``before`` minus the shared head).

    One tensor per question, ``[tokens, layers, 2 (keys, values), kv_heads, head_dim]``.

    :param model: the frozen causal LM.
    :param head: token ids every prompt starts with (encoded once, shared).
    :param prompts: one :class:`EncodedPrompt` per question, without the head.
    :param max_bytes: memory cap of the stored prefixes; questions beyond it are
        recomputed on every visit.
    :param exact: keep float32 copies and use them on every visit (answering, where
        scores must match the uncached path); otherwise bf16 as described above.
    :param store: the stored prefixes, keyed by the head and ``before`` token ids; pass
        another cache's ``stored`` (or :func:`shared_store`) to share them: they depend
        only on the frozen model and the tokens.
    :param sources: per prompt, longer token ids that start with its ``before``: what its
        prefix is encoded from and filed under, cut to ``before`` when used (keys and
        values at a position depend only on the tokens up to it). The ``none`` baseline
        reads the prefixes the soft-token prompts of the same questions stored this way.
    :param reuse: ``store`` holds what an earlier alignment of the same prompts, in the
        same order and groups, stored (:func:`alignment_store`), and the model's keys and
        values are already bf16: a prompt found there is read from it on its first visit
        instead of encoded, which gives the same numbers.
    """

    def __init__(self, model: Any, head: tuple[int, ...], prompts: Sequence[EncodedPrompt],
                 max_bytes: int, *, exact: bool = False,
                 store: dict[int, torch.Tensor] | None = None,
                 sources: Sequence[Sequence[int]] | None = None,
                 reuse: bool = False) -> None:
        self.model = model
        self.head = head
        self.prompts = prompts
        self.sources = sources
        if sources is not None and any(
                list(s[: len(p.before)]) != list(p.before)
                for p, s in zip(prompts, sources, strict=True)):
            raise ValueError("each source must start with its prompt's before")
        self.max_bytes = max_bytes
        self.exact = exact
        self.stored: dict[tuple[int, ...], torch.Tensor] = {} if store is None else store
        self.bytes = sum(t.numel() * t.element_size() for t in self.stored.values())
        self.full = False
        self.recomputed = 0
        self.reused = 0
        """Prompts whose first visit read the copy an earlier alignment stored (``reuse``)."""
        self.encode_seconds = 0.0
        """Wall seconds spent encoding prefixes (what a later run reading them saves)."""
        self.ahead: dict[tuple[int, ...], torch.Tensor] = {}
        self._head_kv: torch.Tensor | None = None
        self._planned: set[tuple[int, ...]] = set()  # encoded ahead (or left to the store)
        self._seen: set[tuple[int, ...]] = set()  # visited
        self._inherited = frozenset(self.stored) if reuse else frozenset()

    def source(self, i: int) -> Sequence[int]:
        """The token ids question ``i``'s prefix is encoded from (its ``before`` unless
        ``sources`` gives longer ones)."""
        return self.prompts[i].before if self.sources is None else self.sources[i]

    def key(self, i: int) -> tuple[int, ...]:
        """What question ``i``'s stored prefix is filed under: head + prefix token ids."""
        return (*self.head, -1, *self.source(i))

    def head_kv(self) -> torch.Tensor | None:
        """The shared head's KV, ``[h, layers, 2, kv_heads, head_dim]`` (None: no head)."""
        if self.head and self._head_kv is None:
            cache = head_cache(self.model, self.head, 1)
            self._head_kv = _stack(cache)[0]
        return self._head_kv

    def _encode(self, idx: Sequence[int]) -> list[torch.Tensor]:
        """Float32 prefix KV of each question in ``idx`` (right-padded batch, sliced)."""
        started = time.perf_counter()
        decoder, _, _ = model_parts(self.model)
        device = next(self.model.parameters()).device
        rows = [self.source(i) for i in idx]
        width = max(len(r) for r in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long, device=device)
        mask = torch.zeros((len(rows), width), dtype=torch.long, device=device)
        for b, r in enumerate(rows):
            ids[b, : len(r)] = torch.tensor(r, device=device)
            mask[b, : len(r)] = 1
        h = len(self.head)
        cache = head_cache(self.model, self.head, len(rows)) if h else None
        attention = torch.cat([mask.new_ones(len(rows), h), mask], 1) if h else mask
        positions = (h + torch.arange(width, device=device)).expand(len(rows), width)
        with torch.no_grad():
            out = decoder(input_ids=ids, attention_mask=attention, position_ids=positions,
                          **cache_kwargs(cache), use_cache=True)
        kv = _stack(output_cache(out))[:, h:]  # [B, width, layers, 2, kvh, hd]
        self.encode_seconds += time.perf_counter() - started
        return [kv[b, : len(r)] for b, r in enumerate(rows)]

    def encode_ahead(self, idx: Sequence[int], budget: int = ENCODE_BUDGET) -> None:
        """Encode the float32 prefixes of questions about to be visited for the first time,
        many at once in groups of similar length (:func:`length_groups`: much cheaper
        than a few per step, and little padding), one per prompt not planned before;
        each is used on its prompt's first visit and then dropped (only its stored copy
        stays). Nothing when an earlier alignment stored them all (``reuse``)."""
        todo: dict[tuple[int, ...], int] = {}  # key -> the first question with it
        for i in sorted(set(idx)):
            k = self.key(i)
            if k not in self._planned:
                self._planned.add(k)
                todo[k] = i
        if all(k in self._inherited for k in todo):
            return  # an earlier alignment encoded these same groups and stored them
        keys, rows = list(todo), list(todo.values())
        for group in length_groups([len(self.source(i)) for i in rows], PREFIX_CALL_TOKENS,
                                   budget):
            self.ahead.update(zip([keys[g] for g in group],
                                  self._encode([rows[g] for g in group]), strict=True))

    def prefixes(self, idx: Sequence[int], first_visit: Sequence[bool]) -> list[torch.Tensor]:
        """The prefix KV each question of ``idx`` uses on this visit (see the module doc):
        the fresh one on its prompt's first visit, else the stored copy."""
        keys = [self.key(i) for i in idx]
        firsts = [False] * len(idx)  # exact: float32 copies, the same on every visit
        if not self.exact:
            for j, (k, first) in enumerate(zip(keys, first_visit, strict=True)):
                if first and k not in self._seen:  # the prompt's first visit
                    firsts[j] = k not in self._inherited
                    self.reused += k in self._inherited and k not in self.ahead
                self._seen.add(k)
        fresh: dict[tuple[int, ...], torch.Tensor] = {}
        need: dict[tuple[int, ...], int] = {}
        for i, k, first in zip(idx, keys, firsts, strict=True):
            if k in self.ahead:
                fresh[k] = self.ahead.pop(k)
            elif k not in fresh and (first or k not in self.stored):
                need.setdefault(k, i)
        if need:
            fresh.update(zip(need, self._encode(list(need.values())), strict=True))
        out: dict[int, torch.Tensor] = {}
        for i, k, first in zip(idx, keys, firsts, strict=True):
            kv = fresh.get(k)
            if kv is None:
                out[i] = self.stored[k]
                continue
            rounded = kv if self.exact else kv.to(STORE_DTYPE)
            if k not in self.stored:
                size = rounded.numel() * rounded.element_size()
                if self.bytes + size <= self.max_bytes:
                    self.stored[k] = rounded.contiguous()
                    self.bytes += size
                else:
                    self.full = True
                    if not first:
                        self.recomputed += 1
            out[i] = kv if first or self.exact else rounded
        return [out[i][: len(self.prompts[i].before)] for i in idx]  # cut from sources


_SHARED: dict[tuple[str, str], dict[tuple[int, ...], torch.Tensor]] = {}


_KEEP = 0
ALIGNMENT_KIND = "align:"


def shared_store(model_key: str, kind: str) -> dict[tuple[int, ...], torch.Tensor]:
    """A process-wide store of prefixes for one frozen model (``kind``: what they are
    for, e.g. ``"answer-fp32"``), so the evaluations of a run and of its baselines
    encode each question's prefix once."""
    return _SHARED.setdefault((model_key, kind), {})


def alignment_digest(head: Sequence[int], sources: Sequence[Sequence[int]],
                     *order: object) -> str:
    """What fixes how an alignment encodes its prefixes: the head, every question's
    prefix tokens in file order, and ``order`` (seed, batch size: which questions each
    group of steps visits first, so which are encoded together)."""
    h = hashlib.sha256(repr((tuple(head), order)).encode())
    for row in sources:
        h.update(len(row).to_bytes(4, "little"))
        h.update(b"".join(int(t).to_bytes(4, "little", signed=True) for t in row))
    return h.hexdigest()[:24]


def alignment_store(model_key: str, digest: str) -> dict[tuple[int, ...], torch.Tensor] | None:
    """Inside :func:`keeping_alignment_prefixes`: the process-wide store of the bf16
    prefixes alignments filed under ``digest`` (:func:`alignment_digest`) stored, for
    an alignment to add to and read. Only one such store is kept: another digest's is
    dropped. None outside the block (an alignment then keeps a store of its own)."""
    if not _KEEP:
        return None
    kind = ALIGNMENT_KIND + digest
    release_alignment_prefixes(but=(model_key, kind))
    return shared_store(model_key, kind)


def release_alignment_prefixes(but: tuple[str, str] | None = None) -> None:
    """Drop every alignment's stored prefixes (not the answering stores) but ``but``'s."""
    for key in [k for k in _SHARED if k[1].startswith(ALIGNMENT_KIND) and k != but]:
        del _SHARED[key]


@contextlib.contextmanager
def keeping_alignment_prefixes() -> Iterator[None]:
    """Keep what each alignment in the block stores of its frozen prefixes for the
    alignments after it: one over the same questions, seed and batch size with a frozen
    LLM computing in bf16 then reads them instead of encoding them in its first epoch,
    with the same results. ``uqa run`` with baselines to align and the studies run
    their stages in one; the outermost block drops the store when it ends."""
    global _KEEP
    _KEEP += 1
    try:
        yield
    finally:
        _KEEP -= 1
        if not _KEEP:
            release_alignment_prefixes()


def _stack(cache: Any) -> torch.Tensor:
    """A transformers cache as one tensor ``[B, tokens, layers, 2, kv_heads, head_dim]``."""
    layers = [torch.stack([layer.keys, layer.values], 0) for layer in cache.layers]
    return torch.stack(layers, 0).permute(2, 4, 0, 1, 3, 5)  # [B, T, L, 2, kvh, hd]


def cached_target_logprobs(model: Any, cache: PrefixCache, idx: Sequence[int],
                           first_visit: Sequence[bool], targets: Sequence[Sequence[int]],
                           soft: torch.Tensor | None, pad_id: int,
                           call_tokens: int | None = SUFFIX_CALL_TOKENS) -> torch.Tensor:
    """Log-probability of every target token of the questions ``idx`` (``[K]``, float32,
    question by question, token by token), reading each question's frozen prefix from
    ``cache``.

    The questions run in groups of similar suffix length (:func:`length_groups` with
    ``call_tokens``; None: one batch), each its own padded batch: the same values as
    one batch up to float rounding, with far less padding when answers differ in length.
    """
    widths = [cache.prompts[i].n_soft + len(cache.prompts[i].after) + len(t) - 1
              for i, t in zip(idx, targets, strict=True)]
    groups = None if call_tokens is None else length_groups(widths, call_tokens)
    if groups is None or len(groups) == 1:
        return _target_logprobs(model, cache, idx, first_visit, targets, soft, pad_id)
    parts: list[torch.Tensor | None] = [None] * len(idx)
    for group in groups:
        lp = _target_logprobs(model, cache, [idx[g] for g in group],
                              [first_visit[g] for g in group], [targets[g] for g in group],
                              None if soft is None else soft[group], pad_id)
        for g, piece in zip(group, lp.split([len(targets[g]) for g in group]), strict=True):
            parts[g] = piece
    return torch.cat(parts)


def _target_logprobs(model: Any, cache: PrefixCache, idx: Sequence[int],
                     first_visit: Sequence[bool], targets: Sequence[Sequence[int]],
                     soft: torch.Tensor | None, pad_id: int) -> torch.Tensor:
    """:func:`cached_target_logprobs` of one padded batch."""
    decoder, lm_head, _ = model_parts(model)
    device = next(model.parameters()).device
    prompts = [cache.prompts[i] for i in idx]
    b = len(prompts)
    # suffix rows: soft placeholders + after + target but its last token, which predicts
    # nothing scored (right-padded)
    seqs, soft_rows, rows, cols, tgts = [], [], [], [], []
    for j, (p, t) in enumerate(zip(prompts, targets, strict=True)):
        seqs.append([*([pad_id] * p.n_soft), *p.after, *t[:-1]])
        soft_rows.append([True] * p.n_soft + [False] * (len(p.after) + len(t[:-1])))
        for m, tok in enumerate(t):
            rows.append(j)
            cols.append(p.n_soft + len(p.after) + m - 1)
            tgts.append(int(tok))
    s_width = max(len(x) for x in seqs)
    ids = torch.full((b, s_width), pad_id, dtype=torch.long)
    soft_mask = torch.zeros((b, s_width), dtype=torch.bool)
    s_att = torch.zeros((b, s_width), dtype=torch.long)
    for j, (x, m) in enumerate(zip(seqs, soft_rows, strict=True)):
        ids[j, : len(x)] = torch.tensor(x)
        soft_mask[j, : len(m)] = torch.tensor(m)
        s_att[j, : len(x)] = 1
    packed = PackedBatch(ids, soft_mask, s_att, torch.tensor(rows), torch.tensor(cols),
                         torch.tensor(tgts), torch.zeros(b, dtype=torch.long)).to(device)
    kv, attention, lengths = _prefix_kv(model, cache, idx, first_visit)
    attention = torch.cat([attention, packed.attention], 1)
    h = len(cache.head)
    positions = h + lengths[:, None] + torch.arange(s_width, device=device)[None, :]
    emb = embed_with_soft(model, packed.ids, packed.soft_mask, soft)
    out = decoder(inputs_embeds=emb, attention_mask=attention, position_ids=positions,
                  **cache_kwargs(kv), use_cache=True)
    hs = out.last_hidden_state[packed.rows, packed.cols]
    logits = lm_head(hs).float()
    return torch.log_softmax(logits, dim=-1).gather(1, packed.targets[:, None]).squeeze(1)


def _prefix_kv(model: Any, cache: PrefixCache, idx: Sequence[int], first_visit: Sequence[bool]
               ) -> tuple[Any, torch.Tensor, torch.Tensor]:
    """A transformers KV cache holding the shared head and each question's prefix (left
    aligned, padded), its attention mask ``[B, h + P]`` and the prefix lengths
    (without the head) ``[B]``."""
    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    b = len(idx)
    prefixes = torch.nn.utils.rnn.pad_sequence(
        [p.to(device=device, dtype=dtype) for p in cache.prefixes(idx, first_visit)],
        batch_first=True)  # [B, P, layers, 2, kvh, hd]
    head = cache.head_kv()
    h = 0 if head is None else head.shape[0]
    if head is not None:
        prefixes = torch.cat([head.to(dtype)[None].expand(b, *head.shape), prefixes], 1)
    kv_all = prefixes.permute(2, 3, 0, 4, 1, 5).contiguous()  # [layers, 2, B, kvh, h+P, hd]
    kv = cache_of((layer[0], layer[1]) for layer in kv_all)
    lengths = torch.tensor([len(cache.prompts[i].before) for i in idx], device=device)
    p_width = prefixes.shape[1] - h
    p_att = (torch.arange(p_width, device=device)[None, :] < lengths[:, None]).long()
    return kv, torch.cat([p_att.new_ones(b, h), p_att], 1), lengths


def encode_cached(model: Any, cache: PrefixCache, idx: Sequence[int],
                  first_visit: Sequence[bool], soft: torch.Tensor | None, pad_id: int
                  ) -> tuple[dict[str, torch.Tensor], Any]:
    """Like :func:`uqa_align.soft_prompt.encode_prefix`, with each question's frozen
    prefix read from ``cache``: only the soft tokens and ``after`` run through the
    decoder. Returns ``({"attention", "lengths", "ids"}, decoder output)``; the last
    position of every row is its prompt's last token (suffixes are left-padded)."""
    decoder, _, _ = model_parts(model)
    device = next(model.parameters()).device
    prompts = [cache.prompts[i] for i in idx]
    kv, p_att, lengths = _prefix_kv(model, cache, idx, first_visit)
    rows = [[*([pad_id] * p.n_soft), *p.after] for p in prompts]
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long, device=device)
    soft_mask = torch.zeros((len(rows), width), dtype=torch.bool, device=device)
    s_att = torch.zeros((len(rows), width), dtype=torch.long, device=device)
    for j, (r, p) in enumerate(zip(rows, prompts, strict=True)):
        off = width - len(r)
        ids[j, off:] = torch.tensor(r, device=device)
        soft_mask[j, off : off + p.n_soft] = True
        s_att[j, off:] = 1
    h = len(cache.head)
    pad = (width - s_att.sum(1))  # left padding of each suffix
    positions = (h + lengths - pad)[:, None] + torch.arange(width, device=device)[None, :]
    emb = embed_with_soft(model, ids, soft_mask, soft)
    attention = torch.cat([p_att, s_att], 1)
    out = decoder(inputs_embeds=emb, attention_mask=attention, position_ids=positions,
                  **cache_kwargs(kv), use_cache=True)
    total = h + lengths + s_att.sum(1)  # the next position id of every row
    return {"attention": attention, "lengths": total, "ids": ids}, out
