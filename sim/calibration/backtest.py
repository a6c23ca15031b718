"""Back-test a scenario against what was observed: the targets are the config's
`observed` data (e.g. `configs/observed/2025.toml`), never figures in the code.

The comparison has four parts, each computed from stored tables (one row per replication):

- monthly exports of the controlled exporter, per observed series (all destinations, or
  some), as ratios to the level before the shock (per day, so month lengths cancel):
  observed against simulated P5/P50/P95;
- the first stoppage of each firm that stands for a reported case, against its date;
- the days each such firm was below plan within a window (e.g. 2025), against the
  reported range;
- the share of a destination's licence applications approved by a date;
- error measures: median absolute error of the monthly ratios and coverage (observed months
  inside the simulated P5–P95), for the fit window and, separately, the held-out months;
- proper scores of the monthly ratios (`scores.py`): CRPS, the 90% interval score, points
  above the median, band width, and skill against persistence and the 2024 level; the
  downtimes' CRPS against the reported range;
- the level before the controls: simulated exports per day in the months before the
  first control, against the reference level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ..config.observed import ObservedData, ObservedExports
from ..config.schema import Config
from ..errors import ConfigError
from .scores import crps_ensemble, crps_interval, interval_score, score_table


def _days_in(month: str) -> int:
    p = pd.Period(month, "M")
    return int(p.days_in_month)


def observed_of(cfg: Config, source: str = "<config>") -> ObservedData:
    """The config's observations; ConfigError if it has none."""
    if cfg.observed is None:
        raise ConfigError(source, "observed", "this config names no observations to compare "
                          "with (e.g. observed = \"observed/2025.toml\")")
    return cfg.observed


def check_backtest(cfg: Config, source: str = "<config>") -> ObservedData:
    """Whether `cfg` can be back-tested against its observations; ConfigError saying why not."""
    obs = observed_of(cfg, source)
    if not any(e.type == "controls_start" for e in cfg.policy):
        raise ConfigError(source, "policy", "no controls_start event to back-test")
    start = cfg.calendar.start
    end = pd.Timestamp(start) + pd.Timedelta(days=cfg.horizon_days)
    where = [(m, f"observed.{k}.{i}") for k in ("fit_months", "held_out_months")
             for i, m in enumerate(getattr(obs, k))]
    where += [(d.date.strftime("%Y-%m"), f"observed.{k}.{i}.date")
              for k in ("stoppages", "approvals") for i, d in enumerate(getattr(obs, k))]
    where += [(d.until.strftime("%Y-%m"), f"observed.downtimes.{i}.until")
              for i, d in enumerate(obs.downtimes)]
    months = [m for m, _ in where]
    for m, path in sorted(where):
        p = pd.Period(m, "M")
        if p.start_time < pd.Timestamp(start) or p.end_time >= end:
            raise ConfigError(source, path, f"{m} lies outside the run ({start} to "
                              f"{end.date()}): the back-test needs the run to cover "
                              f"{min(months)} to {max(months)}")
    return obs


def export_ratios(exports: pd.DataFrame, obs: ObservedExports) -> pd.DataFrame:
    """Per replication, month and observed series: kg/day in the month divided by the
    series' observed reference level (the same level the observed months are divided
    by, so simulated and observed ratios are levels on one scale)."""
    per = []
    for s in obs.series:
        frame = exports if s.destinations is None else exports[
            exports["destination"].isin(s.destinations)]
        m = frame.groupby(["replication", "month"])["kg"].sum().unstack("month")
        days = np.array([_days_in(c) for c in m.columns], dtype=float)
        ratio = (m / days) / (1000.0 * s.reference_t_per_day)
        long = ratio.stack().rename("ratio").reset_index()
        long["series"] = s.name
        per.append(long)
    return pd.concat(per, ignore_index=True)


def exports_table(exports: pd.DataFrame, obs: ObservedData) -> pd.DataFrame:
    """Observed against simulated P5/P50/P95 monthly export ratios, over the fit and
    held-out months."""
    cols = ["series", "month", "sample", "observed", "sim_p5", "sim_p50", "sim_p95",
            "abs_error", "inside", "crps", "interval_score"]
    if obs.exports is None:
        return pd.DataFrame(columns=cols)
    r = export_ratios(exports, obs.exports)
    fit = set(obs.fit_months)
    rows = []
    for s in obs.exports.series:
        pre = s.reference_t_per_day
        for month in obs.months:
            if month not in s.months:
                continue
            sim = r[(r["series"] == s.name) & (r["month"] == month)]["ratio"].to_numpy()
            if len(sim) == 0:
                continue
            p5, p50, p95 = np.quantile(sim, [0.05, 0.5, 0.95])
            o = s.months[month] / _days_in(month) / pre
            rows.append({"series": s.name, "month": month,
                         "sample": "in" if month in fit else "out",
                         "observed": o, "sim_p5": p5, "sim_p50": p50, "sim_p95": p95,
                         "abs_error": abs(p50 - o), "inside": bool(p5 <= o <= p95),
                         "crps": crps_ensemble(sim, o), "interval_score": interval_score(
                             p5, p95, o)})
    return pd.DataFrame(rows, columns=cols)


