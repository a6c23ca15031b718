"""The licensing authority: acceptance, a queue served by reviewer processes, decisions.

The queue is a deque (FIFO), or one deque per priority class served lowest class first
(FIFO within a class), so adding or taking a file costs O(1) however long the backlog is.
A reviewer takes the next file, holds it for its review time (working days mapped to
calendar days) and decides; the review is one call posted on SimPy's event queue
(clock.py) that decides and hands the reviewer the next file. A file that arrives while
a reviewer is free starts review at once, so a file costs two events (arrival, end of
review) and an idle reviewer none.
Files are rows of an `ApplicationTable` (see records.py): the queue holds row numbers.

A reviewed file is approved, refused, or left *pending* (in the 2025 regime most files
that were not approved were left pending). Pending files sit on a shelf and are approved
later at a hazard rate (per calendar day, scaled by their class's approval probability),
which policy events can change: this is the time-varying approval hazard.
"""

from __future__ import annotations

import heapq
import math
from bisect import insort
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import simpy

from ..config.distributions import Distribution
from ..config.schema import AuthorityConfig, DecisionRule, GeneralLicence
from .calendar import WorkingCalendar
from .clock import NORMAL, Due, post, post_call
from .records import (
    APPROVED,
    CLOSED,
    DECIDE,
    GENERAL_DAYS,
    PENDING,
    PRE_DAYS,
    QUEUED,
    REFUSED,
    REVIEW,
    RFI,
    ROUND,
    SHELF,
    WITHDRAWN,
    Application,
    ApplicationTable,
    attempt_steps,
)
from .rng import Streams


class _Grant:
    """An active general licence."""

    __slots__ = ("spec", "until")

    def __init__(self, spec: GeneralLicence, until: float) -> None:
        self.spec = spec
        self.until = until

    def matches(self, t: ApplicationTable, i: int) -> bool:
        s = self.spec
        if s.destinations is not None and t.destination[i] not in s.destinations:
            return False
        if s.materials is not None and t.material[i] not in s.materials:
            return False
        if s.sectors is not None and t.sector[i] not in s.sectors:
            return False
        firm = t.firm[i]
        if s.firms is not None and (firm is None or firm.name not in s.firms):
            return False
        return True


class DecisionListener(Protocol):
    """Who filed an application and is told of its decision (its row's `applicant`)."""

    def decided(self, i: int) -> None: ...


