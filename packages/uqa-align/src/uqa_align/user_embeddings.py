"""User embeddings read from ``embeddings/<split>.arrow`` and gathered per question.

Schema (design): ``user_id`` (int64) plus ``embedding`` (fixed_size_list<float32>[D])
and/or ``embeddings`` (list<fixed_size_list<float32>[D]>: the causal state after
each of the last clicks) with ``first_position`` (index in the full click
sequence of ``embeddings[0]``). A question may only use the states after its
first ``history_len`` clicks: position ``j`` is valid when
``first_position + j < history_len``. With only ``embedding``, the single vector
is always used.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from uqa_data.errors import UqaInputError
from uqa_data.io import INT, read_table


def _is_vector(t: pa.DataType) -> bool:
    is_list = pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
    return is_list and pa.types.is_floating(t.value_type)


def _is_vector_list(t: pa.DataType) -> bool:
    return (pa.types.is_list(t) or pa.types.is_large_list(t)) and _is_vector(t.value_type)


def _first(mask: pa.ChunkedArray | pa.Array) -> int:
    return int(pc.index(mask, True).as_py())


def _check_vectors(vectors: pa.ChunkedArray | pa.Array, where: Callable[[int], str],
                   p: Path) -> int:
    """Raise on null, empty, ragged or null-holding vectors; returns the common width.

    ``where(i)`` names vector ``i`` (``"row 3 of 'embedding'"``).
    """
    if vectors.null_count:
        i = _first(pc.is_null(vectors))
        raise UqaInputError(f"{p}: {where(i)} is null; expected a vector of floats")
    widths = pc.list_value_length(vectors)
    if len(widths) == 0:
        return 0
    dim = int(widths[0].as_py())
    if dim == 0:
        raise UqaInputError(f"{p}: {where(0)} has width 0; expected vectors of at "
                            "least one value")
    ragged = pc.not_equal(widths, dim)
    if pc.any(ragged).as_py():
        i = _first(ragged)
        raise UqaInputError(f"{p}: {where(i)} has width {widths[i].as_py()}; expected "
                            f"{dim} like the first vector (every vector needs the same width)")
    values = pc.list_flatten(vectors)
    if values.null_count:
        i = _first(pc.is_null(values)) // dim
        raise UqaInputError(f"{p}: {where(i)} holds a null value; expected floats")
    return dim


def check_vector_columns(table: pa.Table, p: Path) -> tuple[bool, bool]:
    """``(has embeddings, has embedding)`` after checking their types and every vector.

    :raises UqaInputError: neither column, a column of the wrong type (e.g.
        list<string>), a null, empty, zero-width or ragged vector, or widths that
        differ between the two columns.
    """
    names = table.column_names
    present = [c for c in ("embedding", "embeddings") if c in names]
    if not present:
        raise UqaInputError(
            f"{p}: has neither 'embedding' nor 'embeddings'; expected a column 'embedding' "
            "(fixed_size_list<float32>, one vector per user) or 'embeddings' "
            f"(list<fixed_size_list<float32>>); columns present: {', '.join(names)}"
        )
    dims = {}
    if "embedding" in names:
        t = table.schema.field("embedding").type
        if not _is_vector(t):
            raise UqaInputError(f"{p}: column 'embedding' has type {t}; expected "
                                "fixed_size_list<float32> (one vector of floats per user)")
        dims["embedding"] = _check_vectors(table.column("embedding"),
                                           lambda i: f"row {i} of 'embedding'", p)
    if "embeddings" in names:
        t = table.schema.field("embeddings").type
        if not _is_vector_list(t):
            raise UqaInputError(f"{p}: column 'embeddings' has type {t}; expected "
                                "list<fixed_size_list<float32>> (one vector per position)")
        col = table.column("embeddings")
        if col.null_count:
            i = _first(pc.is_null(col))
            raise UqaInputError(f"{p}: row {i} of 'embeddings' is null; expected a list of "
                                "vectors")
        starts = np.concatenate([[0], np.cumsum(pc.list_value_length(col).to_numpy())])

        def position(i: int) -> str:
            row = int(np.searchsorted(starts, i, side="right") - 1)
            return f"row {row} of 'embeddings' (position {i - int(starts[row])})"

        dims["embeddings"] = _check_vectors(pc.list_flatten(col), position, p)
    if len(set(dims.values())) > 1:
        raise UqaInputError(f"{p}: 'embedding' has width {dims['embedding']} but 'embeddings' "
                            f"{dims['embeddings']}; expected the same width")
    return "embeddings" in dims, "embedding" in dims


@dataclass
class UserEmbeddings:
    """Per-user embeddings, padded: ``seq [N, T, D]``, ``length [N]``, ``first [N]``.

    ``per_position`` is False when the file only had ``embedding`` (then T = 1
    and the vector is valid for every question).
    """

    user_ids: np.ndarray
    seq: np.ndarray
    length: np.ndarray
    first: np.ndarray
    per_position: bool
    path: Path

    def __post_init__(self) -> None:
        self.index = {int(u): i for i, u in enumerate(self.user_ids.tolist())}

    @property
    def dim(self) -> int:
        return int(self.seq.shape[-1])

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, prefer: str = "embeddings"
    ) -> UserEmbeddings:
        """Read an embeddings file; ``prefer='embedding'`` uses the pooled vector."""
        p = Path(path)
        table = read_table(p, {"user_id": (INT, "int64 user ids")}, what="embeddings file",
                           allow_empty=False)
        names = set(table.column_names)
        has_seq, has_vec = check_vector_columns(table, p)
        user_ids = table.column("user_id").to_numpy().astype(np.int64)
        if len(np.unique(user_ids)) != len(user_ids):
            raise UqaInputError(f"{p}: column 'user_id' has duplicate users")
        if has_seq and (prefer == "embeddings" or not has_vec):
            rows = table.column("embeddings").to_pylist()
            lengths = np.array([len(r) for r in rows], dtype=np.int64)
            if (lengths == 0).any():
                bad = int(np.flatnonzero(lengths == 0)[0])
                raise UqaInputError(f"{p}: row {bad} has an empty 'embeddings' list")
            dim = len(rows[0][0])
            seq = np.zeros((len(rows), int(lengths.max()), dim), dtype=np.float32)
            for i, r in enumerate(rows):
                arr = np.asarray(r, dtype=np.float32)
                if arr.ndim != 2 or arr.shape[1] != dim:
                    raise UqaInputError(f"{p}: row {i} of 'embeddings' has width "
                                        f"{arr.shape[-1]}; expected {dim}")
                seq[i, : len(r)] = arr
            if "first_position" in names:
                first = table.column("first_position").to_numpy().astype(np.int64)
            else:
                first = np.zeros(len(rows), dtype=np.int64)
            per_position = True
        else:
            vecs = np.asarray(table.column("embedding").to_pylist(), dtype=np.float32)
            if vecs.ndim != 2:
                raise UqaInputError(f"{p}: column 'embedding' rows have different widths")
            seq = vecs[:, None, :]
            lengths = np.ones(len(vecs), dtype=np.int64)
            first = np.zeros(len(vecs), dtype=np.int64)
            per_position = False
        if not np.isfinite(seq).all():
            bad = int(np.flatnonzero(~np.isfinite(seq).reshape(len(seq), -1).all(1))[0])
            raise UqaInputError(f"{p}: row {bad} (user {user_ids[bad]}) has non-finite values")
        return cls(user_ids, seq, lengths, first, per_position, p)

    @classmethod
    def from_vectors(
        cls, user_ids: Sequence[int], vectors: np.ndarray, path: Path
    ) -> UserEmbeddings:
        """Pooled vectors only (oracle vectors, tests)."""
        vecs = np.asarray(vectors, dtype=np.float32)
        n = len(vecs)
        return cls(np.asarray(user_ids, dtype=np.int64), vecs[:, None, :], np.ones(n, np.int64),
                   np.zeros(n, np.int64), False, path)

    def check_users(self, user_ids: Sequence[int], questions_path: str | os.PathLike[str]) -> None:
        """Raise naming the count (and a few ids) of question users with no embedding."""
        wanted = np.unique(np.asarray(user_ids, dtype=np.int64))
        missing = [int(u) for u in wanted if int(u) not in self.index]
        if missing:
            raise UqaInputError(
                f"{questions_path}: {len(missing)} of {len(wanted)} question users have no "
                f"embedding in {self.path} (first: {', '.join(map(str, missing[:5]))}); "
                "were the embeddings exported for the same split?"
            )

    def gather(
        self, user_ids: Sequence[int], history_lens: Sequence[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(emb [B, T, D], mask [B, T])`` for these users at these history lengths."""
        rows = np.array([self.index[int(u)] for u in user_ids], dtype=np.int64)
        emb = self.seq[rows]
        t = np.arange(emb.shape[1])[None, :]
        mask = t < self.length[rows][:, None]
        if self.per_position and history_lens is not None:
            limit = np.asarray(history_lens, dtype=np.int64) - self.first[rows]
            mask &= t < limit[:, None]
        return emb, mask

    def permuted(self, seed: int) -> UserEmbeddings:
        """The same embeddings reassigned across users (a derangement when N > 1)."""
        n = len(self.user_ids)
        rng = np.random.default_rng(seed)
        perm = rng.permutation(n)
        while n > 1:  # swap fixed points away so nobody keeps their own embedding
            fixed = np.flatnonzero(perm == np.arange(n))
            if len(fixed) == 0:
                break
            i, j = int(fixed[0]), (int(fixed[0]) + 1) % n
            perm[i], perm[j] = perm[j], perm[i]
        return UserEmbeddings(self.user_ids.copy(), self.seq[perm], self.length[perm],
                              self.first[perm], self.per_position, self.path)
