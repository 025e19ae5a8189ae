"""Shared test settings: quiet progress bars, one thread per xdist worker, hypothesis profile;
fixtures several areas read (bench scripts as modules, SmolLM2's first conversion)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

os.environ.setdefault("UQA_PROGRESS", "0")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two workers on two cores: one thread each avoids oversubscription.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, "1")

from hypothesis import HealthCheck, settings

settings.register_profile(
    "uqa",
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "uqa"))

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="session")
def bench_script() -> Callable[[str], ModuleType]:
    """``bench_script("vs_official")``: the script ``bench/vs_official.py`` as a module."""

    def load(name: str) -> ModuleType:
        if str(BENCH) not in sys.path:  # a script imports its siblings, as when run
            sys.path.append(str(BENCH))
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look their module up by name
        spec.loader.exec_module(module)
        return module

    return load


FIRST_CONVERSION = """
import json, os, torch
os.umask(0o022)
torch.manual_seed(7)
expected = torch.rand(4)
torch.manual_seed(7)
from uqa_align.llm import smollm2_dir
converted = smollm2_dir()
print(json.dumps({"dir": str(converted), "rng_untouched": torch.equal(torch.rand(4), expected)}))
"""


@pytest.fixture(scope="session")
def first_gguf_conversion(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """SmolLM2's GGUF converted as on a run's first use: ``smollm2_dir()`` in a fresh process
    with an empty ``UQA_CACHE_DIR``, umask 022, ``UQA_PROGRESS=0`` and a seeded torch RNG.
    Gives ``cache``, ``dir`` (the converted folder), ``rng_untouched`` and ``stderr``. Tests
    that take it are marked ``xdist_group("gguf")``: one conversion (~40 s) per suite."""
    cache = tmp_path_factory.mktemp("gguf") / "cache"
    env = dict(os.environ, UQA_PROGRESS="0", UQA_CACHE_DIR=str(cache), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", FIRST_CONVERSION], capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "cache": str(cache),
            "stderr": proc.stderr}
