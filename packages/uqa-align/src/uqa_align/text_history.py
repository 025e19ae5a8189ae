"""Text baselines: each question's user history rendered as text (``text20``/``text50``)."""

from __future__ import annotations

from pathlib import Path

from uqa_data.errors import UqaInputError
from uqa_data.io import INT, list_of, read_table

from uqa_align.question_set import QuestionSet


def history_texts(qs: QuestionSet, data_dir: Path, k: int) -> list[str]:
    """The last ``k`` of each question's first ``history_len`` clicks, as text.

    Reads ``data/items.arrow`` and ``data/<split>.arrow`` (the question's
    ``split`` column says which) and renders with
    :func:`uqa_data.render.render_history`.
    """
    from uqa_data.render import catalog_of, render_history

    if data_dir is None:
        raise UqaInputError("text baselines need the data directory (data/items.arrow)")
    data_dir = Path(data_dir)
    items = catalog_of(read_table(data_dir / "items.arrow", what="items file", allow_empty=False))
    histories: dict[str, dict[int, list[int]]] = {}
    for split in sorted(set(qs.splits)):
        t = read_table(data_dir / f"{split}.arrow",
                       {"user_id": (INT, "int64"), "item_ids": (list_of(INT), "list<int64>")},
                       what=f"{split} data file")
        histories[split] = dict(zip(t.column("user_id").to_pylist(),
                                    t.column("item_ids").to_pylist(), strict=True))
    texts = []
    for i, (u, h, split) in enumerate(zip(qs.user_ids, qs.history_lens, qs.splits, strict=True)):
        seq = histories[split].get(int(u))
        if seq is None:
            raise UqaInputError(
                f"{qs.path}: row {i}: user {u} is not in {data_dir / (split + '.arrow')}"
            )
        texts.append(render_history(items, seq[: int(h)], k, lang=qs.langs[i]))
    return texts
