"""Across-replication statistics: means with 95% confidence intervals, quantiles, tail
risk.

Everything here reads stored tables (one row per replication and firm, or per
replication), never the replications' objects, so summaries work on any results folder.
The summary is computed from numpy columns (no pandas: the command line writes it
without importing pandas); the DataFrame forms are built from the same rows.

Each metric's interval respects the range its mean can take (`INTERVALS`, named in the
summary's `interval` column):

- `wilson`: shares in [0, 1] (shortfall_frac, approval and over-limit shares, utilisation):
  Wilson's score interval of the mean, on the effective sample size n_eff =
  p(1 - p) / (s^2 / n) with Student's t quantile (n - 1 degrees of freedom). For 0/1
  values it is Wilson's interval of a binomial share on n - 1 trials; for values spread
  less than 0/1 ones it narrows towards the t interval; it never leaves [0, 1].
- `t>=0`: quantities that cannot be negative (days, units, money, backlog): Student's t
  interval with its lower end raised to 0 when it falls below. The mean cannot be
  negative, so cutting off negative values keeps every mean the interval held.
- `t`: Student's t interval, for anything else.

The share of replications above zero, P(>0), is a binomial share: `p_positive_low` and
`p_positive_high` are its Wilson 95% interval (normal quantile, as
`scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config.costs import COST_METRICS

if TYPE_CHECKING:
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
           "p95", "p99", "p_positive", "cvar95", "p_positive_low", "p_positive_high",
           "interval"]
INTERVALS = {
    "wilson": "Wilson score interval on the effective sample size (stays in [0, 1])",
    "t>=0": "Student's t interval, its lower end cut at 0 (the mean cannot be negative)",
    "t": "Student's t interval",
}
"""The kinds of 95% interval of a mean, by the name the summary's `interval` column holds."""
SHARE_METRICS = frozenset({"shortfall_frac", "approval_share", "over_limit_share",
                           "utilisation"})
"""Metrics whose values are shares in [0, 1]; every other summary metric is >= 0."""
FIRM_COLUMNS = tuple(dict.fromkeys(("replication", "firm", "sector", "value_lost",
                                    "planned_value", *FIRM_METRICS)))
"""The columns of the replications dataset a summary reads."""

Columns = Mapping[str, np.ndarray]
Z95 = 1.959963984540054
"""The standard normal's 0.975 quantile."""


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with `df` degrees of freedom (scipy's `stdtrit`, the
    function behind `scipy.stats.t.ppf`, without importing scipy.stats: ~1 s)."""
    from scipy.special import stdtrit

    return float(stdtrit(df, p))


def interval_of(metric: str) -> str:
    """The kind of interval (a key of `INTERVALS`) the summary gives `metric`'s mean."""
    return "wilson" if metric in SHARE_METRICS else "t>=0"


def wilson(p: float, n: float, z: float) -> tuple[float, float]:
    """Wilson's score interval of a share `p` observed on `n` trials, at quantile `z`."""
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z * math.sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(x: np.ndarray, kind: str = "t") -> tuple[float, float, str]:
    """The 95% interval of the mean of `x` (no NaN) of kind `kind` (see `INTERVALS`), and
    the kind used: a share interval of values outside [0, 1], or a cut one of negative
    values, falls back to the plain t interval (and says so)."""
    n = len(x)
    mean = float(x.mean())
    if n < 2:
        return math.nan, math.nan, kind
    sd = float(x.std(ddof=1))
    lo_x, hi_x = float(x.min()), float(x.max())
    if kind == "wilson" and (lo_x < 0 or hi_x > 1) or kind == "t>=0" and lo_x < 0:
        kind = "t"
    if sd == 0:
        return mean, mean, kind
    tq = t_quantile(0.975, n - 1)
    if kind == "wilson":
        p = min(max(mean, 0.0), 1.0)
        if p * (1 - p) <= 0:  # rounding: values in [0, 1] that vary have 0 < mean < 1
            return p, p, kind
        return (*wilson(p, p * (1 - p) / (sd * sd / n), tq), kind)
    half = tq * sd / math.sqrt(n)
    low = max(0.0, mean - half) if kind == "t>=0" else mean - half
    return low, mean + half, kind


