"""Conservation in 40 replications of every bundled config (issue #10's must-show; the test
suite runs 5 of each, tests/test_tiers.py).

    python tests/benchmarks/conservation.py [--reps 40]

Each replication checks itself (the model raises ConservationError if any firm's kg or
units, or any maker's finished goods, do not balance); this also checks every arc's
ordered = delivered + in transit + back-ordered + cancelled, and every maker's shipped =
what its customers' arcs received or have in transit. Prints one line per config.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    import sim

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=40)
    args = ap.parse_args()
    paths = sorted(p for p in (ROOT / "configs").rglob("*.toml")
                   if not {"sweeps", "observed", "posterior"} & set(p.parts)
                   and p.name != "mmc.toml")
    for path in paths:
        cfg = sim.load_config(path)
        worst, arcs = 0.0, 0
        for seed in range(args.reps):
            a = sim.simulate(cfg, seed).arcs
            held = a["delivered"] + a["in_transit"] + a["backordered"] + a["cancelled"]
            gap = np.abs(a["ordered"] - held) / np.maximum(1.0, a["ordered"])
            worst = max(worst, float(gap.max()) if len(gap) else 0.0)
            arcs += len(a)
        status = "ok" if worst < 1e-9 else "FAILED"
        print(f"{path.relative_to(ROOT)}: {args.reps} replications, {arcs} arc-rows, "
              f"largest relative gap {worst:.1e} -- {status}", flush=True)


if __name__ == "__main__":
    main()
