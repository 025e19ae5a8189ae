"""Every stored answer matches an independent plain-Python recomputation."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from uqa_data.io import read_table

from .reference import PATHS, SEPARATORS, Reference
from .synthetic import make_data


def check_set(data_dir: Path, questions_dir: Path, recent_window: int) -> int:
    ref = Reference(data_dir)
    checked = 0
    ranks: list[int] = []
    for stem in ("align", "eval"):
        rows = read_table(questions_dir / f"{stem}.arrow").to_pylist()
        letters: dict[str, Counter] = {}
        for row in rows:
            expected = ref.check(row, recent_window)
            assert row["answer_text"] == expected, row
            options = row["options"]
            assert len(options) == 4 and len(set(options)) == 4, row
            assert options["ABCD".index(row["answer"])] == expected
            assert all(o for o in options)
            if row["task"] == "it" and row["distractor_policy"] == "own-history":
                # every option has the answer's form: all stayed, or all changed
                stayed = is_stayed(expected, row["lang"])
                assert all(is_stayed(o, row["lang"]) == stayed for o in options), row
            if row["task"] == "mf":
                assert all(int(o) >= (1 if row["attribute"] == "length" else 0) for o in options)
                ranks.append(sorted(int(o) for o in options).index(int(expected)))
            if row["task"] == "li":
                counts = ref.li_counts(row)
                sep = SEPARATORS[row["lang"]][0]
                answer = expected.split(sep)
                for option in options:
                    names = option.split(sep)
                    if option == expected or set(names) != set(answer):
                        continue
                    # a reordering of the right set must contradict the counts
                    assert any(
                        counts[names[i]] < counts[names[j]]
                        for i in range(3)
                        for j in range(i + 1, 3)
                    ), (row, option)
            letters.setdefault(row["task"], Counter())[row["answer"]] += 1
            checked += 1
        for task, counter in letters.items():
            n = sum(counter.values())
            assert max(counter[a] for a in "ABCD") - min(counter[a] for a in "ABCD") <= 1, (
                task,
                counter,
                n,
            )
    if len(ranks) >= 100:  # the answer is not predictably the smallest/largest count
        shares = [ranks.count(r) / len(ranks) for r in range(4)]
        assert all(0.12 < s < 0.40 for s in shares), shares
    return checked


@settings(max_examples=10)
@given(
    data_seed=st.integers(0, 10_000),
    q_seed=st.integers(0, 10_000),
    lang=st.sampled_from(["en", "zh"]),
    recent_window=st.integers(2, 12),
    max_position=st.integers(1, 6),
    min_len=st.integers(4, 15),
    n_items=st.integers(30, 200),
)
def test_answers_match_reference(
    tmp_path_factory,
    data_seed: int,
    q_seed: int,
    lang: str,
    recent_window: int,
    max_position: int,
    min_len: int,
    n_items: int,
) -> None:
    from uqa_data.questions import QuestionConfig, generate

    root = tmp_path_factory.mktemp("ref")
    make_data(
        root / "data",
        seed=data_seed,
        n_items=n_items,
        n_train=25,
        n_test=15,
        min_len=min_len,
        max_len=min_len + 30,
        focus=0.7,
    )
    config = QuestionConfig.from_preset(
        "tiny",
        seed=q_seed,
        lang=lang,
        recent_window=recent_window,
        max_position=max_position,
        eval_per_task=10,
        align_per_task=13,
    )
    generate(root / "data", root / "questions", config)
    assert check_set(root / "data", root / "questions", recent_window) > 0


def test_tiny_set_matches_reference(data_dir: Path, generated: tuple[Path, dict]) -> None:
    out, summary = generated
    assert check_set(data_dir, out, summary["config"]["recent_window"]) == 7 * (8 + 24)


def test_same_seed_same_files_other_seed_differs(data_dir: Path, tmp_path: Path) -> None:
    from uqa_data.questions import QuestionConfig, generate

    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate(data_dir, tmp_path / name, QuestionConfig.from_preset("tiny", seed=seed))
    for stem in ("align.arrow", "eval.arrow"):
        a, b, c = ((tmp_path / n / stem).read_bytes() for n in "abc")
        assert a == b
        assert a != c


def test_count_answers_are_not_predictably_the_smallest(data_dir: Path, tmp_path: Path) -> None:
    from uqa_data.questions import QuestionConfig, generate

    config = QuestionConfig.from_preset(
        "tiny", tasks=("mf",), attributes=("brand", "shop"), align_per_task=400, eval_per_task=0
    )
    generate(data_dir, tmp_path, config)
    rows = read_table(tmp_path / "align.arrow").to_pylist()
    assert len(rows) >= 300
    ranks = [sorted(int(o) for o in r["options"]).index(int(r["answer_text"])) for r in rows]
    shares = [ranks.count(k) / len(ranks) for k in range(4)]
    assert all(0.15 < s < 0.35 for s in shares), shares


def is_stayed(option: str, lang: str) -> bool:
    """Whether an it option says the interest did not change."""
    if lang == "zh":
        return option.startswith(PATHS["zh"][1].split("{}")[0])
    first, sep, second = option.partition(", then ")
    return bool(sep) and first == second
