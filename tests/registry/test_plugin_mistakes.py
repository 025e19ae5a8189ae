"""A plugin author's mistakes get one line naming the plugin and what is wrong, never a
traceback, and never hide the other encoders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from uqa_data.errors import UqaError

ENCODER_PLUGIN = """
from dataclasses import dataclass

from uqa_data import hookimpl
from uqa_data.registry import ComponentSpec
from uqa_encoders.zoo.base import EncoderConfig, SequentialEncoder


@dataclass
class MyConfig(EncoderConfig):
    pass


@dataclass
class NotAnEncoderConfig:
    dim: int = 8
    layers: int = 1


class MyEncoder(SequentialEncoder):
    config_class = MyConfig
    name = "myenc"

    def forward(self, x, lengths, timestamps=None):
        return x


SIZES = {"tiny": {"dim": 8, "layers": 1}, "small": {"dim": 8, "layers": 1},
         "paper": {"dim": 8, "layers": 1}}


@hookimpl(optionalhook=True)
def {HOOK}():
    return [ComponentSpec(kind="encoder", name="myenc", target="{TARGET}",
                          config="{CONFIG}", options={"sizes": {SIZES}})]
"""


def _plugin(plugin_dir: Path, make_plugin_dist, hook: str = "uqa_register_encoders",
            target: str = "myenc_plugin:MyEncoder", config: str = "myenc_plugin:MyConfig",
            sizes: str = "SIZES") -> Path:
    source = (ENCODER_PLUGIN.replace("{HOOK}", hook).replace("{TARGET}", target)
              .replace("{CONFIG}", config).replace("{SIZES}", sizes))
    return make_plugin_dist(plugin_dir, "uqa-myenc", "myenc_plugin", source, "myenc")


def _uqa(plugin_dir: Path, *args: str) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ, PYTHONPATH=f"{plugin_dir}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
               COLUMNS="200", UQA_PROGRESS="0")
    env.pop("UQA_LOAD_PLUGINS", None)
    return subprocess.run([sys.executable, "-m", "uqa_cli.main", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_the_plugin_as_written_lists_its_sizes(plugin_dir: Path, make_plugin_dist) -> None:
    proc = _uqa(_plugin(plugin_dir, make_plugin_dist), "list", "encoders", "--sizes")
    assert proc.returncode == 0, proc.stderr
    assert "myenc" in proc.stdout and "warning" not in proc.stderr


@pytest.mark.parametrize(("change", "expected"), [
    ({"hook": "uqa_register_encoder"},
     "(entry point 'myenc_plugin' from distribution 'uqa-myenc'): unknown hook "
     "'uqa_register_encoder'; did you mean 'uqa_register_encoders',"),
    ({"target": "myenc_missing_module:MyEncoder"},
     "encoder 'myenc' (registered by plugin 'myenc' of distribution 'uqa-myenc'): its target "
     "'myenc_missing_module:MyEncoder' cannot be loaded: ModuleNotFoundError"),
    ({"config": "myenc_plugin:MyConfg"},
     "its config 'myenc_plugin:MyConfg' cannot be loaded: AttributeError"),
    ({"config": "myenc_plugin:NotAnEncoderConfig"},
     "must be a dataclass subclassing uqa_encoders.zoo.base.EncoderConfig"),
    ({"sizes": '{"tiny": {"dim": 8, "hidden": 4}, "small": {}, "paper": {}}'},
     "size 'tiny' sets hidden, which MyConfig has no field for"),
    ({"sizes": '{"tiny": {"dim": 8}}'},
     "has no size 'small', 'paper', which the presets ask for"),
    ({"sizes": '["tiny"]'},
     "encoder 'myenc' (registered by plugin 'myenc' of distribution 'uqa-myenc'): "
     "options['sizes'] must map each size name to its config settings"),
], ids=["hook-typo", "target-import", "config-typo", "config-class", "size-field",
        "missing-sizes", "sizes-not-a-mapping"])
def test_a_mistake_is_one_line_and_the_rest_still_lists(plugin_dir: Path, make_plugin_dist,
                                                        change: dict, expected: str) -> None:
    proc = _uqa(_plugin(plugin_dir, make_plugin_dist, **change), "list", "encoders", "--sizes")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert any(e in proc.stderr for e in expected.split("|")), proc.stderr
    assert "sasrec" in proc.stdout and "trm_plus" in proc.stdout  # the built-ins still list


RETURNS = """
from uqa_data import hookimpl
from uqa_data.registry import ComponentSpec

SPEC = ComponentSpec(kind="encoder", name="myenc", target="x:y")


@hookimpl(optionalhook=True)
def uqa_register_encoders():
    return {RESULT}
