"""How much common random numbers buy (issue #9): the paired-correlation table.

    python tests/benchmarks/crn_table.py                 # 30 replications, 100 seeds
    python tests/benchmarks/crn_table.py --json out.json --reps 30 --seeds 100

Method (the issue's): `configs/baseline.toml` with its parameters fixed (`uncertain = []`,
so that only the model's own noise is compared) and four variants, each run on the same
seeds (`SeedSequence(entropy=runs.seed, spawn_key=(i,))`, replications 0..reps-1). For each
sector's shortfall fraction (value lost / planned value, summed over the sector's firms)
it reports the paired correlation r between baseline and variant, and
var(variant - baseline) / (var(baseline) + var(variant)): 1 means the shared seeds buy
nothing, 0 that the difference is known exactly from one replication.

Then the per-seed monotone checks: the "cover" variant only raises initial cover, and a
further variant raises every firm's order-up-to target by 10 days, so no firm's shortfall
should rise; each counts the seeds (of `--seeds`) in which none rose.

Not part of the test run (minutes); the figures are in docs/benchmarks.md (#9).
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "configs" / "baseline.toml"

FIXED = ["uncertain=[]"]
VARIANTS: dict[str, list[str]] = {
    "reviewers 1,600 → 1,200": ["authority.reviewers=1200"],
    "April–May review time ×1.1": ["authority.review_time.median=33.0"],
    "initial cover +5 days (EV, tech) and +20 (defence)": [
        "firms.us_auto_ev.initial_cover_days=20",
        "firms.us_tech_drives.initial_cover_days=25",
        "firms.us_defence_prime.initial_cover_days=140",
    ],
    "default approval 0.85 → 0.80": ["authority.decision.approve=0.80"],
}
COVER = "initial cover +5 days (EV, tech) and +20 (defence)"
# A lever that bites before the shock: the order-up-to target of every firm +10 days.
TARGET = "order-up-to target +10 days (every firm)"
SECTORS = ("auto", "defence", "tech")


def _config(overrides: list[str]):  # noqa: ANN202
    from sim.config.loading import load_config

    return load_config(BASELINE, FIXED + overrides)


def _one(args: tuple[list[str], int, int]) -> tuple[dict[str, float], dict[str, float]]:
    """(sector -> shortfall fraction, firm -> shortfall fraction) of one replication."""
    from sim.model import simulate
    from sim.run.seeds import replication_seed

    overrides, root, index = args
    cfg = _config(overrides)
    firms = simulate(cfg, replication_seed(root, index)).columns("firms")
    sectors = {}
    for s in SECTORS:
        m = firms["sector"] == s
        sectors[s] = float(firms["value_lost"][m].sum() / firms["planned_value"][m].sum())
    by_firm = dict(zip(firms["firm"].tolist(), firms["shortfall_frac"].tolist(), strict=True))
    return sectors, by_firm


def table(reps: int, seeds: int, workers: int) -> dict:
    root = _config([]).runs.seed
    firms = _config([]).firms
    runs = {"baseline": []} | VARIANTS | {TARGET: [
        f"firms.{f}.ordering.target_cover_days={c.ordering.target_cover_days + 10}"
        for f, c in firms.items()]}
    jobs = [(name, i) for name in runs if name != TARGET for i in range(reps)]
    mono = ([("baseline", i) for i in range(reps, seeds)] + [(COVER, i) for i in range(reps, seeds)]
            + [(TARGET, i) for i in range(seeds)])
    with ProcessPoolExecutor(workers) as pool:
        out = list(pool.map(_one, [(runs[n] if n != "baseline" else [], root, i)
                                   for n, i in jobs + mono], chunksize=4))
    got = dict(zip(jobs + mono, out, strict=True))
    result: dict = {"replications": reps, "seeds": seeds, "variants": {}}
    for v in VARIANTS:
        row = {}
        for s in SECTORS:
            a = np.array([got["baseline", i][0][s] for i in range(reps)])
            b = np.array([got[v, i][0][s] for i in range(reps)])
            r = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan")
            denom = a.var(ddof=1) + b.var(ddof=1)
            row[s] = {"r": r, "var_ratio": float(np.var(b - a, ddof=1) / denom)
                      if denom > 0 else float("nan")}
        result["variants"][v] = row
    def monotone(variant: str, raised: list[str]) -> dict:
        worse, same = [], 0
        for i in range(seeds):
            base, more = got["baseline", i][1], got[variant, i][1]
            bad = [f for f in raised if more[f] > base[f] + 1e-12]
            same += all(abs(more[f] - base[f]) <= 1e-12 for f in raised)
            if bad:
                worse.append({"seed_index": i, "firms": bad,
                              "increase": {f: more[f] - base[f] for f in bad}})
        return {"seeds": seeds, "never_worse": seeds - len(worse), "unchanged": same,
                "cases": worse}

    result["monotone"] = monotone(COVER, ["us_auto_ev", "us_tech_drives", "us_defence_prime"])
    result["monotone_target"] = monotone(TARGET, list(firms))
    return result


def markdown(res: dict) -> str:
    lines = ["| variant | auto | defence | tech |", "|---|---|---|---|"]
    for v, row in res["variants"].items():
        cells = [f"r {row[s]['r']:.2f}, var-ratio {row[s]['var_ratio']:.2f}" for s in SECTORS]
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    m, t = res["monotone"], res["monotone_target"]
    lines.append("")
    lines.append(f"More initial cover never raised a raised firm's shortfall in "
                 f"{m['never_worse']} of {m['seeds']} seeds (no change at all in "
                 f"{m['unchanged']}).")
    lines.append(f"A higher order-up-to target never raised a firm's shortfall in "
                 f"{t['never_worse']} of {t['seeds']} seeds (no change at all in "
                 f"{t['unchanged']}).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    res = table(a.reps, max(a.seeds, a.reps), a.workers)
    print(markdown(res))
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
