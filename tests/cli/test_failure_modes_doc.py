"""docs/failure-modes.md is linked from the README and every test it cites exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "failure-modes.md"


def test_failure_modes_page_is_linked_and_cites_real_tests() -> None:
    assert "](docs/failure-modes.md)" in (REPO / "README.md").read_text()
    cited = set(re.findall(r"`(tests/[\w/]+\.py)`", DOC.read_text()))
    assert len(cited) >= 8
    missing = sorted(c for c in cited if not (REPO / c).is_file())
    assert not missing, missing
