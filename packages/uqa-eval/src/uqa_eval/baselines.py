"""Baselines, evaluated through the same answering path as the embedding under test.

Each baseline is a :class:`Baseline` row registered by ``uqa_register_baselines``
(see :mod:`uqa_eval.plugin`); its fields say how align and evaluate treat it:

- ``none``: no user context in the prompt (the LLM's prior; no alignment).
- ``random``: an untrained encoder's embeddings (the caller exports that file
  and aligns on it); evaluated like the real embedding. Not a no-user control:
  a randomly initialised encoder still maps each user's clicks to a vector of
  their own, so it measures what pre-training adds.
- ``shuffled``: the real embeddings, permuted across users at evaluation.
- ``oracle``: synthetic data only: each user's planted interests
  (``raw/truth.arrow``: the mixture over categories with their preferred brands
  and shops, and the last two phases) as a vector; see :func:`oracle_vectors`.
- ``text20`` / ``text50``: the last 20/50 clicks rendered as text, LoRA
  instead of an adapter, same step budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from uqa_data.errors import UqaInputError
from uqa_data.layout import RunLayout


@dataclass(frozen=True)
class Baseline:
    """How a baseline differs from the embedding under test.

    :param name: the baseline's name.
    :param context: ``embedding`` (soft tokens), ``text`` (rendered history) or ``none``.
    :param text_history: clicks rendered as text (``context='text'``).
    :param permute: permute the embeddings across users at evaluation.
    :param embeddings: where the embeddings come from: ``given`` (the run's),
        ``untrained`` (an untrained encoder's export), ``oracle`` (planted truth).
    :param strategy: alignment strategy it needs (None: the run's).
    :param needs_alignment: whether an adapter / LoRA is trained for it.
    :param label: its name in report tables (default: ``name``).
    """

    name: str
    context: str = "embedding"
    text_history: int = 0
    permute: bool = False
    embeddings: str = "given"
    strategy: str | None = None
    needs_alignment: bool = True
    label: str = ""

    @property
    def no_user(self) -> bool:
        """Whether it carries nothing of the user asked about (no context, or another
        user's embedding): a control."""
        return self.context == "none" or self.permute

    @property
    def compared_with(self) -> bool:
        """Whether every run is compared with it, question by question: the no-user
        controls and an untrained encoder. The untrained encoder is not a no-user
        control: its embedding is a fixed random function of the user's clicks (on the
        default preset it scores 18.7 points above ``shuffled`` on interest
        perception); what a trained encoder scores above it is what pre-training adds."""
        return self.no_user or self.embeddings == "untrained"

    @property
    def reads_run_encoder(self) -> bool:
        """Whether it feeds soft tokens from its run's own encoder (``shuffled``: the
        run's embeddings, ``random``: an untrained encoder of the same shape): it belongs
        to that run, so a study keeps it beside every variant and a comparison pairs it
        with its own run."""
        return self.context == "embedding" and self.embeddings in ("given", "untrained")

    def align_overrides(self) -> dict[str, Any]:
        """Fields of :class:`~uqa_align.train.AlignConfig` this baseline changes."""
        out: dict[str, Any] = {}
        if self.context == "text":
            out.update(text_history=self.text_history, strategy=self.strategy or "lora")
        elif self.context == "none":
            out.update(use_embeddings=False)
        if self.embeddings == "oracle":
            out.update(embedding_column="embedding")
        return out


NONE = Baseline("none", context="none", needs_alignment=False, label="None (no user)")
RANDOM = Baseline("random", embeddings="untrained", label="Untrained encoder")
SHUFFLED = Baseline("shuffled", permute=True, label="Shuffled emb.")
ORACLE = Baseline("oracle", embeddings="oracle", label="Oracle")
TEXT20 = Baseline("text20", context="text", text_history=20, strategy="lora", label="Text20")
TEXT50 = Baseline("text50", context="text", text_history=50, strategy="lora", label="Text50")


def in_answer_order(names: list[str]) -> list[str]:
    """``names`` with ``none`` first, the rest in their order: every later baseline's
    report reads the no-user scores for its ``acc_pmi``."""
    return sorted(names, key=lambda n: n != NONE.name)


def get_baseline(name: str) -> Baseline:
    """The registered baseline ``name`` (``--baseline``)."""
    from uqa_data.registry import get_component

    obj = get_component("baseline", name, flag="--baseline").load()
    if not isinstance(obj, Baseline):
        raise UqaInputError(f"baseline '{name}' does not name a uqa_eval.baselines.Baseline")
    return obj


ORACLE_INFORMS: dict[str, tuple[str, ...]] = {
    "df": ("category", "brand", "shop"),
    "ap": ("category", "brand", "shop"),
    "li": ("category", "brand", "shop"),
    "si": ("category", "brand", "shop"),
    "it": ("category", "brand", "shop"),
}
"""Sub-task -> attributes the oracle vector can inform: the planted mixture answers
li, the last phases answer si and it and weigh on what was (df) or will be (ap)
clicked. It says nothing of counts (mf), item titles (ip, df title / last-k)."""


def oracle_informs(task: str, attribute: str | None) -> bool:
    """Whether the oracle vector carries what a question of ``task`` about ``attribute``
    asks (see :data:`ORACLE_INFORMS`)."""
    return attribute in ORACLE_INFORMS.get(task, ())


def oracle_vectors(truth_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(user_ids, vectors)``: the planted interests of each synthetic user as a vector.

    Three blocks over the categories, brands and shops seen in the file, each
    block a slot per category, then per brand, then per shop:

    1. the long-term mixture: each interest's weight at its category, its preferred
       brand and its preferred shop;
    2. the last phase: a one at its dominant category and at that interest's
       preferred brand and shop;
    3. the phase before it, the same way (the last phase again for a user with one).
    """
    from uqa_data.io import FLOAT, INT, list_of, read_table

    table = read_table(truth_path, {
        "user_id": (INT, "int64 user ids"),
        "interest_cate_ids": (list_of(INT), "list<int64> planted categories"),
        "interest_weights": (list_of(FLOAT), "list<float64> mixture weights"),
        "pref_brand_ids": (list_of(INT), "list<int64> preferred brand per interest"),
        "pref_shop_ids": (list_of(INT), "list<int64> preferred shop per interest"),
        "phase_cate_ids": (list_of(INT), "list<int64> planted phase categories"),
    }, what="planted truth (raw/truth.arrow; the oracle baseline needs synthetic data)",
        allow_empty=False)
    cates = table.column("interest_cate_ids").to_pylist()
    weights = table.column("interest_weights").to_pylist()
    brands = table.column("pref_brand_ids").to_pylist()
    shops = table.column("pref_shop_ids").to_pylist()
    phases = table.column("phase_cate_ids").to_pylist()
    slots = oracle_slots(cates, phases, brands, shops)
    width = len(slots)
    vecs = np.zeros((table.num_rows, 3 * width), dtype=np.float32)
    for r, (cs, ws, bs, ss, ph) in enumerate(zip(cates, weights, brands, shops, phases,
                                                 strict=True)):
        for c, w, b, sh in zip(cs, ws, bs, ss, strict=True):
            for key in (("cate", c), ("brand", b), ("shop", sh)):
                vecs[r, slots[key]] += w
        prefs = {c: (b, sh) for c, b, sh in zip(cs, bs, ss, strict=True)}
        for block, phase in ((1, ph[-1:]), (2, ph[-2:-1] or ph[-1:])):
            for c in phase:
                keys = [("cate", c)]
                if c in prefs:
                    keys += [("brand", prefs[c][0]), ("shop", prefs[c][1])]
                for key in keys:
                    vecs[r, block * width + slots[key]] = 1.0
    return table.column("user_id").to_numpy().astype(np.int64), vecs


def oracle_slots(cates: list[list[int]], phases: list[list[int]], brands: list[list[int]],
                 shops: list[list[int]]) -> dict[tuple[str, int], int]:
    """``(kind, id) -> slot`` of one block of :func:`oracle_vectors`: every category
    (planted or phase), then every brand, then every shop, each kind in id order."""
    slots: dict[tuple[str, int], int] = {}
    for kind, rows in (("cate", [*cates, *phases]), ("brand", brands), ("shop", shops)):
        for v in sorted({v for row in rows for v in row}):
            slots[(kind, v)] = len(slots)
    return slots


def write_oracle_embeddings(truth_path: Path, out_path: Path) -> dict:
    """Write the oracle vectors as an embeddings file (``user_id``, ``embedding``)."""
    import pyarrow as pa
    from uqa_data.io import write_table

    users, vecs = oracle_vectors(truth_path)
    dim = vecs.shape[1]
    emb = pa.FixedSizeListArray.from_arrays(pa.array(vecs.reshape(-1), pa.float32()), dim)
    write_table(pa.table({"user_id": pa.array(users, pa.int64()), "embedding": emb}), out_path)
    return {"users": len(users), "dim": dim, "path": str(out_path)}


def baseline_embeddings(run: Path | RunLayout, baseline: Baseline | None, split: str, *,
                        given: Path | None = None) -> Path | None:
    """The embeddings file a baseline reads for ``split`` (None: it takes no embeddings).

    ``given``: the run's ``embeddings/<split>.arrow`` (or ``given``, embeddings made
    elsewhere); ``untrained``: ``embeddings/untrained/<split>.arrow`` (``uqa embed
    --untrained``); ``oracle``: ``baselines/oracle/embeddings.arrow``, which
    :func:`write_baseline_embeddings` makes. Only reads: a missing file is an error.
    """
    layout = run if isinstance(run, RunLayout) else RunLayout(Path(run))
    if baseline is not None and baseline.context != "embedding":
        return None
    if baseline is None or baseline.embeddings == "given":
        return given if given is not None else layout.embeddings(split)
    if baseline.embeddings == "untrained":
        path = layout.embeddings(split, untrained=True)
        if not path.is_file():
            raise UqaInputError(
                f"--baseline {baseline.name}: {path} not found; export it with "
                f"`uqa embed --out {layout.run.root} --split {split} --untrained --output {path}`"
            )
        return path
    if baseline.embeddings == "oracle":
        path = layout.baseline(baseline.name).own_embeddings
        if not path.is_file():
            raise UqaInputError(
                f"--baseline {baseline.name}: {path} not found; it is made from "
                f"{layout.raw / 'truth.arrow'} (the oracle needs the planted truth of the "
                "synthetic dataset) by `uqa run --baselines oracle` or `uqa align --baseline "
                "oracle`"
            )
        return path
    raise UqaInputError(f"baseline '{baseline.name}': unknown embeddings source "
                        f"'{baseline.embeddings}'")


def write_baseline_embeddings(run: Path | RunLayout, baseline: Baseline) -> dict | None:
    """Make the vectors a baseline brings itself (the oracle's, from ``raw/truth.arrow``)
    into ``baselines/<name>/embeddings.arrow``; None for a baseline that brings none."""
    layout = run if isinstance(run, RunLayout) else RunLayout(Path(run))
    if baseline.embeddings != "oracle":
        return None
    truth = layout.raw / "truth.arrow"
    if not truth.is_file():
        raise UqaInputError(
            f"--baseline {baseline.name}: {truth} not found; the oracle needs the planted "
            "truth of the synthetic dataset (--dataset synthetic)"
        )
    return write_oracle_embeddings(truth, layout.baseline(baseline.name).own_embeddings)


def baseline_adapter(run: Path | RunLayout, baseline: Baseline | None) -> Path | None:
    """The adapter directory a baseline answers with.

    Its own (``baselines/<name>/adapter``) when it is aligned on its own; the run's
    ``adapter/`` when it feeds the run's adapter other users (``shuffled``); for a
    baseline without alignment (``none``) the run's ``adapter/`` when there is one,
    which then lends only its LLM and prompt wording; else None. No baseline: the run's.
    """
    layout = run if isinstance(run, RunLayout) else RunLayout(Path(run))
    if baseline is None or baseline.permute:
        return layout.run.adapter
    if baseline.needs_alignment:
        return layout.baseline(baseline.name).adapter
    own = layout.run.adapter
    return own if (own / "config.json").is_file() else None
