"""The hostile probe's fast cases (tests/hostile): every one must pass. They run the CLI
on hostile input (bad names, empty measured windows, damaged folders, configs that would
never finish, user folders in the way, ...) and classify what happened; see
`python -m tests.hostile.run --help`. Off unless RARESHOCK_HOSTILE=1: the probe takes
minutes (its calibration and plot cases are left to `python -m tests.hostile.run`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.environ.get("RARESHOCK_HOSTILE") != "1",
                                reason="set RARESHOCK_HOSTILE=1 to run the hostile probe")


def test_every_fast_hostile_case_passes() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.hostile.run import details, run_all, select, table

    outcomes = run_all(select(None, None, fast=True), parallel=2, progress=False)
    failed = [o for o in outcomes if o.kind != "pass"]
    assert not failed, f"{len(failed)} of {len(outcomes)} hostile cases failed\n" \
        + table(outcomes) + "\n\n" + details(failed)
