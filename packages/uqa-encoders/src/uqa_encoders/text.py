"""Deterministic text tokenisation for item text features: hashed word bags.

Words (lower-cased runs of letters/digits; each CJK character is its own word)
are hashed with BLAKE2b into ``1..vocab_size-1``; 0 is padding. Nothing is
downloaded and the same text always gives the same ids on every machine.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    """Split ``text`` into lower-cased words (CJK characters one by one)."""
    return _WORD.findall(text.lower())


def hash_word(word: str, vocab_size: int) -> int:
    """Token id of ``word`` in ``1..vocab_size-1``."""
    digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
    return 1 + int.from_bytes(digest, "little") % (vocab_size - 1)


def token_bags(
    texts: Sequence[Sequence[str | None]], vocab_size: int, max_tokens: int
) -> np.ndarray:
    """Hash each row's fields into one bag of at most ``max_tokens`` ids (0-padded).

    :param texts: one sequence of text fields (title, names...) per row.
    :returns: int64 array ``[rows, max_tokens]``.
    """
    out = np.zeros((len(texts), max_tokens), dtype=np.int64)
    cache: dict[str, int] = {}
    for r, fields in enumerate(texts):
        ids: list[int] = []
        for field in fields:
            if not field:
                continue
            for w in words(field):
                tid = cache.get(w)
                if tid is None:
                    tid = cache[w] = hash_word(w, vocab_size)
                ids.append(tid)
        ids = ids[:max_tokens]
        out[r, : len(ids)] = ids
    return out
