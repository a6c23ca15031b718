"""Scheduled calls on SimPy's event queue, without building a full `Timeout` each.

A model callback ("decide file 17 in 3.2 days") needs no yield, no value protocol and no
failure handling, only to be called by `Environment.step` at its time. `post` pushes a
two-slot `Due` onto the environment's heap with the key `Environment.schedule` gives a
`Timeout` -- (time, NORMAL, next event id) -- so the order of events, and every result,
is the same as with `Timeout(env, delay, value).callbacks.append(fn)`, at about half the
cost per event. `step` reads only `callbacks` and `_ok` of what it pops (simpy 4).
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
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
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), Due(callback, value)))


def call(due: Due) -> None:
    """Callback of a call posted with value (function, argument): function(argument)."""
    fn, arg = due._value
    fn(arg)


def post_call(env: simpy.Environment, delay: float, fn: Callable[[Any], None],
              arg: Any) -> None:
    """Call `fn(arg)` after `delay` (>= 0) time units."""
    post(env, delay, call, (fn, arg))
