"""Contender: configs/mmc.toml (M/M/5, rho 0.8) for 40,000 days (160,000 applications)
through rareshock's public API, every wait stored in the applications table.

    python tests/benchmarks/mm5_rareshock.py SEED

Prints one JSON line: applications after warm-up, mean queue wait (days), events. The
waits are read with `Replication.columns` (numpy, no pandas) where the version has it,
else from the `applications` DataFrame.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import sim

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    cfg = sim.load_config(ROOT / "configs" / "mmc.toml", ["horizon_days=40000"])
    rep = sim.simulate(cfg, seed)
    if hasattr(rep, "columns"):
        waits = rep.columns("applications")["queue_wait_days"]
    else:
        waits = rep.applications["queue_wait_days"].to_numpy()
    valid = waits[waits == waits]  # still waiting at the horizon: NaN
    print(json.dumps({"applications": int(len(waits)), "mean_wait": float(valid.mean()),
                      "events": int(rep.events)}))


if __name__ == "__main__":
    main()
