"""The hostile probe (tests/hostile): the CLI on hostile input (bad names, empty measured
windows, damaged folders, configs that would never finish, user folders in the way, ...),
each outcome classified; see `python -m tests.hostile.run --help` and `make hostile`.

The suite runs the first fast case of every class (a minute at most); RARESHOCK_HOSTILE=1
runs every fast case (a few minutes), `make hostile` every case, calibrations included."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.hostile.run import details, run_all, select, table  # noqa: E402

pytestmark = pytest.mark.slow


def _sample() -> list:
    fast = select(None, None, fast=True)
    if os.environ.get("RARESHOCK_HOSTILE") == "1":
        return fast
    first: dict[str, object] = {}
    for case in fast:
        first.setdefault(case.cls, case)
    return list(first.values())


def test_hostile_cases_pass() -> None:
    cases = _sample()
    assert len({c.cls for c in cases}) >= 9, "a class of the probe has no fast case"
    outcomes = run_all(cases, parallel=2, progress=False)
    failed = [o for o in outcomes if o.kind != "pass"]
    assert not failed, f"{len(failed)} of {len(outcomes)} hostile cases failed\n" \
        + table(outcomes) + "\n\n" + details(failed)
