"""Events per second: one baseline replication, the M/M/5 config at a long horizon, and a
bare textbook SimPy M/M/5 loop, all in the same process (so the ratios are fair).

    python tests/benchmarks/bench_events.py [--horizon 50000] [--repeat 3]

Not part of the test run; prints a small table. Wall times include building the result
tables; the bare loop records nothing but the waits.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import simpy

import sim

ROOT = Path(__file__).resolve().parents[2]


def bare_simpy_mmc(horizon: float, rate: float = 4.0, servers: int = 5, mean: float = 1.0,
                   seed: int = 1) -> tuple[int, float]:
    """The textbook model: an arrival process, one process per customer that requests a
    Resource and holds it for an exponential service time. Returns (events, mean wait)."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    res = simpy.Resource(env, servers)
    waits: list[float] = []

    def customer(env: simpy.Environment, service: float):  # noqa: ANN202
        arrive = env.now
        with res.request() as req:
            yield req
            waits.append(env.now - arrive)
            yield env.timeout(service)

    def arrivals(env: simpy.Environment):  # noqa: ANN202
        gaps = rng.exponential(1 / rate, 1 << 20).tolist()
        services = rng.exponential(mean, 1 << 20).tolist()
        i = 0
        while True:
            yield env.timeout(gaps[i])
            env.process(customer(env, services[i]))
            i += 1

    env.process(arrivals(env))
    env.run(until=horizon)
    events = next(env._eid) - len(env._queue)
    return events, float(np.mean(waits))


def timed(fn, repeat: int):  # noqa: ANN001, ANN202
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), max(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--horizon", type=float, default=50000.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    base = sim.load_config(ROOT / "configs" / "baseline.toml")
    mmc = sim.load_config(ROOT / "configs" / "mmc.toml", [f"horizon_days={args.horizon}"])
    sim.simulate(base, 0)  # warm imports
    rows = []
    med, lo, hi, rep = timed(lambda: sim.simulate(base, 1), args.repeat)
    rows.append(("baseline, one replication", rep.events, med, lo, hi))
    med, lo, hi, rep = timed(lambda: sim.simulate(mmc, 1), args.repeat)
    rows.append((f"mmc.toml M/M/5, {args.horizon:g} days", rep.events, med, lo, hi))
    mmc_wait = float(rep.applications["queue_wait_days"].mean())
    mmc_apps = len(rep.applications)
    med, lo, hi, (ev, wait) = timed(lambda: bare_simpy_mmc(args.horizon), args.repeat)
    rows.append((f"bare SimPy M/M/5, {args.horizon:g} days", ev, med, lo, hi))
    print(f"{'model':<34} {'events':>10} {'wall s (median, min-max)':>26} {'events/s':>10}")
    for name, events, med, lo, hi in rows:
        print(f"{name:<34} {events:>10,} {med:>10.3f} ({lo:.3f}-{hi:.3f}) {events / med:>10,.0f}")
    print(f"mmc: {mmc_apps} applications after warm-up, mean queue wait {mmc_wait:.4f} days; "
          f"bare loop mean wait {wait:.4f}; Erlang C 0.5541")
    print(f"mmc wall / bare wall = {rows[1][2] / rows[2][2]:.2f}")


if __name__ == "__main__":
    main()
