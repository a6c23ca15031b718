"""One replication: the world that ties authority, suppliers, firms and policy together."""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy
from simpy.events import Timeout

from ..calendar import WorkingCalendar
from ..errors import ConservationError
from ..rng import Sampler, UniformSampler, as_seed_sequence, stream
from ..schema import (
    AddCapacity,
    Config,
    ControlsLift,
    ControlsStart,
    GeneralLicence,
    ResumeApprovals,
    SetDecision,
    SetReviewers,
    SetReviewTime,
    StockpileRelease,
    SuspendApprovals,
)
from .authority import Authority
from .firm import Firm
from .records import APPROVED, REFUSED, Application, Shipment
from .supply import ControlledExporter, FreeSupplier, Stockpile, Supplier


class _Exponential:
    """Exp(mean) variates for Poisson inter-arrival times."""

    def __init__(self, mean: float) -> None:
        self.mean = mean

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean, size)


class _Choice:
    """Draw names by share with one uniform each."""

    def __init__(self, shares: dict[str, float], u: UniformSampler) -> None:
        self.names = list(shares)
        self.cum = list(itertools.accumulate(shares.values()))
        self.u = u

    def __call__(self) -> str:
        i = bisect.bisect_right(self.cum, self.u() * self.cum[-1])
        return self.names[min(i, len(self.names) - 1)]


