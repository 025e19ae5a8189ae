"""Next-item pre-training of a zoo encoder (``uqa pretrain``).

A recipe in the torchtune shape: ``PretrainRecipe(config)`` validates the
config, ``setup`` loads data and builds the model, ``train`` runs epochs with
evaluation (HR@10 / NDCG@10 on held-out users), ``save_checkpoint`` writes the
resumable state, ``cleanup`` tears down DDP. Runs unchanged under
``torchrun --nproc_per_node N`` (gloo on CPU, nccl on GPU).

Checkpoint layout inside ``encoder_dir``::

    model.safetensors, config.json, metrics.json      the finished encoder
    checkpoint/model.safetensors, checkpoint/state.pt  the last good training state
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from uqa_data.errors import TrainingDivergedError, UqaInputError
from uqa_data.io import atomic_path, read_json, write_json
from uqa_data.precision import PRECISIONS, auto_is_bf16, warn_if_emulated_bf16
from uqa_data.presets import config_from_preset
from uqa_data.progress import StageBar, stage_progress
from uqa_data.registry import get_component
from uqa_data.scalars import ScalarLog, check_log_dir, open_log
from uqa_data.settings import (
    SettingError,
    check_at_least,
    check_choice,
    check_non_negative,
    check_positive,
    check_resume_settings,
    field_defaults,
)

from uqa_encoders import distributed as dist
from uqa_encoders.batching import Batch, eval_batch, training_batch
from uqa_encoders.features import INPUT_MODES, FeatureEmbedding
from uqa_encoders.inputs import Sequences, load_items, load_sequences
from uqa_encoders.losses import (
    LOSSES,
    full_softmax,
    in_batch_infonce,
    sampled_softmax,
    side_attribute_loss,
)
from uqa_encoders.metrics import hit_ndcg, most_popular_ranks, rank_of_target
from uqa_encoders.model import (
    UserModel,
    build_model,
    check_state,
    encoder_config,
    model_config,
    save_weights,
    write_model,
)

log = logging.getLogger(__name__)


BF16_MIN_DIM = 256
"""Narrowest encoder for which ``auto`` trains in bf16 on a CPU. On an AVX512-BF16 CPU
(BENCHMARKS.md, 2026-12-05) bf16 autocast trained trm_plus 1.35x faster than fp32 at
d256 and 1.46x at d512 over 50 clicks, and SASRec, trm_plus and GRU4Rec 1.65-1.84x at
d512 over 512 clicks, with the same losses to 1e-3 and HR@10 within 0.01; at d128 it
gained 1.08x and at d64 it was slower (the casts cost more than the products save)."""


def resolve_precision(precision: str, device: torch.device, dim: int) -> str:
    """``fp32`` or ``bf16`` for an encoder ``dim`` wide on ``device``: ``auto`` is bf16 on
    CUDA and on a CPU with native bf16 from :data:`BF16_MIN_DIM` up, else fp32. ``bf16``
    asked for by name on a CPU without bf16 instructions is kept, with a warning."""
    if precision != "auto":
        warn_if_emulated_bf16(precision, device, "pre-training")
        return precision
    return "bf16" if auto_is_bf16(device, dim, BF16_MIN_DIM) else "fp32"


@dataclass
class PretrainConfig:
    """Pre-training settings (paper defaults in the ``full`` preset).

    :param encoder: registered encoder name (``--encoder``).
    :param size: the encoder's size preset (``uqa list encoders --sizes``).
    :param input_mode: ``full``, ``no-text`` or ``id-only`` features.
    :param loss: ``ce`` (softmax over items) or ``infonce`` (in-batch, cosine/temperature).
    :param sampled: with ``ce``, softmax over this many sampled negatives (logQ-corrected);
        0 means the full catalogue.
    :param target_window: each position learns to predict a click drawn uniformly from the
        next K (1: the next click, the paper's objective); K > 1 asks every state for the
        user's coming interests rather than the very next item.
    :param side_loss: weight of an added term predicting the target's side attributes
        (category, brand, shop, seller) from the same state; 0 leaves it out.
    :param max_len: clicks per sequence; longer sequences keep their most recent ones.
    :param eval_users: held-out users (from ``test.arrow``) evaluated each epoch.
    :param checkpoint_every: steps between resumable checkpoints (also at each epoch end).
    :param device: ``auto`` (cuda when present), ``cpu`` or ``cuda``.
    :param precision: ``auto``, ``fp32`` or ``bf16`` (autocast, float32 weights). ``auto``
        (:func:`resolve_precision`) is bf16 on a GPU, and on a CPU with bf16 instructions
        for encoders at least :data:`BF16_MIN_DIM` wide, where paper-size encoders train
        several times faster (BENCHMARKS.md); fp32 elsewhere (the ``small`` size gains
        nothing from bf16 on a CPU).
    """

    encoder: str = "sasrec"
    size: str = "small"
    input_mode: str = "full"
    loss: str = "ce"
    sampled: int = 0
    temperature: float = 0.07
    target_window: int = 1
    side_loss: float = 0.0
    epochs: int = 10
    batch_size: int = 256
    lr: float = 1e-4
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    max_len: int = 512
    dropout: float = 0.1
    seed: int = 0
    eval_users: int = 2000
    text_vocab: int = 8192
    max_tokens: int = 24
    checkpoint_every: int = 200
    device: str = "auto"
    precision: str = "auto"

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> PretrainConfig:
        """The preset ``name`` (``tiny``, ``small``, ``default``, ``full``) with overrides."""
        return config_from_preset(cls, PRESETS, name, overrides, what="pre-training")

    def validate(self) -> None:
        """Reject bad values and combinations before anything heavy loads."""
        get_component("encoder", self.encoder, flag="--encoder")
        check_choice(self, "pre-training", "input_mode", INPUT_MODES, "input mode",
                     "--input-mode")
        check_choice(self, "pre-training", "loss", LOSSES, "loss", "--loss")
        check_choice(self, "pre-training", "precision", PRECISIONS, "precision", "--precision")
        if self.sampled and self.loss != "ce":
            raise UqaInputError("--sampled goes with --loss ce (infonce uses in-batch negatives)")
        check_at_least(self, "pre-training", 1, "epochs", "batch_size", "max_len",
                       "checkpoint_every", "text_vocab", "max_tokens", "target_window")
        check_at_least(self, "pre-training", 0, "sampled", "eval_users")
        check_positive(self, "pre-training", "lr", "temperature", "grad_clip")
        check_at_least(self, "pre-training", 0, "seed")
        check_non_negative(self, "pre-training", "weight_decay", "dropout", "side_loss")
        if self.dropout >= 1:
            raise SettingError("pre-training", "dropout", self.dropout, "a number in [0, 1)")
        encoder_config(self.encoder, self.size, max_len=self.max_len, dropout=self.dropout)
        if self.device not in ("auto", "cpu", "cuda"):
            raise UqaInputError(f"pre-training: device '{self.device}'; expected auto, cpu or cuda")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PRESETS: dict[str, PretrainConfig] = {
    # seconds on a few hundred users (tests)
    "tiny": PretrainConfig(size="tiny", epochs=3, batch_size=64, lr=3e-3, max_len=32,
                           dropout=0.1, eval_users=200, text_vocab=1024, max_tokens=16,
                           checkpoint_every=50),
    "small": PretrainConfig(size="small", epochs=3, batch_size=128, lr=2e-3, max_len=50,
                            eval_users=1000, text_vocab=4096, max_tokens=24),
    # the CPU demo: ~135 CPU-seconds (about 1.5 min on 2 idle cores) on the default synthetic
    # data; lr raised from the paper's 1e-4 so few epochs converge
    "default": PretrainConfig(size="small", epochs=5, batch_size=128, lr=2e-3, max_len=50,
                              eval_users=1000, text_vocab=8192, max_tokens=24),
    # the paper's setting (UQABench §4.1.3): ~20M encoder, AdamW 1e-4, batch 256, N=512
    "full": PretrainConfig(size="paper", epochs=10, batch_size=256, lr=1e-4, max_len=512,
                           dropout=0.1, eval_users=5000, text_vocab=32768, max_tokens=32,
                           checkpoint_every=500),
}


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """bf16 autocast on ``device`` for ``precision == "bf16"``, else nothing."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def adamw(params: Any, lr: float, betas: tuple[float, float]) -> torch.optim.AdamW:
    """AdamW, fused into one kernel per parameter where this PyTorch has the fused kernel
    for the parameters' device (CPUs since PyTorch 2.4), else the plain loop.

    The plain CPU loop makes a temporary of each parameter's size for every update (the
    item table's ``sqrt`` and scaled copies): at d512 with 20,000 items the fused update
    is about 40 ms of a 2.3 s step faster. Same update, to float32 rounding.
    """
    params = list(params)
    try:
        return torch.optim.AdamW(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, ValueError):  # no fused kernel for this device or dtype
        return torch.optim.AdamW(params, lr=lr, betas=betas)


def training_loss(
    forward: Callable[..., torch.Tensor],
    features: FeatureEmbedding,
    batch: Batch,
    config: PretrainConfig,
    log_q: torch.Tensor | None = None,
    sampler: torch.Generator | None = None,
) -> torch.Tensor:
    """The next-item loss of one batch: hidden states at valid positions against their
    next clicks, with ``config.loss`` (and ``config.sampled`` negatives, which need ``log_q``)."""
    hidden = forward(batch.inputs, batch.lengths, batch.times)
    valid = batch.targets > 0
    h, t = hidden[valid], batch.targets[valid]
    if config.loss == "infonce":
        loss = in_batch_infonce(h, t, features, config.temperature)
    elif config.sampled:
        assert log_q is not None, "sampled softmax needs the item log-frequencies"
        loss = sampled_softmax(h, t, features, config.sampled, log_q, sampler)
    else:
        loss = full_softmax(h, t, features)
    if config.side_loss and len(features.side):
        loss = loss + config.side_loss * side_attribute_loss(h, t, features)
    return loss


RESUME_MAY_CHANGE = ("checkpoint_every", "eval_users", "device")
"""Settings a resumed pre-training may change: none changes a number trained."""


class PretrainRecipe:
    """Pre-training of one encoder into ``encoder_dir`` (see module docstring)."""

    def __init__(self, config: PretrainConfig, data_dir: Path, encoder_dir: Path) -> None:
        config.validate()
        self.config = config
        self.data_dir = Path(data_dir)
        self.encoder_dir = Path(encoder_dir)
        self.ckpt_dir = self.encoder_dir / "checkpoint"
        self.epoch = 0
        self.step_in_epoch = 0
        self.global_step = 0
        self.history: list[dict[str, Any]] = []
        self.epoch_losses: list[float] = []  # losses of the current epoch so far
        self.seconds = 0.0
        self.scalars: ScalarLog | None = None  # TensorBoard events (--log-dir), rank 0

    # -- setup -------------------------------------------------------------

    def setup(self, *, resume: bool = False) -> None:
        c = self.config
        self.rank, self.world = dist.init()
        self.device = dist.device(c.device)
        torch.manual_seed(c.seed)
        self.items = load_items(self.data_dir, text_vocab=c.text_vocab, max_tokens=c.max_tokens)
        self.train_seqs = load_sequences(self.data_dir, "train", num_items=self.items.num_items)
        self.train_rows = np.flatnonzero(self.train_seqs.lengths() >= 2)
        if len(self.train_rows) == 0:
            raise UqaInputError(
                f"{self.train_seqs.path}: no user has two or more clicks; next-item pre-training "
                "needs at least one (click, next click) pair"
            )
        self.eval_seqs = self._eval_sequences()
        enc_cfg = encoder_config(c.encoder, c.size, max_len=c.max_len, dropout=c.dropout)
        self.model_cfg = model_config(
            encoder=c.encoder, size=c.size, encoder_cfg=enc_cfg, items=self.items,
            input_mode=c.input_mode, max_tokens=c.max_tokens,
        )
        self.model_cfg["pretrain"] = c.to_dict()
        self.precision = resolve_precision(c.precision, self.device, enc_cfg.dim)
        self.model: UserModel = build_model(self.model_cfg)
        self.model.features.set_features(self.items)
        self.model.to(self.device)
        self.ddp_model = dist.wrap(self.model, self.device)
        self.optimizer = self._setup_optimizer()
        counts = np.bincount(self.train_seqs.items, minlength=self.items.num_items + 1)
        counts = counts.astype(np.float64)
        self.pop_counts = counts
        q = counts.copy()
        q[0] = 0.0
        q = (q + 1e-3 * (np.arange(len(q)) > 0)) / (q.sum() + 1e-3 * self.items.num_items)
        self.log_q = torch.log(torch.as_tensor(q, dtype=torch.float32).clamp(min=1e-30)).to(
            self.device)
        self.sampler = torch.Generator().manual_seed(c.seed + 7919 * self.rank)
        torch.manual_seed(c.seed + 7919 * self.rank)
        if resume:
            self._load_checkpoint()

    def _eval_sequences(self) -> Sequences | None:
        c = self.config
        if c.eval_users == 0 or not (self.data_dir / "test.arrow").is_file():
            return None
        seqs = load_sequences(self.data_dir, "test", num_items=self.items.num_items)
        self.eval_rows = np.flatnonzero(seqs.lengths() >= 2)[: c.eval_users]
        return seqs

    def _setup_optimizer(self) -> torch.optim.Optimizer:
        decay, no_decay = [], []
        for name, p in self.model.named_parameters():
            (decay if p.dim() >= 2 and "features" not in name else no_decay).append(p)
        groups = [
            {"params": decay, "weight_decay": self.config.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        return adamw(groups, lr=self.config.lr, betas=(0.9, 0.98))

    # -- checkpoints ---------------------------------------------------------

    def save_checkpoint(self) -> None:
        """Write the resumable state (rank 0), replacing the previous one only when whole.

        Every rank's random state goes in (its dropout and negatives differ from rank 0's),
        so a resumed multi-process run draws what an uninterrupted one would."""
        rngs = dist.gather_to_all((torch.get_rng_state(), self.sampler.get_state()))
        if self.rank == 0:
            tmp = self.encoder_dir / f".checkpoint-{self.global_step}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            save_weights(self.model, tmp / "model.safetensors", {"step": str(self.global_step)})
            state = {
                "optimizer": self.optimizer.state_dict(),
                "rank_torch_rng": torch.stack([t for t, _ in rngs]),
                "rank_sampler_rng": torch.stack([g for _, g in rngs]),
                "epoch": self.epoch,
                "step_in_epoch": self.step_in_epoch,
                "global_step": self.global_step,
                "epoch_losses": torch.tensor(self.epoch_losses, dtype=torch.float64),
                "seconds": self.seconds,
            }
            with atomic_path(tmp / "state.pt") as p:
                torch.save(state, p)
            write_json({"model": self.model_cfg, "history": self.history}, tmp / "trainer.json")
            old = self.encoder_dir / ".checkpoint.old"
            shutil.rmtree(old, ignore_errors=True)
            if self.ckpt_dir.exists():
                os.replace(self.ckpt_dir, old)
            os.replace(tmp, self.ckpt_dir)
            shutil.rmtree(old, ignore_errors=True)
        dist.barrier()

    def _load_checkpoint(self) -> None:
        ckpt = self.ckpt_dir
        if not ckpt.exists() and (self.encoder_dir / ".checkpoint.old").exists():
            ckpt = self.encoder_dir / ".checkpoint.old"
        from uqa_data.progress import console

        if not (ckpt / "state.pt").is_file():
            console.print(f"  no pre-training checkpoint in {self.encoder_dir} yet; starting "
                          "from step 0", highlight=False)
            return
        from safetensors.torch import load_file

        saved = read_json(ckpt / "trainer.json", what="checkpoint trainer state")
        mine, theirs = self.model_cfg, saved.get("model", {})
        for key in ("encoder", "encoder_config", "features"):
            if mine.get(key) != theirs.get(key):
                raise UqaInputError(
                    f"{ckpt}: checkpoint was made with {key}={theirs.get(key)!r} but this run "
                    f"has {key}={mine.get(key)!r}; resume with the same settings or drop --resume"
                )
        check_resume_settings(theirs.get("pretrain", {}), self.config.to_dict(), ckpt,
                              ignore=RESUME_MAY_CHANGE, defaults=field_defaults(PretrainConfig))
        weights = load_file(str(ckpt / "model.safetensors"))
        check_state(self.model, weights, ckpt / "model.safetensors", f"encoder '{mine['encoder']}'")
        self.model.load_state_dict(weights)
        state = torch.load(ckpt / "state.pt", weights_only=True, map_location="cpu")
        self.optimizer.load_state_dict(state["optimizer"])
        if "rank_torch_rng" in state:  # this rank's own random state (another world size: 0's)
            r = self.rank if len(state["rank_torch_rng"]) == self.world else 0
            torch.set_rng_state(state["rank_torch_rng"][r].clone())
            self.sampler.set_state(state["rank_sampler_rng"][r].clone())
        else:  # a checkpoint made before every rank's state was kept
            torch.set_rng_state(state["torch_rng"])
            self.sampler.set_state(state["sampler_rng"])
        self.epoch = int(state["epoch"])
        self.step_in_epoch = int(state["step_in_epoch"])
        self.global_step = int(state["global_step"])
        self.seconds = float(state["seconds"])
        self.epoch_losses = [float(x) for x in state["epoch_losses"]]
        self.history = list(saved.get("history", []))
        console.print(f"  resuming pre-training at step {self.global_step} (epoch "
                      f"{self.epoch + 1} of {self.config.epochs}) from {ckpt}", highlight=False)

    # -- training ------------------------------------------------------------

    def _epoch_batches(self, epoch: int) -> list[np.ndarray]:
        """Global batches of one epoch (same on every rank), this rank's share of each."""
        c = self.config
        rng = np.random.default_rng([c.seed, epoch])
        order = rng.permutation(self.train_rows)
        # Length buckets: sort pools of 16 batches by length so a batch pads little, then
        # shuffle the batches; every rank computes the same list.
        lengths = np.minimum(self.train_seqs.lengths()[order], c.max_len + 1)
        pool = 16 * c.batch_size
        for i in range(0, len(order), pool):
            part = np.argsort(lengths[i : i + pool], kind="stable")
            order[i : i + pool] = order[i : i + pool][part]
        batches = [order[i : i + c.batch_size] for i in range(0, len(order), c.batch_size)]
        batches = [b for b in batches if len(b) >= self.world]
        batches = [batches[j] for j in rng.permutation(len(batches))]
        return [b[self.rank :: self.world] for b in batches]

    def _loss(self, batch: Batch) -> torch.Tensor:
        with self._autocast():
            return training_loss(self.ddp_model, self.model.features, batch, self.config,
                                 self.log_q, self.sampler)

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        return autocast(self.precision, self.device)

    def train(self, callback: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Run the remaining epochs; returns the summary written to ``metrics.json``."""
        c = self.config
        steps_per_epoch = len(self._epoch_batches(0))
        total = steps_per_epoch * c.epochs
        last_eval = self.history[-1] if self.history else {}
        bars = (stage_progress(f"pre-train {c.encoder}", total=total) if self.rank == 0
                else contextlib.nullcontext(StageBar(None, None)))
        with bars as bar:
            bar.update(completed=self.global_step)
            while self.epoch < c.epochs:
                batches = self._epoch_batches(self.epoch)
                self.model.train()
                t0 = time.perf_counter()
                for rows in batches[self.step_in_epoch :]:
                    rng = np.random.default_rng([c.seed, self.epoch, self.step_in_epoch,
                                                 self.rank])
                    batch = training_batch(self.train_seqs, rows, c.max_len, c.target_window,
                                           rng).to(self.device)
                    loss = self._loss(batch)
                    value = float(loss.detach())
                    if not math.isfinite(value):
                        raise TrainingDivergedError(
                            f"pre-training {c.encoder} diverged: loss is {value} at step "
                            f"{self.global_step + 1} (epoch {self.epoch + 1}); the last good "
                            f"checkpoint in {self.ckpt_dir} is kept; lower --lr and re-run "
                            "with --resume"
                        )
                    self.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), c.grad_clip)
                    self.optimizer.step()
                    self.step_in_epoch += 1
                    self.global_step += 1
                    self.epoch_losses.append(value)
                    if self.scalars is not None:
                        self.scalars.step(self.global_step, loss=value, grad_norm=float(norm),
                                          lr=self.optimizer.param_groups[0]["lr"])
                    bar.advance(loss=f"{value:.3f}", **_short(last_eval))
                    if self.global_step % c.checkpoint_every == 0:
                        self.seconds += time.perf_counter() - t0
                        t0 = time.perf_counter()
                        self.save_checkpoint()
                    if callback is not None:
                        callback(self.global_step)
                self.seconds += time.perf_counter() - t0
                last_eval = {"epoch": self.epoch + 1, "step": self.global_step,
                             "loss": float(np.mean(self.epoch_losses))
                             if self.epoch_losses else None,
                             **self.evaluate()}
                self.history.append(last_eval)
                if self.scalars is not None:
                    self.scalars.scalars(self.global_step, {
                        "train/epoch_loss": last_eval["loss"],
                        "eval/hr@10": last_eval.get("hr@10"),
                        "eval/ndcg@10": last_eval.get("ndcg@10")})
                bar.update(**_short(last_eval))
                log.info("epoch %d: %s", self.epoch + 1, last_eval)
                self.epoch += 1
                self.step_in_epoch = 0
                self.epoch_losses = []
                self.save_checkpoint()
        return self._summary(steps_per_epoch)

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """HR@10 / NDCG@10 of each held-out user's last click given the clicks before it."""
        if self.eval_seqs is None or len(self.eval_rows) == 0:
            return {}
        self.model.eval()
        ranks = []
        with self._autocast():
            table = self.model.item_table()
            for i in range(0, len(self.eval_rows), 256):
                rows = self.eval_rows[i : i + 256]
                b = eval_batch(self.eval_seqs, rows, self.config.max_len).to(self.device)
                h = self.model.encoder.gather_last(self.model(b.inputs, b.lengths, b.times),
                                                   b.lengths)
                ranks.append(rank_of_target(h @ table.T, b.targets).cpu().numpy())
        self.model.train()
        return hit_ndcg(np.concatenate(ranks), 10)

    def most_popular(self) -> dict[str, float]:
        """The most-popular-items baseline on the same held-out clicks."""
        if self.eval_seqs is None or len(self.eval_rows) == 0:
            return {}
        targets = np.array([int(self.eval_seqs.get(int(r))[-1]) for r in self.eval_rows])
        return hit_ndcg(most_popular_ranks(self.pop_counts, targets), 10)

    def _summary(self, steps_per_epoch: int) -> dict[str, Any]:
        c = self.config
        seqs = self.global_step * c.batch_size
        final = self.history[-1] if self.history else {}
        return {
            "encoder": c.encoder,
            "size": c.size,
            "input_mode": c.input_mode,
            "loss": c.loss,
            "precision": self.precision,
            "train_users": len(self.train_rows),
            "eval_users": len(self.eval_rows) if self.eval_seqs is not None else 0,
            "epochs": c.epochs,
            "steps": self.global_step,
            "steps_per_epoch": steps_per_epoch,
            "seconds": round(self.seconds, 3),
            "sequences_per_s": round(seqs / self.seconds, 1) if self.seconds else None,
            "world_size": self.world,
            "backbone_params": self.model.encoder.get_num_params(),
            "total_params": sum(p.numel() for p in self.model.parameters()),
            "hr@10": final.get("hr@10"),
            "ndcg@10": final.get("ndcg@10"),
            "most_popular": self.most_popular(),
            "history": self.history,
        }

    def save_final(self, summary: dict[str, Any]) -> None:
        """Write the finished encoder (rank 0)."""
        if self.rank == 0:
            self.model_cfg["backbone_params"] = summary["backbone_params"]
            write_model(self.model, self.model_cfg, self.encoder_dir)
            write_json(summary, self.encoder_dir / "metrics.json")
        dist.barrier()

    def cleanup(self) -> None:
        dist.cleanup()


def _short(ev: dict[str, Any]) -> dict[str, str]:
    return {"hr10": f"{ev['hr@10']:.3f}"} if ev.get("hr@10") is not None else {}


def pretrain(
    data_dir: Path,
    encoder_dir: Path,
    config: PretrainConfig,
    *,
    resume: bool = False,
    callback: Callable[[int], None] | None = None,
    log_dir: Path | None = None,
) -> dict[str, Any]:
    """Pre-train ``config.encoder`` on ``data_dir/train.arrow`` into ``encoder_dir``.

    :param resume: continue from ``encoder_dir/checkpoint`` (same result as uninterrupted).
    :param callback: called with the global step after every optimizer step.
    :param log_dir: also write TensorBoard event files into ``log_dir/pretrain``.
    :returns: the summary also written to ``encoder_dir/metrics.json``.
    """
    if log_dir is not None:
        check_log_dir(log_dir)
    recipe = PretrainRecipe(config, data_dir, encoder_dir)
    try:
        recipe.setup(resume=resume)
        recipe.scalars = open_log(log_dir, "pretrain", recipe.rank,
                                  start_step=recipe.global_step)
        summary = recipe.train(callback)
        recipe.save_final(summary)
        if recipe.rank == 0:  # finished: the resumable state (optimizer...) is not needed
            shutil.rmtree(recipe.ckpt_dir, ignore_errors=True)
            shutil.rmtree(recipe.encoder_dir / ".checkpoint.old", ignore_errors=True)
        return summary
    finally:
        if recipe.scalars is not None:
            recipe.scalars.close()
        recipe.cleanup()
