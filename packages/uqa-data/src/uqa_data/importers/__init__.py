"""Importers of real click logs into the raw format ``uqa data prepare`` reads.

Each is a ``dataset`` component ``(source, out_dir, **options) -> summary`` that
writes ``out_dir/raw/interactions.arrow`` and ``out_dir/raw/items.arrow``:

- ``uqabench`` (:mod:`uqa_data.importers.uqabench`): the official UQABench Arrow files;
- ``csv`` / ``parquet`` (:mod:`uqa_data.importers.tabular`): a log with mappable columns;
- ``recbole`` (:mod:`uqa_data.importers.recbole`): RecBole atomic files.
"""
