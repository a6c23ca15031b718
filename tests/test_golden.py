"""Golden results for the baseline: the numbers may only move for a reason.

Two replications of `configs/baseline.toml` are compared with the figures stored in
`tests/data/golden_baseline.json`. A model change that moves them on purpose regenerates
the file (`UPDATE_GOLDEN=1 pytest tests/test_golden.py`) and says why in its commit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import sim

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "golden_baseline.json"
REPLICATIONS = 2


def figures() -> dict:
    cfg = sim.load_config(ROOT / "configs" / "baseline.toml")
    out = {}
    for i in range(REPLICATIONS):
        rep = sim.simulate(cfg, np.random.SeedSequence(entropy=cfg.runs.seed, spawn_key=(i,)))
        f = rep.firms.set_index("firm")
        out[str(i)] = {
            "events": int(rep.events),
            "applications": int(len(rep.applications)),
            "approved": int((rep.applications["outcome"] == "approved").sum()),
            "exports_kg": float(rep.exports["kg"].sum()),
            "firms": {
                name: {k: (None if np.isnan(v) else float(v)) for k, v in row.items()}
                for name, row in f[["produced_units", "tts_days", "ttr_days", "downtime_days",
                                    "stockouts"]].iterrows()
            },
        }
    return out


def test_baseline_matches_golden() -> None:
    got = figures()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        pytest.skip("golden file regenerated")
    want = json.loads(GOLDEN.read_text())
    for rep, w in want.items():
        g = got[rep]
        for key in ("events", "applications", "approved"):
            assert g[key] == w[key], f"replication {rep}: {key} {g[key]} != golden {w[key]}"
        assert g["exports_kg"] == pytest.approx(w["exports_kg"], rel=1e-9)
        for firm, fw in w["firms"].items():
            for k, v in fw.items():
                if v is None:
                    assert g["firms"][firm][k] is None, f"{rep}/{firm}/{k}"
                else:
                    assert g["firms"][firm][k] == pytest.approx(v, rel=1e-9), f"{rep}/{firm}/{k}"
