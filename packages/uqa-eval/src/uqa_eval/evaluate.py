"""Evaluation: answer every question with the aligned LLM and write ``predictions/eval.arrow``.

``loglik`` (default) scores each option's text as the continuation of the
prompt: ``acc`` picks the highest summed log-probability, ``acc_norm`` the
highest per character of the option text (lm-evaluation-harness's
normaliser). ``letters`` scores the option letters as the next token;
``generate`` decodes greedily and is correct when the output starts with the
gold letter. Baselines (``--baseline``) run through the same path.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from uqa_align.llm import pad_id
from uqa_align.prompt import LETTERS, MODES
from uqa_data.errors import UqaInputError
from uqa_data.presets import config_from_preset

log = logging.getLogger(__name__)


@dataclass
class EvalConfig:
    """Evaluation settings.

    :param mode: ``loglik``, ``letters`` or ``generate`` (must match alignment).
    :param baseline: registered baseline name, or None for the embedding under test.
    :param batch_size: questions per forward pass.
    :param seed: seeds the ``shuffled`` permutation.
    :param llm: the LLM to answer with: required to match the adapter's when an
        adapter is used; with no adapter (``none``) it is the LLM asked (default:
        the adapter directory's LLM when there is one, else ``smollm2``).
    :param max_questions: evaluate only the first N questions.
    :param max_new_tokens: generation budget for ``generate``.
    :param threads: torch CPU threads (None: torch's default). On a shared,
        oversubscribed CPU one thread is several times faster than two.
    :param precision: the LLM's numbers while answering: ``fp32``, ``bf16``,
        ``bf16-mixed`` (bf16 products, fp32 between them) or ``auto`` (bf16 where the
        device computes it natively and the LLM is wide enough; see
        :func:`uqa_align.llm.resolve_precision`). Set on the LLM in place
        (:func:`uqa_align.llm.set_precision`).
    :param prefix_cache_gb: with a frozen LLM and the user context after the options
        (``loglik``), each question's prompt before the soft tokens is encoded once per
        process and kept (float32, up to this many GiB), so the run's other
        evaluations (``shuffled``, ``random``, ``oracle``) only encode the rest, and
        ``none`` reads the same prefixes up to where the user context would start.
    """

    mode: str = "loglik"
    baseline: str | None = None
    batch_size: int = 16
    seed: int = 0
    llm: str | None = None
    max_questions: int | None = None
    max_new_tokens: int = 4
    threads: int | None = None
    prefix_cache_gb: float = 4.0
    precision: str = "auto"

    @classmethod
    def from_preset(cls, name: str = "default", **overrides: Any) -> EvalConfig:
        """Preset ``tiny``/``small``/``default``/``full`` with ``overrides`` applied."""
        return config_from_preset(cls, EVAL_PRESETS, name, overrides, what="eval")

    def validate(self) -> None:
        """Reject an unknown mode or baseline and out-of-range sizes before anything loads."""
        from uqa_data.settings import check_at_least, check_choice, check_non_negative

        check_choice(self, "eval", "mode", MODES, "answering mode", "--mode")
        check_at_least(self, "eval", 1, "batch_size", "max_questions", "max_new_tokens",
                       "threads")
        check_non_negative(self, "eval", "prefix_cache_gb")
        check_at_least(self, "eval", 0, "seed")
        from uqa_data.precision import LLM_PRECISIONS

        check_choice(self, "eval", "precision", LLM_PRECISIONS, "precision",
                     "--set eval.precision")
        if self.baseline is not None:
            from uqa_eval.baselines import get_baseline

            get_baseline(self.baseline)


EVAL_PRESETS: dict[str, EvalConfig] = {
    "tiny": EvalConfig(batch_size=8),
    "small": EvalConfig(),
    "default": EvalConfig(),
    "full": EvalConfig(batch_size=32),
}


class SoftTokenCache:
    """Adapter outputs per ``(user, history_len)``: each user's soft prefix is computed once.

    Bounded (least recently used out first), so paper-scale runs with a wide LLM
    and 16 soft tokens do not hold every question's soft tokens in memory.
    """

    def __init__(self, adapter: Any, users: Any, device: Any, max_entries: int = 8192) -> None:
        self.adapter, self.users, self.device = adapter, users, device
        self.max_entries = max_entries
        self.cache: OrderedDict[tuple[int, int], Any] = OrderedDict()

    def __call__(self, user_ids: np.ndarray, history_lens: np.ndarray) -> Any:
        import torch

        keys = [(int(u), int(h)) for u, h in zip(user_ids, history_lens, strict=True)]
        todo = sorted({k for k in keys if k not in self.cache})
        if todo:
            emb, mask = self.users.gather([k[0] for k in todo], [k[1] for k in todo])
            with torch.no_grad():
                out = self.adapter(torch.from_numpy(emb).to(self.device),
                                   torch.from_numpy(mask).to(self.device))
            for k, v in zip(todo, out, strict=True):
                self.cache[k] = v
        result = torch.stack([self.cache[k] for k in keys])
        for k in keys:
            self.cache.move_to_end(k)
        while len(self.cache) > self.max_entries:
            self.cache.popitem(last=False)
        return result


def evaluate(
    questions_path: Path,
    embeddings_path: Path | None,
    adapter_dir: Path | None,
    data_dir: Path | None,
    predictions_path: Path,
    config: EvalConfig,
    *,
    llm: Any = None,
) -> dict:
    """Answer the questions and write ``predictions_path``; returns accuracies and timing.

    ``adapter_dir=None`` (or the ``none`` baseline) answers with the bare LLM
    ``config.llm`` and no user context. ``llm`` may pass a loaded LLM to reuse.
    """
    import torch
    from uqa_align.aligned import load_aligned
    from uqa_align.llm import load_llm
    from uqa_align.prompt import PromptBuilder, PromptStyle
    from uqa_align.question_set import read_questions
    from uqa_data.progress import stage_progress

    from uqa_eval.answering import score_loglik
    from uqa_eval.baselines import get_baseline

    config.validate()
    if config.threads:
        torch.set_num_threads(config.threads)
    t0 = time.perf_counter()
    baseline = get_baseline(config.baseline) if config.baseline else None
    qs = read_questions(questions_path, limit=config.max_questions)

    if (baseline is not None and not baseline.needs_alignment) or adapter_dir is None:
        # no user context: the run's LLM and prompt wording when an adapter dir is given;
        # an explicit config.llm (--llm) wins over the adapter's LLM, and says so
        style, source, origin = PromptStyle(mode=config.mode), config.llm or DEFAULT_LLM, "--llm"
        if adapter_dir is not None and (Path(adapter_dir) / "config.json").is_file():
            a = _adapter_align_config(Path(adapter_dir))
            style = PromptStyle(a.system, a.marker, config.mode, a.position)
            if config.llm is None:
                source, origin = a.llm, f"align.llm in {Path(adapter_dir) / 'config.json'}"
            elif llm is None and not same_llm(config.llm, a.llm):
                from uqa_data.progress import console

                console.print(
                    f"[yellow]note:[/] answering with --llm {config.llm} (given), in the "
                    f"prompt wording of {adapter_dir}, which was aligned on {a.llm}",
                    highlight=False, soft_wrap=True)
        loaded = llm if llm is not None else load_llm(source, origin=origin)
        builder = PromptBuilder(loaded.tokenizer, style)
        model, adapter, text_k = loaded, None, 0
        answered_with = str(source)
    else:
        if config.llm is not None and llm is None \
                and (Path(adapter_dir) / "config.json").is_file():
            a = _adapter_align_config(Path(adapter_dir))
            if not same_llm(config.llm, a.llm):
                raise UqaInputError(
                    f"--llm {config.llm}: the adapter in {adapter_dir} was aligned on {a.llm}, "
                    "and an adapter answers only with the LLM it was aligned on; drop --llm, "
                    f"or align again with --llm {config.llm}"
                )
        aligned = load_aligned(Path(adapter_dir), llm=llm, mode=config.mode)
        model, adapter, builder = aligned.llm, aligned.adapter, aligned.builder
        text_k = aligned.config.text_history
        answered_with = str(aligned.config.llm)
        if baseline is not None and baseline.context == "text" and not text_k:
            raise UqaInputError(
                f"--baseline {baseline.name}: {adapter_dir} was aligned without a text "
                f"history; align with the same baseline first"
            )
    device = next(model.model.parameters()).device
    from uqa_align.llm import resolve_precision, set_precision

    precision = resolve_precision(config.precision, device, frozen=True, hidden=model.hidden_size,
                                  what="answering")
    set_precision(model, precision)
    if device.type == "cpu":  # grouped keys and values read as they are, not copied per head
        from uqa_align.attention import use_cpu_attention

        use_cpu_attention(model.model)

    soft_fn = None
    if adapter is not None:
        if embeddings_path is None:
            raise UqaInputError("this adapter needs --embeddings (the users' embeddings)")
        from uqa_align.user_embeddings import UserEmbeddings

        prefer = "embeddings" if aligned.meta.get("embeddings_per_position") else "embedding"
        users = UserEmbeddings.from_file(embeddings_path, prefer=prefer)
        users.check_users(qs.user_ids, questions_path)
        if users.dim != adapter.in_dim:
            raise UqaInputError(
                f"{embeddings_path}: embedding width {users.dim} does not match the adapter in "
                f"{adapter_dir} (trained on width {adapter.in_dim})"
            )
        if baseline is not None and baseline.permute:
            users = users.permuted(config.seed)
        soft_fn = SoftTokenCache(adapter, users, device)

    texts = None
    if text_k:
        from uqa_align.text_history import history_texts

        texts = history_texts(qs, data_dir, text_k)
    n_soft = adapter.num_tokens if adapter is not None else 0
    prompts = [
        builder.encode(q, o, n_soft=n_soft, history_text=None if texts is None else texts[i])
        for i, (q, o) in enumerate(zip(qs.questions, qs.options, strict=True))
    ]
    pad = pad_id(model.tokenizer)
    prefix = None
    if config.mode == "loglik" and config.prefix_cache_gb > 0 \
            and builder.style.position == "after":
        if adapter is not None and aligned.config.strategy == "adapter":
            prefix = _prefix_cache(model, prompts, config.prefix_cache_gb)
        elif adapter is None and texts is None:  # no user context: the bare, frozen LLM
            prefix = _no_context_cache(model, builder, qs, prompts, config.prefix_cache_gb)
    scores: list[list[float]] = []
    generated: list[str] = []
    order = np.argsort([p.length for p in prompts], kind="stable")  # similar lengths batch well
    by_pos: dict[int, int] = {}
    amp = device.type == "cuda"
    t_answer = time.perf_counter()
    with stage_progress(f"answer ({config.mode}, {precision})", total=len(qs)) as bar:
        for start in range(0, len(qs), config.batch_size):
            idx = order[start : start + config.batch_size]
            batch = [prompts[i] for i in idx]
            soft = soft_fn(qs.user_ids[idx], qs.history_lens[idx]) if soft_fn else None
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
                if prefix is not None:
                    s = score_loglik(model.model, [prefix.prompts[i] for i in idx], soft, pad,
                                     cached=(prefix, idx.tolist(), [False] * len(idx)))
                    g = []
                else:
                    s, g = _answer(model, batch, soft, pad, config)
            for j, i in enumerate(idx):
                by_pos[int(i)] = len(scores)
                scores.append(s[j])
                generated.append(g[j] if g else "")
            bar.advance(len(idx))
    scores = [scores[by_pos[i]] for i in range(len(qs))]
    generated = [generated[by_pos[i]] for i in range(len(qs))]
    answer_s = time.perf_counter() - t_answer
    wall = time.perf_counter() - t0
    table, summary = _predictions(qs, prompts, scores, generated, config)
    from uqa_data.io import write_table

    _warn_if_shrinking(Path(predictions_path), table.num_rows)
    # the file says how it was answered, whatever run.json says later (uqa_eval.report)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           b"uqa.mode": config.mode.encode(),
                                           b"uqa.llm": answered_with.encode(),
                                           b"uqa.precision": precision.encode()})
    write_table(table, predictions_path)
    summary.update({
        "predictions": str(predictions_path), "mode": config.mode,
        "baseline": config.baseline, "wall_s": round(wall, 2),
        "answer_s": round(answer_s, 2),
        "questions_per_s": round(len(qs) / answer_s, 2) if answer_s > 0 else None,
        "precision": precision,
    })
    if prefix is not None:  # what a later evaluation of the same questions reads instead
        summary["prefix_encode_s"] = round(prefix.encode_seconds, 2)
    return summary


DEFAULT_LLM = "smollm2"


def _warn_if_shrinking(path: Path, rows: int) -> None:
    """Say so when fewer predictions replace a finished predictions file."""
    if not path.is_file():
        return
    try:
        import pyarrow.ipc as ipc

        with ipc.open_file(str(path)) as reader:
            before = sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
    except (OSError, ValueError):
        return
    if rows < before:
        import warnings

        warnings.warn(f"{path}: replacing {before} predictions with {rows} "
                      "(--max-questions); the report of this run now covers fewer questions",
                      stacklevel=3)


def same_llm(a: str, b: str) -> bool:
    """Whether two ``--llm`` values name the same model (same name or same directory)."""
    if a == b:
        return True
    pa_, pb = Path(a).expanduser(), Path(b).expanduser()
    return pa_.is_dir() and pb.is_dir() and pa_.resolve() == pb.resolve()


def _adapter_align_config(adapter_dir: Path) -> Any:
    from uqa_align.train import AlignConfig
    from uqa_data.io import read_json

    path = adapter_dir / "config.json"
    try:
        return AlignConfig(**read_json(path, "adapter config (adapter/config.json)")["align"])
    except (KeyError, TypeError) as exc:
        raise UqaInputError(f"{path}: not an alignment config ({exc})") from exc


def _prefix_cache(loaded: Any, prompts: list, gb: float, sources: list | None = None) -> Any:
    """A float32 prefix cache over ``prompts`` (shared head split off), filed in the
    process-wide store of ``loaded``'s frozen model; ``sources``: longer prompts whose
    ``before`` each prompt's starts, encoded and filed in its place (see
    :class:`uqa_align.prefix_cache.PrefixCache`)."""
    from uqa_align.prefix_cache import PrefixCache, shared_store
    from uqa_align.prompt import EncodedPrompt
    from uqa_align.soft_prompt import MIN_SHARED_HEAD, shared_head

    h = shared_head(prompts if sources is None else sources)
    h = h if h >= MIN_SHARED_HEAD else 0
    rest = [EncodedPrompt(p.before[h:], p.n_soft, p.after, p.continuations) for p in prompts]
    from uqa_align.llm import model_key

    store = shared_store(model_key(loaded), "answer-fp32")
    return PrefixCache(loaded.model, tuple(prompts[0].before[:h]), rest, int(gb * 2**30),
                       exact=True, store=store,
                       sources=None if sources is None else [s.before[h:] for s in sources])


def _no_context_cache(loaded: Any, builder: Any, qs: Any, prompts: list, gb: float) -> Any:
    """The prefix cache of prompts without user context (``none``): each question's
    prompt up to where the soft-token prompt's marker would start is the same tokens as
    that prompt's cached prefix, so the prefixes a run's own evaluation stored are read
    back cut there, and the rest (end of the user turn, assistant header) is encoded per
    question. None when the two prompts share too little."""
    from uqa_align.prompt import EncodedPrompt
    from uqa_align.soft_prompt import shared_head

    sources = [builder.encode(q, o, n_soft=1)
               for q, o in zip(qs.questions, qs.options, strict=True)]
    split = []
    for p, s in zip(prompts, sources, strict=True):
        n = 0
        while n < min(len(p.before), len(s.before)) and p.before[n] == s.before[n]:
            n += 1
        split.append(EncodedPrompt(p.before[:n], 0, p.before[n:], p.continuations))
    if any(not p.after for p in split) or shared_head(sources) >= min(len(p.before)
                                                                      for p in split):
        return None  # each must keep a prefix of its own and a token after it
    return _prefix_cache(loaded, split, gb, sources)


def _answer(model: Any, batch: list, soft: Any, pad: int,
            config: EvalConfig) -> tuple[list[list[float]], list[str]]:
    from uqa_eval.answering import generate, score_letters, score_loglik

    if config.mode == "loglik":
        return score_loglik(model.model, batch, soft, pad), []
    if config.mode == "letters":
        return score_letters(model.model, batch, soft, pad), []
    texts, letter_scores = generate(model.model, model.tokenizer, batch, soft, pad,
                                    config.max_new_tokens)
    return letter_scores, texts


def _predictions(qs: Any, prompts: list, scores: list[list[float]], generated: list[str],
                 config: EvalConfig) -> tuple[Any, dict]:
    import pyarrow as pa

    from uqa_eval.answering import letter_of

    pred, pred_norm, correct, correct_norm, chars = [], [], [], [], []
    for i, s in enumerate(scores):
        opts = qs.options[i]
        n_chars = [max(1, len(o)) for o in opts]
        arr = np.asarray(s, dtype=np.float64)
        if config.mode == "generate":
            p = letter_of(generated[i], len(opts))
            pn = p
        else:
            p = LETTERS[int(np.argmax(arr))]
            pn = (LETTERS[int(np.argmax(arr / np.asarray(n_chars)))]
                  if config.mode == "loglik" else p)
        gold = LETTERS[int(qs.answers[i])]
        pred.append(p)
        pred_norm.append(pn)
        correct.append(p == gold)
        correct_norm.append(pn == gold)
        chars.append(n_chars)
    cols: dict[str, Any] = {
        "question_id": pa.array(qs.question_ids, pa.string()),
        "prediction": pa.array(pred, pa.string()),
        "prediction_norm": pa.array(pred_norm, pa.string()),
        "correct": pa.array(correct, pa.bool_()),
        "correct_norm": pa.array(correct_norm, pa.bool_()),
        "option_scores": pa.array(scores, pa.list_(pa.float64())),
        "option_chars": pa.array(chars, pa.list_(pa.int64())),
        "input_tokens": pa.array([p.length for p in prompts], pa.int64()),
    }
    if config.mode == "generate":
        cols["generated"] = pa.array(generated, pa.string())
    summary = {
        "questions": len(pred),
        "acc": float(np.mean(correct)) if pred else None,
        "acc_norm": float(np.mean(correct_norm)) if pred else None,
        "mean_input_tokens": float(np.mean([p.length for p in prompts])) if prompts else None,
    }
    return pa.table(cols), summary
