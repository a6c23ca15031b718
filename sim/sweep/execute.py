"""Running a sweep: every point's replications through the batch runner's one execution
path (`sim.run.execute`), with `points.csv` beside the tables.

With common random numbers (the default) replication i uses the seed of replication i of
`rareshock run` (spawn key (i,)) at every point, so differences between points are the
parameters' doing; without them (`crn = false`) replication i of point p uses spawn key
(p, i).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..config.schema import Config
from ..config.workload import check_warnings
from ..run.batch import BatchPlan, Finished, execute, resolve_chunk_size
from ..run.execution import Execution, check_count
from ..run.store import ResultsDir
from .plan import check_plan_work, plan_sweep, with_options

__all__ = ["SweepInfo", "run_sweep", "write_points"]


@dataclass
class SweepInfo:
    """What a finished sweep did."""

    path: Path
    points: int
    replications: int
    crn: bool
    chunks_run: int
    events: int
    wall_seconds: float


def run_sweep(cfg: Config, out: str | Path, ex: Execution | None = None, *,
              replications: int | None = None, crn: bool | None = None,
              source: str = "<config>", finished: Finished | None = None) -> SweepInfo:
    """Run every point of `cfg.sweep` (`replications` per point, default
    `sweep.replications`; `crn` overriding `sweep.crn`) as `ex` says, and store the tables
    under `out`, with `points.csv`.

    Every point's config is checked against the work limits first (`check_work`), unless
    `ex.force`. The summary, sensitivity and discovery tables are computed from the stored
    tables (`sim.run_sweep` writes them too).
    """
    ex = ex or Execution()
    if replications is not None:
        check_count("replications", replications)
    cfg = with_options(cfg, replications, crn)
    plan = plan_sweep(cfg, source)
    if not ex.force:
        check_plan_work(plan, source)
    check_warnings(cfg, source)
    sweep = cfg.sweep
    assert sweep is not None  # plan_sweep refuses a config without one
    reps, n_points = sweep.replications, plan.design.size
    size = resolve_chunk_size(ResultsDir(out), ex.chunk_size, reps * n_points, ex.resume)
    batch = BatchPlan(
        cfg, tuple(plan.configs), reps, cfg.runs.seed, size, points=True, crn=sweep.crn,
        tables=tuple(sweep.tables),
        meta={"kind": "sweep", "method": sweep.method, "points": n_points, "crn": sweep.crn,
              "parameters": [lv.label for lv in plan.levers]})
    write: Callable[[ResultsDir], None] = lambda store: write_points(  # noqa: E731
        store, plan.points, sweep.crn)
    info = execute(batch, out, ex, prepared=write, finished=finished)
    return SweepInfo(info.path, n_points, reps, sweep.crn, info.chunks_run, info.events,
                     info.wall_seconds)


def write_points(store: ResultsDir, points: pd.DataFrame, crn: bool) -> None:
    """points.csv: `point`, one column per parameter (named by its path or name), `crn`."""
    df = points.copy()
    df.insert(0, "point", range(len(df)))
    df["crn"] = crn
    store.write_output("points.csv", df.to_csv(index=False).encode())
