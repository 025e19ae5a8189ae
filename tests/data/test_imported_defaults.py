"""Imported data keeps every user by default: a MovieLens-100k-shaped RecBole import
(943 users with 20-737 ratings, 148 of them over 200) prepares with all 943; the
user-length filters are opt-in there, while the synthetic presets keep theirs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from uqa_cli.main import main

N_USERS, N_ITEMS = 943, 1682


def ml100k_like(folder: Path) -> int:
    """``ml-100k.inter`` / ``ml-100k.item`` RecBole atomic files shaped like MovieLens-100k."""
    rng = np.random.default_rng(100)
    short = np.clip(np.round(20 + rng.exponential(50, N_USERS - 148)), 20, 200).astype(int)
    long_ = np.round(201 + 536 * np.linspace(0, 1, 148) ** 4).astype(int)  # 148 over 200
    lengths = np.concatenate([short, long_])
    rng.shuffle(lengths)
    popularity = 1.0 / np.arange(1, N_ITEMS + 1) ** 0.9
    popularity /= popularity.sum()
    lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    t0 = 874_724_710
    for user, n in enumerate(lengths, start=1):
        items = rng.choice(N_ITEMS, size=int(n), replace=False, p=popularity) + 1
        times = t0 + np.sort(rng.integers(0, 20_000_000, size=int(n)))
        ratings = rng.integers(1, 6, size=int(n))
        lines += [f"{user}\t{i}\t{r}\t{t}" for i, r, t in zip(items, ratings, times, strict=True)]
    folder.mkdir(parents=True)
    (folder / "ml-100k.inter").write_text("\n".join(lines) + "\n")
    genres = ("Action", "Comedy", "Drama", "Romance", "Thriller")
    items = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
    items += [f"{i}\tMovie {i}\t{1930 + i % 68}\t{genres[i % 5]} {genres[(i + 2) % 5]}"
              for i in range(1, N_ITEMS + 1)]
    (folder / "ml-100k.item").write_text("\n".join(items) + "\n")
    return int(lengths.sum())


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_ml100k_shaped_import_keeps_every_user(tmp_path: Path, capsys) -> None:
    clicks = ml100k_like(tmp_path / "ml-100k")
    out = tmp_path / "run"
    code, text = run(["data", "import", str(tmp_path / "ml-100k"), "--format", "recbole",
                      "-o", str(out)], capsys)
    assert code == 0, text
    code, text = run(["data", "prepare", "-o", str(out)], capsys)  # the default preset
    assert code == 0, text
    summary = json.loads((out / "data" / "prepare.json").read_text())
    assert summary["input"]["users"] == N_USERS and summary["input"]["rows"] == clicks
    assert summary["output"]["users"] == N_USERS
    assert summary["filters"]["user_too_long"]["users"] == 0
    assert summary["config"]["max_user_len"] is None
    assert "users kept from 1 click(s) up to any length" in text

    # opt in to the length filter: the 148 users over 200 ratings go
    code, text = run(["data", "prepare", "-o", str(out), "--max-user-len", "200"], capsys)
    assert code == 0, text
    summary = json.loads((out / "data" / "prepare.json").read_text())
    assert summary["filters"]["user_too_long"]["users"] == 148
    assert summary["output"]["users"] == N_USERS - 148


def test_synthetic_presets_keep_their_length_filters(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert run(["data", "synth", "-o", str(out), "--preset", "tiny"], capsys)[0] == 0
    code, text = run(["data", "prepare", "-o", str(out), "--preset", "tiny"], capsys)
    assert code == 0, text
    config = json.loads((out / "data" / "prepare.json").read_text())["config"]
    assert (config["min_user_len"], config["max_user_len"]) == (10, 200)
    assert "imported data" not in text
