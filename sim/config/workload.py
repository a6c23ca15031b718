"""Guards against configs that validate but cannot finish: an order-of-magnitude estimate of
the work one replication does, limits on it, and a warning for a licence queue that never
keeps up.

`estimate_work(cfg)` counts, per replication, the SimPy events (background applications,
the firms' order reviews, shipments and licence applications, the dispatch cycles of the
order books, information-request rounds, resubmissions, the time-series sampler), the
time-series rows and the calendar days of the working-day table. It is rough -- within a
small factor of what a run counts (the baseline: about 67,000 estimated, 39,000 counted) --
and meant only to tell a run of minutes from one that would never end.
`check_work(cfg, source)` refuses a config beyond the limits below (with uncertain
parameters: at the ends of their priors) with a ConfigError naming the field that dominates
the offending count, and logs a warning for policy events dated after the simulated window
and for a licence queue that is unstable for as long as controls are on (`check_warnings`).
"""

from __future__ import annotations

import copy
import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel

from ..errors import ConfigError
from .distributions import Constant, Empirical, Exponential, Gamma, Lognormal, Triangular, Uniform
from .levers import Lever, apply_levers
from .paths import get_path
from .policy import (
    ControlsLift,
    ControlsStart,
    ResumeApprovals,
    SetDecision,
    SetReviewers,
    SetReviewTime,
    SuspendApprovals,
)
from .priors import ChoicePrior, LognormalPrior, NormalPrior
from .scenario import Config
from .uncertain import Uncertainty, prepare
from .world import AuthorityConfig

__all__ = ["HIGH_QUANTILE", "MAX_EVENTS", "MAX_HORIZON_DAYS", "MAX_MEAN_DAYS", "MAX_ROWS",
           "QueueLoad", "WorkEstimate", "WorkTerm", "about", "calendar_days_per_working_day",
           "check_stability", "check_warnings", "check_work", "estimate_work",
           "late_policy_events", "prior_range", "queue_stability"]

log = logging.getLogger(__name__)

MAX_EVENTS = 5e7
"""SimPy events per replication: about a thousand times the baseline's (~40,000), minutes to
hours for one replication (0.1-0.4 million events/s), and an applications table of
gigabytes."""
MAX_ROWS = 5e6
"""Time-series rows per replication (the baseline writes ~1,300): a few hundred MB of
Python lists in the worker before a single table is written."""
MAX_HORIZON_DAYS = 1e6
"""Calendar days simulated (~2,700 years): 100,000 years is not a scenario, and the
working-day table holds a row per day."""
MAX_MEAN_DAYS = MAX_HORIZON_DAYS
"""Mean of any duration distribution (days or working days): a delay longer than the
longest horizon allowed never ends within a run."""

CALENDAR_MARGIN_DAYS = 3 * 366
"""Days the model's working-day table covers beyond the horizon (sim.model.calendar)."""

_QUANTITIES = frozenset({"quantity_kg"})  # distributions that are not durations
_NOT_SIMULATED = frozenset({"uncertain", "sweep", "calibration", "observed"})  # no durations
_DISTRIBUTIONS = (Exponential, Lognormal, Triangular, Uniform, Gamma, Constant, Empirical)
_YEAR = 366.0
_PRE, _APP, _BG = 1.0, 3.0, 2.0  # events: pre-acceptance; per firm application; per background one


@dataclass(frozen=True)
class WorkTerm:
    """One part of a replication's work: `count` of `what` per replication, costing `events`
    SimPy events; `path` is the config field that sets its rate."""

    what: str
    count: float
    events: float
    path: str


@dataclass(frozen=True)
class WorkEstimate:
    """Order-of-magnitude work of one replication of a config.

    `events`: SimPy events (the sum of `terms`); `rows`: time-series rows; `days`: calendar
    days in the working-day table (horizon + 3 years).
    """

    events: float
    rows: float
    days: float
    terms: tuple[WorkTerm, ...]

    def __str__(self) -> str:
        return (f"about {about(self.events)} events and {about(self.rows)} time-series rows "
                "per replication")


