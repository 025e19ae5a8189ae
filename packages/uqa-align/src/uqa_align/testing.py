"""Small, seeded inputs for tests and plugin authors: a tiny Llama, questions, embeddings.

The tiny LLM is a randomly initialised Llama (hidden 32, 2 layers) that uses
the real SmolLM2 tokenizer (from the cache; converted once from the GGUF), so
prompts, chat templates and continuations are the real ones while a forward
pass costs milliseconds.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from uqa_data.io import write_table
from uqa_data.schemas import OPTION_LETTERS, TASK_DIMENSION

from uqa_align.llm import LoadedLLM

CATEGORIES = ("phones", "books", "milk", "bread", "shirts", "music", "games", "blue")
"""Single-token names (SmolLM2 tokenizer), so a tiny model learns the probe quickly."""


def tiny_llm(
    *, hidden: int = 32, layers: int = 2, seed: int = 0, init_std: float = 0.02
) -> LoadedLLM:
    """A random tiny Llama with SmolLM2's tokenizer and chat template."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    path, tokenizer = _smollm2_tokenizer()
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
        num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=512, tie_word_embeddings=True, initializer_range=init_std,
    )
    model = LlamaForCausalLM(config).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return LoadedLLM(model=model, tokenizer=tokenizer, name="tiny-llama", hidden_size=hidden,
                     path=path)


def save_tiny_llm(path: Path, **kwargs: Any) -> Path:
    """Write :func:`tiny_llm` as a local Hugging Face directory (safetensors, tokenizer,
    chat template), usable as ``--llm PATH``; ``kwargs`` go to :func:`tiny_llm`."""
    loaded = tiny_llm(**kwargs)
    path = Path(path)
    loaded.model.save_pretrained(path, safe_serialization=True)
    loaded.tokenizer.save_pretrained(path)
    return path


@functools.lru_cache(maxsize=1)
def _smollm2_tokenizer() -> tuple[Path, Any]:
    """SmolLM2's tokenizer, loaded once per process (tiny models share it read-only)."""
    from uqa_align.llm import load_tokenizer, smollm2_dir

    path = smollm2_dir()
    return path, load_tokenizer(path)


def category_probe(n_users: int, *, dim: int = 8, seed: int = 0, n_cats: int = 4,
                   per_position: bool = True, positions: int = 5,
                   questions_per_user: int = 1) -> tuple[pa.Table, pa.Table]:
    """``(questions, embeddings)``: each user's embedding encodes a favourite category.

    The question asks which category the user likes; the options are the
    category names in a per-question random order.
    """
    rng = np.random.default_rng(seed)
    fav = rng.integers(0, n_cats, size=n_users)
    protos = rng.normal(size=(n_cats, dim)).astype(np.float32) * 2
    users = np.arange(100, 100 + n_users, dtype=np.int64)
    rows: dict[str, list] = {k: [] for k in ("question_id", "user_id", "split", "task",
                                            "dimension", "template_id", "lang", "question",
                                            "options", "answer", "answer_text", "history_len")}
    for u, f in zip(users, fav, strict=True):
        for q in range(questions_per_user):
            order = rng.permutation(n_cats)[:4]
            if f not in order:
                order[rng.integers(0, 4)] = f
            opts = [CATEGORIES[c] for c in order]
            rows["question_id"].append(f"q{u}-{q}")
            rows["user_id"].append(int(u))
            rows["split"].append("train")
            rows["task"].append("li")
            rows["dimension"].append(TASK_DIMENSION["li"])
            rows["template_id"].append("li-0")
            rows["lang"].append("en")
            rows["question"].append("Which category does this user like most?")
            rows["options"].append(opts)
            rows["answer"].append(OPTION_LETTERS[list(order).index(f)])
            rows["answer_text"].append(CATEGORIES[f])
            rows["history_len"].append(positions)
    questions = pa.table({k: pa.array(v) for k, v in rows.items()})
    seq = protos[fav][:, None, :] + rng.normal(size=(n_users, positions, dim)).astype(
        np.float32) * 0.3
    embeddings = embeddings_table(users, seq if per_position else seq.mean(1))
    return questions, embeddings


def embeddings_table(user_ids: Sequence[int], emb: np.ndarray,
                     first_position: Sequence[int] | None = None) -> pa.Table:
    """An embeddings file table from ``[N, D]`` (pooled) or ``[N, T, D]`` (per position)."""
    emb = np.asarray(emb, dtype=np.float32)
    dim = emb.shape[-1]
    cols = {"user_id": pa.array(np.asarray(user_ids, dtype=np.int64))}
    if emb.ndim == 3:
        vec_t = pa.list_(pa.float32(), dim)
        cols["embedding"] = pa.array(emb.mean(1).tolist(), vec_t)
        cols["embeddings"] = pa.array([row.tolist() for row in emb], pa.list_(vec_t))
        fp = np.zeros(len(emb), np.int64) if first_position is None else first_position
        cols["first_position"] = pa.array(np.asarray(fp, dtype=np.int64))
    else:
        cols["embedding"] = pa.array(emb.tolist(), pa.list_(pa.float32(), dim))
    return pa.table(cols)


def write_probe(out_dir: Path, n_users: int, **kwargs: object) -> tuple[Path, Path]:
    """Write :func:`category_probe` as ``questions.arrow`` and ``embeddings.arrow``."""
    q, e = category_probe(n_users, **kwargs)  # type: ignore[arg-type]
    return (write_table(q, Path(out_dir) / "questions.arrow"),
            write_table(e, Path(out_dir) / "embeddings.arrow"))
