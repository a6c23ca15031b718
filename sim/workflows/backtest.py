"""A back-test: run a scenario and set it beside what was observed."""

from __future__ import annotations

from pathlib import Path

from ..analysis.stored import StoredRun
from ..calibration.backtest import Backtest, check_backtest
from ..config import Config
from ..report.backtest import plot_backtest, write_backtest
from ..run.execution import Execution
from .run import run


def backtest(cfg: Config, path: Path, ex: Execution, *, source: str = "<config>",
             label: str | None = None) -> tuple[StoredRun, Backtest]:
    """Check `cfg` names observations, run it into `path`, and write backtest.md, its
    CSV tables and plots there; the run and its back-test."""
    check_backtest(cfg, source)
    res = StoredRun(path, run(cfg, path, ex, source=cfg.name or "<config>"))
    bt = res.backtest()
    write(res, bt, f"{label or cfg.name or source}, {res.replications} replications")
    return res, bt


def write(res: StoredRun, bt: Backtest, title: str) -> None:
    """The back-test's tables and plots, listed in the run's manifest."""
    with res.store.locked():
        for p in [*write_backtest(bt, res.path, title), *plot_backtest(bt, res.path, title)]:
            res.store.record_output(p.name)
