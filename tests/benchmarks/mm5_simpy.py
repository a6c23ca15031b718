"""Contender: the textbook bare-SimPy M/M/5 (rho 0.8) for 40,000 days: an arrival process
and one process per customer that requests a Resource and holds it for its service.
Every wait is stored; waits of customers arriving after day 100 are averaged (as the
rareshock config's warm-up).

    python tests/benchmarks/mm5_simpy.py SEED [OUT.parquet]

With OUT, the waits (arrival day, wait) are also written to a parquet file, as the
rareshock CLI writes its applications table.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import simpy

HORIZON, WARMUP, RATE, SERVERS, MEAN = 40_000.0, 100.0, 4.0, 5, 1.0


def main() -> None:
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    res = simpy.Resource(env, SERVERS)
    arrived: list[float] = []
    waits: list[float] = []

    def customer(env: simpy.Environment, service: float):  # noqa: ANN202
        t = env.now
        with res.request() as req:
            yield req
            arrived.append(t)
            waits.append(env.now - t)
            yield env.timeout(service)

    def arrivals(env: simpy.Environment):  # noqa: ANN202
        n = int(RATE * HORIZON * 1.1)
        gaps = rng.exponential(1 / RATE, n).tolist()
        services = rng.exponential(MEAN, n).tolist()
        for gap, service in zip(gaps, services, strict=False):
            yield env.timeout(gap)
            env.process(customer(env, service))

    env.process(arrivals(env))
    env.run(until=HORIZON)
    a, w = np.array(arrived), np.array(waits)
    keep = w[a >= WARMUP]
    if len(sys.argv) > 2:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"arrival_day": a, "queue_wait_days": w}), sys.argv[2],
                       compression="zstd")
    events = next(env._eid) - len(env._queue)
    print(json.dumps({"applications": int(len(keep)), "mean_wait": float(keep.mean()),
                      "events": int(events)}))


if __name__ == "__main__":
    main()
