"""Which levers matter: sensitivity tables of a stored sweep.

Outcomes are per sector and replication (`sector_cases`): `shortfall_frac` (value
weighted, as in the run summary) and `tts_days` (the mean time to survive of the sector's
firms that stocked out; undefined when none did). A point's outcome is its mean over
replications.

- `sobol`: SALib's Sobol analysis (first-order S1 and total ST with bootstrap 95%
  confidence half-widths) of each sector's per-point mean;
- `morris`: SALib's Morris analysis (mu*, its 95% confidence half-width, sigma; in outcome
  units per the parameter's whole range, i.e. SALib's unscaled elementary effects);
- `oat`: the tornado table, the effect of each parameter's low and high value against the
  base point with a 95% interval: paired by replication under common random numbers
  (the difference of the same replication at two points), Welch's otherwise.

An outcome that is undefined at some point (no stock-out anywhere in the sector) is left
out of the Sobol and Morris tables, and an outcome that does not vary gets NaN indices.
Their `noise_share` column says how much of the variance of the per-point means is
Monte Carlo noise (`noise_shares`): where it is large, more replications are needed before
the indices mean anything.
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np
import pandas as pd

from .design import Design

log = logging.getLogger(__name__)

METRICS = ("shortfall_frac", "tts_days")
SOBOL_COLUMNS = ["parameter", "sector", "metric", "S1", "S1_conf", "ST", "ST_conf",
                 "noise_share"]
MORRIS_COLUMNS = ["parameter", "sector", "metric", "mu_star", "mu_star_conf", "sigma", "mu",
                  "noise_share"]
TORNADO_COLUMNS = ["parameter", "sector", "metric", "rank", "base_value", "low_value",
                   "high_value", "base_mean", "low_mean", "low_effect", "low_ci_low",
                   "low_ci_high", "high_mean", "high_effect", "high_ci_low", "high_ci_high",
                   "swing", "paired"]


def sector_cases(firms: pd.DataFrame) -> pd.DataFrame:
    """One row per point, replication and sector: shortfall_frac = Σ value_lost / Σ
    planned_value, value_lost, and tts_days (mean over the firms that stocked out)."""
    keys = ["point", "replication", "sector"]
    g = firms.groupby(keys, sort=True)
    st = g[["value_lost", "planned_value"]].sum()
    planned = st["planned_value"]
    st["shortfall_frac"] = np.where(planned > 0, st["value_lost"] / planned.where(
        planned > 0, 1.0), 0.0)
    st["tts_days"] = g["tts_days"].mean()
    return st.reset_index()


def point_means(cases: pd.DataFrame, metric: str, points: int) -> pd.DataFrame:
    """Per-point mean of `metric` by sector: index point 0..points-1, a column per sector."""
    m = cases.groupby(["point", "sector"])[metric].mean().unstack("sector")
    return m.reindex(range(points))


def noise_shares(cases: pd.DataFrame, metric: str) -> dict[str, float]:
    """Per sector, the share of the variance of the per-point means that Monte Carlo noise
    accounts for (capped at 1). Indices of the same size as this share are not
    distinguishable from noise.

    With every replication at every point, y[p, i] = mu_p + r_i + e_pi: the replication's
    own luck r_i is shared by all points (common random numbers) and moves no difference
    between them, so the noise is var(e) / n, var(e) from the point x replication
    residuals (SS / ((P - 1)(n - 1))); without CRN r_i is just more noise and the same
    estimate holds. Otherwise (replications missing): mean over points of var / n."""
    out = {}
    for sector, g in cases.groupby("sector"):
        by = g.groupby("point")[metric]
        between = by.mean().var(ddof=1)
        y = g.pivot_table(index="point", columns="replication", values=metric,
                          aggfunc="mean").to_numpy(dtype=float)
        p, n = y.shape
        if p > 1 and n > 1 and not np.isnan(y).any():
            resid = y - y.mean(axis=1, keepdims=True) - y.mean(axis=0, keepdims=True) + y.mean()
            within = float((resid**2).sum() / ((p - 1) * (n - 1)) / n)
        else:
            within = float((by.var(ddof=1) / by.count()).mean())
        out[str(sector)] = (min(1.0, within / between) if between > 0 else math.nan)
    return out


def _analysis_seed(seed: int) -> int:
    from ..model.rng import stream

    return int(stream(np.random.SeedSequence(seed), "sweep-analysis").integers(2**31 - 1))


def _outcomes(design: Design, cases: pd.DataFrame, method: str):  # noqa: ANN202
    """(metric, sector, per-point means, noise share) for every outcome defined at every
    point of the design; outcomes undefined somewhere are logged and left out."""
    for metric in METRICS:
        means = point_means(cases, metric, design.size)
        noise = noise_shares(cases, metric)
        for sector in means.columns:
            y = means[sector].to_numpy(dtype=float)
            if np.isnan(y).any():
                log.info("%s: %s %s undefined at some points; left out", method, sector, metric)
                continue
            yield metric, sector, y, noise.get(str(sector), math.nan)


def sobol_table(design: Design, cases: pd.DataFrame, seed: int) -> pd.DataFrame:
    """S1, ST and their 95% confidence half-widths per parameter, sector and metric."""
    from SALib.analyze import sobol

    rows = []
    names = design.problem["names"]
    for metric, sector, y, noise in _outcomes(design, cases, "sobol"):
        if np.ptp(y) == 0:
            si = {k: [math.nan] * len(names)  # type: ignore[arg-type]
                  for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                si = sobol.analyze(design.problem, y, calc_second_order=False,
                                   conf_level=0.95, seed=_analysis_seed(seed))
        for j, name in enumerate(names):  # type: ignore[arg-type]
            rows.append({"parameter": name, "sector": sector, "metric": metric,
                         **{k: float(si[k][j]) for k in ("S1", "S1_conf", "ST", "ST_conf")},
                         "noise_share": noise})
    return pd.DataFrame(rows, columns=SOBOL_COLUMNS)


def morris_table(design: Design, cases: pd.DataFrame, seed: int, levels: int) -> pd.DataFrame:
    """mu* (mean absolute elementary effect, in outcome units per unit-range step), its
    95% confidence half-width, sigma and mu per parameter, sector and metric."""
    from SALib.analyze import morris

    rows = []
    for metric, sector, y, noise in _outcomes(design, cases, "morris"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            si = morris.analyze(design.problem, design.sample, y, conf_level=0.95,
                                num_levels=levels, seed=_analysis_seed(seed))
        for j, name in enumerate(design.problem["names"]):  # type: ignore[index]
            rows.append({"parameter": name, "sector": sector, "metric": metric,
                         "mu_star": float(si["mu_star"][j]),
                         "mu_star_conf": float(si["mu_star_conf"][j]),
                         "sigma": float(si["sigma"][j]), "mu": float(si["mu"][j]),
                         "noise_share": noise})
    return pd.DataFrame(rows, columns=MORRIS_COLUMNS)


def _effect(a: pd.Series, b: pd.Series, paired: bool) -> tuple[float, float, float, float]:
    """(mean of b, effect b - a, CI low, CI high), 95%; a and b indexed by replication."""
    from scipy import stats

    if paired:
        d = (b - a).dropna()
        n = len(d)
        mean_b = float(b[d.index].mean()) if n else math.nan
        if n == 0:
            return math.nan, math.nan, math.nan, math.nan
        eff = float(d.mean())
        half = float(stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / math.sqrt(n)) if n > 1 \
            else math.nan
        return mean_b, eff, eff - half, eff + half
    a, b = a.dropna(), b.dropna()
    if len(a) == 0 or len(b) == 0:
        return math.nan, math.nan, math.nan, math.nan
    eff = float(b.mean() - a.mean())
    va = a.var(ddof=1) / len(a) if len(a) > 1 else math.nan
    vb = b.var(ddof=1) / len(b) if len(b) > 1 else math.nan
    se2 = va + vb
    if not se2 > 0:
        half = 0.0 if se2 == 0 else math.nan
    else:  # Welch-Satterthwaite degrees of freedom
        dof = se2 ** 2 / ((va ** 2 / (len(a) - 1) if va else 0) + (vb ** 2 / (len(b) - 1)
                                                                     if vb else 0))
        half = float(stats.t.ppf(0.975, dof) * math.sqrt(se2))
    return float(b.mean()), eff, eff - half, eff + half


def _low_high(design: Design, label: str) -> tuple[tuple[object, int], tuple[object, int]]:
    """The oat points of `label` taken as its low and high side: the smallest and largest
    non-base values (for numbers), else the first and last."""
    others = design.oat[label][1:]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v, _ in others):
        return min(others, key=lambda t: t[0]), max(others, key=lambda t: t[0])  # type: ignore
    return others[0], others[-1]


def tornado_table(design: Design, cases: pd.DataFrame, crn: bool) -> pd.DataFrame:
    """Effect of each parameter's low and high value against the base point, per sector
    and metric, with 95% intervals; `rank` 1 is the widest swing in that sector/metric."""
    assert design.base is not None
    rows = []
    for metric in METRICS:
        by = cases.set_index(["sector", "point", "replication"])[metric]
        for sector in sorted(cases["sector"].unique()):
            s = by.xs(sector, level="sector")
            base = s.xs(design.base, level="point")
            if base.isna().all():
                continue
            for label, pts in design.oat.items():
                (lo_v, lo_p), (hi_v, hi_p) = _low_high(design, label)
                lo = _effect(base, s.xs(lo_p, level="point"), crn)
                hi = _effect(base, s.xs(hi_p, level="point"), crn)
                rows.append({
                    "parameter": label, "sector": sector, "metric": metric,
                    "base_value": pts[0][0], "low_value": lo_v, "high_value": hi_v,
                    "base_mean": float(base.mean()), "low_mean": lo[0], "low_effect": lo[1],
                    "low_ci_low": lo[2], "low_ci_high": lo[3], "high_mean": hi[0],
                    "high_effect": hi[1], "high_ci_low": hi[2], "high_ci_high": hi[3],
                    "swing": abs(hi[1] - lo[1]) if lo_p != hi_p else abs(hi[1]),
                    "paired": crn})
    df = pd.DataFrame(rows, columns=TORNADO_COLUMNS)
    if len(df):
        df["rank"] = df.groupby(["sector", "metric"])["swing"].rank(
            ascending=False, method="first").astype("Int64")
        df = df.sort_values(["metric", "sector", "rank"], kind="mergesort",
                            key=lambda c: c.map({m: i for i, m in enumerate(METRICS)})
                            if c.name == "metric" else c).reset_index(drop=True)
    return df
