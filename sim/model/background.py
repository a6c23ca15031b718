"""Other buyers: licence applications from destinations and buyers not modelled as firms,
a Poisson stream that competes with the firms' files for the same reviewers."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import simpy

from ..config.schema import BackgroundConfig
from .authority import Authority
from .clock import NORMAL, Due, now, post
from .deferred import DeferredDemand
from .licensing import Licensing
from .records import ExportLog
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


def start_background(env: simpy.Environment, bg: BackgroundConfig, streams: Streams,
                     authority: Authority, licensing: Licensing,
                     exports: ExportLog) -> DeferredDemand | None:
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
    after a refusal or a long wait); it is returned, else None."""
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

    g = gap()
    post(env, g, arrive, now(env) + g)
    return deferred
