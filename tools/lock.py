"""The locked install set (``constraints.txt``): write it from a pip resolution, check an
environment against it.

``make lock`` resolves the packages' version ranges afresh with pip's own resolver
(``pip install --dry-run --ignore-installed --report``) and calls::

    python tools/lock.py write REPORT.json EXTRA_PIN... > constraints.txt

``make install`` installs with ``pip install -c constraints.txt`` and then calls::

    python tools/lock.py check constraints.txt

which fails unless every installed distribution (the uqa packages themselves, installed
from this checkout, and pip's own tooling aside) is pinned there at its installed version.
Local version labels (``torch 2.13.0+cpu``) are pinned without the label (``torch==2.13.0``,
which pip matches to either build), so the file only names releases of PyPI.
"""

from __future__ import annotations

import json
import re
import sys
from importlib import metadata
from pathlib import Path

HEADER = """\
# The locked install set of uqa: every package `make install` puts into .venv, at one version.
# The packages' pyproject.toml files keep version ranges (for users installing uqa-eval into
# their own environments); this file pins what the project is built and tested with.
# Regenerate it deliberately with `make lock` (pip resolves the ranges anew), then review the
# diff and run `make test`. `make install` refuses an environment that differs from it.
# Resolved with pip on Python {python} ({platform}).
"""

TOOLING = {"pip", "setuptools", "wheel"}
"""Installed with every venv: checked only when the lock pins them (a runtime dependency)."""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def public(version: str) -> str:
    """``2.13.0+cpu`` -> ``2.13.0``: the release a local build was made from."""
    return version.split("+", 1)[0]


def pins_from_report(report: dict, extra: list[str]) -> dict[str, str]:
    """``{canonical name: version}`` of what pip's report would install, plus ``extra``
    ``name==version`` pins; packages installed from a local directory are left out."""
    pins: dict[str, str] = {}
    for item in report.get("install", []):
        if "dir_info" in item.get("download_info", {}):
            continue  # this checkout's own packages (editable)
        meta = item["metadata"]
        pins[canonical(meta["name"])] = public(meta["version"])
    for pin in extra:
        name, _, version = pin.partition("==")
        pins[canonical(name)] = version
    return pins


def read_lock(path: Path) -> dict[str, str]:
    pins: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not version:
            raise SystemExit(f"{path}: line {number}: '{raw}' is not NAME==VERSION")
        pins[canonical(name)] = version.strip()
    return pins


def installed(local: set[str], pins: dict[str, str]) -> dict[str, str]:
    """Installed distributions the lock must pin: not ``local``, not unpinned tooling."""
    out = {}
    for dist in metadata.distributions():
        name = canonical(dist.metadata["Name"])
        if name in local or (name in TOOLING and name not in pins):
            continue
        out[name] = dist.version
    return out


def local_packages() -> set[str]:
    """The distributions of this checkout (``packages/*`` and ``plugins/*``)."""
    root = Path(__file__).resolve().parent.parent
    names = set()
    files = [*root.glob("packages/*/pyproject.toml"), *root.glob("plugins/*/pyproject.toml")]
    for pyproject in files:
        m = re.search(r'^name\s*=\s*"([^"]+)"', pyproject.read_text(encoding="utf-8"), re.M)
        if m:
            names.add(canonical(m.group(1)))
    return names


def check(lock: Path) -> list[str]:
    """Differences between the running environment and ``lock`` (empty: it is the lock)."""
    pins = read_lock(lock)
    problems = []
    for name, version in sorted(installed(local_packages(), pins).items()):
        if name not in pins:
            problems.append(f"{name} {version} is installed but not in {lock}")
        elif public(version) != pins[name]:
            problems.append(f"{name} {version} is installed; {lock} pins {pins[name]}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "write":
        import platform

        report = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
        pins = pins_from_report(report, argv[2:])
        sys.stdout.write(HEADER.format(python=platform.python_version(),
                                       platform=f"{platform.system()} {platform.machine()}"))
        sys.stdout.writelines(f"{name}=={version}\n" for name, version in sorted(pins.items()))
        return 0
    if len(argv) == 2 and argv[0] == "check":
        problems = check(Path(argv[1]))
        for p in problems:
            print(f"lock: {p}", file=sys.stderr)
        if problems:
            print("lock: this environment is not the locked set; rebuild it (make clean install)"
                  " or refresh the lock deliberately (make lock)", file=sys.stderr)
        return 1 if problems else 0
    print("usage: lock.py write REPORT.json [NAME==VERSION...] | lock.py check LOCK",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
