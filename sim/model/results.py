"""Turn one finished replication into pandas tables, built once at the end."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .records import OUTCOME_NAMES
from .world import World


@dataclass
class Replication:
    """The tables of one replication.

    firms: one row per firm (units, USD, days); applications: one row per licence
    application submitted on or after `runs.warmup_days`; exports: kg leaving the
    controlled exporter by month, destination and material; timeseries: sampled state
    (long format); authority: one row of queue statistics; policy: the realised timeline.
    """

    firms: pd.DataFrame
    applications: pd.DataFrame
    exports: pd.DataFrame
    timeseries: pd.DataFrame
    authority: pd.DataFrame
    policy: pd.DataFrame
    events: int
    seed: tuple[int, ...] = field(default=())


def _firms_table(w: World) -> pd.DataFrame:
    horizon = w.horizon
    rows = []
    for f in w.firms:
        planned = f.plan * horizon
        shortfall = max(0.0, planned - f.produced)
        value = f.cfg.unit_value
        tts = f.first_stockout - w.shock_onset
        rows.append({
            "firm": f.name,
            "sector": f.sector,
            "planned_units": planned,
            "produced_units": f.produced,
            "shortfall_units": shortfall,
            "shortfall_frac": shortfall / planned,
            "planned_value": planned * value,
            "value_lost": shortfall * value,
            "tts_days": tts,
            "ttr_days": f.recovered_at - f.first_stockout,
            "downtime_days": f.downtime,
            "stockouts": f.stockouts,
        })
    cols = ["firm", "sector", "planned_units", "produced_units", "shortfall_units",
            "shortfall_frac", "planned_value", "value_lost", "tts_days", "ttr_days",
            "downtime_days", "stockouts"]
    return pd.DataFrame(rows, columns=cols)


def _applications_table(w: World) -> pd.DataFrame:
    warm = w.cfg.runs.warmup_days
    apps = [a for a in w.authority.applications if a.submitted >= warm]
    cal = w.calendar
    limit = w.cfg.authority.statutory_limit_working_days
    n = len(apps)
    started = np.array([a.review_start for a in apps], dtype=float)
    accepted = np.array([a.accepted for a in apps], dtype=float)
    decided = np.array([a.decided for a in apps], dtype=float)
    # The statutory clock runs from acceptance to decision, or to the end of the run for
    # files still open (those have exceeded the limit if it has already passed).
    stop = np.where(np.isnan(decided), w.horizon, decided)
    elapsed = cal.working_time_array(stop) - cal.working_time_array(accepted)
    over = np.nan_to_num(elapsed, nan=0.0) > limit
    return pd.DataFrame({
        "application_id": np.array([a.id for a in apps], dtype=np.int64),
        "origin": ["background" if a.firm is None else "modelled" for a in apps],
        "firm": ["" if a.firm is None else a.firm.name for a in apps],
        "sector": ["" if a.firm is None else a.sector for a in apps],
        "end_use": [a.end_use for a in apps],
        "material": [a.material for a in apps],
        "destination": [a.destination for a in apps],
        "quantity_kg": np.array([a.quantity_kg for a in apps], dtype=float),
        "submitted_day": np.array([a.submitted for a in apps], dtype=float),
        "accepted_day": accepted,
        "review_start_day": started,
        "decided_day": decided,
        "outcome": [OUTCOME_NAMES[a.outcome] for a in apps],
        "attempt": np.array([a.attempt for a in apps], dtype=np.int64),
        "general_licence": np.array([a.general for a in apps], dtype=bool),
        "information_requests": np.array([a.rfi_rounds for a in apps], dtype=np.int64),
        "queue_wait_days": np.where(np.isnan(started), np.nan,
                                    np.array([a.wait for a in apps], dtype=float)),
        "review_days": np.array([a.review for a in apps], dtype=float),
        "over_statutory_limit": over.reshape(n),
    })


def _months(w: World, days: np.ndarray) -> np.ndarray:
    start = np.datetime64(w.cfg.calendar.start, "D")
    dates = start + np.floor(days).astype("timedelta64[D]")
    return dates.astype("datetime64[M]").astype(str)


def _exports_table(w: World) -> pd.DataFrame:
    """kg dispatched by the controlled exporter per month, destination and material, with
    a row (0 kg) for every combination in every month of the horizon."""
    day, dest, mat, kg = (np.asarray(x) for x in w.exports)
    months = pd.Index(np.unique(_months(w, np.arange(0.0, w.horizon))), name="month")
    grid = pd.MultiIndex.from_product(
        [months, sorted(w.cfg.destinations), sorted(w.cfg.materials)],
        names=["month", "destination", "material"],
    )
    keep = (day >= 0) & (day < w.horizon) if len(day) else np.zeros(0, dtype=bool)
    df = pd.DataFrame({
        "month": _months(w, day[keep].astype(float)) if len(day) else [],
        "destination": dest[keep] if len(day) else [],
        "material": mat[keep] if len(day) else [],
        "kg": kg[keep].astype(float) if len(day) else [],
    })
    sums = df.groupby(["month", "destination", "material"])["kg"].sum()
    return sums.reindex(grid, fill_value=0.0).reset_index()


def _timeseries_table(w: World) -> pd.DataFrame:
    day, series, firm, material, value = w.series
    d = np.asarray(day, dtype=float)
    start = np.datetime64(w.cfg.calendar.start, "D")
    return pd.DataFrame({
        "day": d,
        "date": (start + np.floor(d).astype("timedelta64[D]")).astype("datetime64[ns]"),
        "series": series,
        "firm": firm,
        "material": material,
        "value": np.asarray(value, dtype=float),
    })


def _authority_table(w: World, apps: pd.DataFrame) -> pd.DataFrame:
    a = w.authority
    warm = min(w.cfg.runs.warmup_days, w.horizon)
    span = w.horizon - warm
    o0, q0, b0, c0 = w._warm_areas
    decided = apps["outcome"] != "pending"
    waited = apps["queue_wait_days"].dropna()
    lead = (apps["decided_day"] - apps["submitted_day"])[decided]
    nan = math.nan
    return pd.DataFrame([{
        "applications": len(apps),
        "arrival_rate_per_day": len(apps) / span if span > 0 else nan,
        "utilisation": (a.area_busy - b0) / (a.area_capacity - c0)
        if a.area_capacity > c0 else nan,
        "backlog_mean": (a.area_open - o0) / span if span > 0 else nan,
        "backlog_max": float(a.open_max),
        "backlog_end": float(a.open),
        "queue_mean": (a.area_queue - q0) / span if span > 0 else nan,
        "queue_wait_mean": float(waited.mean()) if len(waited) else nan,
        "lead_time_mean": float(lead.mean()) if len(lead) else nan,
        "approval_share": float((apps["outcome"] == "approved").mean()) if len(apps) else nan,
        "refusal_share": float((apps["outcome"] == "refused").mean()) if len(apps) else nan,
        "over_limit_share": float(apps["over_statutory_limit"].mean()) if len(apps) else nan,
    }])


def build_tables(w: World) -> Replication:
    """All tables of a finished World."""
    apps = _applications_table(w)
    policy = pd.DataFrame(w.policy_log, columns=["index", "type", "label", "day", "happened"])
    return Replication(
        firms=_firms_table(w),
        applications=apps,
        exports=_exports_table(w),
        timeseries=_timeseries_table(w),
        authority=_authority_table(w, apps),
        policy=policy,
        events=int(w.events_processed),
        seed=tuple(w.seed.spawn_key),
    )
