"""One replication: the world that ties authority, suppliers, firms and policy together."""

from __future__ import annotations

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
from .clock import post, post_call
from .firm import Firm
from .records import APPROVED, REFUSED, Shipment
from .supply import ControlledExporter, FreeSupplier, Stockpile, Supplier


class _Exponential:
    """Exp(mean) variates for Poisson inter-arrival times."""

    def __init__(self, mean: float) -> None:
        self.mean = mean

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean, size)


class _Choice:
    """Names drawn by share, one uniform each, in blocks: `next()` returns a name.

    Name k is drawn when u * total falls in [cum[k-1], cum[k]) (the last name takes any
    rounding overshoot). A single name draws nothing."""

    def __init__(self, shares: dict[str, float], rng: np.random.Generator,
                 block: int = 1024) -> None:
        self.names = list(shares)
        self.cum = np.array(list(itertools.accumulate(shares.values())), dtype=float)
        self.rng = rng
        self.block = block
        self.next: Callable[[], str]
        if len(self.names) == 1:
            self.next = itertools.repeat(self.names[0]).__next__
        else:
            self.next = itertools.chain.from_iterable(iter(self._block_list, None)).__next__

    def _block_list(self) -> list[str]:
        u = self.rng.random(self.block) * self.cum[-1]
        k = np.minimum(np.searchsorted(self.cum, u, side="right"), len(self.names) - 1)
        names = self.names
        return [names[j] for j in k.tolist()]

    def __call__(self) -> str:
        return self.next()


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
        post_call(self.env, delay, fn, arg)

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
        t = self.authority.apps
        i = t.add(sh.material, f.destination, sh.kg, self.priority[f.destination],
                  self.env._now, f.end_use)
        t.firm[i] = f
        t.sector[i] = f.sector
        t.attempt[i] = attempt
        t.shipment[i] = sh
        sh.application = i
        self.authority.receive(i)

    def on_decision(self, i: int) -> None:
        """Application row `i` of a modelled firm's shipment was decided now."""
        t = self.authority.apps
        sh: Shipment = t.shipment[i]
        outcome, attempt = t.outcome[i], t.attempt[i]
        supplier = self.suppliers[sh.supplier]
        if outcome == APPROVED:
            supplier.licensed(sh)  # type: ignore[attr-defined]
        elif outcome == REFUSED:
            if attempt < self.max_attempts:
                self.at(self.authority.resubmit_after.next(), self._resubmit, (sh, attempt + 1))
            else:
                sh.firm.redirect(sh)


    def _resubmit(self, arg: tuple[Shipment, int]) -> None:
        sh, attempt = arg
        if self.controlled[sh.material]:
            self.apply_for_licence(sh, attempt)
        else:
            self.suppliers[sh.supplier].licensed(sh)  # type: ignore[attr-defined]

    def _start_background(self) -> None:
        """Poisson arrivals of other buyers' shipments: each arrival is one posted call whose
        callback files the application (or exports at once if no licence is needed) and
        schedules the next arrival."""
        bg = self.cfg.authority.background
        env = self.env
        gap = Sampler(_Exponential(1.0 / bg.rate_per_day),
                      self.streams("background.arrivals")).next
        qty = Sampler(bg.quantity_kg, self.streams("background.quantity")).next
        material = _Choice(bg.materials, self.streams("background.material")).next
        dest = _Choice(bg.destinations, self.streams("background.destination")).next
        u_mil = UniformSampler(self.streams("background.end_use")).next
        mil = bg.military_share
        controlled = self.controlled
        priority = self.priority
        add = self.authority.apps.add
        receive = self.authority.receive
        record = self.record_export

        def arrive(_e: object) -> None:
            m, d, q = material(), dest(), qty()
            end_use = "military" if mil > 0.0 and u_mil() < mil else "civil"
            now = env._now
            if controlled[m]:
                receive(add(m, d, q, priority[d], now, end_use))
            else:
                record(now, d, m, q)
            post(env, gap(), arrive)

        post(env, gap(), arrive)

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
