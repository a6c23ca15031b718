"""Calibration targets: the observations a config names, within its fit window, and the
same figures computed from one simulated replication (the summary statistics ABC
compares).

- `exports SERIES MONTH`: a series' exports in the month, kg per day over the series'
  observed reference level (the ratio the back-test shows);
- `level SERIES`: a series' mean exports per day over the whole months before the
  controls, over its reference level; observed: 1 (the reference is the known level
  before the shock, e.g. 2024's total). Fitted whatever the fit window, unless its weight
  is 0; a single month (January 2025, a record) is noise around it, the year's total not;
- `stoppage FIRM`: the day (since `calendar.start`) of the firm's first stock-out (the
  horizon if it has none);
- `downtime FIRM`: the firm's days below plan within its observed window
  (`observed.downtimes`); observed: the midpoint of the reported range. Firm outcomes,
  not export months: they are fitted whatever the fit window (their window may run past
  it, and the calibration then simulates to its end), unless their weight is 0;
- `approved DESTINATION DATE`: the share of the destination's licence applications filed
  in the first `first_wave_days` of the controls that are approved by the end of DATE;
- `price MATERIAL`: the peak of the material's price index (`[prices]`, as sampled in the
  time series) within its observed window (`observed.prices`); observed: the midpoint of
  the reported range of peak over pre-control price. Fitted whatever the fit window,
  unless its weight is 0.
"""

from __future__ import annotations

import calendar as cal_mod
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from ..config.schema import Config
from ..errors import ConfigError

if TYPE_CHECKING:
    from ..model import Replication

GROUPS = ("exports", "level", "stoppages", "downtimes", "approvals", "prices")


@dataclass(frozen=True)
class Target:
    """One observed figure: its key, kind (`group`), value, and the day (since start) by
    which a simulation must have run to compute it."""

    key: str
    group: str
    observed: float
    until_day: float


def _month_end_day(cfg: Config, month: str) -> float:
    y, m = map(int, month.split("-"))
    end = date(y, m, cal_mod.monthrange(y, m)[1])
    return float((end - cfg.calendar.start).days + 1)


def _controls_day(cfg: Config) -> float:
    starts = [e for e in cfg.policy if e.type == "controls_start"]
    if not starts:
        raise ConfigError("<config>", "policy", "no controls_start event: nothing to calibrate "
                          "the shock against")
    return float((starts[0].date - cfg.calendar.start).days)


def _months_before_controls(cfg: Config) -> list[str]:
    """The whole calendar months of the run before the month the controls start."""
    start = cfg.calendar.start
    first = start if start.day == 1 else date(start.year + start.month // 12,
                                              start.month % 12 + 1, 1)
    onset = start.toordinal() + int(_controls_day(cfg))
    out = []
    y, m = first.year, first.month
    while date(y, m, cal_mod.monthrange(y, m)[1]).toordinal() < onset:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def fit_targets(cfg: Config, source: str = "<config>",
                months: list[str] | None = None) -> list[Target]:
    """The targets within the fit window (`months`, else `calibration.fit_months`, else
    `observed.fit_months`); ConfigError for a config without observations or controls, an
    empty window, or a fit month nothing was observed in."""
    obs = cfg.observed
    if obs is None:
        raise ConfigError(source, "observed", "calibration needs observations (e.g. observed "
                          "= \"observed/2025.toml\")")
    window = months if months is not None else (
        cfg.calibration.fit_months if cfg.calibration and cfg.calibration.fit_months
        is not None else obs.fit_months)
    where = "calibration.fit_months" if months is None and cfg.calibration and \
        cfg.calibration.fit_months is not None else "observed.fit_months"
    if not window:
        raise ConfigError(source, where, "the fit window is empty: name the months to fit")
    try:
        _controls_day(cfg)
    except ConfigError as exc:
        raise ConfigError(source, exc.path, exc.message) from None
    out: list[Target] = []
    for m in sorted(window):
        found = False
        for s in obs.exports.series if obs.exports else []:
            if m in s.months:
                days = cal_mod.monthrange(*map(int, m.split("-")))[1]
                out.append(Target(f"exports {s.name} {m}", "exports",
                                  s.months[m] / days / s.reference_t_per_day,
                                  _month_end_day(cfg, m)))
                found = True
        dated = [x for x in (*obs.stoppages, *obs.approvals)
                 if x.date.strftime("%Y-%m") == m]
        if not found and not dated:
            raise ConfigError(source, where, f"nothing was observed in {m} (no export figure, "
                              "stoppage or approval share): it cannot be fitted")
    start = cfg.calendar.start
    for st in obs.stoppages:
        if st.date.strftime("%Y-%m") in window:
            out.append(Target(f"stoppage {st.firm}", "stoppages",
                              float((st.date - start).days), float((st.date - start).days + 1)))
    weights = cfg.calibration.weights if cfg.calibration else {}
    if weights.get("downtimes", 1.0) > 0:
        for i, dt in enumerate(obs.downtimes):
            if (dt.until - start).days + 1 > cfg.horizon_days:
                raise ConfigError(source, f"observed.downtimes.{i}.until", f"{dt.until} is "
                                  f"past the run's last day (horizon_days = "
                                  f"{cfg.horizon_days:g}): its downtime cannot be counted")
            out.append(Target(f"downtime {dt.firm}", "downtimes", dt.days.mid,
                              float((dt.until - start).days + 1)))
    if weights.get("prices", 1.0) > 0 and cfg.prices is not None:
        for pr in obs.prices:
            out.append(Target(f"price {pr.material}", "prices", pr.ratio.mid,
                              float((pr.until - start).days + 1)))
    before = _months_before_controls(cfg)
    if weights.get("level", 1.0) > 0 and before and obs.exports is not None:
        for s in obs.exports.series:
            out.append(Target(f"level {s.name}", "level", 1.0,
                              _month_end_day(cfg, before[-1])))
    for ap in obs.approvals:
        if ap.date.strftime("%Y-%m") in window:
            out.append(Target(f"approved {ap.destination} {ap.date}", "approvals", ap.share,
                              float((ap.date - start).days + 1)))
    keys = [t.key for t in out]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:  # one firm standing for two reported cases: keep the first
        seen: set[str] = set()
        out = [t for t in out if not (t.key in seen or seen.add(t.key))]  # type: ignore[func-returns-value]
    return out


