"""The notebook entry points for batches and sweeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .results import Results, SweepResults
from .runner import run_batch as _run_batch
from .schema import Config


def run_batch(cfg: Config, out: str | Path | None = None, **options: Any) -> Results:
    """Run a Monte Carlo batch of `cfg` into `out` (default `results/<cfg.name>`) and return
    its Results (tables as DataFrames, `summary()`, `plot()`); `summary.csv` is written.

    Options are those of `sim.runner.run_batch`: replications, workers, executor
    ("local" or "dask"), scheduler, chunk_size, resume, overwrite, precision.
    """
    path = Path(out) if out is not None else Path("results") / (cfg.name or "run")
    info = _run_batch(cfg, path, **options)
    res = Results(path, info)
    res.write_summary()
    return res


def run_sweep(cfg: Config, out: str | Path | None = None, **options: Any) -> SweepResults:
    """Run the sweep of `cfg` (its `[sweep]` table) into `out` (default
    `results/<cfg.name>`) and return its SweepResults (`points`, `summary()`,
    `sensitivity()`, `discovery()`, `plot()`); summary.csv, sensitivity.csv and
    discovery.csv are written.

    Options are those of `sim.sweep.run_sweep`: replications (per point), crn, workers,
    executor ("local" or "dask"), scheduler, chunk_size, resume, overwrite.
    """
    from .sweep import run_sweep as _run_sweep

    path = Path(out) if out is not None else Path("results") / (cfg.name or "sweep")
    info = _run_sweep(cfg, path, **options)
    res = SweepResults(path, info)
    res.write_outputs()
    return res
