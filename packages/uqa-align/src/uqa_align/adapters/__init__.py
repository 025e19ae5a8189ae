"""Adapters: user embeddings -> LLM soft tokens (``mean_linear``, ``qformer``)."""

from uqa_align.adapters.base import Adapter, build_adapter, load_adapter_module

__all__ = ["Adapter", "build_adapter", "load_adapter_module"]
