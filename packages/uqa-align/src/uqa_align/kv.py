"""The KV cache's keyword and output field in transformers decoders, under either name.

transformers 5 renamed ``past_key_values`` to ``cache`` (the old names still work but
warn on every call and every read); transformers 4 only knows ``past_key_values``.
These two helpers use whichever name the installed version has.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any


@functools.cache
def cache_name() -> str:
    """``"cache"`` where the installed transformers has it, else ``"past_key_values"``."""
    from transformers.modeling_outputs import BaseModelOutputWithPast

    fields = {f.name for f in dataclasses.fields(BaseModelOutputWithPast)}
    return "cache" if "cache" in fields else "past_key_values"


def cache_kwargs(cache: Any) -> dict[str, Any]:
    """The keyword argument that passes ``cache`` to a decoder's ``forward``."""
    return {cache_name(): cache}


def output_cache(out: Any) -> Any:
    """The KV cache a decoder returned in ``out``."""
    return getattr(out, cache_name())
