"""Scenarios compared on shared seeds: per sector and metric, the mean difference of each
alternative against the reference with a paired 95% CI (Bonferroni-adjusted when there
are several alternatives), the share of replications in which the alternative is better,
and, for three or more scenarios, which cannot be told apart from the best.

Replication i of every run drew from the same seed (`SeedSequence(seed, spawn_key=(i,))`),
so the differences are paired by replication; runs with other seeds or replication counts
are compared unpaired (Welch intervals) only when asked to."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ArgumentError, FolderError
from .stats import t_quantile

if TYPE_CHECKING:
    import pandas as pd

    from ..config.schema import Config
    from .stored import StoredRun

SECTOR_METRICS = ("shortfall_frac", "value_lost", "stockout_share", "tts_rmst_days",
                  "ttr_days")
AUTHORITY_METRICS = {"lead_time_mean": "lead_time_days", "over_limit_share": "over_limit_share"}
"""The authority's per-replication columns compared, and the names they are shown by."""
HIGHER_IS_BETTER = {"tts_rmst_days"}
"""Metrics where more is better (time to survive); for the rest less is better."""
COLUMNS = ["level", "name", "metric", "reference", "alternative", "n", "reference_n",
           "alternative_n", "reference_mean", "alternative_mean", "diff", "ci_low", "ci_high",
           "confidence", "method", "share_better", "best", "vs_best", "reference_vs_best",
           "only_in"]
"""`n`: replications paired (both sides have a value); `reference_n`, `alternative_n`:
replications with a value on each side; `only_in`: the scenario a sector is only in (no
difference is computed for it)."""


def restriction_days(cfg: Config) -> float:
    """The end of the measured window, in days from the start of the run: the restriction
    of the restricted mean time to stock-out (no first stock-out can come later than this
    after the shock onset, which is at or after the start)."""
    o = cfg.output
    end = float(cfg.horizon_days)
    if o.measure_until is not None:
        end = min(end, float((o.measure_until - cfg.calendar.start).days))
    return end


def window_text(cfg: Config) -> str:
    """The measured window and the horizon, as dates."""
    from datetime import timedelta

    start = cfg.calendar.start
    end = start + timedelta(days=float(cfg.horizon_days))
    o = cfg.output
    return (f"measured window {o.measure_from or start} to {o.measure_until or end}, "
            f"horizon {start} + {cfg.horizon_days:g} days")


def check_comparable(configs: list[Config], names: list[str]) -> None:
    """Scenarios compared must share their measured window and horizon (FolderError naming
    both otherwise): shortfall over other months is another quantity."""
    ref = window_text(configs[0])
    for name, cfg in zip(names[1:], configs[1:], strict=True):
        other = window_text(cfg)
        if other != ref:
            raise FolderError(name, f"has {other}, {names[0]} has {ref}: scenarios "
                              "compared must share their measured window and horizon")


def per_replication(run: StoredRun) -> pd.DataFrame:
    """One row per replication, level ("sector" or "authority"), name and metric: the
    sector's shortfall_frac and value_lost (value-weighted over its firms); the share of
    its firms that stocked out; their restricted mean time to stock-out (`tts_rmst_days`:
    a firm that never stocked out counts at `restriction_days`, so it is defined in every
    replication); their mean ttr_days over the firms that stocked out and recovered (NaN
    if none did); the authority's lead time and share over the statutory limit."""
    import pandas as pd

    firms = run.firms
    rows = []
    if not firms.empty:
        sec = run.sectors()
        for m in ("shortfall_frac", "value_lost"):
            rows.append(pd.DataFrame({"replication": sec["replication"], "level": "sector",
                                      "name": sec["sector"], "metric": m, "value": sec[m]}))
        tau = restriction_days(run.config)
        tts = firms["tts_days"].to_numpy(dtype=float)
        firms = firms.assign(stockout_share=(~np.isnan(tts)).astype(float),
                             tts_rmst_days=np.where(np.isnan(tts), tau, np.minimum(tts, tau)))
        times = firms.groupby(["replication", "sector"])[
            ["stockout_share", "tts_rmst_days", "ttr_days"]].mean()
        for m in ("stockout_share", "tts_rmst_days", "ttr_days"):
            t = times[m].reset_index()
            rows.append(pd.DataFrame({"replication": t["replication"], "level": "sector",
                                      "name": t["sector"], "metric": m, "value": t[m]}))
    auth = run.authority
    for col, m in AUTHORITY_METRICS.items():
        if col in auth.columns:
            rows.append(pd.DataFrame({"replication": auth["replication"], "level": "authority",
                                      "name": "authority", "metric": m, "value": auth[col]}))
    return pd.concat(rows, ignore_index=True)


