"""The ``uqa`` registry: built-ins, third-party plugins, broken ones, names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from uqa_data.errors import UnknownNameError
from uqa_data.registry import get_component, list_components, unknown_name_message

BUILTINS = {
    "encoder": ({"gru4rec", "sasrec", "mamba4rec", "hstu", "trm_plus"}, "uqa-encoders"),
    "adapter": ({"mean_linear", "qformer"}, "uqa-align"),
    "llm": ({"smollm2"}, "uqa-align"),
    "task": ({"df", "mf", "ip", "ap", "li", "si", "it"}, "uqa-data"),
    "baseline": ({"none", "random", "text20", "text50"}, "uqa-eval"),
}

GOOD_PLUGIN = """
from uqa_data import hookimpl
from uqa_data.registry import ComponentSpec

@hookimpl(optionalhook=True)
def uqa_register_adapters():
    return [ComponentSpec(kind="adapter", name="toy_adapter", target="toy_plugin:make",
                          description="a toy adapter from a plugin")]

@hookimpl(optionalhook=True)
def uqa_register_encoders():
    # 'sasrec' is taken by the built-in: this one must be refused with a warning.
    return [ComponentSpec(kind="encoder", name="sasrec", target="toy_plugin:make")]
"""


@pytest.mark.parametrize("kind", sorted(BUILTINS))
def test_builtins_register_with_their_distribution(kind: str) -> None:
    names, dist = BUILTINS[kind]
    table = list_components(kind)
    assert names <= set(table), f"missing built-in {kind}s: {names - set(table)}"
    for name in names:
        assert table[name].provider == dist
        assert table[name].kind == kind


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(UnknownNameError) as err:
        get_component("encoder", "sasrc", flag="--encoder")
    message = str(err.value)
    assert "'sasrc'" in message and "--encoder" in message
    assert "did you mean 'sasrec'" in message
    assert "gru4rec" in message  # lists the valid names


def test_unknown_name_message_without_matches() -> None:
    msg = unknown_name_message("preset", "zzz", ["tiny", "default"], flag="--preset")
    assert msg == "unknown preset 'zzz' (--preset); valid: default, tiny"


@pytest.mark.parametrize(("name", "valid", "hint"), [
    ("trm", ["gru4rec", "sasrec", "trm_plus"], "did you mean 'trm_plus'?"),  # a prefix
    ("gru", ["gru4rec", "hstu"], "did you mean 'gru4rec'?"),
    ("tiniest", ["default", "full", "small", "tiny"], "did you mean 'tiny'?"),
    ("sasrek", ["hstu", "sasrec"], "did you mean 'sasrec'?"),
    ("nothing", ["align", "embed", "synth"], None),  # shares letters, not a spelling
    ("nosuch", ["epochs", "lr"], None),
])
def test_unknown_name_suggests_only_near_names(name: str, valid: list[str],
                                               hint: str | None) -> None:
    msg = unknown_name_message("thing", name, valid)
    if hint is None:
        assert "did you mean" not in msg
    else:
        assert hint in msg


def test_broken_plugin_warns_once_and_the_rest_works(
    plugin_dir: Path, make_plugin_dist, run_python
) -> None:
    make_plugin_dist(
        plugin_dir,
        "uqa-broken-plugin",
        "broken_plugin",
        "raise ImportError('no such thing as uqa_flux_capacitor')\n",
        "broken",
    )
    proc = run_python(
        """
        import json, warnings
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            from uqa_data.registry import list_components
            names = sorted(list_components("encoder"))
        msgs = [str(w.message) for w in caught if "uqa" in str(w.message)]
        print(json.dumps({"msgs": msgs, "names": names}))
        """,
        plugin_dir,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(result["msgs"]) == 1, result["msgs"]
    msg = result["msgs"][0]
    assert "'broken'" in msg and "broken_plugin" in msg and "uqa-broken-plugin" in msg
    assert "uqa_flux_capacitor" in msg
    assert "sasrec" in result["names"]


def test_broken_plugin_does_not_break_the_cli(
    plugin_dir: Path, make_plugin_dist, run_python
) -> None:
    make_plugin_dist(
        plugin_dir, "uqa-broken-plugin", "broken_plugin", "raise RuntimeError('boom')\n", "broken"
    )
    env = dict(os.environ, PYTHONPATH=str(plugin_dir))
    proc = subprocess.run(
        [sys.executable, "-m", "uqa_cli.main", "list", "encoders", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("'broken'") == 1
    names = {row["name"] for row in json.loads(proc.stdout)}
    assert "sasrec" in names


def test_third_party_plugin_registers_and_duplicates_warn(
    plugin_dir: Path, make_plugin_dist, run_python
) -> None:
    make_plugin_dist(plugin_dir, "uqa-toy-plugin", "toy_plugin", GOOD_PLUGIN, "toy")
    proc = run_python(
        """
        import json, warnings
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            from uqa_data.registry import list_components
            adapters = list_components("adapter")
            encoders = list_components("encoder")
        print(json.dumps({
            "toy": [adapters["toy_adapter"].provider, adapters["toy_adapter"].plugin],
            "sasrec": encoders["sasrec"].provider,
            "msgs": [str(w.message) for w in caught],
        }))
        """,
        plugin_dir,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["toy"] == ["uqa-toy-plugin", "toy"]
    assert result["sasrec"] == "uqa-encoders"  # the built-in keeps its name
    dupes = [m for m in result["msgs"] if "already registered" in m]
    assert len(dupes) == 1 and "'toy'" in dupes[0] and "sasrec" in dupes[0]


def test_uqa_load_plugins_limits_third_party(
    plugin_dir: Path, make_plugin_dist, run_python
) -> None:
    make_plugin_dist(plugin_dir, "uqa-toy-plugin", "toy_plugin", GOOD_PLUGIN, "toy")
    code = """
        from uqa_data.registry import list_components
        print(sorted(list_components("adapter")))
    """
    blocked = run_python(code, plugin_dir, UQA_LOAD_PLUGINS="")
    allowed = run_python(code, plugin_dir, UQA_LOAD_PLUGINS="uqa-toy-plugin")
    assert "toy_adapter" not in blocked.stdout and "mean_linear" in blocked.stdout
    assert "toy_adapter" in allowed.stdout
    as_module = run_python(code, plugin_dir, UQA_LOAD_PLUGINS="UQA_toy.plugin")  # PEP 503
    assert "toy_adapter" in as_module.stdout and "UQA_LOAD_PLUGINS" not in as_module.stderr
    unknown = run_python(code, plugin_dir, UQA_LOAD_PLUGINS="uqa-toy-plugin, nosuch")
    assert "toy_adapter" in unknown.stdout
    assert unknown.stderr.count("UQA_LOAD_PLUGINS names 'nosuch'") == 1
    assert "uqa-toy-plugin" in unknown.stderr.split("installed: ", 1)[1]


def test_trace_plugins_writes_hook_calls(make_plugin_dist, run_python) -> None:
    proc = run_python(
        "from uqa_data.registry import list_components; list_components('task')",
        UQA_TRACE_PLUGINS="1",
    )
    assert proc.returncode == 0, proc.stderr
    assert "uqa_addhooks" in proc.stderr
    assert "uqa_register_tasks [uqa_data.questions.builtins] -> df" in proc.stderr


def test_listing_never_imports_torch(make_plugin_dist, run_python) -> None:
    proc = run_python(
        """
        import sys
        from uqa_cli.main import main
        try:
            main(["list", "--json"])
        except SystemExit:
            pass
        print("TORCH" if "torch" in sys.modules else "NO-TORCH")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "NO-TORCH"


def test_plugins_command_lists_first_party_distributions() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "uqa_cli.main", "plugins", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {r["plugin"]: r for r in json.loads(proc.stdout)}
    assert rows["uqa_encoders"]["distribution"] == "uqa-encoders"
    assert "uqa_register_encoders" in rows["uqa_encoders"]["hooks"]
    assert rows["uqa_data.builtins"]["distribution"] == "uqa-data"


@pytest.mark.parametrize(("args", "word"), [(["list"], "sasrec"), (["plugins"], "uqa-encoders"),
                                            (["list", "encoders", "--sizes"], "trm_plus")])
def test_listing_tables_go_to_stdout(args: list[str], word: str) -> None:
    """`uqa list | grep lru` must find something: the table is the output, not the log."""
    proc = subprocess.run([sys.executable, "-m", "uqa_cli.main", *args], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, COLUMNS="200"))
    assert proc.returncode == 0, proc.stderr
    assert word in proc.stdout and word not in proc.stderr