class World:
    """Builds and runs one replication of a Config."""

    def __init__(self, cfg: Config, seed: int | np.random.SeedSequence) -> None:
        self.cfg = cfg
        self.seed = as_seed_sequence(seed)
        self.env = simpy.Environment()
        c = cfg.calendar
        self.calendar = WorkingCalendar(
            c.start, cfg.horizon_days, c.working_days,
            [(h.start, h.end) for h in c.holidays], c.extra_working_days,
        )
        self.horizon = cfg.horizon_days
        self.recovery_window = cfg.output.recovery_window_days
        self.refusal_then = cfg.authority.refusal.then
        self.max_attempts = cfg.authority.refusal.max_attempts
        self.controlled = {m: mc.controlled_at_start for m, mc in cfg.materials.items()}
        self.shock_onset = 0.0 if any(self.controlled.values()) else math.nan
        self.priority = {d: dc.priority for d, dc in cfg.destinations.items()}
        self.exports: tuple[list[float], list[str], list[str], list[float]] = ([], [], [], [])
        self._next_id = itertools.count()
        self.authority = Authority(self, cfg.authority)
        self.suppliers: dict[str, Supplier] = {
            n: (ControlledExporter if s.kind == "controlled" else FreeSupplier)(self, n, s)
            for n, s in cfg.suppliers.items()
        }
        self.stockpile = Stockpile(self, cfg.stockpile) if cfg.stockpile is not None else None
        self.firms = [Firm(self, n, f) for n, f in cfg.firms.items()]
        self.policy_log: list[dict[str, Any]] = []
        self.series: tuple[list[float], list[str], list[str], list[str], list[float]] = (
            [], [], [], [], []
        )

    def streams(self, name: str) -> np.random.Generator:
        """The named random stream `name` of this replication."""
        return stream(self.seed, name)

    def at(self, delay: float, fn: Callable[[Any], None], arg: Any) -> None:
        """Call fn(arg) after `delay` days."""
        ev = Timeout(self.env, delay)
        ev.callbacks.append(lambda _e: fn(arg))

    # ------------------------------------------------------------------ flows

    def record_export(self, day: float, destination: str, material: str, kg: float) -> None:
        ex = self.exports
        ex[0].append(day)
        ex[1].append(destination)
        ex[2].append(material)
        ex[3].append(kg)

    def deliver(self, sh: Shipment, day: float) -> None:
        """The shipment reaches the firm on `day`; usable after its pipeline days."""
        day += sh.firm.cfg.pipeline_days
        if day < self.horizon:
            self.at(day - self.env._now, sh.firm.receive, sh)

    def apply_for_licence(self, sh: Shipment, attempt: int) -> None:
        f = sh.firm
        app = Application(
            next(self._next_id), f, f.sector, f.end_use, sh.material, f.destination, sh.kg,
            self.priority[f.destination], attempt, self.env._now, sh,
        )
        sh.application = app
        self.authority.submit(app)

    def on_decision(self, app: Application) -> None:
        sh = app.shipment
        if sh is None:
            if app.outcome == APPROVED:
                self.record_export(app.decided, app.destination, app.material, app.quantity_kg)
            return
        supplier = self.suppliers[sh.supplier]
        if app.outcome == APPROVED:
            supplier.licensed(sh)  # type: ignore[attr-defined]
        elif app.outcome == REFUSED:
            if app.attempt < self.max_attempts:
                self.at(self.authority.resubmit_after(), self._resubmit, (sh, app.attempt + 1))
            else:
                sh.firm.redirect(sh)

    def _resubmit(self, arg: tuple[Shipment, int]) -> None:
        sh, attempt = arg
        if self.controlled[sh.material]:
            self.apply_for_licence(sh, attempt)
        else:
            self.suppliers[sh.supplier].licensed(sh)  # type: ignore[attr-defined]

    def _start_background(self) -> None:
        """Poisson arrivals of other buyers' shipments: each arrival is one timeout whose
        callback files the application (or exports at once if no licence is needed) and
        schedules the next arrival."""
        bg = self.cfg.authority.background
        env = self.env
        gap = Sampler(_Exponential(1.0 / bg.rate_per_day), self.streams("background.arrivals"))
        qty = Sampler(bg.quantity_kg, self.streams("background.quantity"))
        material = _Choice(bg.materials, UniformSampler(self.streams("background.material")))
        dest = _Choice(bg.destinations, UniformSampler(self.streams("background.destination")))
        u_mil = UniformSampler(self.streams("background.end_use"))
        mil = bg.military_share
        controlled = self.controlled
        priority = self.priority
        submit = self.authority.submit
        next_id = self._next_id
        record = self.record_export

        def arrive(_e: object) -> None:
            m, d, q = material(), dest(), qty()
            end_use = "military" if mil > 0.0 and u_mil() < mil else "civil"
            now = env._now
            if controlled[m]:
                submit(Application(next(next_id), None, "none", end_use, m, d, q, priority[d],
                                   1, now, None))
            else:
                record(now, d, m, q)
            Timeout(env, gap()).callbacks.append(arrive)

        Timeout(env, gap()).callbacks.append(arrive)

    # ------------------------------------------------------------------ policy

    def _schedule_policy(self) -> None:
        rng = self.streams("policy")
        for i, ev in enumerate(self.cfg.policy):
            u = float(rng.random())
            delay = float(ev.delay_days.sample(rng, 1)[0]) if ev.delay_days is not None else 0.0
            day = self.calendar.day_of(ev.date) + delay
            happens = u < ev.probability
            self.policy_log.append({
                "index": i, "type": ev.type, "label": ev.label or ev.type,
                "day": day, "happened": bool(happens and day < self.horizon),
            })
            if happens and day < self.horizon:
                self.at(max(0.0, day), self._apply_policy, ev)

    def _apply_policy(self, ev: Any) -> None:
        a = self.authority
        now = self.env._now
        if isinstance(ev, ControlsStart):
            for m in ev.materials:
                self.controlled[m] = True
            if math.isnan(self.shock_onset):
                self.shock_onset = now
        elif isinstance(ev, ControlsLift):
            for m in ev.materials:
                self.controlled[m] = False
                a.release_material(m)
        elif isinstance(ev, SuspendApprovals):
            a.suspend(True)
        elif isinstance(ev, ResumeApprovals):
            a.suspend(False)
        elif isinstance(ev, SetReviewers):
            a.set_reviewers(ev.count)
        elif isinstance(ev, SetDecision):
            a.set_decision(ev.approve_factor, ev.destinations, ev.rules)
            if ev.pending_approval_rate_per_day is not None:
                a.set_pending_rate(ev.pending_approval_rate_per_day)
        elif isinstance(ev, SetReviewTime):
            a.set_review_time(ev.review_time, ev.information_request_probability)
        elif isinstance(ev, GeneralLicence):
            a.grant_general_licence(ev)
        elif isinstance(ev, StockpileRelease):
            if self.stockpile is not None:
                self.stockpile.active = True
        elif isinstance(ev, AddCapacity):
            self.suppliers[ev.supplier].add_capacity(now, ev.add_kg_per_day)  # type: ignore
        else:  # pragma: no cover - the schema admits no other type
            raise TypeError(f"unknown policy event {ev!r}")

    # ------------------------------------------------------------------ sampling

    def _sampler(self):  # noqa: ANN202 - a SimPy process
        every = self.cfg.output.sample_every_days
        day, series, firm, material, value = self.series
        a = self.authority
        k = 0
        while True:
            t = k * every
            if t > self.horizon:
                return
            if t > self.env._now:
                yield Timeout(self.env, t - self.env._now)
            for name, v in (("backlog", a.open), ("queue", a.queued)):
                day.append(t)
                series.append(name)
                firm.append("")
                material.append("")
                value.append(float(v))
            for f in self.firms:
                f.advance()
                for m, s in f.stock.items():
                    day.append(t)
                    series.append("inventory_kg")
                    firm.append(f.name)
                    material.append(m)
                    value.append(s)
                day.append(t)
                series.append("cumulative_units")
                firm.append(f.name)
                material.append("")
                value.append(f.produced)
            k += 1

    # ------------------------------------------------------------------ run

    def run(self) -> None:
        env = self.env
        self._schedule_policy()
        if self.cfg.authority.background.rate_per_day > 0:
            self._start_background()
        for f in self.firms:
            f.start()
        env.process(self._sampler())
        warm = self.cfg.runs.warmup_days
        self._warm_areas = (0.0, 0.0, 0.0, 0.0)
        if warm > 0:
            self.at(min(warm, self.horizon), self._end_warmup, None)
        env.run(until=self.horizon)
        self.authority.finish()
        for f in self.firms:
            f.finish()
        problems = [p for f in self.firms for p in f.check_conservation()]
        if problems:
            raise ConservationError("; ".join(problems))
        # SimPy numbers every scheduled event; those still queued were never processed.
        self.events_processed = next(env._eid) - len(env._queue)

    def _end_warmup(self, _arg: object) -> None:
        a = self.authority
        a._touch()
        self._warm_areas = (a.area_open, a.area_queue, a.area_busy, a.area_capacity)