"""


@pytest.mark.parametrize(("result", "expected"), [
    ("SPEC", "uqa_register_encoders returned ComponentSpec; expected a list of ComponentSpec"),
    ('{"myenc": SPEC}', "uqa_register_encoders returned dict; expected a list"),
    ('["myenc"]', "uqa_register_encoders returned str 'myenc'; expected a ComponentSpec"),
], ids=["one-spec", "dict", "strings"])
def test_a_hook_returning_the_wrong_type_is_skipped_with_one_line(
        plugin_dir: Path, make_plugin_dist, tmp_path: Path, result: str, expected: str) -> None:
    site = make_plugin_dist(plugin_dir, "uqa-myenc", "myenc_plugin",
                            RETURNS.replace("{RESULT}", result), "myenc")
    for args in (("list", "encoders"), ("list",)):
        proc = _uqa(site, *args)
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr and expected in proc.stderr, proc.stderr
        assert "plugin 'myenc' (entry point 'myenc_plugin' from distribution 'uqa-myenc')" \
            in proc.stderr
        assert "sasrec" in proc.stdout
    proc = _uqa(site, "run", "--preset", "tiny", "--encoder", "sasrec", "--out",
                str(tmp_path / "run"), "--until", "prepare")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("decorator", ["@hookimpl", "@hookimpl(optionalhook=True)"])
def test_a_misspelt_hook_is_named_with_its_distribution_once(
        plugin_dir: Path, make_plugin_dist, decorator: str) -> None:
    source = ENCODER_PLUGIN.replace("@hookimpl(optionalhook=True)", decorator)
    source = (source.replace("{HOOK}", "uqa_register_encodrs")
              .replace("{TARGET}", "myenc_plugin:MyEncoder")
              .replace("{CONFIG}", "myenc_plugin:MyConfig").replace("{SIZES}", "SIZES"))
    site = make_plugin_dist(plugin_dir, "uqa-myenc", "myenc_plugin", source, "myenc")
    proc = _uqa(site, "list", "encoders")
    assert proc.returncode == 0 and "sasrec" in proc.stdout, proc.stderr
    warned = [line for line in proc.stderr.splitlines() if "uqa_register_encodrs" in line]
    assert len(warned) == 1, proc.stderr
    assert ("(entry point 'myenc_plugin' from distribution 'uqa-myenc'): unknown hook "
            "'uqa_register_encodrs'; did you mean 'uqa_register_encoders'") in warned[0]


def test_a_hook_with_the_wrong_arguments_is_one_line(plugin_dir: Path, make_plugin_dist
                                                     ) -> None:
    source = RETURNS.replace("def uqa_register_encoders():", "def uqa_register_encoders(foo):")
    site = make_plugin_dist(plugin_dir, "uqa-myenc", "myenc_plugin",
                            source.replace("{RESULT}", "[SPEC]"), "myenc")
    proc = _uqa(site, "list", "encoders")
    assert proc.returncode == 0 and "sasrec" in proc.stdout, proc.stderr
    warned = [line for line in proc.stderr.splitlines() if "myenc" in line]
    assert len(warned) == 1 and "failed to load and was skipped: PluginValidationError" in \
        warned[0] and "{'foo'}" in warned[0], proc.stderr


def test_sizes_that_are_not_a_mapping_stop_uqa_run_with_one_line(
        plugin_dir: Path, make_plugin_dist, tmp_path: Path) -> None:
    site = _plugin(plugin_dir, make_plugin_dist, sizes='["tiny"]')
    proc = _uqa(site, "run", "--preset", "tiny", "--encoder", "myenc", "--out",
                str(tmp_path / "run"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "options['sizes'] must map each size name" in proc.stderr
    assert not (tmp_path / "run").exists()


def test_uqa_run_names_the_plugins_broken_target(plugin_dir: Path, make_plugin_dist,
                                                 tmp_path: Path) -> None:
    site = _plugin(plugin_dir, make_plugin_dist, target="myenc_missing_module:MyEncoder")
    proc = _uqa(site, "run", "--preset", "tiny", "--encoder", "myenc", "--out",
                str(tmp_path / "run"), "--until", "questions")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: encoder 'myenc' (registered by plugin 'myenc' of "
                                  "distribution 'uqa-myenc')"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_uqa_run_names_the_size_a_preset_asks_for(plugin_dir: Path, make_plugin_dist,
                                                   tmp_path: Path) -> None:
    site = _plugin(plugin_dir, make_plugin_dist, sizes='{"small": {"dim": 8}}')
    proc = _uqa(site, "run", "--preset", "tiny", "--encoder", "myenc", "--out",
                str(tmp_path / "run"))
    assert proc.returncode == 2
    assert ("unknown myenc size 'tiny' (the size --preset tiny asks for; or pass "
            "--encoder-size); valid: small") in proc.stderr, proc.stderr
    assert not (tmp_path / "run").exists()


def test_hidden_states_of_the_wrong_shape_name_the_encoder() -> None:
    from uqa_encoders.features import FeatureEmbedding
    from uqa_encoders.model import UserModel
    from uqa_encoders.zoo.base import EncoderConfig, SequentialEncoder

    class LastOnly(SequentialEncoder):
        config_class = EncoderConfig
        name = "last_only"

        def forward(self, x, lengths, timestamps=None):
            return x[:, -1]

    model = UserModel(FeatureEmbedding(10, (), 1, 1, 8, "id-only"),
                      LastOnly(EncoderConfig(dim=8, layers=1)))
    with pytest.raises(UqaError, match=r"encoder 'last_only' returned hidden states of shape "
                       r"\(2, 8\); expected \[batch, length, dim\] = \(2, 5, 8\)"):
        model(torch.ones(2, 5, dtype=torch.long), torch.tensor([5, 3]))
