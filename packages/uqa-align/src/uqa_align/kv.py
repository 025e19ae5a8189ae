"""The KV cache's keyword and output field in transformers decoders, under either name.

transformers 5 renamed ``past_key_values`` to ``cache`` (the old names still work but
warn on every call and every read); transformers 4 only knows ``past_key_values``.
These helpers use whichever name the installed version has, and build a cache from
per-layer keys and values.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from typing import Any


@functools.cache
def cache_name() -> str:
    """``"cache"`` where the installed transformers has it, else ``"past_key_values"``."""
    from transformers.modeling_outputs import BaseModelOutputWithPast

    fields = {f.name for f in dataclasses.fields(BaseModelOutputWithPast)}
    return "cache" if "cache" in fields else "past_key_values"


def cache_of(layers: Iterable[tuple[Any, Any]]) -> Any:
    """A transformers ``DynamicCache`` holding ``(keys, values)`` for each layer in turn."""
    from transformers import DynamicCache

    cache = DynamicCache()
    for i, (keys, values) in enumerate(layers):
        cache.update(keys, values, i)
    return cache


def cache_kwargs(cache: Any) -> dict[str, Any]:
    """The keyword argument that passes ``cache`` to a decoder's ``forward``."""
    return {cache_name(): cache}


def output_cache(out: Any) -> Any:
    """The KV cache a decoder returned in ``out``."""
    return getattr(out, cache_name())
