"""Contender: ciw's M/M/5 (rho 0.8) for 40,000 days; every customer's record kept by ciw,
waits of customers arriving after day 100 averaged.

    python tests/benchmarks/mm5_ciw.py SEED
"""

from __future__ import annotations

import json
import sys

import ciw

HORIZON, WARMUP, RATE, SERVERS, MEAN = 40_000.0, 100.0, 4.0, 5, 1.0


def main() -> None:
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=RATE)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / MEAN)],
        number_of_servers=[SERVERS],
    )
    ciw.seed(seed)  # ciw's own (global) generator
    q = ciw.Simulation(network)
    q.simulate_until_max_time(HORIZON)
    waits = [r.waiting_time for r in q.get_all_records() if r.arrival_date >= WARMUP]
    print(json.dumps({"applications": len(waits), "mean_wait": sum(waits) / len(waits),
                      "events": None}))


if __name__ == "__main__":
    main()
