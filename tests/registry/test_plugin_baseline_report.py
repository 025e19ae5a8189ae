"""A plugin baseline is first-class in reports: grouped by its kind, not by its name."""

from __future__ import annotations

import json
from pathlib import Path

TEXT10_PLUGIN = """
from uqa_data import hookimpl
from uqa_data.registry import ComponentSpec
from uqa_eval.baselines import Baseline

TEXT10 = Baseline("text10", context="text", text_history=10, strategy="lora")
BLIND = Baseline("blank", context="none", needs_alignment=False)


@hookimpl
def uqa_register_baselines():
    return [ComponentSpec(kind="baseline", name="text10", target="text10_plugin:TEXT10"),
            ComponentSpec(kind="baseline", name="blank", target="text10_plugin:BLIND")]
"""

COMPARE = """
import json, sys
from pathlib import Path
from uqa_eval.report import compare_runs, summarize, write_report

root = Path(sys.argv[1])
tasks = ["df", "mf", "ip", "ap", "li", "si", "it"] * 2
runs = {"t10": ({"baseline": "text10"}, 600), "t20": ({"baseline": "text20"}, 1200),
        "blank": ({"baseline": "blank"}, 40), "gru": ({"encoder": "gru4rec"}, 60)}
for name, (meta, tokens) in runs.items():
    report = summarize(tasks, [i % 2 == 0 for i in range(len(tasks))],
                       input_tokens=[tokens] * len(tasks), meta={"run": name, **meta})
    write_report(report, root / name / "report")
c = compare_runs([root / name for name in runs])
print(json.dumps({"rows": [[r["label"], r["group"]] for r in c["runs"]],
                  "reference": c["reference_tokens"],
                  "gru_ratio": c["runs"][-1]["token_ratio"]}))
"""


def test_a_plugin_text_baseline_is_text_based_and_a_token_reference(
    plugin_dir: Path, make_plugin_dist, run_python, tmp_path: Path
) -> None:
    make_plugin_dist(plugin_dir, "uqa-text10", "text10_plugin", TEXT10_PLUGIN, "text10")
    proc = run_python(COMPARE.replace("sys.argv[1]", repr(str(tmp_path / "runs"))),
                      pythonpath=plugin_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # registry order: the built-in text20 before the plugin's text10; controls after
    assert out["rows"] == [["Text20", "Text-based"], ["text10", "Text-based"],
                           ["blank", "Control"], ["GRU4Rec", "Emb-based"]]
    assert out["reference"] == {"text20": 1200.0, "text10": 600.0}
    assert out["gru_ratio"] == {"text20": 60 / 1200, "text10": 60 / 600}
