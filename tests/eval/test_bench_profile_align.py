"""bench/profile_align.py: each training user's caption names their most clicked brands
and shops (and, asked, categories) and their latest favourites, counted independently."""

from __future__ import annotations

import collections
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from uqa_data.io import write_table


@pytest.fixture(scope="module")
def pa_mod(bench_script):  # type: ignore[no-untyped-def]
    return bench_script("profile_align")


def _write_run(root: Path) -> dict[int, list[int]]:
    names = {"cate": ["Shoes", "Tents", "Kettles"], "brand": ["Acme", "Bolt", "Cora", "Dune"],
             "shop": ["North", "South", "East", "West", "Mid"]}
    items = {i: (i % 3, i % 4, i % 5) for i in range(1, 13)}
    write_table(pa.table({
        "item_id": pa.array(list(items), pa.int64()),
        **{f"{k}_name": [names[k][v[j]] for v in items.values()]
           for j, k in enumerate(("cate", "brand", "shop"))},
    }), root / "data" / "items.arrow")
    seqs = {7: [1, 2, 2, 5, 5, 5, 9, 10, 11], 8: [3, 3, 4, 12, 12, 1]}
    write_table(pa.table({"user_id": pa.array(list(seqs), pa.int64()),
                          "item_ids": pa.array(list(seqs.values()), pa.list_(pa.int64())),
                          "train_len": pa.array([8, 6], pa.int64())}),
                root / "data" / "train.arrow")
    write_table(pa.table({
        "question_id": ["q1"], "user_id": pa.array([7], pa.int64()), "split": ["train"],
        "lang": ["en"], "question": ["Which brand?"], "options": [["Acme", "Bolt"]],
        "answer": ["A"], "history_len": pa.array([5], pa.int64())}),
        root / "questions" / "align.arrow")
    return {u: s[:n] for (u, s), n in zip(seqs.items(), (8, 6), strict=True)}


def _favourites(names: list[str], k: int) -> list[str]:
    return [v for v, _ in collections.Counter(names).most_common(k)]


