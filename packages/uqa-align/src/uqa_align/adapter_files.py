"""The files of an adapter directory (``adapter/``), written by alignment and read back
when answering (:mod:`uqa_align.aligned`)."""

from __future__ import annotations

ADAPTER_WEIGHTS = "adapter.safetensors"
"""The adapter's weights."""
LORA_DIR = "lora"
"""LoRA weights (``lora/lora.safetensors``), with ``strategy="lora"``."""
LLM_WEIGHTS = "llm.safetensors"
"""The LLM's trained weights, with ``strategy="full"``."""
CHECKPOINT_DIR = "checkpoint"
"""Resumable state of an alignment in progress (removed once it finishes)."""
