"""uqa-data's built-in plugin for data sources: the synthetic generator and importers.

Each ``dataset`` spec's ``target`` is a callable ``(source, out_dir, **options)``
that writes ``out_dir/raw/interactions.arrow`` and ``out_dir/raw/items.arrow`` and
returns a summary dict; ``uqa data prepare`` then reads that one format.
"""

from __future__ import annotations

from uqa_data import hookimpl
from uqa_data.presets import PRESETS
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
            options={"synthetic": True, "presets": list(PRESETS),
                     "langs": ["en", "zh"]},
        ),
        ComponentSpec(
            kind="dataset",
            name="uqabench",
            target="uqa_data.importers.uqabench:import_uqabench",
            description="official UQABench Arrow files (pretrain/align data, Q&A as questions)",
            options={"flags": ["--tokenizer"]},
        ),
        ComponentSpec(
            kind="dataset",
            name="csv",
            target="uqa_data.importers.tabular:import_csv",
            description="CSV click log user_id,item_id,timestamp (+ optional item table)",
            options={"flags": ["--items", "--user-col", "--item-col", "--time-col",
                               "--delimiter"]},
        ),
        ComponentSpec(
            kind="dataset",
            name="parquet",
            target="uqa_data.importers.tabular:import_parquet",
            description="Parquet click log user_id,item_id,timestamp (+ optional item table)",
            options={"flags": ["--items", "--user-col", "--item-col", "--time-col"]},
        ),
        ComponentSpec(
            kind="dataset",
            name="recbole",
            target="uqa_data.importers.recbole:import_recbole",
            description="RecBole atomic files (.inter + optional .item)",
        ),
    ]