def horizon_for(targets: list[Target], stoppage_margin: float = 30.0) -> float:
    """Days a simulation must run to compute every target: to the last target's day, and a
    month beyond a reported stoppage (so a late one is seen as late, not as none)."""
    return max(t.until_day + (stoppage_margin if t.group == "stoppages" else 0.0)
               for t in targets)


def statistics(rep: Replication, cfg: Config, targets: list[Target]) -> dict[str, float]:
    """The targets' figures in one replication (of `cfg`, run at least to
    `horizon_for(targets)`), as a flat dict of floats."""
    obs = cfg.observed
    assert obs is not None  # fit_targets refuses configs without observations
    out: dict[str, float] = {}
    groups = {t.group for t in targets}
    if "exports" in groups and obs.exports is not None:
        ex = rep.columns("exports")
        month, dest, kg = ex["month"], ex["destination"], np.asarray(ex["kg"], dtype=float)
        for s in obs.exports.series:
            mask = np.ones(len(kg), bool) if s.destinations is None else np.isin(
                dest, s.destinations)
            for t in targets:
                prefix = f"exports {s.name} "
                if t.key.startswith(prefix):
                    m = t.key[len(prefix):]
                    days = cal_mod.monthrange(*map(int, m.split("-")))[1]
                    total = float(kg[mask & (month == m)].sum())
                    out[t.key] = total / days / (1000.0 * s.reference_t_per_day)
    if "level" in groups and obs.exports is not None:
        ex = rep.columns("exports")
        month, dest, kg = ex["month"], ex["destination"], np.asarray(ex["kg"], dtype=float)
        before = _months_before_controls(cfg)
        days = sum(cal_mod.monthrange(*map(int, m.split("-")))[1] for m in before)
        for s in obs.exports.series:
            mask = np.isin(month, before)
            if s.destinations is not None:
                mask &= np.isin(dest, s.destinations)
            out[f"level {s.name}"] = float(kg[mask].sum()) / days / (
                1000.0 * s.reference_t_per_day)
    if "stoppages" in groups:
        f = rep.columns("firms")
        onset = _controls_day(cfg)
        tts = dict(zip(f["firm"].tolist(), np.asarray(f["tts_days"], dtype=float).tolist(),
                       strict=True))
        for t in targets:
            if t.group == "stoppages":
                firm = t.key[len("stoppage "):]
                d = tts.get(firm, np.nan)
                out[t.key] = cfg.horizon_days if d != d else onset + d
    if "downtimes" in groups:
        f = rep.columns("firms")
        down = dict(zip(f["firm"].tolist(),
                        np.asarray(f["downtime_window_days"], dtype=float).tolist(),
                        strict=True))
        for t in targets:
            if t.group == "downtimes":
                out[t.key] = down[t.key[len("downtime "):]]
    if "prices" in groups:
        ts = rep.columns("timeseries")
        day, value = np.asarray(ts["day"], dtype=float), np.asarray(ts["value"], dtype=float)
        index = np.asarray(ts["series"]) == "price_index"
        material = np.asarray(ts["material"])
        start = cfg.calendar.start
        for pr in obs.prices:
            key = f"price {pr.material}"
            if key in {t.key for t in targets}:
                lo = float((pr.since - start).days) if pr.since else 0.0
                sel = index & (material == pr.material) & (day >= lo) & (
                    day < float((pr.until - start).days + 1))
                out[key] = float(value[sel].max()) if sel.any() else 1.0
    if "approvals" in groups:
        a = rep.columns("applications")
        first_wave = _controls_day(cfg) + obs.first_wave_days
        sub = np.asarray(a["submitted_day"], dtype=float)
        dec = np.asarray(a["decided_day"], dtype=float)
        approved = a["outcome"] == "approved"
        for t in targets:
            if t.group == "approvals":
                _, dest_name, day = t.key.split(" ")
                cut = t.until_day
                files = (a["destination"] == dest_name) & (sub < min(cut, first_wave))
                n = int(files.sum())
                ok = int((files & approved & (dec < cut)).sum())
                out[t.key] = ok / n if n else 0.0
    return out
