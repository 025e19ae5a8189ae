"""``--llm DIR`` is checked before any stage runs: config, causal LM, tokenizer, chat
template, whole safetensors weights; each problem is one line naming the directory."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import uqa_inprocess
from uqa_data.errors import UqaInputError


def _empty(d: Path) -> None:
    for p in d.iterdir():
        p.unlink()


def _pickle_only(d: Path) -> None:
    import torch
    from safetensors.torch import load_file

    torch.save(load_file(str(d / "model.safetensors")), d / "pytorch_model.bin")
    (d / "model.safetensors").unlink()


def _truncated(d: Path) -> None:
    data = (d / "model.safetensors").read_bytes()
    (d / "model.safetensors").write_bytes(data[: len(data) // 2])


def _not_causal(d: Path) -> None:
    cfg = json.loads((d / "config.json").read_text())
    cfg["architectures"] = ["BertForMaskedLM"]
    (d / "config.json").write_text(json.dumps(cfg))


def _no_template(d: Path) -> None:
    (d / "chat_template.jinja").unlink()
    tok = json.loads((d / "tokenizer_config.json").read_text())
    tok.pop("chat_template", None)
    (d / "tokenizer_config.json").write_text(json.dumps(tok))


def _no_tokenizer(d: Path) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (d / name).unlink()


CASES: list[tuple[str, Callable[[Path], None], str]] = [
    ("empty", _empty, "no config.json; expected a Hugging Face model directory"),
    ("pickle-only", _pickle_only, "only pickle weights (pytorch_model.bin); uqa reads "
     "safetensors only"),
    ("truncated", _truncated, "model.safetensors is truncated"),
    ("not-causal", _not_causal, "describes BertForMaskedLM, not a causal language model"),
    ("no-template", _no_template, "the tokenizer has no chat template"),
    ("no-tokenizer", _no_tokenizer, "no tokenizer files"),
]


@pytest.mark.parametrize(("name", "spoil", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_llm_dir_fails_before_any_stage(
    tmp_path: Path, tiny_llm_dir: Path, capsys: pytest.CaptureFixture[str],
    name: str, spoil: Callable[[Path], None], expected: str,
) -> None:
    llm = tmp_path / name
    shutil.copytree(tiny_llm_dir, llm)
    spoil(llm)
    out = tmp_path / "run"
    code, err = uqa_inprocess(capsys, "run", "--preset", "tiny", "--out", str(out),
                              "--llm", str(llm))
    assert code == 2, err
    assert "Traceback" not in err
    assert f"--llm {llm}: " in err and expected in err, err
    assert not out.exists()

    from uqa_align.llm import load_llm  # the Python API says the same, no traceback

    with pytest.raises(UqaInputError, match="--llm"):
        load_llm(str(llm))


def test_good_llm_dir_passes(tmp_path: Path, tiny_llm_dir: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    code, err = uqa_inprocess(capsys, "run", "--preset", "tiny", "--out", str(tmp_path / "r"),
                              "--llm", str(tiny_llm_dir), "--until", "synth")
    assert code == 0, err
