"""Cost of a replication with the two responses (deferred demand of other buyers,
licences that cover further shipments) switched on, against the same config with them
off, side by side in one checkout.

    python tests/benchmarks/responses_cost.py --rounds 4 --reps 4

Each round runs, as fresh processes one after the other (which goes first alternates),
`--reps` replications (after one untimed one) of `configs/baseline.toml` with its
uncertain parameters fixed, and of a small world (tests/worlds.py `cover_world`, random),
each with the responses off and on (their sourced defaults). Prints seconds and events per
replication and the median ratio on / off over the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ON = ["authority.background.deferred={}", "authority.licence_cover={}"]

CHILD = """
import sys, time
from sim.config import config_from_dict
from sim.config.loading import load_config
from sim.model import simulate
from sim.run.seeds import replication_seed
world, on, reps = sys.argv[1], sys.argv[2] == 'on', int(sys.argv[3])
if world == 'baseline':
    cfg = load_config('configs/baseline.toml', ['uncertain=[]'] + (ON_OVERRIDES if on else []))
else:
    from tests.worlds import cover_world
    raw = cover_world(30.0, random=True)
    if on:
        raw['authority']['background']['deferred'] = {}
        raw['authority']['licence_cover'] = {}
    cfg = config_from_dict(raw)
simulate(cfg, replication_seed(cfg.runs.seed, 999))
t = time.perf_counter()
events = 0
for i in range(reps):
    events += simulate(cfg, replication_seed(cfg.runs.seed, i)).events
print((time.perf_counter() - t) / reps, events / reps)
""".replace("ON_OVERRIDES", repr(ON))


def one(world: str, mode: str, reps: int) -> tuple[float, float]:
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", CHILD, world, mode, str(reps)], cwd=root,
                         env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True)
    s, e = out.stdout.split()
    return float(s), float(e)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--reps", type=int, default=4)
    a = p.parse_args()
    for world in ("baseline", "small"):
        ratios = []
        for r in range(a.rounds):
            order = ("off", "on") if r % 2 == 0 else ("on", "off")
            got = {mode: one(world, mode, a.reps) for mode in order}
            (off, eo), (on, en) = got["off"], got["on"]
            ratios.append(on / off)
            print(f"{world:8s} round {r}: off {1e3 * off:.1f} ms ({eo:.0f} events), "
                  f"on {1e3 * on:.1f} ms ({en:.0f} events), ratio {on / off:.3f}")
        print(f"{world:8s} median ratio on / off: {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
