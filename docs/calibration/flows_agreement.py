"""How much of the disagreement between two NPE fits comes from the network each trains,
and how far an equal mixture of flows (`calibration.flows`) takes it out.

    python docs/calibration/flows_agreement.py [--flows 10] [--cache DIR]

Simulates the training set of configs/calibration/2025-npe.toml for its seed and for
seed 2026, exactly as `rareshock calibrate` does (same seeds and streams; ~35 min on 2
cores, kept in --cache), trains `--flows` single flows on the first set and half as many
on the second (1.5-3 min each), draws 4,000 posterior draws of each at the observed
figures, and prints `sim.calibration.agreement` (what `--agree-with` reports) for:
two single flows on the same simulations, two mixtures of 5 on the same simulations,
and mixtures of 5 on the two seeds' simulations.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.abc import problem_of
from sim.calibration.agreement import agreement
from sim.calibration.npe import U_EDGE, _torch_seeded, simulate_set, train
from sim.config.loading import load_config
from sim.run.executors import make_executor

CONFIG = "configs/calibration/2025-npe.toml"


def training_set(seed: int, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    path = cache / f"train_{seed}.npz"
    if not path.exists():
        cfg = load_config(CONFIG, [f"runs.seed={seed}"])
        ex = make_executor("local", 2)
        u, x = simulate_set(problem_of(cfg, CONFIG), cfg.calibration.simulations, seed, 1,
                            ex, cfg.calibration.batch, print)
        ex.close()
        np.savez(path, u=u, x=x)
    d = np.load(path)
    return d["u"], d["x"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flows", type=int, default=10)
    ap.add_argument("--cache", type=Path, default=Path("results/flows-agreement"))
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    cfg = load_config(CONFIG)
    problem = problem_of(cfg, CONFIG)
    by_name = {p.name: p for p in cfg.uncertain}
    names = list(problem.keys.values())
    observed = np.array([t.observed for t in problem.targets], dtype=float)

    def frame(u: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({n: [float(by_name[n].prior.ppf(min(max(v, U_EDGE), 1 - U_EDGE)))
                                 for v in u[:, i]] for i, n in enumerate(names)})

    draws: dict[int, list[np.ndarray]] = {}
    for seed, n in ((cfg.runs.seed, args.flows), (2026, max(5, args.flows // 2))):
        u, x = training_set(seed, args.cache)
        draws[seed] = []
        for i in range(n):
            t = time.perf_counter()
            tr = train(problem, u, x, seed * 100 + i, CONFIG, "calibration", 1)
            with _torch_seeded(seed * 100 + i, 1):
                draws[seed].append(tr.draws(observed, 4000))
            print(f"seed {seed}, flow {i}: {tr.epochs} epochs, "
                  f"{time.perf_counter() - t:.0f} s", flush=True)

    def mix(fl: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([f[: 4000 // len(fl)] for f in fl])

    def row(label: str, a: np.ndarray, b: np.ndarray) -> None:
        t = agreement(frame(a), frame(b), names)
        print(f"| {label} | {int(t['agree'].sum())} of 13 | "
              f"{t['difference_sd'].abs().median():.3f} | "
              f"{t['difference_sd'].abs().max():.3f} | {t['ks_distance'].max():.3f} |")

    a, b = draws[cfg.runs.seed], draws[2026]
    print("| pair | marginals agreeing (3 MC errors) | median abs difference, posterior "
          "sds | largest | largest KS distance |\n|---|---|---|---|---|")
    for i in range(0, len(a) - 1, 2):
        row(f"single flows {i} and {i + 1}, same simulations", a[i], a[i + 1])
    for i in range(min(len(a), len(b))):
        row(f"single flow {i} of each seed", a[i], b[i])
    if len(a) >= 10:
        row("mixtures of 5, same simulations", mix(a[:5]), mix(a[5:10]))
    row("mixtures of 5, one per seed", mix(a[:5]), mix(b[:5]))
    if len(a) >= 10:
        row("mixtures of 5, one per seed (other flows)", mix(a[5:10]), mix(b[:5]))


if __name__ == "__main__":
    main()
