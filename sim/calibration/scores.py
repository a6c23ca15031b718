"""Proper scores of the back-test's predictive samples (Gneiting & Raftery 2007).

- CRPS of an ensemble: the CRPS of the sample's empirical distribution,
  E|X - y| - E|X - X'| / 2 with X, X' independent draws from the sample (so a sample of
  one, a point forecast, scores its absolute error). Exact, from the sorted sample.
- CRPS against an interval-censored observation (a reported range [a, b]): the CRPS
  integral with the reported range left out, the integral of F(x)^2 below a and of
  (1 - F(x))^2 above b; 0 for a forecast wholly inside the range, the ordinary CRPS when
  a = b.
- The interval score of a central (1 - alpha) interval [l, u]:
  (u - l) + (2 / alpha) (l - y) 1{y < l} + (2 / alpha) (y - u) 1{y > u}.
- Skill against a reference forecast: 1 - mean CRPS / mean CRPS of the reference (1 for
  a perfect forecast, 0 for one as good as the reference, below 0 for worse).

Lower scores are better; every score is in the unit of the observation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

ALPHA = 0.1  # the back-test's band is the central 90%: P5-P95


def crps_ensemble(sample: Sequence[float] | np.ndarray, y: float) -> float:
    """CRPS of the empirical distribution of `sample` at the observation `y`."""
    x = np.sort(np.asarray(sample, dtype=float))
    m = len(x)
    if m == 0:
        return math.nan
    i = np.arange(1, m + 1)
    spread = float(np.sum((2 * i - m - 1) * x)) / (m * m)  # E|X - X'| / 2
    return float(np.mean(np.abs(x - y))) - spread


def crps_interval(sample: Sequence[float] | np.ndarray, low: float, high: float) -> float:
    """CRPS of the empirical distribution of `sample` against an observation known only to
    lie in [low, high]: the integral of F^2 over (-inf, low) and of (1 - F)^2 over
    (high, inf)."""
    x = np.sort(np.asarray(sample, dtype=float))
    m = len(x)
    if m == 0:
        return math.nan
    if high < low:
        raise ValueError(f"high ({high:g}) is below low ({low:g})")
    # F = k/m on [x_(k), x_(k+1)) (k = 1..m-1), 0 before x_(1), 1 from x_(m).
    k = np.arange(1, m)
    left, right = x[:-1], x[1:]
    below = np.clip(np.minimum(right, low) - left, 0.0, None)  # part of each step < low
    above = np.clip(right - np.maximum(left, high), 0.0, None)  # ... and > high
    lo_part = float(np.sum((k / m) ** 2 * below)) + (max(low - x[-1], 0.0))
    hi_part = float(np.sum((1 - k / m) ** 2 * above)) + (max(x[0] - high, 0.0))
    return lo_part + hi_part


def interval_score(low: float, high: float, y: float, alpha: float = ALPHA) -> float:
    """Interval score of the central (1 - alpha) interval [low, high] at `y`."""
    return ((high - low) + (2.0 / alpha) * max(low - y, 0.0)
            + (2.0 / alpha) * max(y - high, 0.0))


def skill(score: float, reference: float) -> float:
    """1 - score / reference (NaN if the reference scores 0 or is missing)."""
    if not reference or math.isnan(reference):
        return math.nan
    return 1.0 - score / reference


def _persistence(table: pd.DataFrame, fit_months: Sequence[str]) -> dict[str, float]:
    """Per series, the observed value of its last month within the fit window (what
    persistence forecasts for every later month)."""
    out = {}
    last = max(fit_months) if fit_months else ""
    for series, g in table.groupby("series", sort=False):
        seen = g[g["month"] <= last].sort_values("month")
        if len(seen):
            out[str(series)] = float(seen["observed"].iloc[-1])
    return out


def score_table(table: pd.DataFrame, fit_months: Sequence[str]) -> pd.DataFrame:
    """Scores of the monthly export points (`exports_table`'s rows, with their `crps` and
    `interval_score`), by sample (`in`: a month of `fit_months`, `out`: a month after
    them) and series, and over both series: mean CRPS and 90% interval score, points
    above the simulated median, the median width of the 90% band over the observed
    value, and CRPS skill against two naive forecasts, persistence of the last fitted
    month (out of sample only) and the 2024 level (a ratio of 1)."""
    fit = set(fit_months)
    last = max(fit_months) if fit_months else ""
    t = table.copy()
    t["sample"] = np.where(t["month"].isin(fit), "in",
                           np.where(t["month"] > last, "out", "other"))
    t = t[t["sample"] != "other"]
    persist = _persistence(table, fit_months)
    t["crps_persistence"] = [abs(persist[s] - o) if smp == "out" and s in persist else math.nan
                             for s, o, smp in zip(t["series"], t["observed"], t["sample"],
                                                  strict=True)]
    t["crps_level"] = (t["observed"] - 1.0).abs()
    rows = []

    def row(sample: str, series: str, g: pd.DataFrame) -> dict:
        crps = float(g["crps"].mean())
        per = float(g["crps_persistence"].mean()) if g["crps_persistence"].notna().all() \
            else math.nan
        lvl = float(g["crps_level"].mean())
        return {"sample": sample, "series": series, "points": len(g),
                "crps": crps, "interval_score_90": float(g["interval_score"].mean()),
                "above_median": f"{int((g['observed'] > g['sim_p50']).sum())} of {len(g)}",
                "band_over_observed": float(((g["sim_p95"] - g["sim_p5"])
                                             / g["observed"]).median()),
                "crps_persistence": per, "skill_vs_persistence": skill(crps, per),
                "crps_2024_level": lvl, "skill_vs_2024_level": skill(crps, lvl)}

    for sample in ("in", "out"):
        s = t[t["sample"] == sample]
        for series, g in s.groupby("series", sort=False):
            rows.append(row(sample, str(series), g))
        if len(s):
            rows.append(row(sample, "both", s))
    if len(t):
        rows.append(row("all", "both", t))
    return pd.DataFrame(rows, columns=[
        "sample", "series", "points", "crps", "interval_score_90", "above_median",
        "band_over_observed", "crps_persistence", "skill_vs_persistence",
        "crps_2024_level", "skill_vs_2024_level"])
