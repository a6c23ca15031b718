"""The figures issue #25 asks `rareshock optimize` to show, on known answers.

    python tests/benchmarks/optimize_checks.py              # ~2 min on one core
    python tests/benchmarks/optimize_checks.py --json out.json --macro 200 --seeds 20

1. Bisection on the buffer world (tests/worlds.py `buffer_world`: stock-out iff the one
   order's U(10, 30)-day transit exceeds the cover; P = (30 - c) / 20, so the least
   cover with P <= 0.10 is 28): over `--seeds` root seeds, how often the reported bracket
   holds 28, its mean width, the answer and the simulations; through the simulator
   (`sim.api.optimize`, one worker).
2. Kim-Nelson on 10 normal systems in the slippage configuration (means 1.05, the best
   1.0, sd 0.1; indifference zone 0.05, i.e. 5% of the mean; n0 = 10; alpha = 0.05):
   over `--macro` macro-replications, the share selecting the best, and the replications
   used against equal allocation with the same guarantee (every system run to KN's last
   stage, max N_il + 1); also the PCS of equal allocation given KN's own total budget.

Not part of the test run; tests/test_optimize.py keeps smaller versions.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from test_optimize import TRUE_BUFFER, buffer_problem, slippage  # noqa: E402

import sim.api as api  # noqa: E402
from sim.config import config_from_dict  # noqa: E402
from sim.optimize.selection import equal_allocation, kn_select  # noqa: E402


def bisection_figures(seeds: int) -> dict:
    hits, widths, answers, sims = 0, [], [], []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for s in range(seeds):
            ans = api.optimize(config_from_dict(buffer_problem(100 + s)), Path(tmp) / str(s),
                               workers=1, plots=False)
            lo, hi = ans["bracket"]
            hits += lo <= TRUE_BUFFER <= hi
            widths.append(hi - lo)
            answers.append(ans["answer"]["firms.f.initial_cover_days"])
            sims.append(ans["simulations"])
    return {"seeds": seeds, "bracket_holds_optimum": hits, "mean_width_days": np.mean(widths),
            "mean_answer_days": np.mean(answers), "true_optimum_days": TRUE_BUFFER,
            "mean_simulations": np.mean(sims), "wall_s": time.perf_counter() - t0}


def selection_figures(macro: int, k: int = 10, delta: float = 0.05) -> dict:
    correct, used, equal, eq_correct = 0, [], [], 0
    for m in range(macro):
        sample = slippage(m, k=k, delta=delta)
        s = kn_select(sample, k, delta, 0.05, 10)
        correct += s.selected == 3
        used.append(s.total_used)
        equal.append(equal_allocation(sample(list(range(k)), 0, 10), delta, 0.05))
        n = max(2, s.total_used // k)  # equal allocation on KN's budget: best sample mean
        eq_correct += int(np.argmin(sample(list(range(k)), 0, n).mean(axis=1)) == 3)
    return {"macro": macro, "systems": k, "indifference": delta, "pcs": correct / macro,
            "mean_replications_kn": np.mean(used),
            "mean_replications_equal_allocation": np.mean(equal),
            "pcs_equal_allocation_on_kn_budget": eq_correct / macro}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--macro", type=int, default=200)
    ap.add_argument("--json")
    args = ap.parse_args()
    out = {"bisection": bisection_figures(args.seeds),
           "selection": selection_figures(args.macro)}
    text = json.dumps(out, indent=1, default=float)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
