"""Alignment: train the adapter (and LoRA / the LLM, by strategy) on the questions' answers.

A recipe in the torchtune sense: :class:`AlignRecipe` validates the config,
``setup`` loads questions, embeddings and the LLM, ``train`` runs the steps,
``save_checkpoint`` writes resumable state, ``save`` the final ``adapter/``.
The loss (``AlignConfig.loss``) is ``answer``: the negative log-likelihood of the gold
answer's tokens (the option text for ``loglik``, the letter for ``letters``/``generate``),
or ``options`` (``loglik`` only): cross-entropy over every option's summed
log-likelihood, so the gold option must beat the others. Non-finite losses or
gradients skip the step; ``max_bad_steps`` in a row stop training with
:class:`~uqa_data.errors.TrainingDivergedError`, keeping the last good weights.
Under ``torchrun`` every rank takes a slice of each batch and gradients are
all-reduced (data parallel; gloo on CPU, nccl on GPU).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from uqa_data.distributed import init_process_group
from uqa_data.errors import TrainingDivergedError, UqaInputError
from uqa_data.precision import BF16_PRECISIONS, LLM_PRECISIONS
from uqa_data.presets import config_from_preset
from uqa_data.settings import (
    SettingError,
    check_at_least,
    check_choice,
    check_non_negative,
    check_positive,
    check_resume_settings,
    field_defaults,
)

from uqa_align.adapter_files import ADAPTER_WEIGHTS, CHECKPOINT_DIR, LLM_WEIGHTS, LORA_DIR
from uqa_align.averaging import WeightAverage
from uqa_align.llm import pad_id
from uqa_align.prompt import (
    LETTERS,
    MODES,
    POSITIONS,
    EncodedPrompt,
    PromptBuilder,
    PromptStyle,
    decisive_continuations,
)
from uqa_align.strategies import check_fsdp, check_strategy

log = logging.getLogger(__name__)

AHEAD = 8
"""Steps whose first-visit prefixes are encoded together (frozen-LLM prefix cache)."""
RESUME_MAY_CHANGE = ("checkpoint_every", "threads", "prefix_cache_gb")
"""Settings a resumed alignment may change: none changes a number trained."""

LOSSES = ("answer", "answer_sum", "options", "choice")
OPTION_LOSSES = ("options", "choice")


@dataclass
class AlignConfig:
    """Alignment settings (resolved into ``run.json`` and ``adapter/config.json``).

    :param llm: LLM source: a registered name (``smollm2``) or a local HF directory.
    :param adapter: registered adapter name (``mean_linear``, ``qformer``).
    :param adapter_options: options of the adapter's config (e.g. ``num_tokens``).
    :param strategy: ``adapter``, ``lora`` or ``full``.
    :param mode: answering mode the loss matches: ``loglik``, ``letters``, ``generate``.
    :param loss: ``answer`` (negative log-likelihood of the gold answer's tokens,
        averaged over tokens), ``answer_sum`` (summed over each answer's tokens, averaged
        over questions: a long answer counts once, as in ``loglik`` answering),
        ``options`` (``loglik`` only: cross-entropy over every option's summed
        log-likelihood, the comparison ``loglik`` answering makes) or ``choice``
        (``options`` over each option's tokens up to the first that no other option
        shares at that position: what tells the options apart, without the tokens
        the LLM then copies from the options in the prompt).
    :param steps: optimizer steps (ignored when ``epochs`` is set).
    :param epochs: passes over the alignment questions; sets ``steps`` to
        ``ceil(epochs * questions / batch_size)`` once the questions are read.
    :param batch_size: questions per step (global, across ranks).
    :param lr: adapter learning rate (AdamW).
    :param llm_lr: learning rate of LoRA / LLM parameters.
    :param weight_decay: AdamW weight decay.
    :param warmup_steps: linear warm-up, then cosine decay to 10%.
    :param grad_clip: max global gradient norm.
    :param seed: seeds initialisation and batch order.
    :param text_history: >0 renders the last N clicks as text instead of soft
        tokens (``text20``/``text50`` baselines; needs ``lora`` or ``full``).
    :param use_embeddings: False trains without user context (``none``).
    :param embedding_column: ``embeddings`` (per position) or ``embedding`` (pooled).
    :param lora_r: LoRA rank. :param lora_alpha: LoRA alpha.
    :param max_bad_steps: consecutive non-finite steps before stopping.
    :param checkpoint_every: steps between resumable checkpoints (0: never).
    :param max_questions: use only the first N alignment questions.
    :param system: system message. :param marker: text before the user context.
    :param position: user context ``after`` the options (default) or ``before`` the
        question. ``after`` with the ``adapter`` strategy lets the frozen prefix be cached.
    :param precision: the frozen LLM's numbers: ``fp32``, ``bf16`` (``adapter``
        strategy only; the LLM is cast in place, so its residual stream, norms and
        attention run in bf16 too), ``bf16-mixed`` (``adapter`` only; bf16 matrix
        products, everything between them fp32: :func:`uqa_align.llm.set_precision`), or
        ``auto``: bf16 where the device computes it natively and the LLM is wide enough
        to gain from it (:func:`uqa_align.llm.resolve_precision`), else fp32.
    :param soft_norm: scale every soft token to the mean norm of the LLM's token
        embeddings (times a learned gain), so the user context is neither drowned
        out nor deafening whatever the scale of the embeddings.
    :param prefix_cache_gb: memory cap (GiB) of the cached per-question prefixes (bf16)
        of a frozen LLM (``adapter`` strategy, ``after`` position, either loss);
        questions beyond it are re-encoded, without gradients, on every visit (as
        every question is under ``fsdp``).
    :param fsdp: under ``torchrun``, shard the frozen LLM's layers across ranks
        (FSDP2) instead of keeping a whole copy per rank; ``adapter``/``lora`` only.
    :param threads: torch CPU threads (None: torch's default; 1 is fastest on a
        shared, oversubscribed CPU).
    :param ema: decay of a moving average of the adapter's weights that replaces them
        at the end (:mod:`uqa_align.averaging`; 0: off, 0.99 averages about the last
        100 steps); LoRA or LLM weights are not averaged.
    """

    llm: str = "smollm2"
    adapter: str = "mean_linear"
    adapter_options: dict[str, Any] = field(default_factory=dict)
    strategy: str = "adapter"
    mode: str = "loglik"
    loss: str = "answer"
    steps: int = 160
    epochs: float | None = None
    batch_size: int = 8
    lr: float = 5e-3
    llm_lr: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 10
    grad_clip: float = 1.0
    seed: int = 0
    text_history: int = 0
    use_embeddings: bool = True
    embedding_column: str = "embeddings"
    lora_r: int = 8
    lora_alpha: int = 16
    max_bad_steps: int = 10
    checkpoint_every: int = 50
    max_questions: int | None = None
    system: str = PromptStyle.system
    marker: str = PromptStyle.marker
    position: str = PromptStyle.position
    fsdp: bool = False
    prefix_cache_gb: float = 6.0
    soft_norm: bool = True
    precision: str = "auto"
    threads: int | None = None
    ema: float = 0.0

    @classmethod
    def from_preset(cls, name: str = "default", **overrides: Any) -> AlignConfig:
        """Preset ``tiny``/``small``/``default``/``full`` with ``overrides`` applied; a
        ``steps`` override without ``epochs`` replaces a preset's epochs."""
        config = config_from_preset(cls, ALIGN_PRESETS, name, overrides, what="align")
        if overrides.get("steps") is not None and overrides.get("epochs") is None:
            config = replace(config, epochs=None)
        return config

    def validate(self) -> None:
        """Reject bad combinations before anything heavy loads."""
        check_strategy(self.strategy)
        for key, valid, noun, flag in (("mode", MODES, "answering mode", "--mode"),
                                       ("position", POSITIONS, "user-context position",
                                        "--position"),
                                       ("loss", LOSSES, "alignment loss", "--loss"),
                                       ("precision", LLM_PRECISIONS, "precision",
                                        "--set align.precision")):
            check_choice(self, "align", key, valid, noun, flag)
        if self.loss in OPTION_LOSSES and self.mode != "loglik":
            raise UqaInputError(f"--loss {self.loss} scores option texts: it needs --mode "
                                f"loglik, not {self.mode}")
        check_at_least(self, "align", 0, "steps", "warmup_steps", "text_history",
                       "checkpoint_every", "seed")
        check_at_least(self, "align", 1, "batch_size", "lora_r", "max_bad_steps",
                       "max_questions", "threads")
        check_positive(self, "align", "lr", "llm_lr", "grad_clip", "lora_alpha", "epochs")
        check_non_negative(self, "align", "weight_decay", "prefix_cache_gb", "ema")
        if self.ema >= 1:
            raise SettingError("align", "ema", self.ema, "a number in [0, 1)")
        from uqa_align.adapters.base import check_adapter_options

        check_adapter_options(self.adapter, self.adapter_options)
        if self.text_history and self.strategy == "adapter":
            raise UqaInputError(
                f"a text history (text{self.text_history}) has no adapter to train: "
                "use --strategy lora (the text baselines' setting) or full"
            )
        if self.fsdp:
            check_fsdp(self.strategy)
        if self.precision in BF16_PRECISIONS and self.strategy != "adapter":
            raise UqaInputError(f"--precision {self.precision} rounds the LLM's weights to "
                                f"bf16, which --strategy {self.strategy} trains: use fp32 "
                                "(or auto)")
        if self.embedding_column not in ("embeddings", "embedding"):
            raise UqaInputError("embedding_column must be 'embeddings' or 'embedding'")

    @property
    def style(self) -> PromptStyle:
        return PromptStyle(system=self.system, marker=self.marker, mode=self.mode,
                           position=self.position)

    @property
    def uses_adapter(self) -> bool:
        return self.use_embeddings and not self.text_history

    @property
    def caches_prefix(self) -> bool:
        """Whether training reads each question's frozen prefix from a cache."""
        return self.uses_adapter and self.strategy == "adapter" and self.position == "after"