def about(x: float) -> str:
    """`x` to two significant figures, for messages: 39,193 -> "39,000"; 3.2e302 -> "3e+302"."""
    if not x < math.inf:
        return "more than 1e+308"
    if x >= 1e7:
        return f"{x:.0e}"
    if x >= 100:
        return f"{float(f'{x:.2g}'):,.0f}"
    return f"{x:.2g}"


def _ceil(x: float) -> float:
    """ceil that stays a float (and finite-safe) for counts too large for an int."""
    return float(math.ceil(x)) if x < 1e15 else x


def _mul(*xs: float) -> float:
    """A product of non-negative counts, where 0 times infinity is 0 (nothing to count)."""
    out = 1.0
    for x in xs:
        if x == 0.0:
            return 0.0
        out *= x
    return out


def _rounds(p: float, most: int) -> float:
    """Expected extra rounds sum(p^k, k = 1..most): a file sent back with chance p each time,
    at most `most` times."""
    if p <= 0.0 or most <= 0:
        return 0.0
    if p >= 1.0:
        return float(most)
    return p * (1.0 - p ** float(most)) / (1.0 - p)


def _parts(kg: float, cap: float | None) -> float:
    """Licence applications an order of `kg` is split into (a controlled supplier's
    `max_shipment_kg`)."""
    if kg <= 0.0:
        return 0.0
    return 1.0 if cap is None else max(1.0, _ceil(kg / cap - 1e-9))


