"""The example plugin installed for real (pip --target): listing, loading rules, questions.

Every test runs ``uqa`` in a subprocess with the install folder on PYTHONPATH,
so the registry is built fresh from entry points exactly as a user's would be.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.ipc as ipc
import pytest
from plugin_helpers import run_uqa, uqa_env

PLUGIN_TEMPLATES = {"si_attr_example_1", "si_attr_example_2", "nc_attr_example_1",
                    "nc_attr_example_2"}


def _listing(site: Path | None, **env: str) -> dict[tuple[str, str], str]:
    proc = run_uqa("list", "--json", site=site, **env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {(r["kind"], r["name"]): r["provider"] for r in json.loads(proc.stdout)}


def test_uqa_list_shows_the_plugin_components(plugin_site: Path) -> None:
    rows = _listing(plugin_site)
    assert rows[("encoder", "lru")] == "uqa-plugin-example"
    assert rows[("task", "nc")] == "uqa-plugin-example"
    assert rows[("encoder", "sasrec")] == "uqa-encoders"  # built-ins unaffected
    assert rows[("task", "si")] == "uqa-data"


def test_without_the_install_there_is_no_lru(plugin_site: Path) -> None:
    rows = _listing(None)
    assert ("encoder", "lru") not in rows and ("task", "nc") not in rows
    assert ("encoder", "sasrec") in rows


def test_uqa_load_plugins_selects_third_party_plugins(plugin_site: Path) -> None:
    code = (
        "import json, os\n"
        "from uqa_data.registry import list_components, reset_registry\n"
        "seen = {}\n"
        "for allowed in ('', 'uqa-plugin-example', 'some-other-plugin', None):\n"
        "    os.environ.pop('UQA_LOAD_PLUGINS', None)\n"
        "    if allowed is not None:\n"
        "        os.environ['UQA_LOAD_PLUGINS'] = allowed\n"
        "    reset_registry()\n"
        "    names = list_components('encoder')\n"
        "    seen[str(allowed)] = ['lru' in names, 'sasrec' in names]\n"
        "print(json.dumps(seen))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=uqa_env(plugin_site), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # [lru loaded, sasrec loaded]: uqa's own packages always load
    assert json.loads(proc.stdout) == {
        "": [False, True],
        "uqa-plugin-example": [True, True],
        "some-other-plugin": [False, True],
        "None": [True, True],
    }


def test_uqa_plugins_lists_the_entry_point_and_its_hooks(plugin_site: Path) -> None:
    proc = run_uqa("plugins", "--json", site=plugin_site)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {r["plugin"]: r for r in json.loads(proc.stdout)}
    row = rows["uqa_plugin_example"]
    assert row["distribution"] == "uqa-plugin-example"
    assert row["entry_point"] == "uqa_plugin_example.plugin"
    assert set(row["hooks"]) == {"uqa_register_encoders", "uqa_register_tasks",
                                 "uqa_register_templates"}


def test_trace_plugins_shows_the_plugin_hook_calls(plugin_site: Path) -> None:
    code = (
        "from uqa_data.questions.generation import registered_templates\n"
        "print(len(registered_templates()))\n"
    )
    env = {**uqa_env(plugin_site), "UQA_TRACE_PLUGINS": "1"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "uqa_register_templates" in proc.stderr
    assert "si_attr_example_1" in proc.stderr  # the plugin's result is in the trace


def test_listing_never_imports_torch_or_numpy(plugin_site: Path) -> None:
    code = (
        "import sys\n"
        "from uqa_data.registry import get_component, list_components\n"
        "assert get_component('encoder', 'lru').provider == 'uqa-plugin-example'\n"
        "list_components('task')\n"
        "heavy = sorted(m for m in ('torch', 'numpy', 'numba') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=uqa_env(plugin_site), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_installed_copy_is_the_one_loaded(plugin_site: Path) -> None:
    code = (
        "from uqa_data.registry import get_component\n"
        "from uqa_data.questions.base import QuestionTask\n"
        "assert issubclass(get_component('task', 'nc').load(), QuestionTask)\n"
        "import uqa_plugin_example, os\n"
        "print(os.path.dirname(uqa_plugin_example.__file__))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=uqa_env(plugin_site), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert Path(proc.stdout.strip()).parent == plugin_site  # the installed copy, not src/


QUESTIONS_SCRIPT = """
import os, sys
from pathlib import Path
from uqa_data.prepare import PrepareConfig, prepare
from uqa_data.questions import QuestionConfig, generate
from uqa_data.registry import reset_registry
from uqa_data.synth import synthesize

