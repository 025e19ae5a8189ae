"""`pip install ./packages/uqa-eval` in a clean virtual environment: `uqa-eval` works alone.

The venv (no system site-packages) gets ``torch==2.13.0`` and then
``pip install ./packages/uqa-data ./packages/uqa-align ./packages/uqa-eval``
(not editable; from a clean copy of the three folders). It is cached under
the temp dir, keyed on the packages' ``pyproject.toml`` files; when only their
sources change, the three packages are reinstalled (still not editable)
without their dependencies, so repeat runs take seconds. Building it the
first time takes a few minutes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from uqa_data.io import write_table

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("uqa-data", "uqa-align", "uqa-eval")
TORCH = "torch==2.13.0"
SKIP_PARTS = {"__pycache__", "build", "dist"}

pytestmark = pytest.mark.slow


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(ROOT)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def deps_key() -> str:
    """Changes when the interpreter, torch pin or any package's dependencies change."""
    h = hashlib.sha256(f"{sys.version_info[:2]}{TORCH}".encode())
    h.update(_digest([ROOT / "packages" / p / "pyproject.toml" for p in PACKAGES]).encode())
    return h.hexdigest()[:16]


def sources_key() -> str:
    """Changes when any file the three packages ship changes."""
    files = [
        f for p in PACKAGES for f in (ROOT / "packages" / p).rglob("*")
        if f.is_file() and not (SKIP_PARTS & set(f.parts))
        and not any(part.endswith(".egg-info") for part in f.parts)
    ]
    return _digest(files)


def _run(cmd: list[str], *, timeout: float = 1200, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    tail = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{tail}"
    return proc


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PIP_REQUIRE_VIRTUALENV")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(ROOT / ".venv")))
    return env


def _stage_packages(stage: Path) -> list[str]:
    """Copy the three packages (no build/, egg-info, caches) to ``stage``; ``./<name>`` paths.

    Building from a clean copy leaves no ``build/`` folders in the checkout, and no stale
    file from an earlier build can slip into the wheels.
    """
    ignore = shutil.ignore_patterns(*SKIP_PARTS, "*.egg-info")
    for p in PACKAGES:
        shutil.copytree(ROOT / "packages" / p, stage / p, ignore=ignore)
    return [f"./{p}" for p in PACKAGES]


def _base_python() -> str:
    """The interpreter the dev venv was made from (never the dev venv itself)."""
    return getattr(sys, "_base_executable", None) or sys.executable


@contextlib.contextmanager
def fresh_venv() -> Iterator[Path]:
    """The cached clean venv, built or updated under a lock held while it is in use."""
    tmp = Path(tempfile.gettempdir())
    lock_path = tmp / "uqa-eval-venv.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        venv = tmp / f"uqa-eval-venv-{deps_key()}"
        for stale in tmp.glob("uqa-eval-venv-*"):  # an older dependency set: free the disk
            if stale != venv and stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        py = venv / "bin" / "python"
        env = _clean_env()
        sources = sources_key()  # before installing: an edit during the install shows next time
        stage = Path(tempfile.mkdtemp(prefix="uqa-eval-stage-"))
        pkgs = _stage_packages(stage)
        if not (venv / ".deps-installed").is_file():
            shutil.rmtree(venv, ignore_errors=True)
            _run([_base_python(), "-m", "venv", str(venv)], env=env)
            _run([str(py), "-m", "pip", "install", "-q", TORCH], env=env)
            _run([str(py), "-m", "pip", "install", "-q", *pkgs], cwd=stage, env=env)
            (venv / ".deps-installed").write_text(deps_key())
            (venv / ".sources").write_text(sources)
        elif not (venv / ".sources").is_file() or (venv / ".sources").read_text() != sources:
            # Sources only: rebuild the three wheels in place (no isolated build envs).
            _run([str(py), "-m", "pip", "install", "-q", "setuptools>=68"], env=env)
            _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall",
                  "--no-build-isolation", *pkgs], cwd=stage, env=env)
            (venv / ".sources").write_text(sources)
        shutil.rmtree(stage, ignore_errors=True)
        yield venv


@pytest.fixture(scope="module")
def venv() -> Iterator[Path]:
    with fresh_venv() as path:
        yield path


