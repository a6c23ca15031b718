"""Cost of a replication against the number of firms (issue #10: a 200-firm, 3-tier network
runs, and costs at most 4.4x a 50-firm one).

    python tests/benchmarks/scale.py --rounds 5 --reps 3

`network(n)` generates an n-firm network from the baseline's world (its authority, its
suppliers, its 2025 policy timeline): 10% tier-2 magnet processors buying magnets from the
controlled exporter and the free suppliers, 20% tier-1 motor makers buying from one or two
tier-2s, and 70% end-product makers buying from one or two tier-1s, sectors and sizes
varied, each maker sized to what its customers need. Each round times `--reps`
replications of the 50-firm and of the 200-firm network in fresh processes (which goes
first alternates) and prints the ratio; the median over rounds is the figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def network(n: int, seed: int = 0) -> dict[str, Any]:
    """The raw config of an n-firm, three-tier network in the baseline's world."""
    import numpy as np

    from sim.config.loading import config_dict, load_config

    rng = np.random.default_rng(seed)
    base = config_dict(load_config(ROOT / "configs" / "baseline.toml", ["uncertain=[]"]))
    n2, n1 = max(1, n // 10), max(1, n // 5)
    n0 = n - n1 - n2
    base["materials"] |= {"rotor": {"unit": "pieces"}, "motor": {"unit": "pieces"}}
    sectors = ["auto", "auto", "tech", "defence"]
    dests = ["US", "EU", "JP"]
    firms: dict[str, Any] = {}
    need1 = np.zeros(n1)
    tier0 = []
    for i in range(n0):
        k = int(rng.integers(1, 3))
        makers = rng.choice(n1, size=k, replace=False)
        per_day = float(rng.uniform(50, 500))
        need1[makers] += per_day / k
        tier0.append((i, makers, per_day))
    need2 = np.zeros(n2)
    tier1 = []
    for j in range(n1):
        k = int(rng.integers(1, 3))
        makers = rng.choice(n2, size=k, replace=False)
        need2[makers] += 1.1 * need1[j] / k
        tier1.append((j, makers))

    def firm(sector: str, per_day: float, bom: dict[str, float], suppliers: dict[str, float],
             output: str | None = None) -> dict[str, Any]:
        f = {"sector": sector, "destination": str(rng.choice(dests)),
             "units_per_day": max(per_day, 1.0), "unit_value": float(rng.uniform(100, 5e4)),
             "bom": bom, "initial_cover_days": 10.0, "restart_delay_days": 3.0,
             "ordering": {"review_period_days": 7.0, "target_cover_days": 50.0 if output ==
                          "rotor" else 14.0, "in_transit_days": 30.0 if output == "rotor"
                          else 3.0, "suppliers": suppliers}}
        if output is not None:
            f["output"] = output
            f["shipping"] = {"initial_cover_days": 3.0, "max_finished_days": 5.0,
                             "transit_days": {"dist": "uniform", "low": 1, "high": 4}}
        return f

    for m in range(n2):
        firms[f"t2_{m}"] = firm("auto", 1.1 * need2[m], {"ndfeb_magnet": 0.3},
                                {"china": 0.94, "row": 0.06}, "rotor")
    for j, makers in tier1:
        firms[f"t1_{j}"] = firm(str(rng.choice(sectors)), 1.1 * need1[j], {"rotor": 1.0},
                                {f"t2_{m}": 1.0 / len(makers) for m in makers}, "motor")
    for i, makers, per_day in tier0:
        firms[f"t0_{i}"] = firm(str(rng.choice(sectors)), per_day,
                                {"motor": float(rng.integers(1, 4))},
                                {f"t1_{j}": 1.0 / len(makers) for j in makers})
    # tier-0 firms need bom x per_day motors a day: scale the tier-1/2 plans to that
    for i, makers, per_day in tier0:
        extra = (firms[f"t0_{i}"]["bom"]["motor"] - 1.0) * per_day / len(makers)
        for j in makers:
            firms[f"t1_{j}"]["units_per_day"] += 1.1 * extra
    base["firms"] = firms
    base["stockpile"] = None
    base["observed"] = None
    base["name"] = f"network-{n}"
    return base


CHILD = """
import json, sys, time
sys.path.insert(0, 'tests/benchmarks')
from scale import network
from sim.config.loading import config_from_dict
from sim.model import simulate
from sim.run.seeds import replication_seed
cfg = config_from_dict(network(int(sys.argv[1])))
simulate(cfg, replication_seed(1, 999))
t = time.perf_counter()
events = 0
for i in range(int(sys.argv[2])):
    events += simulate(cfg, replication_seed(1, i)).events
print(json.dumps([(time.perf_counter() - t) / int(sys.argv[2]), events / int(sys.argv[2])]))
"""


def one(n: int, reps: int) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(reps)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    seconds, events = json.loads(out.stdout)
    return seconds, events


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--small", type=int, default=50)
    ap.add_argument("--large", type=int, default=200)
    args = ap.parse_args()
    ratios = []
    for r in range(args.rounds):
        order = [args.small, args.large] if r % 2 == 0 else [args.large, args.small]
        got = {n: one(n, args.reps) for n in order}
        (s, es), (b, eb) = got[args.small], got[args.large]
        ratios.append(b / s)
        print(f"round {r}: {args.small} firms {s:.3f} s ({es:,.0f} events), {args.large} "
              f"firms {b:.3f} s ({eb:,.0f} events): ratio {b / s:.2f}", flush=True)
    print(f"median ratio {args.large}/{args.small} firms: {statistics.median(ratios):.2f} "
          f"(range {min(ratios):.2f}-{max(ratios):.2f}; {args.large / args.small:.0f}x the "
          "firms)")


if __name__ == "__main__":
    main()