ALIGN_PRESETS: dict[str, AlignConfig] = {
    "tiny": AlignConfig(steps=8, batch_size=4, warmup_steps=2, checkpoint_every=0),
    "small": AlignConfig(steps=80, batch_size=8),
    # two epochs over the default questions' 4,200 alignment questions (recipe e2)
    "default": AlignConfig(epochs=2),
    "full": AlignConfig(steps=2000, batch_size=32, lr=1e-3, checkpoint_every=200),
}


def _lr_factor(step: int, config: AlignConfig) -> float:
    if step < config.warmup_steps:
        return (step + 1) / max(1, config.warmup_steps)
    span = max(1, config.steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / span)
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))


def batch_indices(n: int, step: int, batch_size: int, seed: int) -> np.ndarray:
    """The questions of ``step``: epochs of seeded permutations, so resuming repeats them."""
    out = []
    start = step * batch_size
    while len(out) < batch_size:
        epoch, offset = divmod(start, n)
        perm = np.random.default_rng([seed, epoch]).permutation(n)
        take = perm[offset : offset + batch_size - len(out)]
        out.extend(take.tolist())
        start += len(take)
    return np.asarray(out, dtype=np.int64)


class AlignRecipe:
    """One alignment run: ``setup()``, ``train()``, ``save()``, ``cleanup()``."""

    def __init__(self, config: AlignConfig, adapter_dir: Path, *, resume: bool = False) -> None:
        config.validate()
        self.config = config
        self.adapter_dir = Path(adapter_dir)
        self.resume = resume
        self.step = 0
        self.losses: list[float] = []
        self.skipped = 0
        self.average: WeightAverage | None = None
        self.rank, self.world = _dist_info()
        self.scalars: Any = None  # uqa_data.scalars.ScalarLog (--log-dir), rank 0

    # -- setup -------------------------------------------------------------------
    def setup(self, questions_path: Path, embeddings_path: Path | None,
              data_dir: Path | None, *, llm: Any = None) -> None:
        import torch

        from uqa_align.llm import load_llm
        from uqa_align.question_set import read_questions
        from uqa_align.strategies import apply_strategy, check_trainables

        c = self.config
        if c.threads:
            torch.set_num_threads(c.threads)
        torch.manual_seed(c.seed)
        self.qs = read_questions(questions_path, limit=c.max_questions)
        if c.epochs is not None:  # a number of passes: steps follow from the question count
            c = self.config = replace(c, steps=math.ceil(c.epochs * len(self.qs) / c.batch_size))
        self.users = None
        if c.uses_adapter:
            if embeddings_path is None:
                raise UqaInputError("alignment with an adapter needs --embeddings")
            from uqa_align.user_embeddings import UserEmbeddings

            self.users = UserEmbeddings.from_file(embeddings_path, prefer=c.embedding_column)
            self.users.check_users(self.qs.user_ids, questions_path)
        self.llm = llm if llm is not None else load_llm(c.llm)
        self.device = next(self.llm.model.parameters()).device
        from uqa_align.llm import resolve_precision, set_precision

        self.precision = resolve_precision(c.precision, self.device,
                                           frozen=c.strategy == "adapter",
                                           hidden=self.llm.hidden_size, what="alignment")
        set_precision(self.llm, self.precision)
        if c.strategy == "adapter" and self.device.type == "cpu":
            # gradients through a frozen LLM: plain products beat CPU sdpa's backward
            from uqa_align.attention import use_cpu_attention

            use_cpu_attention(self.llm.model)
        self.builder = PromptBuilder(self.llm.tokenizer, c.style)
        self.adapter = None
        if self.users is not None:
            from uqa_align.adapters import build_adapter

            torch.manual_seed(c.seed)  # after the LLM loads: its loading may draw numbers
            self.adapter = build_adapter(c.adapter, self.users.dim, self.llm.hidden_size,
                                         c.adapter_options)
            emb, mask = self.users.gather(self.qs.user_ids, self.qs.history_lens)
            self.adapter.fit_input_stats(torch.from_numpy(emb), torch.from_numpy(mask))
            if c.soft_norm:  # soft tokens as loud as the LLM's own token embeddings
                table = self.llm.model.get_input_embeddings().weight
                self.adapter.set_output_norm(float(table.detach().float().norm(dim=1).mean()))
            self.adapter.to(self.device)
        texts = (history_texts_for(self.qs, data_dir, c.text_history)
                 if c.text_history else [None] * len(self.qs))
        n_soft = self.adapter.num_tokens if self.adapter is not None else 0
        self.prompts = [
            self.builder.encode(q, o, n_soft=n_soft, history_text=t)
            for q, o, t in zip(self.qs.questions, self.qs.options, texts, strict=True)
        ]
        if c.loss == "choice":  # each option up to the token that tells it from the others
            for p in self.prompts:
                p.continuations = decisive_continuations(p.continuations)
        self.targets = [self.builder.target(o, LETTERS[a])
                        for o, a in zip(self.qs.options, self.qs.answers, strict=True)]
        self.llm.model = apply_strategy(self.llm.model, c.strategy, lora_r=c.lora_r,
                                        lora_alpha=c.lora_alpha)
        # A frozen LLM sees the same system turn + user header in every prompt: encode
        # it once (KV cache) and train on the rest of each sequence.
        self.head: tuple[int, ...] = ()
        self.prefix_cache = None
        if c.strategy == "adapter" and (c.loss not in OPTION_LOSSES or c.caches_prefix):
            from uqa_align.soft_prompt import MIN_SHARED_HEAD, shared_head

            h = shared_head(self.prompts)
            if h >= MIN_SHARED_HEAD:
                self.head = tuple(self.prompts[0].before[:h])
                self.prompts = [EncodedPrompt(p.before[h:], p.n_soft, p.after, p.continuations)
                                for p in self.prompts]
        if c.caches_prefix:
            from uqa_align.prefix_cache import PrefixCache

            # Sharded layers compute collectively: every rank re-encodes its slice's
            # prefixes every step (nothing stored), so all ranks call the LLM alike.
            # When no question is visited twice (one epoch or less) nothing would read a
            # stored copy back, so nothing is stored.
            revisits = c.steps * c.batch_size > len(self.qs)
            cap = (0 if (c.fsdp and self.world > 1) or not revisits
                   else int(c.prefix_cache_gb * 2**30))
            store = self._kept_store() if cap and self.world == 1 else None
            self.prefix_cache = PrefixCache(self.llm.model, self.head, self.prompts, cap,
                                            store=store, reuse=store is not None)
        self.counts = check_trainables(self.llm.model, self.adapter, c.strategy)
        if c.fsdp and self.world > 1:
            from uqa_align.strategies import shard_llm

            self.counts["fsdp_sharded_layers"] = shard_llm(self.llm.model, c.strategy)
        elif c.fsdp:
            log.warning("--fsdp needs torchrun with 2 or more processes; running unsharded")
        groups = []
        if self.adapter is not None:
            groups.append({"params": list(self.adapter.parameters()), "lr": c.lr})
        llm_params = [p for p in self.llm.model.parameters() if p.requires_grad]
        if llm_params:
            groups.append({"params": llm_params, "lr": c.llm_lr})
        self.params = [p for g in groups for p in g["params"]]
        self.optimizer = torch.optim.AdamW(groups, weight_decay=c.weight_decay)
        for g in self.optimizer.param_groups:
            g["base_lr"] = g["lr"]
        if c.ema and self.adapter is not None:
            self.average = WeightAverage(self.adapter, c.ema)
        if self.resume:
            self._load_checkpoint()
            self._replay_prefix_cache()

    def _kept_store(self) -> dict | None:
        """Inside :func:`uqa_align.prefix_cache.keeping_alignment_prefixes`, with a frozen
        LLM whose keys and values are bf16 (so a stored copy is exactly what a first
        visit computes): the store earlier alignments of the same prompts, seed and
        batch size filled. Otherwise None (a store of its own)."""
        from uqa_align.llm import model_key, numerics
        from uqa_align.prefix_cache import STORE_DTYPE, alignment_digest, alignment_store

        if numerics(self.llm.model) != str(STORE_DTYPE):
            return None
        digest = alignment_digest(self.head, [p.before for p in self.prompts],
                                  self.config.seed, self.config.batch_size)
        return alignment_store(model_key(self.llm), digest)

    # -- train -------------------------------------------------------------------
    def soft_tokens(self, idx: np.ndarray) -> Any:
        import torch

        if self.adapter is None or self.users is None:
            return None
        emb, mask = self.users.gather(self.qs.user_ids[idx], self.qs.history_lens[idx])
        return self.adapter(torch.from_numpy(emb).to(self.device),
                            torch.from_numpy(mask).to(self.device))

    def train(self) -> None:
        import torch
        from uqa_data.progress import StageBar, stage_progress

        c = self.config
        pad = pad_id(self.llm.tokenizer)
        amp = self.device.type == "cuda"
        self.llm.model.train(c.strategy != "adapter")  # frozen LLM stays in eval mode
        if self.adapter is not None:
            self.adapter.train()
        bad_in_row = 0
        progress = (stage_progress(f"align {self._what()} ({self.precision})", total=c.steps)
                    if self.rank == 0
                    else contextlib.nullcontext(StageBar(None, None)))
        with progress as bar:
            bar.update(completed=self.step)
            while self.step < c.steps:
                idx = self._step_indices(self.step)
                self._encode_ahead()
                factor = _lr_factor(self.step, c)
                for g in self.optimizer.param_groups:
                    g["lr"] = g["base_lr"] * factor
                self.optimizer.zero_grad(set_to_none=True)
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
                    loss, weight = self._loss(idx, pad)
                if self.world > 1:  # each rank's share of the global mean, not a mean of means
                    loss = loss * (weight * self.world / _sum_over_ranks(weight))
                ok = bool(torch.isfinite(loss))
                if ok or self.world > 1:
                    loss.backward()
                    _all_reduce_grads(self.params, self.world)
                    norm = torch.nn.utils.clip_grad_norm_(self.params, c.grad_clip)
                    ok = ok and bool(torch.isfinite(norm))
                if ok:
                    self.optimizer.step()
                    if self.average is not None:
                        self.average.update()
                    bad_in_row = 0
                    self.losses.append(_mean_over_ranks(float(loss.detach()), self.world))
                    if self.scalars is not None:
                        self.scalars.step(self.step + 1, loss=self.losses[-1], grad_norm=float(
                            norm), lr=self.optimizer.param_groups[0]["lr"])
                else:
                    self.skipped += 1
                    bad_in_row += 1
                    log.warning("align step %d: non-finite loss or gradient; step skipped",
                                self.step)
                    if bad_in_row >= c.max_bad_steps:
                        self.optimizer.zero_grad(set_to_none=True)
                        self.save(diverged=True)
                        raise TrainingDivergedError(
                            f"alignment diverged: {bad_in_row} steps in a row had a non-finite "
                            f"loss or gradient (at step {self.step}); kept the last good "
                            f"weights in {self.adapter_dir}. Lower --lr (now {c.lr}) or "
                            "--grad-clip, or use the mean_linear adapter"
                        )
                self.step += 1
                recent = self.losses[-10:]
                bar.advance(loss=f"{np.mean(recent):.3f}" if recent else "nan")
                if c.checkpoint_every and self.step % c.checkpoint_every == 0 \
                        and self.step < c.steps:
                    self.save_checkpoint()
        if self.average is not None:
            self.average.copy_to_module()

    def _loss(self, idx: np.ndarray, pad: int) -> tuple[Any, int]:
        """The configured loss of the questions ``idx`` (this rank's slice of a step) and
        how many terms it averages (answer tokens, or questions for the options loss)."""
        import torch

        from uqa_align.soft_prompt import options_loss, pack_right, target_logprobs

        if self.prefix_cache is not None and self.config.loss in OPTION_LOSSES:
            first = self._first_visits(idx)
            answers = torch.as_tensor(self.qs.answers[idx])
            return options_loss(self.llm.model, [self.prompts[i] for i in idx],
                                self.soft_tokens(idx), answers, pad,
                                cached=(self.prefix_cache, idx.tolist(), first)), len(idx)
        if self.prefix_cache is not None:
            from uqa_align.prefix_cache import cached_target_logprobs

            first = self._first_visits(idx)
            targets = [self.targets[i] for i in idx]
            lp = cached_target_logprobs(self.llm.model, self.prefix_cache, idx.tolist(), first,
                                        targets, self.soft_tokens(idx), pad)
            rows = torch.repeat_interleave(torch.tensor([len(t) for t in targets]))
            return self._answer_term(lp, rows.to(lp.device), len(idx))
        prompts = [self.prompts[i] for i in idx]
        if self.config.loss in OPTION_LOSSES:
            answers = torch.as_tensor(self.qs.answers[idx])
            return (options_loss(self.llm.model, prompts, self.soft_tokens(idx), answers, pad),
                    len(idx))
        batch = pack_right(prompts, [self.targets[i] for i in idx], pad).to(self.device)
        lp = target_logprobs(self.llm.model, batch, self.soft_tokens(idx), self.head)
        return self._answer_term(lp, batch.rows, len(idx))

    def _answer_term(self, lp: Any, rows: Any, questions: int) -> tuple[Any, int]:
        """The answer loss from target-token log-probabilities ``lp [K]`` (``rows``: each
        token's question) and how many terms it averages."""
        if self.config.loss == "answer_sum":
            per_question = lp.new_zeros(questions).index_add(0, rows, lp)
            return -per_question.mean(), questions
        return -lp.mean(), len(lp)

    def _encode_ahead(self) -> None:
        """Every ``AHEAD`` steps, encode the prefixes the next ``AHEAD`` steps visit for
        the first time in large batches (not under FSDP, whose ranks must call alike)."""
        c = self.config
        if (self.prefix_cache is None or self.step % AHEAD or c.fsdp
                or self.step * c.batch_size >= len(self.qs)):
            return
        idx = np.concatenate([
            self._step_indices(s) for s in range(self.step, min(self.step + AHEAD, c.steps))])
        first = [i for i, p in zip(idx, self._positions(self.step, len(idx)), strict=True)
                 if p < len(self.qs)]
        self.prefix_cache.encode_ahead(first)

    def _replay_prefix_cache(self) -> None:
        """After a resume, refill the prefix cache exactly as the steps already run filled
        it (the same length-sorted batches, the same bf16 copies), without training: a
        prefix's float32 rounding depends on the batch it was encoded in, so this is what
        makes a resumed run end with the same weights as an uninterrupted one."""
        c = self.config
        if self.prefix_cache is None or c.fsdp or self.step == 0:
            return
        resumed = self.step
        # With nothing stored, only the group of steps encoded ahead together matters.
        start = 0 if self.prefix_cache.max_bytes else resumed - resumed % AHEAD
        log.info("rebuilding the prefix cache of %d steps already run", resumed - start)
        try:
            for s in range(start, resumed):
                self.step = s
                idx = self._step_indices(s)
                self._encode_ahead()
                first = self._first_visits(idx)
                self.prefix_cache.prefixes(idx.tolist(), first)
        finally:
            self.step = resumed

    def _positions(self, step: int, count: int) -> list[int]:
        c = self.config
        start = step * c.batch_size
        return np.arange(start, start + count * self.world)[self.rank :: self.world][:count]

    def _step_indices(self, step: int) -> np.ndarray:
        """This rank's slice of the questions of ``step``."""
        c = self.config
        return batch_indices(len(self.qs), step, c.batch_size, c.seed)[self.rank :: self.world]

    def _first_visits(self, idx: np.ndarray) -> list[bool]:
        """For each question of this rank's slice of the step: is it its first visit?"""
        return [p < len(self.qs) for p in self._visits(idx)]

    def _visits(self, idx: np.ndarray) -> list[int]:
        """For each question of this rank's slice of the step, its position in the
        concatenated epochs (< number of questions: its first visit)."""
        c = self.config
        start = self.step * c.batch_size
        positions = np.arange(start, start + c.batch_size)[self.rank :: self.world]
        return positions[: len(idx)].tolist()

    # -- checkpoints ---------------------------------------------------------------
    def _trainable_state(self) -> dict[str, Any]:
        state = {}
        if self.adapter is not None:
            state.update({f"adapter.{k}": v for k, v in self.adapter.state_dict().items()})
        state.update({f"llm.{n}": p.detach() for n, p in self.llm.model.named_parameters()
                      if p.requires_grad})
        if self.average is not None:
            state.update(self.average.state())
        return state

    def save_checkpoint(self) -> None:
        """Trainable weights, optimizer state and progress under ``adapter/checkpoint/``."""
        if self.rank:
            return
        import torch
        from safetensors.torch import save_file
        from uqa_data.io import atomic_path, write_json

        ck = self.adapter_dir / CHECKPOINT_DIR
        with atomic_path(ck / "state.safetensors") as tmp:
            save_file({k: v.contiguous().cpu() for k, v in self._trainable_state().items()},
                      str(tmp))
        with atomic_path(ck / "optimizer.pt") as tmp:
            torch.save(self.optimizer.state_dict(), tmp)
        with atomic_path(ck / "rng.pt") as tmp:  # adapter dropout draws from it
            torch.save(torch.get_rng_state(), tmp)
        write_json({"step": self.step, "losses": self.losses, "skipped": self.skipped,
                    "config": asdict(self.config)}, ck / "progress.json")

    def _load_checkpoint(self) -> None:
        import torch
        from safetensors.torch import load_file
        from uqa_data.io import read_json
        from uqa_data.progress import console

        ck = self.adapter_dir / CHECKPOINT_DIR
        if not (ck / "progress.json").is_file():
            console.print(f"  no alignment checkpoint in {ck} yet; starting from step 0",
                          highlight=False)
            return
        progress = read_json(ck / "progress.json", "alignment checkpoint")
        check_resume_settings(progress.get("config", {}), asdict(self.config), ck,
                              ignore=RESUME_MAY_CHANGE, defaults=field_defaults(AlignConfig))
        state = load_file(str(ck / "state.safetensors"), device=str(self.device))
        if self.adapter is not None:
            self.adapter.load_state_dict(
                {k[len("adapter."):]: v for k, v in state.items() if k.startswith("adapter.")})
        if self.average is not None:
            if not self.average.held_in(state):  # its settings say ema, its weights do not
                raise UqaInputError(f"{ck / 'state.safetensors'}: --resume: holds no moving "
                                    f"average of the adapter's weights although align.ema is "
                                    f"{self.config.ema}; the checkpoint is incomplete: drop "
                                    "--resume to start over")
            self.average.load(state)
        named = dict(self.llm.model.named_parameters())
        with torch.no_grad():
            for k, v in state.items():
                if k.startswith("llm."):
                    named[k[len("llm."):]].copy_(v)
        self.optimizer.load_state_dict(
            torch.load(ck / "optimizer.pt", weights_only=True, map_location=self.device))
        for g in self.optimizer.param_groups:
            g.setdefault("base_lr", g["lr"])
        self.step = int(progress["step"])
        self.losses = list(progress.get("losses", []))
        self.skipped = int(progress.get("skipped", 0))
        if (ck / "rng.pt").is_file():
            torch.set_rng_state(torch.load(ck / "rng.pt", weights_only=True))
        console.print(f"  resuming alignment at step {self.step} of {self.config.steps} "
                      f"from {ck}", highlight=False)

    # -- output --------------------------------------------------------------------
    def save(self, *, diverged: bool = False) -> None:
        """Write ``adapter/``: adapter weights, LoRA or LLM weights, config, metrics."""
        if self.rank:
            return
        from safetensors.torch import save_file
        from uqa_data.io import atomic_path, write_json

        from uqa_align.adapters.base import adapter_options

        c = self.config
        d = self.adapter_dir
        d.mkdir(parents=True, exist_ok=True)
        if self.adapter is not None:
            with atomic_path(d / ADAPTER_WEIGHTS) as tmp:
                save_file({k: v.contiguous().cpu() for k, v in self.adapter.state_dict().items()},
                          str(tmp))
        if c.strategy == "lora":
            state = {n: p.detach().contiguous().cpu()
                     for n, p in self.llm.model.named_parameters() if p.requires_grad}
            with atomic_path(d / LORA_DIR / "lora.safetensors") as tmp:
                save_file(state, str(tmp))
        elif c.strategy == "full":
            model = self.llm.model
            state = {n: p.detach().contiguous().cpu() for n, p in model.named_parameters()}
            with atomic_path(d / LLM_WEIGHTS) as tmp:
                save_file(state, str(tmp))
        meta = {
            "align": asdict(c),
            "llm_name": self.llm.name,
            "hidden_size": self.llm.hidden_size,
            "adapter": None if self.adapter is None else {
                "name": c.adapter, "options": adapter_options(self.adapter),
                "in_dim": self.adapter.in_dim, "num_tokens": self.adapter.num_tokens,
            },
            "embeddings_per_position": None if self.users is None else self.users.per_position,
            "precision": self.precision,
            "diverged": diverged,
        }
        write_json(meta, d / "config.json")
        write_json({"losses": self.losses, "steps_done": self.step, "skipped": self.skipped,
                    **self.counts, **self._cache_stats()}, d / "metrics.json")

    def _cache_stats(self) -> dict[str, Any]:
        """How much of the prefix cache was kept and how many visits re-encoded theirs."""
        cache = self.prefix_cache
        if cache is None:
            return {}
        return {"prefix_cache": {"stored_questions": len(cache.stored),
                                 "stored_gib": round(cache.bytes / 2**30, 6),
                                 "cap_gib": self.config.prefix_cache_gb,
                                 "reencoded_visits": cache.recomputed,
                                 "read_from_earlier_alignment": cache.reused,
                                 "encode_s": round(cache.encode_seconds, 2)}}

    def cleanup(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.barrier()

    def _what(self) -> str:
        c = self.config
        if c.text_history:
            return f"text{c.text_history}/{c.strategy}"
        return f"{c.adapter}/{c.strategy}" if c.uses_adapter else f"no-context/{c.strategy}"


def history_texts_for(qs: Any, data_dir: Path | None, k: int) -> list[str]:
    from uqa_align.text_history import history_texts

    return history_texts(qs, data_dir, k)


def _dist_info() -> tuple[int, int]:
    """(rank, world size) under ``torchrun`` (this rank's GPU selected), else (0, 1)."""
    rank, world = init_process_group()
    if world > 1:
        import torch

        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return rank, world


def _sum_over_ranks(value: int) -> int:
    import torch
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return int(t.item())


def _mean_over_ranks(value: float, world: int) -> float:
    if world <= 1:
        return value
    import torch
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item()) / world