def estimate_work(cfg: Config) -> WorkEstimate:
    """The order of magnitude of one replication's work (see the module docstring)."""
    h = cfg.horizon_days
    a = cfg.authority
    pre = _PRE if a.pre_acceptance is not None else 0.0
    terms: list[WorkTerm] = []
    made = cfg.made_materials()
    bg = a.background.rate_per_day * h
    terms.append(WorkTerm("background applications", bg, bg * (_BG + pre),
                          "authority.background.rate_per_day"))
    firm_apps = 0.0
    terms += _dispatch_cycles(cfg)
    for name, f in cfg.firms.items():
        o = f.ordering
        p = f"firms.{name}.ordering"
        reviews = h / o.review_period_days + 1.0
        terms.append(WorkTerm("order reviews", reviews, reviews,
                              f"{p}.review_period_days"))
        pipeline = _ceil(o.in_transit_days / o.review_period_days) * len(f.bom)
        terms.append(WorkTerm("shipments in transit at the start", pipeline, pipeline,
                              f"{p}.in_transit_days" if o.in_transit_days > h
                              else f"{p}.review_period_days"))
        first_cover = max(0.0, o.target_cover_days - f.initial_cover_days - o.in_transit_days)
        for m, per_unit in f.bom.items():
            use = f.units_per_day * per_unit  # kg/day
            for s_name, share in cfg.sources(f, made)[m].items():
                sup = cfg.suppliers.get(s_name)
                if share <= 0.0:
                    continue
                if sup is None:  # a firm that makes the part: a shipment per dispatch at most
                    ship = cfg.firms[s_name].shipping
                    n = min(reviews, h / ship.dispatch_every_days + 1.0)
                    terms.append(WorkTerm("shipments from firms that make parts", n,
                                          2.0 * n, f"{p}.review_period_days"))
                    continue
                if sup.kind == "free":
                    terms.append(WorkTerm("shipments from free suppliers", reviews,
                                          2.0 * reviews, f"{p}.review_period_days"))
                    continue
                cap = sup.max_shipment_kg
                each = _parts(use * o.review_period_days * share, cap)
                first = _parts(use * first_cover * share, cap)
                later = _mul(reviews - 1.0, each)
                count = later + first
                if first > later:
                    path = f"{p}.target_cover_days"
                elif cap is not None and each > 1.0 and each >= reviews:
                    # a sub-kilogram shipment limit is the odd one out; else the order size
                    path = f"suppliers.{s_name}.max_shipment_kg" if cap < 1.0 \
                        else f"firms.{name}.units_per_day"
                else:
                    path = f"{p}.review_period_days"
                firm_apps += count
                terms.append(WorkTerm("licence applications", count, count * (_APP + pre), path))
    apps = bg + firm_apps
    rfi = a.information_requests
    p_rfi = max([rfi.probability] + [ev.information_request_probability or 0.0
                                     for ev in cfg.policy if isinstance(ev, SetReviewTime)])
    rounds = _mul(apps, _rounds(p_rfi, rfi.max_rounds))
    if rounds > 0.0:
        terms.append(WorkTerm("information-request rounds", rounds, 2.0 * rounds,
                              "authority.information_requests.max_rounds"))
    refuse = [a.decision.refuse] + [r.refuse for r in a.decision.rules]
    for ev in cfg.policy:
        if isinstance(ev, SetDecision) and ev.rules:
            refuse += [r.refuse for r in ev.rules]
    again = _mul(firm_apps, _rounds(max(refuse), a.refusal.max_attempts - 1))
    if again > 0.0:
        terms.append(WorkTerm("resubmitted applications", again, again * (_APP + pre),
                              "authority.refusal.max_attempts"))
    deferred = a.background.deferred
    if deferred is not None and cfg.responses.deferred_demand and bg > 0.0:
        # files refused or left pending come back as new applications, up to max_attempts
        # filings in all: at most the share not approved at first, times the re-file share
        back = (1.0 - _background_approve(a)) * deferred.refile_share
        refiled = _mul(bg, _rounds(back, deferred.max_attempts - 1))
        if refiled > 0.0:
            terms.append(WorkTerm("re-filed applications of other buyers", refiled,
                                  refiled * (_BG + pre),
                                  "authority.background.deferred.refile_share"))
    if cfg.responses.resourcing:
        for name, f in cfg.firms.items():
            r = f.ordering.resourcing
            if r is None:
                continue
            reviews = h / f.ordering.review_period_days + 1.0
            new = [n for n in r.to if n not in f.ordering.suppliers]
            n = reviews * len(new) * len(f.bom)
            if n > 0.0:
                terms.append(WorkTerm("shipments from suppliers re-sourced to", n, 2.0 * n,
                                      f"firms.{name}.ordering.resourcing.to"))
    samples = h / cfg.output.sample_every_days + 1.0
    terms.append(WorkTerm("time-series samples", samples, samples, "output.sample_every_days"))
    per_sample = 2 + sum(len(f.bom) + 1 for f in cfg.firms.values())
    return WorkEstimate(events=math.fsum(t.events for t in terms), rows=samples * per_sample,
                        days=h + CALENDAR_MARGIN_DAYS, terms=tuple(terms))


def _dispatch_cycles(cfg: Config) -> list[WorkTerm]:
    """The dispatch cycle of every order book with customers (free suppliers, firms that make
    parts): while orders are open, an event every `dispatch_every_days` -- counted as open
    for the whole horizon, since a book short of supply keeps back-orders open."""
    h = cfg.horizon_days
    books: dict[str, tuple[float, str]] = {}
    for f in cfg.firms.values():
        for s_name, share in f.ordering.suppliers.items():
            if share <= 0.0 or s_name in books:
                continue
            sup = cfg.suppliers.get(s_name)
            if sup is not None and sup.kind == "free":
                books[s_name] = (sup.dispatch_every_days,
                                 f"suppliers.{s_name}.dispatch_every_days")
            elif s_name in cfg.firms:
                books[s_name] = (cfg.firms[s_name].shipping.dispatch_every_days,
                                 f"firms.{s_name}.shipping.dispatch_every_days")
    out = []
    for every, path in books.values():
        n = h / every + 1.0
        out.append(WorkTerm("dispatches", n, n, path))
    return out