out = Path(sys.argv[1])
synthesize(out, preset="tiny", seed=1)
prepare(out / "raw", out / "data", PrepareConfig.from_preset("tiny", seed=1))
generate(out / "data", out / "questions", QuestionConfig.from_preset("tiny", seed=1))
generate(out / "data", out / "zh/questions", QuestionConfig.from_preset("tiny", seed=1, lang="zh"))
os.environ["UQA_LOAD_PLUGINS"] = ""  # no third-party plugin: a fresh registry without it
reset_registry()
generate(out / "data", out / "noplugin/questions", QuestionConfig.from_preset("tiny", seed=1))
"""


@pytest.fixture(scope="module")
def question_run(plugin_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny data, then questions in en and zh with the plugin, and en without it."""
    out = tmp_path_factory.mktemp("plugin-questions")
    proc = subprocess.run([sys.executable, "-c", QUESTIONS_SCRIPT, str(out)],
                          capture_output=True, text=True, env=uqa_env(plugin_site), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def _read(path: Path) -> list[dict]:
    with ipc.open_file(str(path)) as reader:
        return reader.read_all().to_pylist()


@pytest.mark.parametrize("where", ["questions", "zh/questions"])
def test_generated_questions_use_the_plugin_templates(question_run: Path, where: str) -> None:
    rows = _read(question_run / where / "align.arrow") + _read(question_run / where / "eval.arrow")
    used = {r["template_id"] for r in rows}
    assert used >= PLUGIN_TEMPLATES, PLUGIN_TEMPLATES - used
    si_ids = {r["template_id"] for r in rows if r["task"] == "si"}
    assert {"si_attr_1", "si_attr_example_1"} <= si_ids  # built-in and plugin phrasings mix
    assert {r["task"] for r in rows if r["template_id"].startswith("nc_")} == {"nc"}


def test_zh_stems_and_the_official_classifier(question_run: Path) -> None:
    from uqa_data.questions.official import official_task

    rows = _read(question_run / "zh/questions/eval.arrow")
    plugin_si = [r for r in rows if r["template_id"].startswith("si_attr_example")]
    assert plugin_si
    assert {official_task(r["question"]) for r in plugin_si} == {"si"}
    nc = [r for r in rows if r["task"] == "nc"]
    assert nc and {official_task(r["question"]) for r in nc} == {None}  # never taken for another


def test_nc_answers_are_never_clicked_and_distractors_were(question_run: Path) -> None:
    items = {r["item_id"]: r for r in _read(question_run / "data/items.arrow")}
    histories = {}
    for split in ("train", "test"):
        histories.update({r["user_id"]: r["item_ids"] for r in _read(question_run / "data" /
                                                                       f"{split}.arrow")})
    column = {"category": "cate_name", "brand": "brand_name", "shop": "shop_name"}
    rows = [r for stem in ("align", "eval") for r in _read(question_run / f"questions/{stem}.arrow")
            if r["task"] == "nc"]
    assert len(rows) >= 16
    for r in rows:
        history = histories[r["user_id"]][: r["history_len"]]
        clicked = {items[i][column[r["attribute"]]] for i in history}
        assert r["dimension"] == "interest_perception"
        assert r["answer_text"] not in clicked, r["question_id"]
        assert r["options"]["ABCD".index(r["answer"])] == r["answer_text"]
        wrong = [o for o in r["options"] if o != r["answer_text"]]
        assert len(wrong) == 3 and all(o in clicked for o in wrong), r["question_id"]


def test_without_the_plugin_questions_have_no_plugin_templates(question_run: Path) -> None:
    rows = _read(question_run / "noplugin/questions/eval.arrow")
    assert rows and not {r["template_id"] for r in rows} & PLUGIN_TEMPLATES
    assert "nc" not in {r["task"] for r in rows}