def _all_reduce_grads(params: list[Any], world: int) -> None:
    if world <= 1:
        return
    import torch
    import torch.distributed as dist

    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        dist.all_reduce(p.grad)
        p.grad.div_(world)


def align(
    questions_path: Path,
    embeddings_path: Path | None,
    data_dir: Path | None,
    adapter_dir: Path,
    config: AlignConfig,
    *,
    resume: bool = False,
    llm: Any = None,
    log_dir: Path | None = None,
    log_name: str = "align",
) -> dict:
    """Train the adapter (and LoRA/LLM by strategy) and write ``adapter_dir``.

    ``llm`` may pass an already loaded :class:`~uqa_align.llm.LoadedLLM` (tests,
    studies); it is modified in place by ``lora``/``full``. ``log_dir``: also write
    TensorBoard event files into ``log_dir/log_name``.
    """
    from uqa_data.scalars import check_log_dir, open_log

    if log_dir is not None:
        check_log_dir(log_dir)
    t0 = time.perf_counter()
    if config.steps == 0:  # a degenerate output is never written silently
        import warnings

        done = (Path(adapter_dir) / "config.json").is_file()
        warnings.warn(f"align: steps=0 saves an untrained adapter"
                      f"{f' over the one in {adapter_dir}' if done else ''}", stacklevel=2)
    recipe = AlignRecipe(config, Path(adapter_dir), resume=resume)
    recipe.setup(Path(questions_path), None if embeddings_path is None else Path(embeddings_path),
                 None if data_dir is None else Path(data_dir), llm=llm)
    recipe.scalars = open_log(log_dir, log_name, recipe.rank, start_step=recipe.step)
    try:
        recipe.train()
        recipe.save()
    finally:
        if recipe.scalars is not None:
            recipe.scalars.close()
        recipe.cleanup()
    if recipe.rank == 0:  # finished: resumable state is no longer needed
        shutil.rmtree(Path(adapter_dir) / CHECKPOINT_DIR, ignore_errors=True)
    cache_stats = recipe._cache_stats()
    stats = cache_stats.get("prefix_cache")
    if stats and stats["reencoded_visits"] and recipe.prefix_cache.max_bytes:
        log.warning("align: the prefix cache reached its cap (%s GiB); %d question visits "
                    "encoded their prefix again (raise --set align.prefix_cache_gb to keep "
                    "them all)", stats["cap_gib"], stats["reencoded_visits"])
    recent = recipe.losses[-10:]
    return {
        "adapter_dir": str(adapter_dir),
        "steps": recipe.step,
        "questions": len(recipe.qs),
        "final_loss": float(np.mean(recent)) if recent else None,
        "first_loss": recipe.losses[0] if recipe.losses else None,
        "skipped_steps": recipe.skipped,
        "wall_s": round(time.perf_counter() - t0, 2),
        **recipe.counts,
        **cache_stats,
    }