def test_captions_name_each_users_favourites(pa_mod, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seen = _write_run(tmp_path)
    items = ipc.open_file(str(tmp_path / "data" / "items.arrow")).read_all().to_pylist()
    row = {r["item_id"]: r for r in items}
    caps = pa_mod.captions(tmp_path, {7, 8}, ("cate", "brand", "shop"), top=2, recent=3)
    for user, clicks in seen.items():
        fav = {k: _favourites([row[i][f"{k}_name"] for i in clicks], 2)
               for k in ("cate", "brand", "shop")}
        late = [_favourites([row[i][f"{k}_name"] for i in clicks[-3:]], 1)[0]
                for k in ("cate", "brand", "shop")]
        assert caps[user] == (f"Categories: {', '.join(fav['cate'])}. Brands: "
                              f"{', '.join(fav['brand'])}. Shops: {', '.join(fav['shop'])}. "
                              f"Lately: {', '.join(late)}.", len(clicks))


def test_profile_rows_join_the_questions(pa_mod, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _write_run(tmp_path)
    path = pa_mod.with_profiles(tmp_path, tmp_path / "work", ("brand", "shop"))
    t = ipc.open_file(str(path)).read_all()
    # one caption per user the alignment questions ask about (user 8 has none)
    assert t.column("question_id").to_pylist() == ["q1", "profile-7"]
    assert t.column("history_len").to_pylist() == [5, 8]
    assert t.column("question").to_pylist()[1] == pa_mod.PROFILE_QUESTIONS[("brand", "shop")]


def _row(run: str, vectors: str, user: list[int], shuffled: list[int], none: list[int],
         recipe: str = "t4") -> dict:  # type: ignore[type-arg]
    n = len(user)
    return {"run": run, "vectors": vectors, "recipe": recipe, "align_s": 1.0, "first_loss": 2.0,
            "final_loss": 1.0, "none": none, "tasks": ["li"] * n, "attributes": ["cate"] * n,
            "user": {"acc": user, "acc_pmi": user},
            "shuffled": {"acc": shuffled, "acc_pmi": shuffled}}


def test_pooled_rows_cover_groups_run_on_several_runs(pa_mod, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    # the user beats shuffled on 6 of 20 questions and loses none, in both runs: the
    # pooled difference is that of each run (+30.0); the random-effects spread is zero
    user, shuffled, none = [1] * 10 + [0] * 10, [1] * 4 + [0] * 16, [0] * 20
    lines = [_row("runs/a", "oracle", user, shuffled, none),
             _row("runs/b", "oracle", user, shuffled, none),
             _row("runs/a", "sasrec", user, shuffled, none)]  # one run: not pooled
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    out = pa_mod.pooled(path).splitlines()
    body = [line for line in out[2:] if line]
    assert [line.split(" | ")[0] for line in body] == ["| oracle", "| oracle"]
    cells = body[0].split(" | ")
    assert cells[2] == "a, b" and cells[4] == "+30.0, +30.0"
    assert cells[5].startswith("+30.0 [") and cells[5].endswith("]*")
    assert cells[6] == "+50.0, +50.0"


def test_recipes_are_compared_with_ref_where_both_ran(pa_mod, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    # t4 right on 10 of 20 questions in both runs; ref on 4 (run a) and 10 (run b); the
    # run c has no ref row and is left out
    t4, ref_a, ref_b = [1] * 10 + [0] * 10, [1] * 4 + [0] * 16, [1] * 10 + [0] * 10
    zero = [0] * 20
    lines = [_row("runs/a", "oracle", t4, zero, zero), _row("runs/b", "oracle", t4, zero, zero),
             _row("runs/c", "oracle", t4, zero, zero),
             _row("runs/a", "oracle", ref_a, zero, zero, recipe="ref"),
             _row("runs/b", "oracle", ref_b, zero, zero, recipe="ref")]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    body = [line.split(" | ") for line in pa_mod.against_ref(path).splitlines()[2:]]
    assert [(c[1], c[2], c[3], c[4]) for c in body] == [
        ("t4", "a, b", "acc", "+30.0, +0.0"), ("t4", "a, b", "acc_pmi", "+30.0, +0.0")]


def test_vectors_are_compared_under_each_recipe_where_both_ran(pa_mod, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    # white: sasrec right on 12 of 20 questions, random on 6 (run a) and 12 (run b); the
    # first 10 questions are interest perception, the rest another sub-task; ref has
    # sasrec alone and is left out
    sas = [1] * 6 + [0] * 4 + [1] * 6 + [0] * 4
    ran_a = [1] * 3 + [0] * 7 + [1] * 3 + [0] * 7
    zero = [0] * 20
    lines = [_row("runs/a", "sasrec", sas, zero, zero, recipe="white"),
             _row("runs/b", "sasrec", sas, zero, zero, recipe="white"),
             _row("runs/a", "random", ran_a, zero, zero, recipe="white"),
             _row("runs/b", "random", sas, zero, zero, recipe="white"),
             _row("runs/a", "sasrec", sas, zero, zero, recipe="ref")]
    for r in lines:
        r["tasks"] = ["li"] * 10 + ["ap"] * 10
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    body = [line.split(" | ") for line in pa_mod.between_vectors(path).splitlines()[2:]]
    assert [(c[0], c[1], c[2], c[3], c[4], c[6]) for c in body] == [
        ("| white", "sasrec - random", "a, b", m, "+30.0, +0.0", "+30.0, +0.0")
        for m in ("acc", "acc_pmi")]


def test_names_oracle_writes_the_truth_in_the_llms_token_embeddings(pa_mod, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    from uqa_align.testing import tiny_llm

    write_table(pa.table({
        "user_id": pa.array([1, 2], pa.int64()),
        "interest_cate_ids": pa.array([[7, 3], [3]], pa.list_(pa.int64())),
        "interest_weights": pa.array([[0.75, 0.25], [1.0]], pa.list_(pa.float64())),
        "pref_brand_ids": pa.array([[70, 30], [31]], pa.list_(pa.int64())),
        "pref_shop_ids": pa.array([[700, 300], [301]], pa.list_(pa.int64())),
        "phase_cate_ids": pa.array([[3, 7], [3]], pa.list_(pa.int64())),
    }), tmp_path / "raw" / "truth.arrow")
    names = {("cate", 3): "Kids' Novels", ("cate", 7): "Tents", ("brand", 30): "Quily",
             ("brand", 31): "Halta", ("brand", 70): "Finvex", ("shop", 300): "Umafa Store",
             ("shop", 301): "Noruma Shop", ("shop", 700): "Gormar"}
    # one item per brand, with its interest's category and shop (the truth's raw ids)
    rows = [(3, 30, 300), (3, 31, 301), (7, 70, 700)]
    write_table(pa.table({
        **{f"{k}_id": pa.array([r[j] for r in rows], pa.int64())
           for j, k in enumerate(("cate", "brand", "shop"))},
        **{f"{k}_name": [names[(k, r[j])] for r in rows]
           for j, k in enumerate(("cate", "brand", "shop"))},
    }), tmp_path / "raw" / "items.arrow")
    llm = tiny_llm(hidden=16)
    table = llm.model.get_input_embeddings().weight.detach().float().numpy()

    def emb(kind: str, value: int) -> np.ndarray:
        ids = llm.tokenizer(" " + names[(kind, value)], add_special_tokens=False)["input_ids"]
        return table[ids].mean(0)

    path = pa_mod.names_oracle(tmp_path, tmp_path / "work", llm)
    got = ipc.open_file(str(path)).read_all()
    vecs = np.array(got.column("embedding").to_pylist()).reshape(2, 3, 3, 16)
    assert got.column("user_id").to_pylist() == [1, 2]
    # user 1: the long-term mixture (75% Tents with Finvex at Gormar, 25% the rest), then
    # the last phase (Tents) and the one before (Kids' Novels), each with its brand, shop
    want = {(0, "cate"): 0.75 * emb("cate", 7) + 0.25 * emb("cate", 3),
            (0, "brand"): 0.75 * emb("brand", 70) + 0.25 * emb("brand", 30),
            (0, "shop"): 0.75 * emb("shop", 700) + 0.25 * emb("shop", 300),
            (1, "cate"): emb("cate", 7), (1, "brand"): emb("brand", 70),
            (1, "shop"): emb("shop", 700), (2, "cate"): emb("cate", 3),
            (2, "brand"): emb("brand", 30), (2, "shop"): emb("shop", 300)}
    for (block, kind), v in want.items():
        np.testing.assert_allclose(vecs[0, block, ("cate", "brand", "shop").index(kind)], v,
                                   rtol=1e-5, atol=1e-6)
    # user 2: one interest and one phase, the same in every block
    for block in range(3):
        for k, kind in enumerate(("cate", "brand", "shop")):
            value = {"cate": 3, "brand": 31, "shop": 301}[kind]
            np.testing.assert_allclose(vecs[1, block, k], emb(kind, value), rtol=1e-5,
                                       atol=1e-6)
