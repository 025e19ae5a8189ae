"""User embeddings: history_len masking, derangement, missing users, width checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from uqa_align.testing import embeddings_table
from uqa_align.user_embeddings import UserEmbeddings
from uqa_data.errors import UqaInputError
from uqa_data.io import write_table


def _store(tmp_path, n=3, t=4, d=2, first=None):
    emb = np.arange(n * t * d, dtype=np.float32).reshape(n, t, d)
    path = write_table(embeddings_table(range(n), emb, first), tmp_path / "e.arrow")
    return UserEmbeddings.from_file(path), emb


def test_positions_after_history_len_are_masked(tmp_path):
    store, _ = _store(tmp_path, first=[0, 2, 10])
    _, mask = store.gather([0, 1, 2], [3, 3, 100])
    # user 0: positions 0..2 see clicks < 3; user 1 starts at click 2: only position 0
    assert mask.tolist() == [[True, True, True, False], [True, False, False, False],
                             [True, True, True, True]]


def test_pooled_only_file_is_always_valid(tmp_path):
    path = write_table(embeddings_table([5, 6], np.ones((2, 3))), tmp_path / "p.arrow")
    store = UserEmbeddings.from_file(path)
    emb, mask = store.gather([6], [0])
    assert emb.shape == (1, 1, 3) and mask.all() and not store.per_position


@given(n=st.integers(2, 40), seed=st.integers(0, 1000))
def test_permuted_is_a_derangement(n, seed):
    vecs = np.arange(n, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
    store = UserEmbeddings.from_vectors(np.arange(n), vecs, path=None)  # type: ignore[arg-type]
    shuffled = store.permuted(seed)
    got = shuffled.seq[:, 0, 0]
    assert sorted(got.tolist()) == list(range(n))  # a permutation
    assert (got != np.arange(n)).all()  # nobody keeps their own embedding


def test_missing_users_give_a_count(tmp_path):
    store, _ = _store(tmp_path)
    with pytest.raises(UqaInputError, match=r"2 of 3 question users have no embedding"):
        store.check_users([0, 7, 8, 8], "questions.arrow")


def test_file_without_embedding_columns(tmp_path):
    import pyarrow as pa

    path = write_table(pa.table({"user_id": [1], "x": [1.0]}), tmp_path / "bad.arrow")
    with pytest.raises(UqaInputError, match="expected a column 'embedding'"):
        UserEmbeddings.from_file(path)
