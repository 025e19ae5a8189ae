"""bench/embedding_probe.py: the probe with a hidden layer reads what a linear one cannot."""

from __future__ import annotations

import numpy as np


def _xor(n: int, seed: int) -> tuple[tuple[list[int], np.ndarray], dict[int, int]]:
    """Points around the four corners of a square, labelled by whether the signs agree:
    no linear map separates the classes, one hidden layer does."""
    rng = np.random.default_rng(seed)
    corners = rng.integers(0, 2, size=(n, 2)) * 2 - 1
    x = (corners + 0.1 * rng.standard_normal((n, 2))).astype(np.float32)
    users = list(range(seed * n, seed * n + n))
    labels = {u: int(a == b) for u, (a, b) in zip(users, corners.tolist(), strict=True)}
    return (users, x), labels


def test_hidden_layer_reads_a_label_no_linear_probe_can(bench_script) -> None:  # type: ignore[no-untyped-def]
    probe = bench_script("embedding_probe").probe
    (train, y_train), (test, y_test) = _xor(400, 1), _xor(200, 2)
    linear, majority = probe(train, test, y_train, y_test)
    hidden, _ = probe(train, test, y_train, y_test, hidden=32)
    assert majority < 0.6
    assert linear < 0.7
    assert hidden > 0.95
