"""The stages only a full ``uqa run`` has: the click log, its preparation, the questions,
pre-training and the embeddings. Alignment, answering, reports and baselines are built by
:mod:`uqa_eval.stages`, which scoring embeddings made elsewhere shares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from uqa_data.layout import SPLITS, UNTRAINED_STAGE, RunLayout
from uqa_eval.pipeline import Stage, config_dict, file_stamp
from uqa_eval.stages import Launcher


def synth_stage(layout: RunLayout, preset: str, seed: int, lang: str,
                settings: dict[str, Any] | None = None) -> Stage:
    """``synth``: the seeded synthetic click log into ``raw/``; ``settings``: fields of
    :class:`~uqa_data.presets.SynthConfig` changed from the preset's (``--set synth.KEY``),
    part of the stage's fingerprint only when there are some."""
    from uqa_data.synth import synthesize

    settings = dict(settings or {})
    fingerprint: dict[str, Any] = {"preset": preset, "seed": seed, "lang": lang}
    if settings:
        fingerprint["settings"] = settings
    return Stage("synth", lambda: synthesize(layout.root, preset=preset, seed=seed, lang=lang,
                                             **settings),
                 fingerprint,
                 [layout.raw / "interactions.arrow", layout.raw / "items.arrow"],
                 description="synthetic Taobao-like click log", owns=[layout.raw])


def prepare_stage(layout: RunLayout, raw: Path, cfg: Any) -> Stage:
    """``prepare``: ``raw`` (the run's, or an imported dataset's) filtered and split into
    ``data/``."""
    from uqa_data.prepare import prepare

    return Stage("prepare", lambda: prepare(raw, layout.data, cfg), config_dict(cfg),
                 [layout.data / n for n in ("items.arrow", "train.arrow", "test.arrow")],
                 after=("synth",), description="filter, order and split", owns=[layout.data])


def questions_stage(layout: RunLayout, cfg: Any, imported: RunLayout | None) -> Stage:
    """``questions``: generated from ``data/``, or an imported dataset's own (the official
    align files) copied as they are."""
    outputs = [layout.questions(s) for s in ("align", "eval")]
    given = [imported.questions(s) for s in ("align", "eval")] if imported is not None else []
    if given and all(p.is_file() for p in given):
        return Stage("questions", lambda: _copy_questions(given, layout),
                     {"imported": [file_stamp(p) for p in given]}, outputs, after=("prepare",),
                     description="imported questions", owns=[layout.questions_dir])
    from uqa_data.questions import generate

    return Stage("questions", lambda: generate(layout.data, layout.questions_dir, cfg),
                 config_dict(cfg), outputs, after=("prepare",),
                 description="personalized questions", owns=[layout.questions_dir])


def pretrain_stage(layout: RunLayout, cfg: Any, *, launch: Launcher | None,
                   log_dir: Path | None) -> Stage:
    """``pretrain``: next-item pre-training of the encoder into ``encoder/``."""
    from uqa_encoders.pretrain import pretrain

    def run(resume: bool = False) -> Any:
        if launch is not None:
            launch("pretrain", cfg, resume, {"data_dir": layout.data,
                                             "encoder_dir": layout.encoder})
            return None
        return pretrain(layout.data, layout.encoder, cfg, resume=resume, log_dir=log_dir)

    return Stage("pretrain", run, config_dict(cfg),
                 [layout.encoder / "model.safetensors", layout.encoder / "config.json"],
                 after=("prepare",), description=f"next-item pre-training of {cfg.encoder}",
                 resumable="pre-training then continues from its last checkpoint (every "
                 f"{cfg.checkpoint_every} steps and each epoch, encoder/checkpoint/)",
                 owns=[layout.encoder])


def embed_stage(layout: RunLayout, *, untrained: bool = False) -> Stage:
    """``embed``: every split's user embeddings; ``embed-untrained``: an untrained encoder's
    of the same shape (the ``random`` baseline)."""
    from uqa_encoders.embed import export_embeddings

    def run() -> dict[str, Any]:
        return {split: export_embeddings(layout.encoder, layout.data, split,
                                         layout.embeddings(split, untrained), untrained=untrained)
                for split in SPLITS}

    if untrained:
        return Stage(UNTRAINED_STAGE, run, {"untrained": True},
                     [layout.embeddings(s, untrained=True) for s in SPLITS],
                     after=("pretrain",), description="embeddings of an untrained encoder")
    return Stage("embed", run, {"splits": list(SPLITS)}, [layout.embeddings(s) for s in SPLITS],
                 after=("pretrain",), description="user embeddings")


def _copy_questions(sources: list[Path], layout: RunLayout) -> dict[str, Any]:
    """Copy imported question files into the run, checking their columns."""
    from uqa_data.io import STRING, read_table, write_table

    counts = {}
    for src in sources:
        table = read_table(
            src,
            {"question_id": (STRING, "string"), "task": (STRING, "string")},
            what="imported questions",
            allow_empty=False,
        )
        write_table(table, layout.questions(src.stem))
        counts[src.stem] = table.num_rows
    return counts

