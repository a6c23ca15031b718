"""Across-replication statistics: means with t confidence intervals, quantiles, tail risk.

Everything here reads stored tables (one row per replication and firm, or per
replication), never the replications' objects, so summaries work on any results folder.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

FIRM_METRICS = ("shortfall_frac", "shortfall_units", "value_lost", "tts_days", "ttr_days",
                "downtime_days")
SECTOR_METRICS = ("shortfall_frac", "value_lost")
AUTHORITY_METRICS = {
    "queue_wait_mean": "queue_wait_days",
    "lead_time_mean": "lead_time_days",
    "approval_share": "approval_share",
    "over_limit_share": "over_limit_share",
    "backlog_mean": "backlog_mean",
    "backlog_max": "backlog_max",
    "utilisation": "utilisation",
}
COLUMNS = ["level", "name", "metric", "n", "mean", "ci_low", "ci_high", "p5", "p50", "p90",
           "p95", "p99", "p_positive", "cvar95"]


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with `df` degrees of freedom (scipy's `stdtrit`, the
    function behind `scipy.stats.t.ppf`, without importing scipy.stats: ~1 s)."""
    from scipy.special import stdtrit

    return float(stdtrit(df, p))


def describe(values: np.ndarray | pd.Series) -> dict[str, float]:
    """n, mean with a 95% t interval, quantiles, share above zero and CVaR95 (the mean of
    the worst — largest — 5% of values), ignoring NaN."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    out: dict[str, float] = {"n": n}
    if n == 0:
        return out | {k: math.nan for k in COLUMNS[4:]}
    mean = float(x.mean())
    if n > 1:
        half = float(t_quantile(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n))
    else:
        half = math.nan
    q = np.quantile(x, [0.05, 0.5, 0.9, 0.95, 0.99])
    tail = np.sort(x)[::-1][: max(1, math.ceil(0.05 * n))]
    return out | {
        "mean": mean, "ci_low": mean - half, "ci_high": mean + half,
        "p5": q[0], "p50": q[1], "p90": q[2], "p95": q[3], "p99": q[4],
        "p_positive": float((x > 0).mean()), "cvar95": float(tail.mean()),
    }


def sector_table(firms: pd.DataFrame) -> pd.DataFrame:
    """Per replication and sector: shortfall_frac = Σ value_lost / Σ planned_value, and
    Σ value_lost."""
    g = firms.groupby(["replication", "sector"], sort=True)[["value_lost", "planned_value"]].sum()
    g["shortfall_frac"] = np.where(g["planned_value"] > 0,
                                   g["value_lost"] / g["planned_value"].where(
                                       g["planned_value"] > 0, 1.0), 0.0)
    return g.reset_index()


def sector_halfwidths(firms: pd.DataFrame) -> dict[str, float]:
    """95% half-width of the mean sector shortfall_frac, per sector."""
    out = {}
    for sector, grp in sector_table(firms).groupby("sector"):
        d = describe(grp["shortfall_frac"].to_numpy())
        hw = (d["ci_high"] - d["mean"]) if d["n"] > 1 else math.inf
        out[str(sector)] = 0.0 if grp["shortfall_frac"].std(ddof=1) == 0 else hw
    return out


def summarise(firms: pd.DataFrame, authority: pd.DataFrame) -> pd.DataFrame:
    """The long-format summary table (one row per level, name, metric)."""
    rows = []
    for firm, grp in firms.groupby("firm", sort=False):
        for m in FIRM_METRICS:
            rows.append({"level": "firm", "name": firm, "metric": m} | describe(grp[m]))
    for sector, grp in sector_table(firms).groupby("sector", sort=True):
        for m in SECTOR_METRICS:
            rows.append({"level": "sector", "name": sector, "metric": m} | describe(grp[m]))
    for col, metric in AUTHORITY_METRICS.items():
        if col in authority:
            rows.append({"level": "authority", "name": "authority", "metric": metric}
                        | describe(authority[col]))
    return pd.DataFrame(rows, columns=COLUMNS)