def test_venv_is_clean_and_has_only_the_three_packages(venv: Path) -> None:
    cfg = (venv / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in cfg
    listed = json.loads(_run([str(venv / "bin" / "python"), "-m", "pip", "list",
                              "--format=json"], env=_clean_env()).stdout)
    names = {row["name"].lower().replace("_", "-"): row for row in listed}
    assert "uqa-encoders" not in names and "uqa-cli" not in names
    for p in PACKAGES:
        assert p in names and "editable_project_location" not in names[p], names.get(p)
    assert names["torch"]["version"].startswith("2.13.0")
    probe = ("import importlib.util as u, uqa_eval; "
             "print(u.find_spec('uqa_encoders') is None, u.find_spec('uqa_cli') is None, "
             "uqa_eval.__file__)")
    out = _run([str(venv / "bin" / "python"), "-c", probe], env=_clean_env(),
               cwd=tempfile.gettempdir()).stdout.split()
    assert out[:2] == ["True", "True"] and str(ROOT) not in out[2]


def test_score_predictions_in_the_venv(venv: Path, tmp_path: Path) -> None:
    rows = [("用户最感兴趣的3个类目是什么？", "A", "A"),
            ("用户近期最感兴趣的类目是什么？", "B", ["C"]),
            ("用户第2次浏览的商品的品牌是什么？", " D", ["D"])]
    f = tmp_path / "gen.jsonl"
    f.write_text("\n".join(json.dumps({"question": q, "prediction": p, "answer": a},
                                      ensure_ascii=False) for q, p, a in rows), encoding="utf-8")
    env = {**_clean_env(), "UQA_PROGRESS": "0"}
    out = _run([str(venv / "bin" / "uqa-eval"), "score-predictions", str(f), "--json"],
               env=env, cwd=tmp_path).stdout
    report = json.loads(out)
    assert report["overall"]["acc"] == pytest.approx(2 / 3)
    assert report["tasks"]["si"]["acc"] == 0.0 and report["tasks"]["df"]["acc"] == 1.0
    table = _run([str(venv / "bin" / "uqa-eval"), "score-predictions", str(f)],
                 env=env, cwd=tmp_path).stdout
    assert "Overall" in table and "66.67" in table
    f.write_text(f.read_text() + "\n" + json.dumps({"question": "?", "prediction": "A"}))
    bad = subprocess.run([str(venv / "bin" / "uqa-eval"), "score-predictions", str(f)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert bad.returncode == 2 and "line 4: missing key(s) answer" in bad.stderr


def test_score_embeddings_in_the_venv(venv: Path, tmp_path: Path) -> None:
    """Align + answer with a tiny random LLM directory made here (SmolLM2's tokenizer)."""
    from uqa_align.testing import category_probe, tiny_llm

    llm = tiny_llm()
    llm_dir = tmp_path / "tiny-llama"
    llm.model.save_pretrained(llm_dir, safe_serialization=True)
    llm.tokenizer.save_pretrained(llm_dir)
    questions, embeddings = category_probe(12, per_position=False)
    emb = write_table(embeddings.slice(0, 10), tmp_path / "emb.arrow")  # users 110, 111 missing
    align_q = write_table(questions.slice(0, 6), tmp_path / "align.arrow")
    eval_q = write_table(questions.slice(6, 6), tmp_path / "eval.arrow")
    env = {**_clean_env(), "UQA_PROGRESS": "0", "HF_HUB_OFFLINE": "1",
           "UQA_CACHE_DIR": str(tmp_path / "cache")}
    proc = _run([str(venv / "bin" / "uqa-eval"), "score-embeddings", "--embeddings", str(emb),
                 "--align-questions", str(align_q), "--eval-questions", str(eval_q),
                 "--llm", str(llm_dir), "--preset", "tiny", "--steps", "2", "--controls", "",
                 "--out", str(tmp_path / "out"), "--json"], env=env, cwd=tmp_path, timeout=300)
    report = json.loads(proc.stdout)
    assert "dropped 2 of 6 questions" in " ".join(proc.stderr.split())
    assert report["n_questions"] == 4
    assert (tmp_path / "out" / "report" / "report.md").is_file()
