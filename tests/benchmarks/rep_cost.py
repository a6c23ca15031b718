"""Cost of one baseline replication, two checkouts side by side (issue #9's "at most 10%
slower").

    git worktree add /tmp/before 77f623a      # the commit to compare against
    python tests/benchmarks/rep_cost.py /tmp/before . --rounds 6 --reps 10

Each round runs, as fresh processes one after the other (which goes first alternates),
`--reps` replications of `configs/baseline.toml` through `sim.simulate` in each checkout
(after one untimed replication), with its uncertain parameters (`uncertain`) and with them
fixed (`fixed`). Prints each round's mean seconds per replication and the median ratio
after / before over the rounds: a ratio of runs made at the same time on this shared
machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = """
import sys, time
from sim.config.loading import load_config
from sim.model import simulate
from sim.run.seeds import replication_seed
cfg = load_config('configs/baseline.toml', ['uncertain=[]'] if sys.argv[2] == 'fixed' else [])
simulate(cfg, replication_seed(cfg.runs.seed, 999))
t = time.perf_counter()
for i in range(int(sys.argv[1])):
    simulate(cfg, replication_seed(cfg.runs.seed, i))
print((time.perf_counter() - t) / int(sys.argv[1]))
"""


def one(tree: Path, reps: int, mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", CHILD, str(reps), mode], cwd=tree,
                         env={"PYTHONPATH": str(tree.resolve()), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--reps", type=int, default=10)
    a = p.parse_args()
    for mode in ("uncertain", "fixed"):
        ratios = []
        for r in range(a.rounds):
            order = (a.before, a.after) if r % 2 == 0 else (a.after, a.before)
            got = {tree: one(tree, a.reps, mode) for tree in order}
            b, f = got[a.before], got[a.after]
            ratios.append(f / b)
            print(f"{mode:9s} round {r}: before {1e3 * b:.1f} ms, after {1e3 * f:.1f} ms, "
                  f"ratio {f / b:.3f}")
        print(f"{mode:9s} median ratio after / before: {statistics.median(ratios):.3f} "
              f"(range {min(ratios):.3f}-{max(ratios):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