def error_measures(table: pd.DataFrame) -> pd.DataFrame:
    """Median absolute error of the P50 monthly ratio and coverage, by sample and series."""
    rows = []
    for (sample, series), g in table.groupby(["sample", "series"], sort=False):
        rows.append({"sample": sample, "series": series, "months": len(g),
                     "median_abs_error": float(g["abs_error"].median()),
                     "inside_p5_p95": int(g["inside"].sum())})
    for sample, g in table.groupby("sample", sort=False):
        rows.append({"sample": sample, "series": "both", "months": len(g),
                     "median_abs_error": float(g["abs_error"].median()),
                     "inside_p5_p95": int(g["inside"].sum())})
    return pd.DataFrame(rows)


def stoppage_table(firms: pd.DataFrame, controls_day: float, start: date,
                   obs: ObservedData) -> pd.DataFrame:
    """Simulated first stoppage dates (P5/P50/P95) per observed firm against the reported
    date."""
    rows = []
    for st in obs.stoppages:
        g = firms[firms["firm"] == st.firm]
        if g.empty:
            continue
        day = controls_day + g["tts_days"].to_numpy()
        stopped = day[~np.isnan(day)]
        reported = (st.date - start).days
        q = np.quantile(stopped, [0.05, 0.5, 0.95]) if len(stopped) else [np.nan] * 3
        as_date = [("" if np.isnan(x) else str(start + pd.Timedelta(days=int(x)).to_pytimedelta()))
                   for x in q]
        rows.append({"firm": st.firm, "reported": st.event, "reported_date": str(st.date),
                     "sim_p5": as_date[0], "sim_p50": as_date[1], "sim_p95": as_date[2],
                     "days_p50_minus_reported": float(q[1] - reported),
                     "share_stopped_by_reported_date": float(np.mean(day <= reported + 1)),
                     "share_never_stopped": float(np.mean(np.isnan(day)))})
    return pd.DataFrame(rows)


def _against_range(d: np.ndarray, lo: float, hi: float) -> dict[str, Any]:
    """Simulated values `d` (one per replication) against a reported range [lo, hi]: their
    P5/P50/P95, whether [P5, P95] and the range overlap, the share within it, and the CRPS
    against it."""
    p5, p50, p95 = np.quantile(d, [0.05, 0.5, 0.95])
    return {"reported_low": lo, "reported_high": hi, "sim_p5": p5, "sim_p50": p50,
            "sim_p95": p95, "overlaps_p5_p95": bool(p5 <= hi and lo <= p95),
            "share_within_reported": float(np.mean((d >= lo) & (d <= hi))),
            "crps_vs_range": crps_interval(d, lo, hi)}


def downtime_table(firms: pd.DataFrame, obs: ObservedData) -> pd.DataFrame:
    """Simulated days below plan within each observed window (P5/P50/P95 over the
    replications, column `downtime_window_days`) against the reported range: whether the
    ranges [P5, P95] and [low, high] overlap, and the share of replications within the
    reported range."""
    rows = []
    for dt in obs.downtimes:
        g = firms[firms["firm"] == dt.firm]
        if g.empty or "downtime_window_days" not in g:
            continue
        d = g["downtime_window_days"].to_numpy(dtype=float)
        rows.append({"firm": dt.firm, "reported": dt.event,
                     "window": f"{dt.since or 'start'} to {dt.until}",
                     **_against_range(d, dt.days.low, dt.days.high)})
    return pd.DataFrame(rows, columns=[
        "firm", "reported", "window", "reported_low", "reported_high", "sim_p5", "sim_p50",
        "sim_p95", "overlaps_p5_p95", "share_within_reported", "crps_vs_range"])


PRICE_COLUMNS = ["material", "reported", "window", "reported_low", "reported_high",
                 "sim_p5", "sim_p50", "sim_p95", "overlaps_p5_p95", "share_within_reported",
                 "crps_vs_range"]


def price_table(timeseries: pd.DataFrame | None, obs: ObservedData,
                start: date) -> pd.DataFrame:
    """Per observed price, the peak of the simulated index within its window (P5/P50/P95
    over the replications; the index as sampled in the time series) against the reported
    range of peak over pre-control price, as `downtime_table` does for downtimes."""
    if timeseries is None or not obs.prices:
        return pd.DataFrame(columns=PRICE_COLUMNS)
    ts = timeseries[timeseries["series"] == "price_index"]
    rows = []
    for pr in obs.prices:  # a material without an index has no rows: left out
        lo_day = float((pr.since - start).days) if pr.since else 0.0
        hi_day = float((pr.until - start).days + 1)
        g = ts[(ts["material"] == pr.material) & (ts["day"] >= lo_day) & (ts["day"] < hi_day)]
        if g.empty:
            continue
        peak = g.groupby("replication")["value"].max().to_numpy(dtype=float)
        rows.append({"material": pr.material, "reported": pr.event,
                     "window": f"{pr.since or 'start'} to {pr.until}",
                     **_against_range(peak, pr.ratio.low, pr.ratio.high)})
    return pd.DataFrame(rows, columns=PRICE_COLUMNS)


