"""A sweep: every point of the config's design, then its summary, sensitivity and
discovery tables."""

from __future__ import annotations

from pathlib import Path

from ..analysis.stored import StoredSweep
from ..config import Config
from ..run.execution import Execution, check_count
from ..sweep import SweepInfo
from ..sweep import run_sweep as run_points


def sweep(cfg: Config, path: Path, ex: Execution, *, replications: int | None = None,
          crn: bool | None = None, source: str = "<config>") -> SweepInfo:
    """Run every point of `cfg.sweep` into `path` (`replications` per point, `crn`
    overriding `sweep.crn`) and write the tables computed from them."""
    if replications is not None:
        check_count("replications", replications)
    return run_points(cfg, path, ex, replications=replications, crn=crn, source=source,
                      finished=lambda store, _: StoredSweep(path).write_outputs())