class Authority:
    """Receives applications, reviews them with a changing pool of reviewers, decides.

    Every random step of a file (pre-acceptance, each review, information request and
    response, the decision, the pending clock) takes its uniform from the file's own row of
    keyed uniforms (`ApplicationTable.draws` / `key`, columns in records.py), mapped through
    the distribution in force when the step happens: a file's numbers do not depend on
    which files came before it, so levers that reorder the queue keep them.

    When a file is approved or refused, the row's `applicant` (a DecisionListener, set
    by whoever filed it) is told; other buyers' files have none and need nothing more.
    """

    def __init__(self, env: simpy.Environment, calendar: WorkingCalendar, cfg: AuthorityConfig,
                 streams: Streams) -> None:
        self.env = env
        self.cal = calendar
        self._all_days = calendar.identity
        self.cfg = cfg
        self.pre_acceptance = cfg.pre_acceptance
        self.review_time: Distribution = cfg.review_time
        rfi = cfg.information_requests
        self.rfi_p = rfi.probability
        self.rfi_max = rfi.max_rounds
        self.rfi_response = rfi.response_days
        self.steps = attempt_steps(rfi.max_rounds)  # columns of a file's keyed row
        self._manual = streams.keys("manual", self.steps)  # files given to `submit`

        # Decision state (changed by policy events).
        self.default_approve = cfg.decision.approve
        self.default_refuse = cfg.decision.refuse
        self.rules: list[DecisionRule] = list(cfg.decision.rules)
        # factors on approval by (destination, end use); None matches any
        self.approve_factor: dict[tuple[str | None, str | None], float] = {}
        self._decision_cache: dict[tuple[str, str, str, str], tuple[float, float]] = {}
        self._uniform_decision: tuple[float, float] | None = None
        self._refresh_decision()
        self.grants: list[_Grant] = []

        # Files: one row each; the queue holds row numbers.
        self.apps = ApplicationTable()
        self.fifo = cfg.discipline == "fifo"
        self._deque: deque[int] = deque()
        self._classes: dict[int, deque[int]] = {}  # priority class -> its files, in order
        self._class_order: list[int] = []  # classes present, lowest (served first) first
        self._seq = 0
        self.queued = 0  # live files waiting for a reviewer
        self.suspended = False

        # Pending shelf: heap of (threshold in cumulative base hazard, seq, row).
        self.pending_rate = cfg.decision.pending_approval_rate_per_day
        self._shelf: list[tuple[float, int, int]] = []
        self._hazard = 0.0  # cumulative base hazard H(t)
        self._hazard_t = 0.0
        self._shelf_version = 0

        # Time-weighted statistics.
        self.open = 0  # submitted and not decided (the backlog)
        self.open_max = 0
        self._last = 0.0
        self.area_open = 0.0
        self.area_queue = 0.0
        self.area_busy = 0.0
        self.area_capacity = 0.0
        # One bound method each, not one per file.
        self._schedule = env.schedule
        self._on_review_done = self._review_done
        self._on_accepted = self._accepted

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
        """A hand-made application arrives now: it gets a row (and reads from it)."""
        t = self.apps
        f = app._fields
        i = t.add(f["material"], f["destination"], f["kg"], f["priority"], self.env._now,
                  self._manual, self._manual.take(), f["end_use"])
        for name in ("id", "firm", "sector", "attempt", "shipment"):
            getattr(t, name)[i] = f[name]
        app.bind(t, i)
        self.receive(i)

    def receive(self, i: int) -> None:
        """Application row `i` (a new file or a new attempt) arrives at the authority now."""
        now = self.env._now
        dt = now - self._last
        if dt > 0.0:  # _touch(), inlined: this runs for every file
            self.area_open += self.open * dt
            self.area_queue += self.queued * dt
            self.area_busy += self.busy * dt
            self.area_capacity += self.target * dt
            self._last = now
        self.open += 1
        if self.open > self.open_max:
            self.open_max = self.open
        if self.grants and self._general(i):
            return
        if self.pre_acceptance is None:
            self.apps.accepted[i] = now
            self._enqueue(i)
        else:
            t = self.apps
            days = t.draws[i].variate(t.key[i], PRE_DAYS, self.pre_acceptance)
            post(self.env, self.cal.add(now, days) - now, self._on_accepted, i)

    def _general(self, i: int) -> bool:
        """Process file `i` under a general licence in force now, if one covers it."""
        now = self.env._now
        t = self.apps
        for grant in self.grants:
            if grant.until > now and grant.matches(t, i):
                t.general[i] = True
                t.accepted[i] = now
                t.review_start[i] = now
                days = t.draws[i].variate(t.key[i], GENERAL_DAYS, grant.spec.processing_days)
                done = self.cal.add(now, days)
                t.review[i] = done - now
                self._at(done - now, self._general_done, i)
                return True
        return False

    def _accepted(self, due: Due) -> None:
        """End of pre-acceptance (a posted call whose value is the row): into the queue."""
        i: int = due._value
        t = self.apps
        if t.state[i] != CLOSED:  # not released meanwhile (controls lifted)
            self._touch()
            t.accepted[i] = self.env._now
            self._enqueue(i)

    def _general_done(self, i: int) -> None:
        if self.apps.state[i] != CLOSED:
            self._touch()
            self._decide(i, APPROVED)

    def _enqueue(self, i: int) -> None:
        t = self.apps
        t.enqueued_at[i] = self.env._now
        if self.busy < self.target and not self.suspended:
            # A reviewer is free, so no live file is waiting (each change of the counts
            # serves the queue at once): this one is next, and need not be queued.
            self.queued += 1
            self._begin(i)
            return
        t.state[i] = QUEUED
        self.queued += 1
        if self.fifo:
            self._deque.append(i)
        else:
            p = t.priority[i]
            q = self._classes.get(p)
            if q is None:
                q = self._classes[p] = deque()
                insort(self._class_order, p)
            q.append(i)

    def _take(self) -> int | None:
        """The next live file in queue order, or None."""
        state = self.apps.state
        while True:
            if self.fifo:
                if not self._deque:
                    return None
                i = self._deque.popleft()
            else:
                for p in self._class_order:
                    q = self._classes[p]
                    while q and state[q[0]] != QUEUED:
                        q.popleft()  # closed while waiting (controls lifted)
                    if q:
                        break
                else:
                    return None
                i = q.popleft()
            if state[i] == QUEUED:
                return i

    # ------------------------------------------------------------------ reviewers

    def set_reviewers(self, count: int) -> None:
        """Change the number of reviewers; extra ones stop after their current file."""
        self._touch()
        self.target = count
        self._serve()

    def _serve(self) -> None:
        """Hand waiting files to free reviewers, in queue order."""
        state = self.apps.state
        dq = self._deque
        while self.busy < self.target and not self.suspended:
            if self.fifo:  # _take(), inlined for the common discipline
                while dq and state[dq[0]] != QUEUED:
                    dq.popleft()
                if not dq:
                    return
                self._begin(dq.popleft())
            else:
                i = self._take()
                if i is None:
                    return
                self._begin(i)

    def _begin(self, i: int) -> None:
        """A reviewer takes file `i` now and holds it for its review time (working days)."""
        env = self.env
        now = env._now
        t = self.apps
        self.queued -= 1
        self.busy += 1
        t.state[i] = REVIEW
        t.wait[i] += now - t.enqueued_at[i]
        if t.review_start[i] != t.review_start[i]:  # NaN: first review
            t.review_start[i] = now
        days = t.draws[i].variate(t.key[i], ROUND + 3 * t.rfi_rounds[i], self.review_time)
        if self._all_days:  # working days are calendar days (cal.add without its checks)
            duration = (now + days) - now
        else:
            duration = self.cal.add(now, days) - now
        t.review_now[i] = duration
        # post(env, duration, ...), inlined: this runs for every review, and the duration
        # is never negative (review times are checked non-negative; cal.add never goes back)
        self._schedule(Due(self._on_review_done, i), NORMAL, duration)

    def _review_done(self, ev: Due) -> None:
        """End of a review (a posted call whose value is the row)."""
        i: int = ev._value
        now = self.env._now
        dt = now - self._last
        if dt > 0.0:  # _touch(), inlined: this runs for every review
            self.area_open += self.open * dt
            self.area_queue += self.queued * dt
            self.area_busy += self.busy * dt
            self.area_capacity += self.target * dt
            self._last = now
        self.busy -= 1
        t = self.apps
        t.review[i] += t.review_now[i]
        if t.state[i] == REVIEW:  # not closed meanwhile (controls lifted)
            self._reviewed(i)
        if self.queued:  # live files waiting
            self._serve()

    def _reviewed(self, i: int) -> None:
        t = self.apps
        draws, key = t.draws[i], t.key[i]
        r = t.rfi_rounds[i]
        if self.rfi_p > 0.0 and r < self.rfi_max and draws.u(key, ROUND + 3 * r + 1) < self.rfi_p:
            t.rfi_rounds[i] = r + 1
            t.state[i] = RFI
            self._at(draws.variate(key, ROUND + 3 * r + 2, self.rfi_response),  # type: ignore[arg-type]
                     self._rfi_back, i)
            return
        approve, refuse = self._uniform_decision or self.decision_probabilities(i)
        d = draws.u(key, DECIDE)
        if d < approve:
            # _decide(i, APPROVED), inlined: most reviews end here
            t.state[i] = CLOSED
            t.outcome[i] = APPROVED
            t.decided[i] = self.env._now
            self.open -= 1
            applicant = t.applicant[i]
            if applicant is not None:
                applicant.decided(i)
        elif d < approve + refuse:
            self._decide(i, REFUSED)
        else:
            self._shelve(i, approve, draws.u(key, PENDING))

    def _rfi_back(self, i: int) -> None:
        if self.apps.state[i] == RFI:
            self._touch()
            self._enqueue(i)

    # ------------------------------------------------------------------ decisions

    def decision_probabilities(self, i: int) -> tuple[float, float]:
        """(approve, refuse) for application row `i` under the rules in force now."""
        t = self.apps
        destination, sector, end_use, material = (
            t.destination[i], t.sector[i], t.end_use[i], t.material[i])
        key = (destination, sector, end_use, material)
        hit = self._decision_cache.get(key)
        if hit is not None:
            return hit
        approve, refuse = self.default_approve, self.default_refuse
        for r in self.rules:
            if (
                (r.destination is None or r.destination == destination)
                and (r.sector is None or r.sector == sector)
                and (r.end_use is None or r.end_use == end_use)
                and (r.material is None or r.material == material)
            ):
                approve, refuse = r.approve, r.refuse
                break
        f = self.approve_factor
        factor = f.get((destination, end_use), f.get((destination, None), f.get(
            (None, end_use), f.get((None, None), 1.0))))
        approve = min(approve * factor, 1.0 - refuse)
        self._decision_cache[key] = (approve, refuse)
        return approve, refuse

    def _refresh_decision(self) -> None:
        """With no rules and no destination-specific factor, every file has the same
        probabilities: keep them, so deciding needs no look-up."""
        self._decision_cache.clear()
        self._uniform_decision = None
        if not self.rules and set(self.approve_factor) <= {(None, None)}:
            factor = self.approve_factor.get((None, None), 1.0)
            self._uniform_decision = (min(self.default_approve * factor,
                                          1.0 - self.default_refuse), self.default_refuse)

    def _decide(self, i: int, outcome: int) -> None:
        t = self.apps
        t.state[i] = CLOSED
        t.outcome[i] = outcome
        t.decided[i] = self.env._now
        self.open -= 1
        # Background files (no applicant) need nothing more: their exports are read from
        # the table at the end.
        applicant = t.applicant[i]
        if applicant is not None:
            applicant.decided(i)

    def release_material(self, material: str) -> None:
        """Controls lifted: every open file for `material` is approved now."""
        self._touch()
        t = self.apps
        state, mat = t.state, t.material
        for i in range(t.n):
            if state[i] != CLOSED and mat[i] == material:
                if state[i] == QUEUED:
                    self.queued -= 1
                # a file in review is closed now; its reviewer finds it closed and moves on
                self._decide(i, APPROVED)

    def withdraw(self, i: int) -> None:
        """Its applicant withdraws open file `i` now: it leaves the queue, the shelf or
        its review (the reviewer finds it closed and moves on), decided as withdrawn."""
        self._touch()
        t = self.apps
        if t.state[i] == QUEUED:
            self.queued -= 1
        t.state[i] = CLOSED
        t.outcome[i] = WITHDRAWN
        t.decided[i] = self.env._now
        self.open -= 1

    # ------------------------------------------------------------------ pending shelf

    def _advance_hazard(self) -> None:
        now = self.env._now
        rate = 0.0 if self.suspended else self.pending_rate
        self._hazard += rate * (now - self._hazard_t)
        self._hazard_t = now

    def _shelve(self, i: int, approve: float, u: float) -> None:
        """Put file `i` on the pending shelf; its clock is the standard exponential
        -log(1 - u) of its own uniform `u`, scaled by its approval probability."""
        self.apps.state[i] = SHELF
        if approve <= 0.0:
            return  # never approved later: stays pending
        self._advance_hazard()
        threshold = self._hazard + -math.log1p(-u) / approve
        self._seq += 1
        heapq.heappush(self._shelf, (threshold, self._seq, i))
        if self._shelf[0][2] == i:
            self._arm_shelf()

    def _arm_shelf(self) -> None:
        """Schedule the next pending approval under the current hazard rate."""
        self._shelf_version += 1
        rate = 0.0 if self.suspended else self.pending_rate
        state = self.apps.state
        while self._shelf and state[self._shelf[0][2]] != SHELF:
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
        state = self.apps.state
        while self._shelf and self._shelf[0][0] <= self._hazard + 1e-12:
            i = heapq.heappop(self._shelf)[2]
            if state[i] == SHELF:
                self._decide(i, APPROVED)
        self._arm_shelf()

    # ------------------------------------------------------------------ policy hooks

    def set_pending_rate(self, rate: float) -> None:
        self._advance_hazard()
        self.pending_rate = rate
        self._arm_shelf()

    def set_decision(self, approve_factor: float | None, destinations: list[str] | None,
                     rules: list[DecisionRule] | None, end_use: str | None = None) -> None:
        if rules is not None:
            self.rules = list(rules)
        if approve_factor is not None:
            for d in destinations if destinations is not None else [None]:
                self.approve_factor[d, end_use] = approve_factor
        self._refresh_decision()

    def set_review_time(self, dist: Distribution | None, rfi_probability: float | None) -> None:
        if dist is not None:
            self.review_time = dist  # later reviews map their uniforms through it
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
        self.grants.append(_Grant(spec, self.env._now + spec.valid_days))

    # ------------------------------------------------------------------ helpers

    def _at(self, delay: float, fn: Callable[[Any], None], arg: object) -> None:
        post_call(self.env, delay, fn, arg)

    def finish(self) -> None:
        """Close the time-weighted statistics at the end of the run."""
        self._touch()

    def areas(self) -> tuple[float, float, float, float]:
        """Time integrals so far of the backlog, the queue, busy reviewers and reviewers
        (file-days), brought up to now."""
        self._touch()
        return self.area_open, self.area_queue, self.area_busy, self.area_capacity

