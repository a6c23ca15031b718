"""The results folders as the Python API hands them out: a run's (`Results`) and a
sweep's (`SweepResults`), with plots, text and the HTML report for people."""

from __future__ import annotations

from pathlib import Path

from ..analysis.stored import StoredRun, StoredSweep
from .report import plots
from .report import report as write_report

__all__ = ["Results", "SweepResults"]


class Results(StoredRun):
    """A run's results folder: tables as DataFrames (`firms`, `applications`, `exports`,
    `timeseries`, `authority`, `policy`), `summary()`, `sectors()`, `backtest()`, and
    `plot()` / `text()` for people."""

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """Draw every plot as PNG into `out` (default `<results>/plots`)."""
        from ..report.run.plots import plot_run

        return plots(self, plot_run, Path(out) if out is not None else None)

    def report(self) -> Path:
        """Write the folder's self-contained HTML report (`report.html`); its path."""
        return write_report(Path(self.path))

    def text(self) -> str:
        """The sector and authority tables, as `rareshock summary` prints them."""
        from ..report.run.text import run_text

        return run_text(self)


class SweepResults(StoredSweep):
    """A sweep's results folder: as `Results`, with a `point` column in every table, and
    `points`, `sensitivity()`, `discovery()`."""

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """Draw the plots that fit the sweep's method into `out` (default `<results>/plots`)."""
        from ..report.sweep.plots import plot_sweep

        return plots(self, plot_sweep, Path(out) if out is not None else None)

    def report(self) -> Path:
        """Write the folder's self-contained HTML report (`report.html`); its path."""
        return write_report(Path(self.path))

    def text(self) -> str:
        """The points, the sensitivity ranking and the discovered box, as `rareshock
        summary` prints them."""
        from ..report.sweep.text import sweep_text

        return sweep_text(self)
