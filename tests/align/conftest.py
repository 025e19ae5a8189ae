"""Fixtures for the align/answering tests: a tiny random Llama with SmolLM2's tokenizer."""

from __future__ import annotations

import pytest


@pytest.fixture
def tiny():
    """A fresh tiny Llama (hidden 32, 2 layers) with the real SmolLM2 tokenizer."""
    from uqa_align.testing import tiny_llm

    return tiny_llm()


@pytest.fixture(scope="session")
def tokenizer():
    from uqa_align.testing import tiny_llm

    return tiny_llm().tokenizer
