"""The licensing authority: acceptance, a queue served by reviewer processes, decisions.

The queue is a deque (FIFO) or a binary heap keyed by (priority class, arrival order), so
adding or taking a file costs O(1) or O(log n) however long the backlog is. A reviewer
takes the next file, holds it for its review time (working days mapped to calendar days)
and decides; the review is one SimPy timeout whose callback decides and hands the
reviewer the next file. A file that arrives while a reviewer is free starts review at
once, so a file costs two events (arrival, end of review) and an idle reviewer none.

A reviewed file is approved, refused, or left *pending* (FACTS §1: most files that were not
approved were left pending). Pending files sit on a shelf and are approved later at a
hazard rate (per calendar day, scaled by their class's approval probability), which policy
events can change: this is the time-varying approval hazard.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import simpy
from simpy.events import Timeout

from ..distributions import Distribution
from ..rng import Sampler, UniformSampler
from ..schema import AuthorityConfig, DecisionRule, GeneralLicence
from .records import (
    APPROVED,
    CLOSED,
    QUEUED,
    REFUSED,
    REVIEW,
    RFI,
    SHELF,
    Application,
)

if TYPE_CHECKING:
    from .world import World


class _Grant:
    """An active general licence."""

    __slots__ = ("spec", "until", "sampler")

    def __init__(self, spec: GeneralLicence, until: float, sampler: Sampler) -> None:
        self.spec = spec
        self.until = until
        self.sampler = sampler

    def matches(self, app: Application) -> bool:
        s = self.spec
        if s.destinations is not None and app.destination not in s.destinations:
            return False
        if s.materials is not None and app.material not in s.materials:
            return False
        if s.sectors is not None and app.sector not in s.sectors:
            return False
        if s.firms is not None and (app.firm is None or app.firm.name not in s.firms):
            return False
        return True


class Authority:
    """Receives applications, reviews them with a changing pool of reviewers, decides."""

    def __init__(self, world: World, cfg: AuthorityConfig) -> None:
        self.world = world
        self.env: simpy.Environment = world.env
        self.cal = world.calendar
        self.cfg = cfg
        streams = world.streams
        self.pre_acceptance = Sampler(cfg.pre_acceptance, streams("authority.pre_acceptance")) \
            if cfg.pre_acceptance is not None else None
        self._review_rng = streams("authority.review_time")
        self.review_time = Sampler(cfg.review_time, self._review_rng)
        self.u_rfi = UniformSampler(streams("authority.rfi"))
        rfi = cfg.information_requests
        self.rfi_p = rfi.probability
        self.rfi_max = rfi.max_rounds
        self.rfi_response = (
            Sampler(rfi.response_days, streams("authority.rfi_response"))
            if rfi.response_days is not None else None
        )
        self.u_decide = UniformSampler(streams("authority.decision"))
        self.e_pending = Sampler(_EXP1, streams("authority.pending"))
        self.resubmit_after = Sampler(cfg.refusal.resubmit_after_days,
                                      streams("authority.resubmit"))
        self._general_rng = streams("authority.general_licence")

        # Decision state (changed by policy events).
        self.default_approve = cfg.decision.approve
        self.default_refuse = cfg.decision.refuse
        self.rules: list[DecisionRule] = list(cfg.decision.rules)
        self.approve_factor: dict[str | None, float] = {}
        self._decision_cache: dict[tuple[str, str, str, str], tuple[float, float]] = {}
        self.grants: list[_Grant] = []

        # Queue.
        self.fifo = cfg.discipline == "fifo"
        self._deque: deque[Application] = deque()
        self._heap: list[tuple[int, int, Application]] = []
        self._seq = 0
        self.queued = 0  # live files waiting for a reviewer
        self.suspended = False


        # Pending shelf: heap of (threshold in cumulative base hazard, seq, app).
        self.pending_rate = cfg.decision.pending_approval_rate_per_day
        self._shelf: list[tuple[float, int, Application]] = []
        self._hazard = 0.0  # cumulative base hazard H(t)
        self._hazard_t = 0.0
        self._shelf_version = 0

        # Records and time-weighted statistics.
        self.applications: list[Application] = []
        self.open = 0  # submitted and not decided (the backlog)
        self.open_max = 0
        self._last = 0.0
        self.area_open = 0.0
        self.area_queue = 0.0
        self.area_busy = 0.0
        self.area_capacity = 0.0
        self.on_decision: Callable[[Application], None] = world.on_decision

        # Reviewers.
        self.target = 0  # reviewers (files that can be in review at once)
        self.busy = 0
        self.set_reviewers(cfg.reviewers)

    # ------------------------------------------------------------------ statistics

    def _touch(self) -> None:
        """Accumulate time-weighted areas up to now; call before any count changes."""
        now = self.env._now
        dt = now - self._last
        if dt > 0.0:
            self.area_open += self.open * dt
            self.area_queue += self.queued * dt
            self.area_busy += self.busy * dt
            self.area_capacity += self.target * dt
            self._last = now

    # ------------------------------------------------------------------ intake

    def submit(self, app: Application) -> None:
        """A new application (or a new attempt) arrives at the authority now."""
        self._touch()
        self.applications.append(app)
        self.open += 1
        if self.open > self.open_max:
            self.open_max = self.open
        now = self.env._now
        for grant in self.grants:
            if grant.until > now and grant.matches(app):
                app.general = True
                app.accepted = now
                app.review_start = now
                done = self.cal.add(now, grant.sampler())
                app.review = done - now
                self._at(done - now, self._general_done, app)
                return
        if self.pre_acceptance is None:
            self._accept(app)
        else:
            self._at(self.cal.add(now, self.pre_acceptance()) - now, self._accept_cb, app)

    def _accept_cb(self, app: Application) -> None:
        if app.state != CLOSED:
            self._touch()
            self._accept(app)

    def _accept(self, app: Application) -> None:
        app.accepted = self.env._now
        self._enqueue(app)

    def _general_done(self, app: Application) -> None:
        if app.state != CLOSED:
            self._touch()
            self._decide(app, APPROVED)

    def _enqueue(self, app: Application) -> None:
        app.state = QUEUED
        app.enqueued_at = self.env._now
        self.queued += 1
        if self.fifo:
            self._deque.append(app)
        else:
            self._seq += 1
            heapq.heappush(self._heap, (app.priority, self._seq, app))
        if self.busy < self.target and not self.suspended:
            self._begin(self._take())  # type: ignore[arg-type]

    def _take(self) -> Application | None:
        """The next live file in queue order, or None."""
        while True:
            if self.fifo:
                if not self._deque:
                    return None
                app = self._deque.popleft()
            else:
                if not self._heap:
                    return None
                app = heapq.heappop(self._heap)[2]
            if app.state == QUEUED:
                return app

    # ------------------------------------------------------------------ reviewers

    def set_reviewers(self, count: int) -> None:
        """Change the number of reviewers; extra ones stop after their current file."""
        self._touch()
        self.target = count
        self._serve()

    def _serve(self) -> None:
        """Hand waiting files to free reviewers, in queue order."""
        while self.busy < self.target and not self.suspended:
            app = self._take()
            if app is None:
                return
            self._begin(app)

    def _begin(self, app: Application) -> None:
        """A reviewer takes `app` now and holds it for its review time (working days)."""
        now = self.env._now
        self.queued -= 1
        self.busy += 1
        app.state = REVIEW
        app.wait += now - app.enqueued_at
        if app.review_start != app.review_start:  # NaN: first review
            app.review_start = now
        duration = self.cal.add(now, self.review_time()) - now
        ev = Timeout(self.env, duration)
        ev.callbacks.append(lambda _e: self._review_done(app, duration))

    def _review_done(self, app: Application, duration: float) -> None:
        self._touch()
        self.busy -= 1
        app.review += duration
        if app.state == REVIEW:  # not closed meanwhile (controls lifted)
            self._reviewed(app)
        self._serve()

    def _reviewed(self, app: Application) -> None:
        if self.rfi_p > 0.0 and app.rfi_rounds < self.rfi_max and self.u_rfi() < self.rfi_p:
            app.rfi_rounds += 1
            app.state = RFI
            self._at(self.rfi_response(), self._rfi_back, app)
            return
        approve, refuse = self.decision_probabilities(app)
        u = self.u_decide()
        if u < approve:
            self._decide(app, APPROVED)
        elif u < approve + refuse:
            self._decide(app, REFUSED)
        else:
            self._shelve(app, approve)

    def _rfi_back(self, app: Application) -> None:
        if app.state == RFI:
            self._touch()
            self._enqueue(app)

    # ------------------------------------------------------------------ decisions

    def decision_probabilities(self, app: Application) -> tuple[float, float]:
        """(approve, refuse) for this application under the rules in force now."""
        key = (app.destination, app.sector, app.end_use, app.material)
        hit = self._decision_cache.get(key)
        if hit is not None:
            return hit
        approve, refuse = self.default_approve, self.default_refuse
        for r in self.rules:
            if (
                (r.destination is None or r.destination == app.destination)
                and (r.sector is None or r.sector == app.sector)
                and (r.end_use is None or r.end_use == app.end_use)
                and (r.material is None or r.material == app.material)
            ):
                approve, refuse = r.approve, r.refuse
                break
        factor = self.approve_factor.get(app.destination, self.approve_factor.get(None, 1.0))
        approve = min(approve * factor, 1.0 - refuse)
        self._decision_cache[key] = (approve, refuse)
        return approve, refuse

    def _decide(self, app: Application, outcome: int) -> None:
        app.state = CLOSED
        app.outcome = outcome
        app.decided = self.env._now
        self.open -= 1
        self.on_decision(app)

    def release_material(self, material: str) -> None:
        """Controls lifted: every open file for `material` is approved now."""
        self._touch()
        for app in self.applications:
            if app.state != CLOSED and app.material == material:
                if app.state == QUEUED:
                    self.queued -= 1
                # a file in review is closed now; its reviewer finds it closed and moves on
                self._decide(app, APPROVED)

    # ------------------------------------------------------------------ pending shelf

    def _advance_hazard(self) -> None:
        now = self.env._now
        rate = 0.0 if self.suspended else self.pending_rate
        self._hazard += rate * (now - self._hazard_t)
        self._hazard_t = now

    def _shelve(self, app: Application, approve: float) -> None:
        app.state = SHELF
        if approve <= 0.0:
            return  # never approved later: stays pending
        self._advance_hazard()
        threshold = self._hazard + self.e_pending() / approve
        self._seq += 1
        heapq.heappush(self._shelf, (threshold, self._seq, app))
        if self._shelf[0][2] is app:
            self._arm_shelf()

    def _arm_shelf(self) -> None:
        """Schedule the next pending approval under the current hazard rate."""
        self._shelf_version += 1
        rate = 0.0 if self.suspended else self.pending_rate
        while self._shelf and self._shelf[0][2].state != SHELF:
            heapq.heappop(self._shelf)
        if not self._shelf or rate <= 0.0:
            return
        delay = max(0.0, (self._shelf[0][0] - self._hazard) / rate)
        self._at(delay, self._shelf_fire, self._shelf_version)

    def _shelf_fire(self, version: int) -> None:
        if version != self._shelf_version:
            return
        self._advance_hazard()
        self._touch()
        while self._shelf and self._shelf[0][0] <= self._hazard + 1e-12:
            app = heapq.heappop(self._shelf)[2]
            if app.state == SHELF:
                self._decide(app, APPROVED)
        self._arm_shelf()

    # ------------------------------------------------------------------ policy hooks

    def set_pending_rate(self, rate: float) -> None:
        self._advance_hazard()
        self.pending_rate = rate
        self._arm_shelf()

    def set_decision(self, approve_factor: float | None, destinations: list[str] | None,
                     rules: list[DecisionRule] | None) -> None:
        if rules is not None:
            self.rules = list(rules)
        if approve_factor is not None:
            for d in destinations if destinations is not None else [None]:
                self.approve_factor[d] = approve_factor
        self._decision_cache.clear()

    def set_review_time(self, dist: Distribution | None, rfi_probability: float | None) -> None:
        if dist is not None:
            self.review_time = Sampler(dist, self._review_rng)
        if rfi_probability is not None:
            if rfi_probability > 0 and self.rfi_response is None:
                raise ValueError("information requests need authority.information_requests."
                                 "response_days")
            self.rfi_p = rfi_probability

    def suspend(self, on: bool) -> None:
        self._advance_hazard()
        self.suspended = on
        if not on:
            self._serve()
        self._arm_shelf()

    def grant_general_licence(self, spec: GeneralLicence) -> None:
        sampler = Sampler(spec.processing_days, self._general_rng)
        self.grants.append(_Grant(spec, self.env._now + spec.valid_days, sampler))

    # ------------------------------------------------------------------ helpers

    def _at(self, delay: float, fn: Callable, arg: object) -> None:
        ev = Timeout(self.env, delay)
        ev.callbacks.append(lambda _e: fn(arg))

    def finish(self) -> None:
        """Close the time-weighted statistics at the end of the run."""
        self._touch()


class _Exp1:
    """Standard exponential variates, for pending-approval clocks."""

    expected = 1.0

    def sample(self, rng, size):  # noqa: ANN001, ANN201
        return rng.standard_exponential(size)


_EXP1 = _Exp1()
