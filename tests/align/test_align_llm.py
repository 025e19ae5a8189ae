"""LLM sources: bad directories give clear errors; the embedded SmolLM2 loads offline."""

from __future__ import annotations

import json
import shutil

import pytest
from uqa_align.llm import load_llm, load_tokenizer, smollm2_dir
from uqa_data.errors import UnknownNameError, UqaInputError


def test_unknown_llm_name_lists_the_registered_ones():
    with pytest.raises(UnknownNameError, match=r"did you mean 'smollm2'.*valid: smollm2"):
        load_llm("smollm")


def test_directory_without_tokenizer(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(UqaInputError, match="no tokenizer files"):
        load_llm(tmp_path)


def test_directory_without_config(tmp_path):
    with pytest.raises(UqaInputError, match=r"no config\.json"):
        load_llm(tmp_path)


def test_tokenizer_without_chat_template(tmp_path):
    src = smollm2_dir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(src / name, tmp_path / name)
    cfg = json.loads((tmp_path / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(cfg))
    with pytest.raises(UqaInputError, match="has no chat template"):
        load_tokenizer(tmp_path)


@pytest.mark.llm
def test_embedded_smollm2_loads_from_the_safetensors_cache():
    llm = load_llm("smollm2")
    assert llm.hidden_size == 576 and llm.name == "smollm2"
    assert (llm.path / "model.safetensors").is_file()
    assert not any(p.requires_grad for p in llm.model.parameters())
    assert llm.tokenizer.chat_template


@pytest.mark.llm
@pytest.mark.slow
@pytest.mark.xdist_group("gguf")
def test_converting_the_gguf_leaves_the_torch_rng_alone(first_gguf_conversion: dict):
    """A run that converts the GGUF on first use must train like one that finds the cache:
    the conversion builds models (random initial weights) without moving the RNG. Its
    de-quantising bar honours UQA_PROGRESS=0."""
    assert first_gguf_conversion["rng_untouched"]
    err = first_gguf_conversion["stderr"]
    assert "GGUF" not in err and "it/s" not in err, err[-500:]