def _interval(a: np.ndarray, b: np.ndarray, paired: bool, alpha: float) -> tuple:
    """Mean of b - a and its two-sided (1 - alpha) interval: paired t over the replications
    both have, or Welch's."""
    if paired:
        keep = ~(np.isnan(a) | np.isnan(b))
        d = b[keep] - a[keep]
        n = len(d)
        if n == 0:
            return 0, math.nan, math.nan, math.nan
        mean = float(d.mean())
        if n < 2:
            return n, mean, math.nan, math.nan
        half = float(t_quantile(1 - alpha / 2, n - 1) * d.std(ddof=1) / math.sqrt(n))
        return n, mean, mean - half, mean + half
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    n = min(len(a), len(b))
    if len(a) < 2 or len(b) < 2:
        return n, (float(b.mean() - a.mean()) if n else math.nan), math.nan, math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    mean = float(b.mean() - a.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return n, mean, mean, mean
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(t_quantile(1 - alpha / 2, dof) * se)
    return n, mean, mean - half, mean + half


def compare_runs(runs: list[StoredRun], labels: list[str], paired: bool = True,
                 confidence: float = 0.95) -> pd.DataFrame:
    """The comparison table (`COLUMNS`), one row per alternative, level, name and metric.
    Intervals are at `confidence` jointly: Bonferroni over the alternatives (and, for the
    comparison with the best, over the others)."""
    import pandas as pd

    if len(runs) < 2:
        raise ArgumentError("sources", len(runs), "needs at least two runs to compare")
    if paired:
        check_paired(runs, labels)
    k = len(runs)
    alpha = (1 - confidence) / max(1, k - 1)
    wide = []
    for label, run in zip(labels, runs, strict=True):
        t = per_replication(run)
        t["scenario"] = label
        wide.append(t)
    # unstack, not pivot_table: a replication without a value (NaN) keeps its row
    data = pd.concat(wide, ignore_index=True).set_index(
        ["level", "name", "metric", "replication", "scenario"])["value"].unstack("scenario")
    has = {lab: set(run.firms["sector"]) if not run.firms.empty else set()
           for lab, run in zip(labels, runs, strict=True)}
    rows = []
    for (level, name, metric), g in data.groupby(level=[0, 1, 2], sort=True):
        cols = {lab: g[lab].to_numpy(dtype=float) if lab in g else
                np.full(len(g), math.nan) for lab in labels}
        sign = 1.0 if metric in HIGHER_IS_BETTER else -1.0
        means = {lab: float(np.nanmean(v)) if np.isfinite(v).any() else math.nan
                 for lab, v in cols.items()}
        best = max((lab for lab in labels if not math.isnan(means[lab])),
                   key=lambda lab: sign * means[lab], default=None)
        counts = {lab: int(np.isfinite(v).sum()) for lab, v in cols.items()}
        for lab in labels[1:]:
            ref, alt = cols[labels[0]], cols[lab]
            only = ""
            if level == "sector":
                inside = [x for x in (labels[0], lab) if name in has[x]]
                if not inside:
                    continue  # in neither: another alternative's row shows it
                only = inside[0] if len(inside) == 1 else ""
            n, diff, lo, hi = _interval(ref, alt, paired, alpha) if not only else \
                (0, math.nan, math.nan, math.nan)
            if not only and not (counts[labels[0]] or counts[lab]):
                continue  # nothing on either side (no recovery, or no licences at all)
            keep = ~(np.isnan(ref) | np.isnan(alt))
            better = float((sign * (alt[keep] - ref[keep]) > 0).mean()) \
                if paired and keep.any() else math.nan
            rows.append({"level": level, "name": name, "metric": metric,
                         "reference": labels[0], "alternative": lab, "n": n,
                         "reference_n": counts[labels[0]], "alternative_n": counts[lab],
                         "only_in": only,
                         "reference_mean": means[labels[0]], "alternative_mean": means[lab],
                         "diff": diff, "ci_low": lo, "ci_high": hi,
                         "confidence": 1 - alpha, "method": "paired t" if paired else "Welch",
                         "share_better": better, "best": best if k > 2 else "",
                         "vs_best": _vs_best(cols, lab, best, sign, paired, k),
                         "reference_vs_best": _vs_best(cols, labels[0], best, sign, paired,
                                                       k)})
    return pd.DataFrame(rows, columns=COLUMNS)


def _vs_best(cols: dict[str, np.ndarray], lab: str, best: str | None, sign: float,
             paired: bool, k: int) -> str:
    """Multiple comparisons with the best (Bonferroni over the k - 1 others): "best", "not
    told apart from the best" (the interval of its difference from the best holds 0), or
    "worse than the best". Empty for two scenarios."""
    if k < 3 or best is None:
        return ""
    if lab == best:
        return "best"
    _, _, lo, hi = _interval(cols[best], cols[lab], paired, 0.05 / (k - 1))
    if math.isnan(lo):
        return ""
    worse = hi < 0 if sign > 0 else lo > 0
    return "worse than the best" if worse else "not told apart from the best"


def check_paired(runs: list[StoredRun], labels: list[str]) -> None:
    """Runs compared pairwise must share their seed and replications (FolderError naming
    the first that does not, with `unpaired` as the remedy: Welch intervals)."""
    first = runs[0]
    seed, n = first.manifest.get("seed"), first.replications
    for label, run in zip(labels[1:], runs[1:], strict=True):
        if run.manifest.get("seed") != seed:
            raise FolderError(label, f"was run with seed {run.manifest.get('seed')}, "
                              f"{labels[0]} with {seed}: replications are paired only on "
                              "shared seeds; Welch intervals compare them unpaired", ("unpaired",))
        if run.replications != n:
            raise FolderError(label, f"holds {run.replications} replications, {labels[0]} "
                              f"{n}: pairs need the same replications; Welch intervals compare "
                              "them unpaired", ("unpaired",))
