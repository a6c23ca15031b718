"""How wide the bundled sweeps' intervals are (issue #9): one folder against another.

    python tests/benchmarks/sweep_widths.py BEFORE_DIR AFTER_DIR

Each DIR holds the four bundled sweeps as `rareshock sweep configs/sweeps/NAME.toml` wrote
them (`reviewers`, `tornado`, `sobol`, `buffers-vs-approval`), run with the same seeds and
replications. Per sweep and sector (shortfall fraction), the mean width of:

* grids (`reviewers`, `buffers-vs-approval`): the 95% t interval of the paired difference
  between each point and point 0, by replication (what "against 1,600 reviewers" reads);
* `tornado`: the low and high effects' 95% intervals from `sensitivity.csv`;
* `sobol`: the S1 and ST confidence half-widths (x2) from `sensitivity.csv`, and the
  noise share (the share of the variance of the point means that is Monte Carlo noise,
  `sim.sweep.sensitivity.noise_shares` on the folder's replications).

Prints a markdown table with before, after and after / before.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from scipy import stats

SECTORS = ("auto", "defence", "tech")


def _sector_frac(folder: Path) -> pd.DataFrame:
    reps = pd.concat([pq.read_table(p).to_pandas()
                      for p in sorted((folder / "replications").glob("*.parquet"))])
    g = reps.groupby(["point", "replication", "sector"])[["value_lost", "planned_value"]].sum()
    return (g["value_lost"] / g["planned_value"]).rename("frac").reset_index()


def grid_widths(folder: Path) -> dict[str, float]:
    frac = _sector_frac(folder)
    out = {}
    for s in SECTORS:
        w = frac[frac.sector == s].pivot(index="replication", columns="point", values="frac")
        widths = []
        for p in w.columns[1:]:
            d = (w[p] - w[w.columns[0]]).to_numpy()
            n = len(d)
            widths.append(2 * stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n))
        out[s] = float(np.mean(widths))
    return out


def tornado_widths(folder: Path) -> dict[str, float]:
    t = pd.read_csv(folder / "sensitivity.csv")
    t = t[t.metric == "shortfall_frac"]
    return {s: float(np.mean(np.r_[(t.low_ci_high - t.low_ci_low)[t.sector == s],
                                   (t.high_ci_high - t.high_ci_low)[t.sector == s]]))
            for s in SECTORS}


def sobol_widths(folder: Path) -> dict[str, dict[str, float]]:
    from sim.sweep.sensitivity import noise_shares

    t = pd.read_csv(folder / "sensitivity.csv")
    t = t[t.metric == "shortfall_frac"]
    # the noise share recomputed with today's estimator, so both folders are read alike
    noise = noise_shares(_sector_frac(folder), "frac")
    return {s: {"S1": float(2 * t.S1_conf[t.sector == s].mean()),
                "ST": float(2 * t.ST_conf[t.sector == s].mean()),
                "noise": noise[s]} for s in SECTORS}


def table(before: Path, after: Path) -> str:
    rows = ["| sweep | interval | sector | before | after | after / before |",
            "|---|---|---|---|---|---|"]

    def add(sweep: str, what: str, b: dict, a: dict, pct: bool = True) -> None:
        for s in SECTORS:
            fmt = (lambda v: f"{100 * v:.2f} pt") if pct else (lambda v: f"{v:.3f}")
            ratio = a[s] / b[s] if b[s] else float("nan")
            rows.append(f"| {sweep} | {what} | {s} | {fmt(b[s])} | {fmt(a[s])} | {ratio:.2f} |")

    for name in ("reviewers", "buffers-vs-approval"):
        add(name, "paired difference vs point 0", grid_widths(before / name),
            grid_widths(after / name))
    add("tornado", "low/high effect", tornado_widths(before / "tornado"),
        tornado_widths(after / "tornado"))
    sb, sa = sobol_widths(before / "sobol"), sobol_widths(after / "sobol")
    for key, what in (("S1", "S1 interval"), ("ST", "ST interval"), ("noise", "noise share")):
        add("sobol", what, {s: sb[s][key] for s in SECTORS}, {s: sa[s][key] for s in SECTORS},
            pct=False)
    return "\n".join(rows)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: sweep_widths.py BEFORE_DIR AFTER_DIR")
    print(table(Path(sys.argv[1]), Path(sys.argv[2])))