def describe(values: Any, interval: str = "t") -> dict[str, Any]:
    """n, mean with a 95% interval of kind `interval` (see `INTERVALS`), quantiles, share
    above zero with its Wilson interval, and CVaR95 (the mean of the worst — largest — 5%
    of values), ignoring NaN."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    out: dict[str, Any] = {"n": n}
    if n == 0:
        return out | {k: math.nan for k in COLUMNS[4:-1]} | {"interval": interval}
    low, high, kind = mean_interval(x, interval)
    q = np.quantile(x, [0.05, 0.5, 0.9, 0.95, 0.99])
    tail = np.sort(x)[::-1][: max(1, math.ceil(0.05 * n))]
    positive = float((x > 0).mean())
    p_low, p_high = wilson(positive, n, Z95)
    return out | {
        "mean": float(x.mean()), "ci_low": low, "ci_high": high,
        "p5": q[0], "p50": q[1], "p90": q[2], "p95": q[3], "p99": q[4],
        "p_positive": positive, "cvar95": float(tail.mean()),
        "p_positive_low": p_low, "p_positive_high": p_high, "interval": kind,
    }


def _group_sums(groups: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """Per-group sums of `values`, each exactly rounded (`math.fsum`): the same whatever
    the order of the rows."""
    parts: list[list[float]] = [[] for _ in range(k)]
    for g, v in zip(groups.tolist(), values.tolist(), strict=True):
        parts[g].append(v)
    return np.asarray([math.fsum(p) for p in parts], dtype=float)


def sector_columns(firms: Columns, by: str = "sector") -> dict[str, np.ndarray]:
    """Per replication and sector (sorted by both): value_lost, planned_value and
    shortfall_frac = Σ value_lost / Σ planned_value (0 where nothing was planned). With
    `by="tier"`, the same per tier (its name, in the `sector` column, the tier number)."""
    rep = np.asarray(firms["replication"], dtype=np.int64)
    sectors, s_code = np.unique(np.asarray(firms[by], dtype=object).astype(str),
                                return_inverse=True)
    key = rep * max(1, len(sectors)) + s_code
    keys, group = np.unique(key, return_inverse=True)
    lost = _group_sums(group, np.asarray(firms["value_lost"], dtype=float), len(keys))
    planned = _group_sums(group, np.asarray(firms["planned_value"], dtype=float), len(keys))
    frac = np.where(planned > 0, lost / np.where(planned > 0, planned, 1.0), 0.0)
    n_sec = max(1, len(sectors))
    costs = {c: _group_sums(group, np.asarray(firms[c], dtype=float), len(keys))
             for c in COST_METRICS if c in firms}  # with a [costs] table: sums
    return {"replication": keys // n_sec, "sector": sectors[keys % n_sec].astype(object),
            "value_lost": lost, "planned_value": planned, "shortfall_frac": frac, **costs}


def sector_table(firms: pd.DataFrame) -> pd.DataFrame:
    """`sector_columns` of a replications DataFrame, as a DataFrame."""
    import pandas as pd

    return pd.DataFrame(sector_columns({c: firms[c].to_numpy() for c in
                                        ("replication", "sector", "value_lost",
                                         "planned_value")}))


def sector_halfwidths(firms: Columns) -> dict[str, float]:
    """Per sector, the larger half of the summary's 95% interval of the mean sector
    shortfall_frac (the distance from the mean to its farther end)."""
    sec = sector_columns(firms)
    out = {}
    for sector in np.unique(sec["sector"].astype(str)):
        x = sec["shortfall_frac"][sec["sector"] == sector]
        d = describe(x, interval_of("shortfall_frac"))
        hw = max(d["mean"] - d["ci_low"], d["ci_high"] - d["mean"]) if d["n"] > 1 \
            else math.inf
        out[str(sector)] = 0.0 if len(x) > 1 and np.std(x, ddof=1) == 0 else hw
    return out


def summary_rows(firms: Columns, authority: Columns) -> list[dict[str, Any]]:
    """The summary (one row per level, name and metric): firms in order of first
    appearance, sectors sorted, tiers ascending (0 first), then the authority's metrics.
    With a `[costs]` table, each firm's total cost and each sector's costs too (USD)."""
    rows: list[dict[str, Any]] = []
    firm = np.asarray(firms.get("firm", np.array([], dtype=object)), dtype=object)
    for name in dict.fromkeys(firm.tolist()):
        mask = firm == name
        for m in (*FIRM_METRICS, *(["total_cost"] if "total_cost" in firms else [])):
            rows.append({"level": "firm", "name": name, "metric": m}
                        | describe(np.asarray(firms[m])[mask], interval_of(m)))
    if len(firm):
        sec = sector_columns(firms)
        for sector in sorted(set(sec["sector"].tolist())):
            mask = sec["sector"] == sector
            for m in (*SECTOR_METRICS, *(c for c in COST_METRICS if c in sec)):
                rows.append({"level": "sector", "name": sector, "metric": m}
                            | describe(sec[m][mask], interval_of(m)))
    tier = firms.get("tier")
    if tier is not None and len(firm) and np.any(np.asarray(tier) > 0):
        by = sector_columns(firms, "tier")  # a network: each tier too, tier 0 first
        for t in sorted(set(by["sector"].tolist()), key=int):
            mask = by["sector"] == t
            for m in SECTOR_METRICS:
                rows.append({"level": "tier", "name": t, "metric": m}
                            | describe(by[m][mask], interval_of(m)))
    for col, metric in AUTHORITY_METRICS.items():
        if col in authority:
            rows.append({"level": "authority", "name": "authority", "metric": metric}
                        | describe(authority[col], interval_of(metric)))
    return rows


def _cell(v: Any) -> str:
    """A value as pandas' `to_csv` writes it: shortest round-trip floats, NaN empty."""
    if isinstance(v, bool | np.bool_):
        return "True" if v else "False"
    if isinstance(v, float | np.floating):
        return "" if v != v else repr(float(v))
    return str(v)


def csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV text (a header, then one line a row), formatted as pandas would."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c, math.nan)) for c in columns])
    return buf.getvalue()
