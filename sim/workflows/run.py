"""A Monte Carlo batch of one config: check, run, summarise."""

from __future__ import annotations

from pathlib import Path

from ..analysis.precision import PrecisionTarget
from ..analysis.stored import StoredRun
from ..config import Config
from ..config.workload import check_warnings, check_work
from ..errors import ArgumentError, ConfigError
from ..run.batch import BatchInfo
from ..run.batch import run_batch as run_replications
from ..run.execution import Execution, check_count
from ..run.executors import Executor
from ..run.store import ResultsDir

EXPLAIN_IMPORTS = ("pandas", "scipy.stats", "SALib.analyze.delta", "sim.analysis.uncertainty")
"""What the spread analysis (uncertainty.csv) imports, loaded while the replications run."""


def run(cfg: Config, path: Path, ex: Execution, *, replications: int | None = None,
        precision: float | None = None, max_replications: int | None = None,
        source: str = "<config>") -> BatchInfo:
    """Run `replications` (default `runs.replications`) of `cfg` into `path`, adding
    replications up to a `precision` target if given; writes summary.csv."""
    if replications is not None:
        check_count("replications", replications)
    grow = precision_target(cfg, replications, precision, max_replications, source)
    check_limits(cfg, ex, source)
    return run_replications(cfg, path, ex, replications=replications, grow=grow,
                            finished=lambda store, on: finish(store, path, grow, on),
                            tail=EXPLAIN_IMPORTS if cfg.uncertain else ())


def precision_target(cfg: Config, replications: int | None, precision: float | None,
                     max_replications: int | None, source: str) -> PrecisionTarget | None:
    """The rule that adds replications until the target half-width is met, or None."""
    if precision is None:
        if max_replications is not None:
            raise ArgumentError("max_replications", max_replications,
                                "only applies with a precision target")
        return None
    first = replications if replications is not None else cfg.runs.replications
    grow = PrecisionTarget(precision, first, max_replications)
    if not cfg.firms:
        raise ConfigError(source, "firms", "a precision target is on sector shortfall, "
                          "and this config has no firms")
    return grow


def check_limits(cfg: Config, ex: Execution, source: str) -> None:
    """Refuse a config beyond the work limits (unless forced); log its warnings."""
    if ex.force:
        check_warnings(cfg, source)
    else:
        check_work(cfg, source)


def finish(store: ResultsDir, path: Path, grow: PrecisionTarget | None,
           executor: Executor | None = None) -> None:
    """Record whether the precision target was met, and write summary.csv (and
    uncertainty.csv, its analysis shared out on `executor`)."""
    if grow is not None:
        store.update_manifest(precision={"target_halfwidth": grow.halfwidth,
                                         "met": grow.met, "worst_halfwidth": grow.worst})
    StoredRun(path).write_summary(executor)
