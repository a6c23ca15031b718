"""The model's contract with SimPy (sim/model/clock.py): posted calls are ordered exactly as
Timeouts of the same delays, ties included; the clock attribute the model reads is the
public `now`; the event count is what was processed. A SimPy release that changed any of
these would fail here rather than silently change results (pyproject pins simpy < 5)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.clock import events_processed, now, post, post_call

# A schedule: at t = 0, create events with these delays; when event k fires, it creates
# children[k] more (delays relative to then). Delays come from a small set so ties abound.
DELAYS = st.sampled_from([0.0, 0.0, 0.5, 1.0, 1.0, 2.0])
SCHEDULES = st.tuples(
    st.lists(DELAYS, min_size=1, max_size=12),
    st.lists(st.lists(DELAYS, max_size=3), min_size=0, max_size=12),
    st.lists(st.booleans(), min_size=40, max_size=40),  # which events are posted calls
)


def _firing_order(first: list[float], children: list[list[float]], posted: list[bool],
                  use_post: bool) -> list[tuple[float, int]]:
    """Run the schedule; each event is a Timeout with a callback, or (where `posted` says,
    with `use_post`) a posted call. Returns (time, label) in firing order."""
    env = simpy.Environment()
    fired: list[tuple[float, int]] = []
    counter = iter(range(10_000))

    def make(delay: float) -> None:
        label = next(counter)

        def fire(_arg: object) -> None:
            assert env._now == env.now == now(env)  # the clock the model reads
            fired.append((env.now, label))
            if label < len(children):
                for d in children[label]:
                    make(d)

        if use_post and posted[label % len(posted)]:
            post_call(env, delay, fire, None)
        else:
            ev = simpy.Timeout(env, delay)
            ev.callbacks.append(fire)

    def process(env: simpy.Environment):  # noqa: ANN202 - a generator process among them
        yield env.timeout(1.0)
        fired.append((env.now, -1))

    env.process(process(env))
    for d in first:
        make(d)
    env.run()
    return fired


@settings(max_examples=300, deadline=None)
@given(SCHEDULES)
def test_posted_calls_fire_in_the_order_of_timeouts(schedule) -> None:  # noqa: ANN001
    first, children, posted = schedule
    assert (_firing_order(first, children, posted, use_post=True)
            == _firing_order(first, children, posted, use_post=False))


def test_ties_fire_in_the_order_they_were_scheduled() -> None:
    env = simpy.Environment()
    fired: list[str] = []
    note: Callable[[str], None] = fired.append
    post_call(env, 1.0, note, "a")
    t = simpy.Timeout(env, 1.0)
    t.callbacks.append(lambda _e: fired.append("b"))
    post_call(env, 1.0, note, "c")
    post_call(env, 0.0, note, "d")
    env.run()
    assert fired == ["d", "a", "b", "c"]


def test_events_processed_counts_what_ran() -> None:
    env = simpy.Environment()
    calls: list[float] = []
    for d in (0.5, 1.0, 2.0, 7.0, 9.0):  # 3 before the horizon, 2 after
        post(env, d, lambda due: calls.append(env.now))
    env.run(until=5.0)
    # the three calls, and the event `run(until=...)` schedules to stop at the horizon
    assert calls == [0.5, 1.0, 2.0]
    assert events_processed(env) == 3 + 1


def test_a_posted_call_that_raises_stops_the_run() -> None:
    env = simpy.Environment()

    def boom(_arg: object) -> None:
        raise ZeroDivisionError("boom")

    post_call(env, 1.0, boom, None)
    with pytest.raises(ZeroDivisionError):
        env.run()


@pytest.mark.parametrize("delay", [-1.0, float("nan")])
def test_time_never_runs_backwards(delay: float) -> None:
    with pytest.raises(ValueError, match="delay must be >= 0"):
        post(simpy.Environment(), delay, lambda due: None)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.0, 50.0, allow_nan=False), min_size=1, max_size=40))
def test_a_call_fires_at_the_sum_of_now_and_its_delay(gaps: list[float]) -> None:
    """A chain of posted calls, each carrying the time `t + gap` it was posted for (as the
    background arrivals do), fires exactly then: SimPy adds the delay to its clock the same
    way, so the carried time and the clock agree to the last bit."""
    env = simpy.Environment()
    seen: list[tuple[float, float]] = []
    todo = iter(gaps[1:])

    def fire(due) -> None:  # noqa: ANN001 - a clock.Due
        seen.append((due._value, now(env)))
        g = next(todo, None)
        if g is not None:
            post(env, g, fire, due._value + g)

    post(env, gaps[0], fire, now(env) + gaps[0])
    env.run()
    assert len(seen) == len(gaps)
    assert all(carried == clock for carried, clock in seen)
