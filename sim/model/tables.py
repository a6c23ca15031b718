"""Turn one finished replication into tables, built once at the end.

`build_tables` reads the World's records into numpy columns at once; each table becomes an
Arrow table on first use (what the results store writes, without pandas), and a pandas
DataFrame only when one is asked for. A caller that only needs a few columns
(`Replication.columns`) needs neither.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from itertools import islice, repeat
from typing import TYPE_CHECKING, Any

import numpy as np

from .records import (
    APPROVED,
    AWAITING,
    CANCELLED,
    OUTCOME_NAMES,
    RECEIVED,
    REFUSED,
    TRANSIT,
)

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from .world import World

TABLES = ("firms", "applications", "exports", "timeseries", "authority", "policy", "arcs")


class Coded:
    """A string column as integer codes into a list of labels."""

    __slots__ = ("codes", "labels")

    def __init__(self, codes: np.ndarray, labels: list[str]) -> None:
        self.codes = codes
        self.labels = labels

    def to_numpy(self) -> np.ndarray:
        return np.array(self.labels, dtype=object)[self.codes]

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The labels of the rows selected by `rows` (a mask or indices), as objects."""
        return np.array(self.labels, dtype=object)[self.codes[rows]]

    def select(self, rows: np.ndarray) -> Coded:
        """The rows selected by `rows` (a mask or indices), still coded."""
        return Coded(self.codes[rows], self.labels)

    def to_arrow(self) -> pa.Array:
        """The labels of every row as an Arrow `large_string` array."""
        import pyarrow as pa

        encoded = [str(x).encode() for x in self.labels]
        lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
        codes = self.codes
        n = len(codes)
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(lengths[codes], out=offsets[1:])
        if len(encoded) == 1:
            data = encoded[0] * n
        else:  # each label's bytes written at once into the rows that hold it
            out = np.empty(offsets[-1], np.uint8)
            for j, label in enumerate(encoded):
                rows = np.flatnonzero(codes == j)
                if len(rows) and label:
                    at = offsets[rows][:, None] + np.arange(len(label))
                    out[at] = np.frombuffer(label, np.uint8)
            data = out
        return pa.Array.from_buffers(pa.large_string(), n,
                                     [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _code(values: list[Any], label: Callable[[Any], str] = str, n: int | None = None) -> Coded:
    """Factorise the first `n` (default all) of a list of hashable values (labels in
    order of first appearance)."""
    n = len(values) if n is None else n
    if n and values[:n].count(values[0]) == n:  # one value: nothing to look up
        return Coded(np.zeros(n, np.int64), [label(values[0])])
    uniques = list(dict.fromkeys(islice(values, n)))
    index = {v: k for k, v in enumerate(uniques)}
    codes = np.fromiter(map(index.__getitem__, values), np.int64, n)
    return Coded(codes, [label(u) for u in uniques])


def arrow_array(v: Any) -> pa.Array:
    """A column as an Arrow array, built from its buffers: floats (NaN stored as null, as
    pandas would), int64, bool, datetime64[ns], and strings (`Coded`, or a list).

    `pyarrow.array` is not used: it imports pandas to see whether it was given pandas
    objects, which would cost a one-replication run a third of a second."""
    import pyarrow as pa

    if isinstance(v, list):
        v = _code(v)
    if isinstance(v, Coded):
        return v.to_arrow()
    a = np.ascontiguousarray(v)
    n = len(a)
    if a.dtype.kind == "f":
        a = a.astype(np.float64, copy=False)
        nan = np.isnan(a)
        validity = None
        if nan.any():
            validity = pa.py_buffer(np.packbits(~nan, bitorder="little"))
        return pa.Array.from_buffers(pa.float64(), n, [validity, pa.py_buffer(a)],
                                     null_count=int(nan.sum()))
    if a.dtype.kind in "iu":
        return pa.Array.from_buffers(pa.int64(), n,
                                     [None, pa.py_buffer(a.astype(np.int64, copy=False))])
    if a.dtype.kind == "b":
        return pa.Array.from_buffers(pa.bool_(), n,
                                     [None, pa.py_buffer(np.packbits(a, bitorder="little"))])
    if a.dtype.kind == "M":
        ns = a.astype("datetime64[ns]").view(np.int64)
        return pa.Array.from_buffers(pa.timestamp("ns"), n, [None, pa.py_buffer(ns)])
    raise TypeError(f"no Arrow column for dtype {a.dtype}")


def _arrow_table(cols: dict[str, Any]) -> pa.Table:
    """Columns (numpy arrays, `Coded`, or lists of str) as an Arrow table."""
    import pyarrow as pa

    return pa.Table.from_arrays([arrow_array(v) for v in cols.values()], names=list(cols))


class Replication:
    """The tables of one replication, built on first use.

    firms: one row per firm (units, USD, days); applications: one row per licence
    application submitted on or after `runs.warmup_days`; exports: kg leaving the
    controlled exporter by month, destination and material; timeseries: sampled state
    (long format); authority: one row of queue statistics; policy: the realised timeline.
    Each is a pandas DataFrame as an attribute (`rep.firms`), an Arrow table from
    `arrow(name)`, and numpy columns from `columns(name)`.
    """

    def __init__(self, firms: pd.DataFrame | None = None,
                 applications: pd.DataFrame | None = None,
                 exports: pd.DataFrame | None = None, timeseries: pd.DataFrame | None = None,
                 authority: pd.DataFrame | None = None, policy: pd.DataFrame | None = None,
                 events: int = 0, seed: tuple[int, ...] = (),
                 arcs: pd.DataFrame | None = None) -> None:
        given = (firms, applications, exports, timeseries, authority, policy, arcs)
        self._frames: dict[str, pd.DataFrame] = {
            k: v for k, v in zip(TABLES, given, strict=True) if v is not None}
        self._tables: dict[str, pa.Table] = {}
        self._raw: dict[str, dict[str, Any]] = {}
        self.events = events
        self.seed = seed
        self.parameters: dict[str, Any] = {}  # the uncertain parameters' drawn values

    @classmethod
    def from_columns(cls, raw: dict[str, dict[str, Any]], events: int,
                     seed: tuple[int, ...] = ()) -> Replication:
        """A Replication whose tables are built from `raw` columns on first use."""
        rep = cls(events=events, seed=seed)
        rep._raw = raw
        return rep

    def columns(self, name: str) -> dict[str, np.ndarray]:
        """Table `name`'s columns as numpy arrays (strings as object arrays)."""
        raw = self._raw.get(name)
        if raw is not None:
            return {k: v.to_numpy() if isinstance(v, Coded) else np.asarray(v)
                    for k, v in raw.items()}
        df = self.frame(name)
        return {c: df[c].to_numpy() for c in df.columns}

    def arrow(self, name: str) -> pa.Table:
        """Table `name` as an Arrow table (what the results store writes)."""
        table = self._tables.get(name)
        if table is None:
            if name in self._raw:
                table = _arrow_table(self._raw[name])
            else:
                import pyarrow as pa

                table = pa.Table.from_pandas(self._frames[name], preserve_index=False)
            self._tables[name] = table
        return table

    def frame(self, name: str) -> pd.DataFrame:
        """Table `name` as a pandas DataFrame."""
        df = self._frames.get(name)
        if df is None:
            df = self._frames[name] = self.arrow(name).to_pandas()
        return df

    @property
    def firms(self) -> pd.DataFrame:
        return self.frame("firms")

    @property
    def applications(self) -> pd.DataFrame:
        return self.frame("applications")

    @property
    def exports(self) -> pd.DataFrame:
        return self.frame("exports")

    @property
    def timeseries(self) -> pd.DataFrame:
        return self.frame("timeseries")

    @property
    def authority(self) -> pd.DataFrame:
        return self.frame("authority")

    @property
    def policy(self) -> pd.DataFrame:
        return self.frame("policy")

    @property
    def arcs(self) -> pd.DataFrame:
        return self.frame("arcs")

    def __repr__(self) -> str:
        return f"Replication(seed={self.seed}, events={self.events})"


# --------------------------------------------------------------------------- firms


def _firms_columns(w: World) -> dict[str, Any]:
    firms = w.firms
    start, end = w.window  # the measured window (the whole horizon by default)
    prod = [f.production for f in firms]
    out = [p.outages for p in prod]
    planned = np.array([p.plan * (end - start) for p in prod], dtype=float)
    produced = np.array([p.measured[1] - p.measured[0] for p in prod], dtype=float)
    value = np.array([f.cfg.unit_value for f in firms], dtype=float)
    # production is summed run by run in floating point: a gap within 1e-9 of the plan is
    # rounding, not a shortfall (it would count in P(shortfall > 0))
    shortfall = np.array([p - q if p - q > 1e-9 * p else 0.0
                          for p, q in zip(planned, produced, strict=True)], dtype=float)
    lost = shortfall * value
    for i, p in enumerate(prod):  # rationing: the planned value less the value each line made
        if p.rationing is not None:
            gap = planned[i] * value[i] - (p.measured_value[1] - p.measured_value[0])
            lost[i] = gap if gap > 1e-9 * planned[i] * value[i] else 0.0
    first = np.array([o.first_stockout for o in out], dtype=float)
    makers = w.makers
    fill = np.array([makers[f.name].shipped / makers[f.name].goods.ordered
                     if f.name in makers and makers[f.name].goods.ordered > 0 else math.nan
                     for f in firms], dtype=float)
    return {
        "firm": [f.name for f in firms],
        "sector": [f.sector for f in firms],
        "tier": np.array([w.tiers[f.name] for f in firms], dtype=np.int64),
        "planned_units": planned,
        "produced_units": produced,
        "shortfall_units": shortfall,
        "shortfall_frac": shortfall / planned,
        "planned_value": planned * value,
        "value_lost": lost,
        "tts_days": first - w.shock_onset,
        "ttr_days": np.array([o.recovered_at for o in out], dtype=float) - first,
        "downtime_days": np.array([o.downtime for o in out], dtype=float),
        "stopped_days": np.array([o.stopped_days for o in out], dtype=float),
        # within the firm's observed window (observed.downtimes); NaN for the others
        "downtime_window_days": np.array([o.counted_days for o in out], dtype=float),
        "stockouts": np.array([o.stockouts for o in out], dtype=np.int64),
        "fill_rate": fill,
        **_resourced(firms),
        **_cost_columns(w, shortfall, lost),
        **(_china_share(w) if any(p.origin is not None for p in prod) else {}),
    }


def _china_share(w: World) -> dict[str, np.ndarray]:
    """Per firm whose Chinese-origin content is tracked (`sim/model/origin.py`), the
    Chinese-origin share of the value of what left it over the run (dispatched, or sold
    outside the model); NaN for the others and for a firm that sent nothing out."""
    out = []
    for f in w.firms:
        m, origin = w.makers.get(f.name), f.production.origin
        value = m.price * (m.shipped + m.sold) if m is not None else 0.0
        out.append((origin.shipped + origin.sold) / value
                   if origin is not None and value > 0.0 else math.nan)
    return {"china_value_share": np.array(out, dtype=float)}


def _cost_columns(w: World, shortfall: np.ndarray, lost: np.ndarray) -> dict[str, np.ndarray]:
    """With `[costs]`, each firm's costs; with `[prices]`, its `cost_premium` (paid over
    the base prices) and a `total_cost` that includes it (without `[costs]`: value lost
    plus premiums)."""
    cols = _costs(w, shortfall, lost) if w.cfg.costs is not None else {}
    if w.prices is not None:
        premium = np.array(w.prices.window(), dtype=float)
        cols["cost_premium"] = premium
        cols["total_cost"] = cols.get("total_cost", lost) + premium
    return cols


def _costs(w: World, shortfall: np.ndarray, lost: np.ndarray) -> dict[str, np.ndarray]:
    """Each firm's costs over the measured window (USD; `sim/config/costs.py` says how)."""
    cfg = w.cfg
    costs = cfg.costs
    assert costs is not None
    rates = costs.holding_usd_per_kg_day
    per_unit = costs.shortfall_usd_per_unit
    reserve = cfg.stockpile
    users = cfg.reserve_users()
    held, paid, short, kept = [], [], [], []
    for i, f in enumerate(w.firms):
        book = f.production.book
        assert book is not None
        kg_days, premium = book.window()
        held.append(sum(rates.get(m, 0.0) * v for m, v in kg_days.items()))
        paid.append(premium)
        short.append(shortfall[i] * per_unit[f.name] if f.name in per_unit else lost[i])
        share = 0.0
        if reserve is not None and f.sector in reserve.sectors:
            use = f.production.use
            share = sum(c * reserve.stock_kg[m] * use[m] / users[m]
                        for m, c in costs.stockpile_usd_per_kg.items() if m in use)
        kept.append(share)
    cols = {"holding_cost": np.array(held, dtype=float),
            "premium_cost": np.array(paid, dtype=float),
            "shortfall_cost": np.array(short, dtype=float),
            "stockpile_cost": np.array(kept, dtype=float)}
    cols["total_cost"] = sum(cols.values())  # type: ignore[assignment]
    return cols


def _resourced(firms: list[Any]) -> dict[str, Any]:
    """Who re-sourced and when: the day of each firm's first decision to switch (NaN if
    it never did or may not) and the suppliers it moved orders to ('+'-joined)."""
    rs = [f.ordering.resourcing for f in firms]
    return {
        "resourced_at_days": np.array([r.at if r is not None else math.nan for r in rs],
                                      dtype=float),
        "resourced_to": ["+".join(r.to) if r is not None else "" for r in rs],
    }


# --------------------------------------------------------------------------- arcs


def _bullwhip(placed: list[float], seen: list[float]) -> float:
    """Variance of the orders placed per review over the variance of the demand seen per
    review (NaN with fewer than three reviews or no variation in demand): the customer's
    for the arc's material, whichever sources it split them between."""
    if len(placed) < 3 or len(seen) != len(placed):
        return math.nan
    v = float(np.var(seen, ddof=1))
    return float(np.var(placed, ddof=1)) / v if v > 0 else math.nan


def _placed(firm: Any, material: str) -> list[float]:
    """What `firm` ordered of `material` at each review, over all its sources (the orders
    placed, whoever they went to: an arc's own series is that times its share)."""
    series = [v for (_, m), v in firm.ordering.placed.items() if m == material]
    return [float(x) for x in np.sum(series, axis=0)] if series else []


def _arcs_columns(w: World) -> dict[str, Any]:
    """One row per arc that carried an order: supplier (a supplier, a firm, or the
    stockpile), customer firm, material; quantities by state at the end (kg or pieces),
    fill rate, bullwhip ratio, and for firm suppliers the ripple lag (days from the
    supplier's first stock-out to the customer's)."""
    units = {m: c.unit for m, c in w.cfg.materials.items()}
    by_name = {f.name: f for f in w.firms}
    rows: dict[tuple[str, str, str], list[float]] = {}
    for f in w.firms:
        for sh in f.ledger.shipments:
            if sh.supplier == "initial":  # the pipeline at t = 0 was never ordered
                continue
            col = rows.setdefault((sh.supplier, f.name, sh.material), [0.0] * 4)
            col[sh.state] += sh.kg
    keys = list(rows)
    col = np.array([rows[k] for k in keys], dtype=float).reshape(len(keys), 4)
    ordered = col.sum(axis=1)
    kinds = []
    bullwhip, lag, first, premium = [], [], [], []
    sups = w.cfg.suppliers
    for (s, c, m), col_ in zip(keys, col, strict=True):
        route = sups[s].route if s in sups else None
        kinds.append("firm" if s in by_name else "stockpile" if s == "stockpile"
                     else "route" if route is not None else sups[s].kind)
        premium.append(col_[RECEIVED] * route.premium_per_kg if route is not None else 0.0)
        cust = by_name[c]
        bullwhip.append(_bullwhip(_placed(cust, m), cust.ordering.seen[m]))
        first.append(_first_order(cust.ordering, s, m))
        lag.append(cust.production.outages.first_stockout
                   - by_name[s].production.outages.first_stockout
                   if s in by_name else math.nan)
    return {
        "supplier": [k[0] for k in keys],
        "supplier_kind": kinds,
        "customer": [k[1] for k in keys],
        "material": [k[2] for k in keys],
        "unit": [units[k[2]] for k in keys],
        "ordered": ordered,
        "delivered": col[:, RECEIVED],
        "in_transit": col[:, TRANSIT],
        "backordered": col[:, AWAITING],
        "cancelled": col[:, CANCELLED],
        "fill_rate": np.divide(col[:, RECEIVED], ordered, out=np.full(len(keys), np.nan),
                               where=ordered > 0),
        "bullwhip": np.array(bullwhip, dtype=float),
        "ripple_lag_days": np.array(lag, dtype=float),
        "first_order_days": np.array(first, dtype=float),
        "premium_usd": np.array(premium, dtype=float),
    }


def _first_order(ordering: Any, supplier: str, material: str) -> float:
    """Day of the first order review that ordered `material` from `supplier` (NaN: none
    did, e.g. an arc only refusals were redirected to)."""
    series = ordering.placed.get((supplier, material), ())
    for k, kg in enumerate(series):
        if kg > 0.0:
            return k * ordering.cfg.review_period_days
    return math.nan


# --------------------------------------------------------------------------- applications


def _applications_columns(w: World) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The applications table's columns (rows submitted on or after the warm-up), and
    the exports of background files approved (any time), as numpy arrays."""
    t = w.authority.apps
    n = t.n
    f64 = np.float64

    def num(name: str, dtype: Any = f64, often_default: bool = False) -> np.ndarray:
        if often_default and t.is_default(name):
            return np.full(n, t.COLUMNS[name], dtype=dtype)
        return t.numeric(name).astype(dtype, copy=False)

    submitted = num("submitted")
    keep = submitted >= w.cfg.runs.warmup_days
    every = bool(keep.all())

    def sel(a: np.ndarray) -> np.ndarray:
        return a if every else a[keep]

    def coded(name: str, label: Callable[[Any], str] = str) -> Coded:
        if t.is_default(name):
            return Coded(np.zeros(len(submitted) if every else int(keep.sum()), np.int64),
                         [label(t.COLUMNS[name])])
        c = _code(getattr(t, name), label, n)
        return c if every else Coded(c.codes[keep], c.labels)

    background = (np.ones(n, bool) if t.is_default("firm")
                  else np.fromiter(map(operator.is_, t.firm, repeat(None)), bool, n))
    outcome = num("outcome", np.int64)
    decided = num("decided")
    destination = _code(t.destination, n=n)
    material = _code(t.material, n=n)
    # Other buyers' approved files leave the exporter on the day of the decision.
    shipless = (np.ones(n, bool) if t.is_default("shipment")
                else np.fromiter(map(operator.is_, t.shipment, repeat(None)), bool, n))
    exp = shipless & (outcome == APPROVED)
    kg = num("kg")
    exports = {"day": decided[exp], "destination": destination.select(exp),
               "material": material.select(exp), "kg": kg[exp]}

    sector = Coded(np.zeros(n, np.int64), ["none"]) if t.is_default("sector") \
        else _code(t.sector, n=n)
    labels = sector.labels + [""]
    sector = Coded(np.where(background, len(labels) - 1, sector.codes), labels)
    origin = Coded(background.astype(np.int64), ["modelled", "background"])
    accepted = sel(num("accepted"))
    started = sel(num("review_start"))
    decided = sel(decided)
    # The statutory clock runs from acceptance to decision, or to the end of the run for
    # files still open (those have exceeded the limit if it has already passed).
    cal = w.calendar
    stop = np.where(np.isnan(decided), w.horizon, decided)
    elapsed = cal.working_time_array(stop) - cal.working_time_array(accepted)
    over = np.nan_to_num(elapsed, nan=0.0) > w.cfg.authority.statutory_limit_working_days
    cols: dict[str, Any] = {
        "application_id": sel(num("id", np.int64)),
        "origin": origin if every else Coded(origin.codes[keep], origin.labels),
        "firm": coded("firm", lambda f: "" if f is None else f.name),
        "sector": sector if every else Coded(sector.codes[keep], sector.labels),
        "end_use": coded("end_use"),
        "material": material if every else Coded(material.codes[keep], material.labels),
        "destination": destination if every else Coded(destination.codes[keep],
                                                       destination.labels),
        "quantity_kg": sel(kg),
        "submitted_day": sel(submitted),
        "accepted_day": accepted,
        "review_start_day": started,
        "decided_day": decided,
        "outcome": Coded(sel(outcome), list(OUTCOME_NAMES)),
        "attempt": sel(num("attempt", np.int64, True)),
        "general_licence": sel(num("general", bool, True)),
        "information_requests": sel(num("rfi_rounds", np.int64, True)),
        "queue_wait_days": np.where(np.isnan(started), np.nan, sel(num("wait"))),
        "review_days": sel(num("review")),
        "over_statutory_limit": over.reshape(len(started)),
    }
    return cols, exports


# --------------------------------------------------------------------------- exports


def _month_labels(start: np.datetime64, days: np.ndarray) -> np.ndarray:
    dates = start + np.floor(days).astype("timedelta64[D]")
    return dates.astype("datetime64[M]")


def _exports_columns(w: World, background: dict[str, np.ndarray]) -> dict[str, Any]:
    """kg dispatched by the controlled exporter per month, destination and material, with
    a row (0 kg) for every combination in every month of the horizon."""
    ex = w.exports
    horizon = w.horizon
    start = np.datetime64(w.cfg.calendar.start, "D")
    dests, mats = sorted(w.cfg.destinations), sorted(w.cfg.materials)

    def index(names: list[str], firms: list[str], other: Coded) -> np.ndarray:
        """Each row's position in `names`: the firms' rows, then the other buyers'."""
        at = {x: k for k, x in enumerate(names)}
        ours = _code(firms) if firms else Coded(np.zeros(0, np.int64), [])
        return np.concatenate([np.array([at[x] for x in c.labels], np.int64)[c.codes]
                               if len(c.codes) else np.zeros(0, np.int64)
                               for c in (ours, other)])

    day = np.concatenate([np.asarray(ex.day, dtype=float), background["day"]])
    d_all = index(dests, ex.destination, background["destination"])
    x_all = index(mats, ex.material, background["material"])
    kg_all = np.concatenate([np.asarray(ex.kg, dtype=float), background["kg"]])
    months = np.unique(_month_labels(start, np.arange(0.0, horizon)))
    keep = (day >= 0) & (day < horizon)
    m = np.searchsorted(months, _month_labels(start, day[keep]))
    d, x = d_all[keep], x_all[keep]
    nd, nx = len(dests), len(mats)
    cell = (m * nd + d) * nx + x
    kg = np.bincount(cell, weights=kg_all[keep], minlength=len(months) * nd * nx)
    return {
        "month": Coded(np.repeat(np.arange(len(months)), nd * nx), months.astype(str).tolist()),
        "destination": Coded(np.tile(np.repeat(np.arange(nd), nx), len(months)), dests),
        "material": Coded(np.tile(np.arange(nx), len(months) * nd), mats),
        "kg": kg.astype(float),
    }


# --------------------------------------------------------------------------- timeseries


def _timeseries_columns(w: World) -> dict[str, Any]:
    day, series, firm, material, value = w.series
    d = np.asarray(day, dtype=float)
    start = np.datetime64(w.cfg.calendar.start, "D")
    return {
        "day": d,
        "date": (start + np.floor(d).astype("timedelta64[D]")).astype("datetime64[ns]"),
        "series": _code(series),
        "firm": _code(firm),
        "material": _code(material),
        "value": np.asarray(value, dtype=float),
    }


# --------------------------------------------------------------------------- authority


def _authority_columns(w: World, apps: dict[str, Any]) -> dict[str, np.ndarray]:
    a = w.authority
    warm = min(w.cfg.runs.warmup_days, w.horizon)
    span = w.horizon - warm
    o0, q0, b0, c0 = w.warm_areas
    n = len(apps["submitted_day"])
    outcome = apps["outcome"].codes
    decided = (outcome == APPROVED) | (outcome == REFUSED)  # not pending, not withdrawn
    waits = apps["queue_wait_days"]
    waited = waits[~np.isnan(waits)]
    lead = (apps["decided_day"] - apps["submitted_day"])[decided]
    nan = math.nan
    row = {
        "applications": n,
        "arrival_rate_per_day": n / span if span > 0 else nan,
        "utilisation": (a.area_busy - b0) / (a.area_capacity - c0)
        if a.area_capacity > c0 else nan,
        "backlog_mean": (a.area_open - o0) / span if span > 0 else nan,
        "backlog_max": float(a.open_max),
        "backlog_end": float(a.open),
        "queue_mean": (a.area_queue - q0) / span if span > 0 else nan,
        "queue_wait_mean": float(waited.mean()) if len(waited) else nan,
        "lead_time_mean": float(lead.mean()) if len(lead) else nan,
        "approval_share": float((outcome == APPROVED).mean()) if n else nan,
        "refusal_share": float((outcome == REFUSED).mean())
        if n else nan,
        "over_limit_share": float(apps["over_statutory_limit"].mean()) if n else nan,
        **_responses(w),
    }
    counts = {"applications", "background_refiled", "background_elsewhere",
              "background_given_up", "background_filed_ahead", "covered_shipments"}
    return {k: np.array([v], dtype=np.int64 if k in counts else float)
            for k, v in row.items()}


def _responses(w: World) -> dict[str, float]:
    """What other buyers did with refused or withdrawn files (those filed on or after the
    warm-up), how many files they filed ahead of need and by how many days on average, and
    the shipments that licences for earlier ones covered (all run); zeros
    where the mechanism is off."""
    d = w.deferred
    if d is not None:
        row = d.counts(w.cfg.runs.warmup_days)
    else:
        row = {f"background_{n}{u}": 0.0 for n in ("refiled", "elsewhere", "given_up")
               for u in ("", "_kg")}
    o = w.ordering_ahead
    row["background_filed_ahead"] = float(o.filed_ahead) if o is not None else 0.0
    row["background_days_ahead_mean"] = (o.days_ahead / o.filed_ahead if o is not None
                                         and o.filed_ahead else 0.0)
    c = w.licensing.cover
    row["covered_shipments"] = float(c.shipments) if c is not None else 0.0
    row["covered_kg"] = c.kg if c is not None else 0.0
    return row


def _policy_columns(log: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "index": np.array([r["index"] for r in log], dtype=np.int64),
        "type": [r["type"] for r in log],
        "label": [r["label"] for r in log],
        "day": np.array([r["day"] for r in log], dtype=float),
        "happened": np.array([r["happened"] for r in log], dtype=bool),
    }


def build_tables(w: World) -> Replication:
    """All tables of a finished World (as numpy columns; Arrow and pandas on first use)."""
    apps, bg_exports = _applications_columns(w)
    raw = {
        "firms": _firms_columns(w),
        "applications": apps,
        "exports": _exports_columns(w, bg_exports),
        "timeseries": _timeseries_columns(w),
        "authority": _authority_columns(w, apps),
        "policy": _policy_columns(w.policy.log),
        "arcs": _arcs_columns(w),
    }
    return Replication.from_columns(raw, int(w.events_processed), tuple(w.seed.spawn_key))
