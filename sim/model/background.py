"""Other buyers: licence applications from destinations and buyers not modelled as firms,
a Poisson stream that competes with the firms' files for the same reviewers."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import simpy

from ..config.responses import OrderingAhead
from ..config.schema import BackgroundConfig
from .authority import Authority
from .clock import NORMAL, Due, now, post, post_call
from .deferred import DeferredDemand
from .licensing import Licensing
from .records import APPROVED, ExportLog
from .rng import Sampler, Streams, UniformSampler


class _Exponential:
    """Exp(mean) variates for Poisson inter-arrival times."""

    def __init__(self, mean: float) -> None:
        self.mean = mean

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean, size)


class Choice:
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


STEP = 1e-6  # days: the least delay to the next look ahead (a clock that moves on)


class LeadTimeWatch:
    """Other buyers' estimate of the licence lead time, and how far ahead of need they
    file (`authority.background.ordering_ahead`).

    It is told of every background file's decision (passing it on to the deferred demand,
    if any): an approved file adds its filing-to-decision time to the day's sum. Once a
    day the estimate moves towards the day's mean by 1 - exp(-1 / memory_days) (an
    exponential average over time; a day with no approval leaves it). `ahead()` is
    `anticipation` times the estimate, at most `max_days`."""

    def __init__(self, env: simpy.Environment, cfg: OrderingAhead, authority: Authority,
                 deferred: DeferredDemand | None) -> None:
        self.env = env
        self.apps = authority.apps
        self.deferred = deferred
        self.anticipation = cfg.anticipation
        self.max_days = cfg.max_days
        self.alpha = -math.expm1(-1.0 / cfg.memory_days)
        self.lead = 0.0  # the buyers' estimate, calendar days
        self._sum = 0.0
        self._n = 0
        self.filed_ahead = 0  # licence files filed before the day their shipment is needed
        self.days_ahead = 0.0  # their days ahead, summed
        if deferred is not None:
            deferred.applicant = self
        post_call(env, 1.0, self._tick, None)

    def filed(self, i: int) -> None:
        """Background row `i` was just added: this object is told of its decision."""
        if self.deferred is not None:
            self.deferred.filed(i)
        self.apps.applicant[i] = self

    def decided(self, i: int) -> None:
        t = self.apps
        if t.outcome[i] == APPROVED:
            self._sum += t.decided[i] - t.submitted[i]
            self._n += 1
        if self.deferred is not None:
            self.deferred.decided(i)

    def _tick(self, _arg: object) -> None:
        if self._n:
            self.lead += self.alpha * (self._sum / self._n - self.lead)
            self._sum, self._n = 0.0, 0
        post_call(self.env, 1.0, self._tick, None)

    def ahead(self) -> float:
        """Days ahead of need that buyers file now."""
        return min(self.anticipation * self.lead, self.max_days)


def start_background(env: simpy.Environment, bg: BackgroundConfig, streams: Streams,
                     authority: Authority, licensing: Licensing,
                     exports: ExportLog) -> tuple[DeferredDemand | None, LeadTimeWatch | None]:
    """Start the Poisson arrivals of other buyers' shipments: each arrival is one posted call
    whose callback files the application (or exports at once if no licence is needed) and
    schedules the next arrival.

    Each arrival's call carries its own time, `t + gap` from the one before: SimPy schedules
    a call at the clock's now plus its delay, the same sum, so it is the clock's now when
    the call runs (tests/test_clock.py checks this), and no arrival reads the clock.

    Arrivals do not depend on anything the model does, so the k-th arrival takes the k-th
    draw of each of its streams (gap, quantity, material, destination, end use, transition
    exemption) in every variant; its licence file's steps are row k of the keyed table
    ``file.background.1``, so they too stay with it whatever the queue does.

    With `bg.deferred`, a DeferredDemand is every file's applicant (what its buyer does
    after a refusal or a long wait). With `bg.ordering_ahead`, arrivals are the days the
    shipments are needed: a shipment is filed as soon as its day is within the buyers'
    `LeadTimeWatch.ahead()` of now (checked at each need and daily while it is above 0),
    and one that needs no licence leaves on its day. Both are returned (None if off)."""
    gap = Sampler(_Exponential(1.0 / bg.rate_per_day), streams("background.arrivals")).next
    qty = Sampler(bg.quantity_kg, streams("background.quantity")).next
    material = Choice(bg.materials, streams("background.material")).next
    dest = Choice(bg.destinations, streams("background.destination")).next
    u_mil = UniformSampler(streams("background.end_use")).next
    u_exempt = UniformSampler(streams("background.exempt")).next
    files = streams.keys("file.background.1", authority.steps, block=1024)
    next_key = itertools.count().__next__  # the arrival's number
    mil = bg.military_share
    priority = licensing.priority
    add = authority.apps.add
    receive = authority.receive
    record = exports.record
    schedule = env.schedule
    deferred = (DeferredDemand(env, bg.deferred, streams.keys, authority, licensing, exports)
                if bg.deferred is not None else None)
    filed = deferred.filed if deferred is not None else None

    def arrive(due: Due) -> None:
        t: float = due._value  # the arrival's time, which is the clock's now
        m, d, q = material(), dest(), qty()
        end_use = "military" if mil > 0.0 and u_mil() < mil else "civil"
        k = next_key()
        if licensing.needs(m, u_exempt(), t):
            i = add(m, d, q, priority[d], t, files, k, end_use)
            if filed is not None:
                filed(i)
            receive(i)
        else:
            record(t, d, m, q)
        # post(env, g, arrive, t + g), inlined: exponential gaps are never negative
        g = gap()
        schedule(Due(arrive, t + g), NORMAL, g)  # type: ignore[arg-type]

    if bg.ordering_ahead is None:
        g = gap()
        post(env, g, arrive, now(env) + g)
        return deferred, None

    watch = LeadTimeWatch(env, bg.ordering_ahead, authority, deferred)
    filed = watch.filed
    ahead = watch.ahead
    need_at = [now(env) + gap()]  # the day the next shipment is needed

    def wake(_arg: object) -> None:
        t = now(env)
        a = ahead()
        need = need_at[0]
        while need - a <= t:
            m, d, q = material(), dest(), qty()
            end_use = "military" if mil > 0.0 and u_mil() < mil else "civil"
            k = next_key()
            if licensing.needs(m, u_exempt(), t):
                i = add(m, d, q, priority[d], t, files, k, end_use)
                filed(i)
                receive(i)
                if need > t:
                    watch.filed_ahead += 1
                    watch.days_ahead += need - t
            else:
                record(max(need, t), d, m, q)
            need += gap()
        need_at[0] = need
        # next check: when the next need comes within reach, or tomorrow if buyers look
        # ahead (their reach may grow before then); never at the same time again
        delay = max(need - a - t, STEP)
        post_call(env, delay if a <= 0.0 else min(delay, 1.0), wake, None)

    post_call(env, need_at[0], wake, None)
    return deferred, watch