def level_table(exports: pd.DataFrame, obs: ObservedData, start: date,
                controls: date, tolerance: float = 0.1) -> pd.DataFrame:
    """Per observed series, simulated exports per day over the whole months before the
    month of the first control (P5/P50/P95 over the replications), as a ratio to the
    series' reference level and in tonnes per month (a twelfth of a year at the reference
    level: 2024's 58,152 t / 12 = 4,846 t), and whether P5-P95 lies within +-`tolerance` of it."""
    cols = ["series", "months", "reference_t_per_month", "sim_p5", "sim_p50", "sim_p95",
            "ratio_p5", "ratio_p95", f"within_{tolerance:.0%}"]
    months = [str(p) for p in pd.period_range(pd.Period(start, "M"),
                                              pd.Period(controls, "M") - 1)
              if p.start_time >= pd.Timestamp(start)]
    if obs.exports is None or not months:
        return pd.DataFrame(columns=cols)
    days = float(sum(_days_in(m) for m in months))
    rows = []
    for s in obs.exports.series:
        frame = exports if s.destinations is None else exports[
            exports["destination"].isin(s.destinations)]
        frame = frame[frame["month"].isin(months)]
        reps = exports["replication"].unique()
        kg = frame.groupby("replication")["kg"].sum().reindex(reps, fill_value=0.0)
        ratio = kg.to_numpy(dtype=float) / days / (1000.0 * s.reference_t_per_day)
        if len(ratio) == 0:
            continue
        q = np.quantile(ratio, [0.05, 0.5, 0.95])
        year = s.reference_days if 365 <= s.reference_days <= 366 else 365.25
        per_month = s.reference_t_per_day * year / 12.0  # a year's reference: its tonnes / 12
        rows.append({"series": s.name, "months": f"{months[0]} to {months[-1]}",
                     "reference_t_per_month": per_month,
                     "sim_p5": q[0] * per_month, "sim_p50": q[1] * per_month,
                     "sim_p95": q[2] * per_month, "ratio_p5": q[0], "ratio_p95": q[2],
                     f"within_{tolerance:.0%}": bool(1 - tolerance <= q[0]
                                                     and q[2] <= 1 + tolerance)})
    return pd.DataFrame(rows, columns=cols)


def approval_table(apps: pd.DataFrame, start: date, controls: date,
                   obs: ObservedData) -> pd.DataFrame:
    """Share of a destination's applications approved by each observed date. Two
    denominators, since observers rarely say when the files were submitted: every
    application submitted by that date, and those submitted in the first
    `first_wave_days` of the controls."""
    first_wave = (controls - start).days + obs.first_wave_days
    rows = []
    for ap in obs.approvals:
        dest = apps[apps["destination"] == ap.destination]
        t = (ap.date - start).days + 1.0  # end of that day
        for basis, cut in (("submitted by the date", t),
                           (f"submitted in the first {obs.first_wave_days:g} days",
                            min(t, first_wave))):
            sub = dest[dest["submitted_day"] < cut]
            ok = (sub["outcome"] == "approved") & (sub["decided_day"] < t)
            share = ok.groupby(sub["replication"]).mean().to_numpy()
            p5, p50, p95 = np.quantile(share, [0.05, 0.5, 0.95]) if len(share) else [np.nan] * 3
            rows.append({"destination": ap.destination, "date": str(ap.date), "basis": basis,
                         "observed": ap.share, "sim_p5": p5, "sim_p50": p50, "sim_p95": p95,
                         "inside": bool(p5 <= ap.share <= p95)})
    return pd.DataFrame(rows)


@dataclass
class Backtest:
    exports: pd.DataFrame
    errors: pd.DataFrame
    stoppages: pd.DataFrame
    approvals: pd.DataFrame
    downtimes: pd.DataFrame
    scores: pd.DataFrame
    level: pd.DataFrame
    prices: pd.DataFrame


def backtest_tables(cfg: Config, firms: pd.DataFrame, exports: pd.DataFrame,
                    applications: pd.DataFrame,
                    timeseries: pd.DataFrame | None = None) -> Backtest:
    """Every comparison, from a stored run's firms, exports and applications tables (the
    applications need `replication`, `destination`, `submitted_day`, `decided_day` and
    `outcome`) and, for observed prices, its price-index rows of the time series
    (`replication`, `day`, `series`, `material`, `value`)."""
    obs = observed_of(cfg)
    start = cfg.calendar.start
    controls = [e for e in cfg.policy if e.type == "controls_start"]
    if not controls:
        raise ConfigError("<config>", "policy", "no controls_start event to back-test")
    first = controls[0].date
    controls_day = float((first - start).days)
    ex = exports_table(exports, obs)
    return Backtest(ex, error_measures(ex), stoppage_table(firms, controls_day, start, obs),
                    approval_table(applications, start, first, obs),
                    downtime_table(firms, obs), score_table(ex, obs.fit_months),
                    level_table(exports, obs, start, first),
                    price_table(timeseries, obs, start))


BACKTEST_APPLICATION_COLUMNS = ["replication", "destination", "submitted_day", "decided_day",
                                "outcome"]
