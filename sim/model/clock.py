"""Scheduled calls on SimPy's event queue, and the model's whole contract with SimPy.

A model callback ("decide file 17 in 3.2 days") needs no yield, no value protocol and no
failure handling, only to be called by `Environment.step` at its time. `post` schedules a
two-slot `Due` through the public `Environment.schedule` with a `Timeout`'s priority, so
it gets the key a `Timeout` of the same delay would -- (time, NORMAL, next event id) --
and the order of events, and every result, is the same as with
`Timeout(env, delay, value).callbacks.append(fn)`, at about half the cost per event.

What this relies on beyond SimPy's documented API (simpy 4; `pyproject.toml` pins
`simpy>=4.1,<5`, and tests/test_clock.py checks each point, so a release that changed
one fails the tests instead of the results):

- `Environment.step` reads only `callbacks` and `_ok` of what it pops, so a `Due` need
  not be an `Event`;
- the time is read as `env._now`, the attribute `Environment.now` returns (through the
  property it costs about 7% more instructions per baseline replication): by `now` here,
  and directly only on the authority's measured hot path;
- `events_processed` reads the event-id counter `env._eid` and the heap `env._queue`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy

NORMAL = 1  # simpy.events.NORMAL: the priority of a Timeout


class Due:
    """A scheduled call: `callback(due)` at its time, with `due._value` its argument."""

    __slots__ = ("callbacks", "_value")
    _ok = True  # never fails: `step` raises only for events with _ok False

    def __init__(self, callback: Callable[[Due], None], value: Any) -> None:
        self.callbacks: list[Callable[[Due], None]] | None = [callback]
        self._value = value


def post(env: simpy.Environment, delay: float, callback: Callable[[Due], None],
         value: Any = None) -> None:
    """Call `callback(due)` after `delay` (>= 0) time units; `due._value` is `value`."""
    if not delay >= 0.0:  # also NaN: time must not run backwards
        raise ValueError(f"delay must be >= 0, got {delay}")
    env.schedule(Due(callback, value), NORMAL, delay)  # type: ignore[arg-type]


def now(env: simpy.Environment) -> float:
    """The current simulated time (days): `env.now` without the property's cost."""
    return env._now


def call(due: Due) -> None:
    """Callback of a call posted with value (function, argument): function(argument)."""
    fn, arg = due._value
    fn(arg)


def post_call(env: simpy.Environment, delay: float, fn: Callable[[Any], None],
              arg: Any) -> None:
    """Call `fn(arg)` after `delay` (>= 0) time units."""
    post(env, delay, call, (fn, arg))


def events_processed(env: simpy.Environment) -> int:
    """Events processed so far: every event scheduled is numbered, and those still queued
    were never processed. For the end of a run: it uses up an event id."""
    return next(env._eid) - len(env._queue)
