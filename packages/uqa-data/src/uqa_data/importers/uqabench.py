"""``uqabench`` importer: the official UQABench Arrow IPC files.

Reads whichever of ``pretrain_data_train.arrow``, ``pretrain_data_eval.arrow``,
``align_data_train.arrow`` and ``align_data_eval.arrow`` are in the folder (or the
one file given). One row per user; ``uni_seq_{item,cate,brand,shop,seller}_id`` are
``list<list<int64>>`` with one inner list per click holding one id, in click
order; ``uni_seq_{title,cate,shop,brand,seller}_bpe_token_ids`` hold each click's
Qwen2 BPE token ids. The files carry no timestamps, so a click's timestamp is its
position in the user's sequence.

- Users: the ``user_id`` column, else ``offset + row`` where each file's offset
  is the number of rows in the files before it (in the order above), so row
  numbers of different files never collide. A user id already imported from an
  earlier file keeps that file's sequence.
- Names: the token ids as text (``"1234 5678"``) unless ``--tokenizer DIR`` (a
  folder with ``tokenizer.json``) decodes them.
- Split: ``raw/split.arrow`` (user_id, split) puts ``*_train`` users in train and
  ``*_eval`` users in test; prepare it with ``--split given``.
- Questions: the align files' ``text`` (a JSON chat: the user turn is the question
  with its options after ``选项：``/``Options:``, the assistant turn the answer)
  become ``questions/align.arrow`` (from align_data_train) and
  ``questions/eval.arrow`` (from align_data_eval), one 4-option question per row;
  rows whose options or answer cannot be parsed are skipped and counted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from uqa_data import io
from uqa_data.errors import UqaInputError
from uqa_data.importers.common import first_null, int_ids, items_from_columns, write_raw
from uqa_data.layout import RunLayout
from uqa_data.questions.official import official_task
from uqa_data.schemas import OPTION_LETTERS, QUESTIONS, TASK_DIMENSION

FILES: tuple[tuple[str, str], ...] = (
    ("pretrain_data_train.arrow", "train"),
    ("pretrain_data_eval.arrow", "test"),
    ("align_data_train.arrow", "train"),
    ("align_data_eval.arrow", "test"),
)
ID_FIELDS = {"item_id": "uni_seq_item_id", "cate_id": "uni_seq_cate_id",
             "brand_id": "uni_seq_brand_id", "shop_id": "uni_seq_shop_id",
             "seller_id": "uni_seq_seller_id"}
NAME_FIELDS = {"title": "uni_seq_title_bpe_token_ids", "cate_name": "uni_seq_cate_bpe_token_ids",
               "brand_name": "uni_seq_brand_bpe_token_ids",
               "shop_name": "uni_seq_shop_bpe_token_ids",
               "seller_name": "uni_seq_seller_bpe_token_ids"}
OPTION_HEADERS = ("选项：", "选项:", "Options:", "Options：", "options:")
_OPTION_SPLIT = re.compile(r"(?:^|\s)([A-D])[\.．、]\s*")
_ANSWER_LETTER = re.compile(r"^\s*([A-D])(?:[\.．、:：\s)]|$)")


def _clicks(path: Path, table: pa.Table, column: str, n_ids: bool) -> tuple[np.ndarray, pa.Array]:
    """``(per-row click counts, per-click inner list array)`` of a ``list<list<int>>`` column."""
    col = table.column(column).combine_chunks()
    if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)) or not (
        pa.types.is_list(col.type.value_type) or pa.types.is_large_list(col.type.value_type)
    ) or not pa.types.is_integer(col.type.value_type.value_type):
        raise UqaInputError(
            f"{path}: column '{column}' has type {col.type}; expected list<list<int64>>"
        )
    if col.null_count:
        raise UqaInputError(f"{path}: column '{column}' row {first_null(col)} is null")
    lengths = np.asarray(pc.list_value_length(col).to_numpy(zero_copy_only=False), dtype=np.int64)
    inner = col.flatten()
    if n_ids:
        inner_len = np.asarray(pc.list_value_length(inner).fill_null(0).to_numpy(
            zero_copy_only=False), dtype=np.int64)
        bad = np.flatnonzero(inner_len != 1)
        if bad.size:
            row = int(np.searchsorted(np.cumsum(lengths), bad[0], side="right"))
            click = int(bad[0] - (np.cumsum(lengths)[row - 1] if row else 0))
            raise UqaInputError(
                f"{path}: column '{column}' row {row} click {click} holds {int(inner_len[bad[0]])}"
                " ids; expected exactly one id per click"
            )
    return lengths, inner


def _names(lists: pa.Array, tokenizer: Any) -> pa.Array:
    """Token-id lists as text: decoded with ``tokenizer``, else the ids joined by spaces."""
    if tokenizer is not None:
        rows = [r or [] for r in lists.to_pylist()]
        return pa.array(tokenizer.decode_batch(rows), pa.string())
    return pc.fill_null(pc.binary_join(pc.cast(lists, pa.list_(pa.string())), " "), "")


def parse_question(text: str) -> tuple[str, list[str], str, str] | None:
    """``(stem, options, answer letter, answer text)`` from a JSON chat, or None."""
    try:
        chat = json.loads(text)
        user = next(m["content"] for m in chat if m.get("role") == "user")
        reply = next(m["content"] for m in chat if m.get("role") == "assistant")
    except (ValueError, TypeError, StopIteration, KeyError, AttributeError):
        return None
    for header in OPTION_HEADERS:
        idx = user.rfind(header)
        if idx >= 0:
            stem, body = user[:idx].strip(), user[idx + len(header):].strip()
            break
    else:
        return None
    parts = _OPTION_SPLIT.split(" " + body)
    letters, texts = parts[1::2], [t.strip() for t in parts[2::2]]
    if letters != ["A", "B", "C", "D"]:
        return None
    match = _ANSWER_LETTER.match(reply)
    if match:
        letter = match.group(1)
    elif reply.strip() in texts:
        letter = OPTION_LETTERS[texts.index(reply.strip())]
    else:
        return None
    return stem, texts, letter, texts[OPTION_LETTERS.index(letter)]


def _load_tokenizer(folder: Path) -> Any:
    path = Path(folder) / "tokenizer.json"
    if not path.is_file():
        raise UqaInputError(f"--tokenizer {folder}: no tokenizer.json in that folder")
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise UqaInputError(
            "--tokenizer needs the 'tokenizers' package (pip install tokenizers)"
        ) from exc
    return Tokenizer.from_file(str(path))


def import_uqabench(
    source: Path, out_dir: Path, *, tokenizer: Path | None = None
) -> dict[str, Any]:
    """Import the official UQABench files under ``source`` into ``out_dir`` (see module doc)."""
    source = Path(source)
    if source.is_dir():
        found = [(source / name, split) for name, split in FILES if (source / name).is_file()]
        if not found:
            raise UqaInputError(
                f"{source}: none of {', '.join(n for n, _ in FILES)} found in this folder"
            )
    else:
        split = dict(FILES).get(source.name)
        if split is None:
            raise UqaInputError(
                f"{source}: not an official UQABench file; expected one of "
                f"{', '.join(n for n, _ in FILES)}"
            )
        found = [(source, split)]
    tok = _load_tokenizer(tokenizer) if tokenizer is not None else None

    users, ts, splits_u, splits_s = [], [], [], []
    ids = {k: [] for k in ID_FIELDS}
    names: dict[str, list[pa.Array]] = {k: [] for k in NAME_FIELDS}
    seen: set[int] = set()
    skipped_users = 0
    questions: dict[str, list[dict[str, Any]]] = {"align": [], "eval": []}
    unparsed = 0
    offset = 0
    for path, split in found:
        table = io.read_table(path, what="UQABench file")
        if table.num_rows == 0:
            raise UqaInputError(f"{path}: has no rows; expected one row per user")
        if ID_FIELDS["item_id"] not in table.column_names:
            raise UqaInputError(
                f"{path}: missing column '{ID_FIELDS['item_id']}' (list<list<int64>>); "
                f"columns present: {', '.join(table.column_names)}"
            )
        lengths, inner = _clicks(path, table, ID_FIELDS["item_id"], True)
        row_user = (
            int_ids(path, "user_id", table.column("user_id"))
            if "user_id" in table.column_names
            else offset + np.arange(table.num_rows, dtype=np.int64)
        )
        offset += table.num_rows
        keep_row = np.array([int(u) not in seen for u in row_user], dtype=bool)
        skipped_users += int((~keep_row).sum())
        seen.update(int(u) for u in row_user)
        keep_click = np.repeat(keep_row, lengths)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        pos = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(starts, lengths)
        users.append(np.repeat(row_user, lengths)[keep_click])
        ts.append(pos[keep_click])
        for key, column in ID_FIELDS.items():
            if key != "item_id" and column not in table.column_names:
                ids[key].append(np.zeros(int(keep_click.sum()), dtype=np.int64))
                continue
            col_len, col_inner = (lengths, inner) if key == "item_id" else _clicks(
                path, table, column, True)
            if not np.array_equal(col_len, lengths):
                row = int(np.flatnonzero(col_len != lengths)[0])
                raise UqaInputError(
                    f"{path}: column '{column}' row {row} has {int(col_len[row])} clicks but "
                    f"'{ID_FIELDS['item_id']}' has {int(lengths[row])}; expected equal lengths"
                )
            ids[key].append(int_ids(path, column, col_inner.flatten())[keep_click])
        for key, column in NAME_FIELDS.items():
            if column in table.column_names:
                col_len, col_inner = _clicks(path, table, column, False)
                if not np.array_equal(col_len, lengths):
                    row = int(np.flatnonzero(col_len != lengths)[0])
                    raise UqaInputError(
                        f"{path}: column '{column}' row {row} has {int(col_len[row])} clicks; "
                        f"expected {int(lengths[row])} like '{ID_FIELDS['item_id']}'"
                    )
                names[key].append(col_inner.filter(pa.array(keep_click)))
            else:
                names[key].append(pa.nulls(int(keep_click.sum()), pa.list_(pa.int64())))
        splits_u.append(row_user[keep_row])
        splits_s.extend([split] * int(keep_row.sum()))
        if path.name.startswith("align_data") and "text" in table.column_names:
            stem = "align" if split == "train" else "eval"
            for row, text in enumerate(table.column("text").to_pylist()):
                parsed = parse_question(text) if isinstance(text, str) else None
                if parsed is None:
                    unparsed += 1
                    continue
                question, options, letter, answer_text = parsed
                task = official_task(question) or "unknown"
                lang = "zh" if re.search(r"[\u4e00-\u9fff]", question) else "en"
                questions[stem].append({
                    "question_id": f"uqabench-{path.stem}-{row}", "user_id": int(row_user[row]),
                    "split": split, "task": task, "dimension": TASK_DIMENSION.get(task, "unknown"),
                    "template_id": "official", "lang": lang, "question": question,
                    "options": options, "answer": letter, "answer_text": answer_text,
                    "history_len": int(lengths[row]), "attribute": "", "params": "{}",
                })

    item = np.concatenate(ids["item_id"])
    uniq, first = np.unique(item, return_index=True)
    cols: dict[str, Any] = {k: np.concatenate(v)[first] for k, v in ids.items() if k != "item_id"}
    for key, parts in names.items():
        lists = pa.concat_arrays([p.cast(pa.list_(pa.int64())) for p in parts]).take(
            pa.array(first))
        if lists.null_count < len(lists):
            cols[key] = _names(lists, tok)
    table = items_from_columns(uniq, cols)
    split_table = pa.table({"user_id": pa.array(np.concatenate(splits_u), pa.int64()),
                            "split": pa.array(splits_s, pa.string())})
    summary = write_raw(out_dir, np.concatenate(users), item, np.concatenate(ts), table,
                        extra={"split.arrow": split_table})
    for stem, rows in questions.items():
        if rows:  # the official align files' questions, as the run's question files
            io.write_table(pa.Table.from_pylist(rows, schema=QUESTIONS),
                           RunLayout(Path(out_dir)).questions(stem))
    return {
        "source": str(source), "files": [p.name for p, _ in found], **summary,
        "users_already_imported": skipped_users,
        "questions_align": len(questions["align"]), "questions_eval": len(questions["eval"]),
        "questions_unparsed": unparsed, "decoded_names": tok is not None,
    }