def _durations(obj: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(dotted path, distribution) of every duration distribution in a config."""
    if isinstance(obj, _DISTRIBUTIONS):
        if path.rsplit(".", 1)[-1] not in _QUANTITIES:
            yield path, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            if not path and name in _NOT_SIMULATED:
                continue
            yield from _durations(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _durations(v, f"{path}.{k}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield from _durations(v, f"{path}.{i}")


def check_work(cfg: Config, source: str = "<config>", *, warn: bool = True) -> WorkEstimate:
    """Refuse a config whose replications could not finish: a horizon over
    `MAX_HORIZON_DAYS`, a duration distribution with a mean over `MAX_MEAN_DAYS`, more than
    `MAX_EVENTS` SimPy events or `MAX_ROWS` time-series rows per replication. The limits
    hold for every replication: with uncertain parameters they are checked with each at the
    end of its prior that makes the most work (`prior_range`), all at once. The ConfigError
    names the field that dominates, or the uncertain parameter that takes it past the limit
    (`remedies=("force",)`: the caller may run it anyway). With `warn`, also logs the
    warnings of `check_warnings`. Returns the estimate of the config as written."""
    est = _check_limits(cfg, source)
    if cfg.uncertain:
        _check_priors(cfg, source)
    if warn:
        check_warnings(cfg, source)
    return est


HIGH_QUANTILE = 0.999
"""An unbounded prior (normal, lognormal) is checked against the work limits at its
1 - HIGH_QUANTILE and HIGH_QUANTILE quantiles; a bounded one at its bounds."""


def prior_range(prior: Any) -> tuple[float, float]:
    """The lowest and highest values of a numeric prior the work limits are checked at: its
    bounds where finite, else its 0.001 and 0.999 quantiles."""
    lo, hi = prior.support
    if isinstance(prior, LognormalPrior):
        return float(prior.ppf(1.0 - HIGH_QUANTILE)), float(prior.ppf(HIGH_QUANTILE))
    if isinstance(prior, NormalPrior):
        if prior.low is None:
            lo = float(prior.ppf(1.0 - HIGH_QUANTILE))
        if prior.high is None:
            hi = float(prior.ppf(HIGH_QUANTILE))
    return float(lo), float(hi)


def _check_priors(cfg: Config, source: str) -> None:
    """The limits with every uncertain parameter at the end of its prior that makes the
    most work (all at once); the error names the parameter whose end makes the most."""
    unc = prepare(cfg, source)
    if unc is None:
        return
    worst: dict[str, Any] = {}
    top: tuple[float, int, Any] | None = None  # (events, entry, value)
    for i, u in enumerate(cfg.uncertain):
        if not any(_feeds(q, unc.base) for q in u.paths):
            continue
        if isinstance(u.prior, ChoicePrior):
            candidates = list(u.prior.values)
        else:
            candidates = list(prior_range(u.prior))
        best: tuple[float, Any] | None = None
        for v in candidates:
            if u.integer and isinstance(v, float):
                v = int(round(v))
            events = _events_at(unc, {u.name: v}, source)
            if best is None or events > best[0]:
                best = (events, v)
        assert best is not None
        worst[u.name] = best[1]
        if top is None or best[0] > top[0]:
            top = (best[0], i, best[1])
    if top is None:
        return
    try:
        at = _apply(unc, worst, source)
    except ConfigError:
        return  # the ends do not combine into a valid config; each alone was checked
    try:
        _check_limits(at, source)
    except ConfigError as exc:
        _, i, v = top
        u = cfg.uncertain[i]
        raise _limit(source, f"uncertain.{i}.prior ({u.name})", f"at its end {v!r} (with "
                     "every uncertain parameter at the end of its prior that makes the most "
                     f"work) a replication goes past a work limit: {exc.path}: "
                     f"{exc.message}") from None


_FEEDS = re.compile(
    r"horizon_days|calendar(\..*)?|materials(\..*)?|output\.sample_every_days"
    r"|authority(\.(pre_acceptance|background|information_requests|decision|refusal)(\..*)?)?"
    r"|firms(\.[^.]+(\.(units_per_day|bom|initial_cover_days|ordering|shipping|output)"
    r"(\..*)?)?)?"
    r"|suppliers(\..*)?"
    r"|policy(\.\d+(\.(type|date|materials|rules|information_request_probability)(\..*)?)?)?")
"""Paths the estimate reads (besides duration distributions, whose means are limited)."""


def _feeds(path: str, data: dict[str, Any]) -> bool:
    """Whether a value at `path` (of raw config `data`) feeds the work estimate or limits."""
    if _FEEDS.fullmatch(path):
        return True
    keys = path.split(".")
    for k in (keys, keys[:-1]):
        try:
            v = get_path(data, k)
        except (KeyError, IndexError, ValueError, TypeError):
            continue
        if isinstance(v, dict) and "dist" in v:
            return True
    return False


def _apply(unc: Uncertainty, values: dict[str, Any], source: str) -> Config:
    """The config with the uncertain parameters in `values` set (the others as written)."""

    def error(lever: Lever, value: Any, message: str) -> ConfigError:
        return ConfigError(source, lever.where, f"value {value!r}: {message}")

    levers = [lv for lv in unc.levers if lv.label in values]
    return apply_levers(unc.cfg, copy.deepcopy(unc.base), levers, values, source, error)


def _events_at(unc: Uncertainty, values: dict[str, Any], source: str) -> float:
    """Estimated events of the config with `values` applied (inf where some limit fails)."""
    try:
        c = _apply(unc, values, source)
        _check_limits(c, source)
    except ConfigError:
        return math.inf
    est = estimate_work(c)
    return max(est.events, est.rows)


def _check_limits(cfg: Config, source: str) -> WorkEstimate:
    """`check_work` for the config as written (no priors, no warnings)."""
    h = cfg.horizon_days
    if h > MAX_HORIZON_DAYS:
        raise _limit(source, "horizon_days", f"{h:g} days (~{about(h / 365.25)} years); the "
                     f"limit is {MAX_HORIZON_DAYS:.0e} days")
    for path, dist in _durations(cfg, ""):
        mean = dist.expected
        if not mean <= MAX_MEAN_DAYS:
            raise _limit(source, path, f"a mean of {about(mean)} days; the limit is "
                         f"{MAX_MEAN_DAYS:.0e} days (the longest horizon): it would never end "
                         "within a run")
    est = estimate_work(cfg)
    if est.events > MAX_EVENTS:
        top = max(est.terms, key=lambda t: t.events)
        limit = f"the limit is {MAX_EVENTS:.0e} events per replication: it would not finish"
        if h > _YEAR and top.events / h * _YEAR <= MAX_EVENTS:  # a year of it would do
            raise _limit(source, "horizon_days", f"{h:g} days make about {about(est.events)} "
                         f"events per replication; {limit}")
        raise _limit(source, top.path, f"about {about(top.count)} {top.what} per "
                     f"replication; {limit}")
    if est.rows > MAX_ROWS:
        path = "output.sample_every_days"
        if h > _YEAR and est.rows / h * _YEAR <= MAX_ROWS:
            path = "horizon_days"
        raise _limit(source, path, f"about {about(est.rows)} time-series rows per replication "
                     f"(a sample every {cfg.output.sample_every_days:g} days over {h:g} days); "
                     f"the limit is {MAX_ROWS:.0e} rows per replication: it would run out of "
                     "memory")
    return est


def check_warnings(cfg: Config, source: str = "") -> list[str]:
    """Log (and return) a warning line for each thing that runs but is probably not what was
    meant: policy events dated after the simulated window (`late_policy_events`), a licence
    queue unstable for as long as controls are on (`check_stability`)."""
    out = []
    late = late_policy_events(cfg)
    if late:
        start, h = cfg.calendar.start, cfg.horizon_days
        names = ", ".join(f"policy.{i}" for i in late)
        first = min(cfg.policy[i].date for i in late)
        what = "is" if len(late) == 1 else "are"
        msg = (f"{names} {what} dated after the simulated window ({start} to "
               f"{_day(start, math.ceil(h) - 1)}; the first on {first}) and never happen; set "
               "outside_window = true on them if that is meant")
        msg = f"{source}: {msg}" if source else msg
        log.warning("%s", msg)
        out.append(msg)
    msg = check_stability(cfg, source)
    if msg is not None:
        out.append(msg)
    return out


def late_policy_events(cfg: Config) -> list[int]:
    """Indices of the policy events whose nominal date is at or after the end of the simulated
    window (they never happen), leaving out those that say `outside_window = true`."""
    start, h = cfg.calendar.start, cfg.horizon_days
    return [i for i, ev in enumerate(cfg.policy)
            if not ev.outside_window and (ev.date - start).days >= h]


def _limit(source: str, path: str, message: str) -> ConfigError:
    return ConfigError(source, path, message, remedies=("force",))


# --------------------------------------------------------------------------- the queue


@dataclass(frozen=True)
class QueueLoad:
    """Licence applications arriving and cleared per calendar day, averaged over the time
    controls are on, from `first_day` (days since the start) to the end."""

    arrivals: float
    capacity: float
    first_day: float


def _weekdays(first: int, n: int, weekday0: int) -> int:
    """Mon-Fri days among day offsets [first, first + n), day 0 being weekday `weekday0`."""
    if n <= 0:
        return 0
    full, rest = divmod(n, 7)
    wd = (weekday0 + first) % 7
    return 5 * full + sum(1 for k in range(rest) if (wd + k) % 7 < 5)


def calendar_days_per_working_day(cfg: Config) -> float:
    """Calendar days per working day over the simulated window (7/5 for a mon-fri calendar
    without holidays; inf if no day is worked)."""
    c = cfg.calendar
    n = math.ceil(cfg.horizon_days)
    wd0 = c.start.weekday()
    monfri = c.working_days == "mon-fri"

    def base(first: int, count: int) -> int:
        return _weekdays(first, count, wd0) if monfri else max(0, count)

    spans = sorted((max(0, (h.start - c.start).days), min(n, (h.end - c.start).days + 1))
                   for h in c.holidays)
    off: list[tuple[int, int]] = []  # merged holiday ranges within the window
    for lo, hi in spans:
        if lo >= hi:
            continue
        if off and lo <= off[-1][1]:
            off[-1] = (off[-1][0], max(off[-1][1], hi))
        else:
            off.append((lo, hi))
    worked = base(0, n) - sum(base(lo, hi - lo) for lo, hi in off)
    for d in set(c.extra_working_days):
        k = (d - c.start).days
        if 0 <= k < n and (base(k, 1) == 0 or any(lo <= k < hi for lo, hi in off)):
            worked += 1
    return n / worked if worked > 0 else math.inf


def queue_stability(cfg: Config) -> QueueLoad | None:
    """The load of the licence queue if, for as long as controls are on, applications arrive
    faster than the reviewers clear them (else None).

    Arrivals per day: the background rate times the share of controlled materials, plus each
    firm's licence applications (an order of `units_per_day` x `bom` x `review_period_days`
    x share kg per review period, split at `max_shipment_kg`). Capacity: reviewers / (mean
    review time in calendar days x (1 + expected information-request rounds)), 0 while
    approvals are suspended. Policy events with probability >= 0.5 are taken to happen on
    their nominal dates; general licences are not counted (they only lower arrivals).
    """
    a = cfg.authority
    h = cfg.horizon_days
    ratio = calendar_days_per_working_day(cfg)
    controlled = {m for m, mc in cfg.materials.items() if mc.controlled_at_start}
    made = cfg.made_materials()
    reviewers = a.reviewers
    review = a.review_time.expected
    p_rfi = a.information_requests.probability
    suspended = False
    changes = sorted(((max(0.0, float((ev.date - cfg.calendar.start).days)), i, ev)
                      for i, ev in enumerate(cfg.policy) if ev.probability >= 0.5),
                     key=lambda x: (x[0], x[1]))
    segments: list[tuple[float, float, float, float]] = []  # (from, days, arrivals, capacity)

    def load() -> tuple[float, float]:
        arrivals = a.background.rate_per_day * sum(
            s for m, s in a.background.materials.items() if m in controlled)
        for f in cfg.firms.values():
            o = f.ordering
            for m, per_unit in f.bom.items():
                if m not in controlled:
                    continue
                for s_name, share in cfg.sources(f, made)[m].items():
                    sup = cfg.suppliers.get(s_name)
                    if share > 0.0 and sup is not None and sup.kind == "controlled":
                        kg = f.units_per_day * per_unit * o.review_period_days * share
                        arrivals += _parts(kg, sup.max_shipment_kg) / o.review_period_days
        if suspended or reviewers == 0:
            return arrivals, 0.0
        busy = review * ratio * (1.0 + _rounds(p_rfi, a.information_requests.max_rounds))
        return arrivals, (reviewers / busy if busy > 0.0 else math.inf)

    t = 0.0
    for day, _, ev in [*changes, (h, len(changes), None)]:
        day = min(day, h)
        if day > t:
            segments.append((t, day - t, *load()))
            t = day
        if ev is None or day >= h:
            break
        if isinstance(ev, ControlsStart):
            controlled.update(ev.covered(cfg.materials))
        elif isinstance(ev, ControlsLift):
            controlled.difference_update(ev.covered(cfg.materials))
        elif isinstance(ev, SetReviewers):
            reviewers = ev.count
        elif isinstance(ev, SetReviewTime):
            if ev.review_time is not None:
                review = ev.review_time.expected
            if ev.information_request_probability is not None:
                p_rfi = ev.information_request_probability
        elif isinstance(ev, SuspendApprovals):
            suspended = True
        elif isinstance(ev, ResumeApprovals):
            suspended = False
    on = [seg for seg in segments if seg[2] > 0.0]
    if not on or any(arr <= cap for _, _, arr, cap in on):
        return None
    days = math.fsum(d for _, d, _, _ in on)
    return QueueLoad(math.fsum(d * arr for _, d, arr, _ in on) / days,
                     math.fsum(d * cap for _, d, _, cap in on) / days, on[0][0])


def check_stability(cfg: Config, source: str = "") -> str | None:
    """Log (and return) one warning line if the licence queue is unstable for as long as
    controls are on (`queue_stability`); None if it keeps up at some point."""
    q = queue_stability(cfg)
    if q is None:
        return None
    when = "for the whole run" if q.first_day <= 0 else \
        f"from {_day(cfg.calendar.start, q.first_day)} to the end of the run"
    msg = (f"the licence queue is unstable: about {about(q.arrivals)} applications/day arrive "
           f"and the reviewers clear about {about(q.capacity)}/day {when}; the backlog will "
           "grow throughout")
    if source:
        msg = f"{source}: {msg}"
    log.warning("%s", msg)
    return msg


def _day(start: date, day: float) -> str:
    try:
        return (start + timedelta(days=math.floor(day))).isoformat()
    except OverflowError:
        return f"day {day:g}"


def _background_approve(a: AuthorityConfig) -> float:
    """Chance a background file is approved at its first review, its destinations'
    shares weighing the first rule naming only the destination (else the default)."""
    d = a.decision
    by_dest = {r.destination: r.approve for r in reversed(d.rules) if r.destination
               and r.sector is None and r.end_use is None and r.material is None}
    shares = a.background.destinations
    total = sum(shares.values()) or 1.0
    return sum(w * by_dest.get(k, d.approve) for k, w in shares.items()) / total
