"""uqa-data's built-in plugin for data sources: the synthetic generator and importers.

Each ``dataset`` spec's ``target`` is a callable ``(source, out_dir, **options)``
that writes ``out_dir/raw/interactions.arrow`` and ``out_dir/raw/items.arrow`` and
returns a summary dict; ``uqa data prepare`` then reads that one format.
"""

from __future__ import annotations

from uqa_data import hookimpl
from uqa_data.registry import ComponentSpec


@hookimpl
def uqa_register_datasets() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind="dataset",
            name="synthetic",
            target="uqa_data.synth:synthetic_source",
            description="seeded Taobao-like click log (presets tiny/small/default/full, en/zh)",
            config="uqa_data.presets:SynthConfig",
            options={"synthetic": True, "presets": ["tiny", "small", "default", "full"],
                     "langs": ["en", "zh"]},
        ),
    ]
