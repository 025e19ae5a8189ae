"""Export user embeddings of a split (``uqa embed``) to ``embeddings/<split>.arrow``.

Columns: ``user_id``; ``embedding`` (fixed_size_list<float32>[D], mean over the
valid positions); ``embeddings`` (list<fixed_size_list<float32>[D]>, the causal
state after each of the last ``max_len`` clicks); ``first_position`` (index in
the full sequence of ``embeddings[0]``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import torch
from uqa_data.io import write_table
from uqa_data.progress import stage_progress

from uqa_encoders.batching import export_batch
from uqa_encoders.inputs import load_sequences
from uqa_encoders.model import load_model

log = logging.getLogger(__name__)

SPLITS = ("train", "test")


@torch.no_grad()
def export_embeddings(
    encoder_dir: Path,
    data_dir: Path,
    split: str,
    out_path: Path,
    *,
    untrained: bool = False,
    batch_size: int = 256,
) -> dict[str, Any]:
    """Encode every user of ``data_dir/<split>.arrow`` with the encoder in ``encoder_dir``.

    :param untrained: use a freshly initialised encoder of the same shape (``random`` baseline).
    :returns: a summary (users, dim, positions, seconds).
    """
    from uqa_data.errors import UnknownNameError
    from uqa_data.registry import unknown_name_message

    if split not in SPLITS:
        raise UnknownNameError(unknown_name_message("split", split, list(SPLITS), flag="--split"))
    t0 = time.perf_counter()
    model, config = load_model(Path(encoder_dir), Path(data_dir), untrained=untrained)
    max_len = int(config["max_len"])
    dim = int(config["dim"])
    seqs = load_sequences(Path(data_dir), split, num_items=model.features.num_items)
    n = len(seqs)
    lengths = np.minimum(seqs.lengths(), max_len)
    order = np.argsort(-lengths, kind="stable")  # similar lengths share a batch
    means = np.zeros((n, dim), dtype=np.float32)
    states: list[np.ndarray | None] = [None] * n
    with stage_progress(f"embed {split}", total=n) as bar:
        for i in range(0, n, batch_size):
            rows = order[i : i + batch_size]
            b = export_batch(seqs, rows, max_len)
            lens = b.lengths
            hidden = model(b.inputs, lens, b.times).float().numpy()  # [B, L, D], 0 at padding
            for j, r in enumerate(rows):
                h = hidden[j, : int(lens[j])]
                states[r] = h
                means[r] = h.mean(0)
            bar.advance(len(rows))
    flat = np.concatenate([s for s in states if s is not None]).reshape(-1)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    per_pos = pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), dim)
    table = pa.table(
        {
            "user_id": pa.array(seqs.user_ids, pa.int64()),
            "embedding": pa.FixedSizeListArray.from_arrays(
                pa.array(means.reshape(-1), pa.float32()), dim
            ),
            "embeddings": pa.ListArray.from_arrays(pa.array(offsets), per_pos),
            "first_position": pa.array(seqs.lengths() - lengths, pa.int64()),
        }
    ).replace_schema_metadata(
        {"encoder": config["encoder"], "untrained": str(bool(untrained)).lower(),
         "dim": str(dim), "max_len": str(max_len)}
    )
    write_table(table, out_path)
    summary = {
        "split": split,
        "users": n,
        "dim": dim,
        "positions": int(lengths.sum()),
        "encoder": config["encoder"],
        "untrained": untrained,
        "seconds": round(time.perf_counter() - t0, 3),
        "path": str(out_path),
    }
    log.info("embeddings: %s", summary)
    return summary
