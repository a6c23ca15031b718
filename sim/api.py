"""The Python entry points, for notebooks and the command line alike: load a config, run
one replication, a batch or a sweep, calibrate, compare, back-test, and read stored results
with their summaries, text tables and plots. Each job is a workflow (`sim.workflows`) run
with one validated `Execution`; this module builds it from keyword arguments. Nothing
below imports it; the command line imports only it (and `sim.errors`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ArgumentError, FolderError
from .run.execution import Execution
from .version import __version__

if TYPE_CHECKING:
    from .config import Config, load_config
    from .model import Replication, simulate
    from .run.progress import Progress
    from .workflows.results import Results, SweepResults

__all__ = ["Backtested", "Calibration", "Comparison", "Config", "Execution", "Replication",
           "Results", "SweepResults", "backtest", "calibrate", "compare", "load_config",
           "open_results", "optimize", "report", "run_batch", "run_sweep", "simulate", "verify",
           "__version__"]


def __getattr__(name: str) -> Any:
    """The heavy names, imported when first used: the command line imports this module
    before it starts the worker pool, and should not wait for the model to load."""
    if name in {"Results", "SweepResults"}:
        from .workflows import results as module
    elif name in {"Config", "load_config"}:
        from . import config as module  # type: ignore[no-redef]
    elif name in {"Replication", "simulate"}:
        from . import model as module  # type: ignore[no-redef]
    elif name == "ResultsDir":
        from .run import store as module  # type: ignore[no-redef]
    else:
        raise AttributeError(f"module 'sim.api' has no attribute {name!r}")
    return getattr(module, name)


def report(path: str | Path) -> Path:
    """Write `report.html`, one self-contained HTML page, into the results folder of a
    run, sweep, comparison or calibration at `path`; returns its path."""
    from .workflows.report import report as write

    return write(Path(path))


def open_results(path: str | Path) -> Results | SweepResults:
    """The Results of a run folder, or the SweepResults of a sweep folder (a calibration
    folder's predictive run is its `predictive/` folder)."""
    from .analysis.stored import is_sweep
    from .run.store import ResultsDir
    from .workflows.results import Results, SweepResults

    kind = ResultsDir(path).open_header().get("kind")
    if kind == "calibration":
        raise FolderError(str(path), "is a calibration folder: see its calibration.md; its "
                          f"posterior predictive run is {Path(path) / 'predictive'}")
    if kind == "optimize":
        raise FolderError(str(path), "is an optimisation folder: see its optimize.md, "
                          "answer.json and candidates.csv")
    return SweepResults(path) if is_sweep(path) else Results(path)


def _check_config(cfg: Any) -> Config:
    from .config import Config

    if not isinstance(cfg, Config):
        raise ArgumentError("cfg", None, f"must be a Config (from sim.load_config), got "
                            f"{type(cfg).__name__}")
    return cfg


def run_batch(cfg: Config, out: str | Path | None = None, *, replications: int | None = None,
              workers: int | None = None, executor: str = "local",
              scheduler: str | None = None, chunk_size: int | None = None,
              resume: bool = False, overwrite: bool = False, precision: float | None = None,
              max_replications: int | None = None,
              progress: Progress | None = None, force: bool = False,
              source: str | None = None, execution: Execution | None = None) -> Results:
    """Run a Monte Carlo batch of `cfg` into `out` (default `results/<cfg.name>`) and return
    its Results; `summary.csv` is written.

    `replications` defaults to `runs.replications`; `workers` to every core; `executor` is
    "local" (a process pool) or "dask" (a LocalCluster, or the cluster at `scheduler`);
    `resume` continues an interrupted run, `overwrite` replaces an existing folder. With
    `precision`, replications are added until every sector's 95% half-width of mean
    `shortfall_frac` is under it (up to `max_replications`); the manifest records whether
    it was met. Unless `force`, a config beyond the work limits (`sim.config.workload`) is
    refused before anything is written; errors and warnings name `source` (default: the
    config's name). An `execution` replaces the keyword arguments of how to run.
    """
    from .workflows.results import Results
    from .workflows.run import run

    cfg = _check_config(cfg)
    ex = execution or Execution(executor, workers, scheduler, chunk_size, resume, overwrite,
                                progress, force)
    path = Path(out) if out is not None else Path("results") / (cfg.name or "run")
    info = run(cfg, path, ex, replications=replications, precision=precision,
               max_replications=max_replications, source=source or cfg.name or "<config>")
    return Results(path, info)


def run_sweep(cfg: Config, out: str | Path | None = None, *, replications: int | None = None,
              crn: bool | None = None, workers: int | None = None, executor: str = "local",
              scheduler: str | None = None, chunk_size: int | None = None,
              resume: bool = False, overwrite: bool = False,
              progress: Progress | None = None, source: str = "<config>",
              force: bool = False, execution: Execution | None = None) -> SweepResults:
    """Run the sweep of `cfg` (its `[sweep]` table) into `out` (default
    `results/<cfg.name>`) and return its SweepResults; summary.csv, sensitivity.csv and
    discovery.csv are written. `replications` is per point (default
    `sweep.replications`); `crn` overrides `sweep.crn`; unless `force`, every point's
    config is checked against the work limits; the rest as `run_batch`."""
    from .workflows.results import SweepResults
    from .workflows.sweep import sweep

    cfg = _check_config(cfg)
    ex = execution or Execution(executor, workers, scheduler, chunk_size, resume, overwrite,
                                progress, force)
    path = Path(out) if out is not None else Path("results") / (cfg.name or "sweep")
    return SweepResults(path, sweep(cfg, path, ex, replications=replications, crn=crn,
                                    source=source))


class Backtested:
    """A back-test: the run (`results`) and its comparison with the observations
    (`tables`), written beside the run as backtest.md."""

    def __init__(self, results: Results, tables: Any) -> None:
        self.results, self.tables = results, tables

    def text(self) -> str:
        from .report.backtest import markdown_tables

        return markdown_tables(self.tables)


def backtest(cfg: Config, out: str | Path | None = None, *, workers: int | None = None,
             overwrite: bool = False, progress: Progress | None = None,
             source: str | None = None) -> Backtested:
    """Run `cfg` into `out` (default `results/<cfg.name>-backtest`) and compare it with the
    observations its config names (`observed`): backtest.md, its CSV tables and plots."""
    from .workflows.backtest import backtest as run_backtest
    from .workflows.results import Results

    cfg = _check_config(cfg)
    ex = Execution(workers=workers, overwrite=overwrite, progress=progress)
    path = Path(out) if out is not None else Path("results") / f"{cfg.name or 'run'}-backtest"
    res, bt = run_backtest(cfg, path, ex, source=source or cfg.name or "<config>",
                           label=Path(source).stem if source else None)
    return Backtested(Results(path, res.info), bt)


def verify(path: str | Path) -> list[str]:
    """Check a results folder (a run, a sweep or a calibration): its manifest, config and
    every part's size and checksum; the lines saying what was found sound (FolderError
    naming the problem otherwise)."""
    from .workflows.verify import verify as check

    return check(path)


class Calibration:
    """A calibration folder: `posterior` (the weighted sample), `generations`,
    `posterior_config` (the path of posterior.toml), `predictive` (the Results of the
    posterior predictive run) and `backtest()` of it."""

    def __init__(self, path: str | Path, fit: Any = None, config: Config | None = None) -> None:
        self.path = Path(path)
        self.fit = fit
        self.config = config

    @property
    def posterior_config(self) -> Path:
        return self.path / "posterior.toml"

    @property
    def predictive(self) -> Results:
        from .workflows.results import Results

        return Results(self.path / "predictive")

    def posterior(self) -> Any:
        """The particles (DataFrame): a column per parameter, and `weight`."""
        import pandas as pd

        return pd.read_parquet(self.path / "posterior.parquet")

    def backtest(self) -> Any:
        return self.predictive.backtest()

    def text(self) -> str:
        """The posterior's parameter table, the predictive run's coverage of the fit
        months, and the fit's size and time."""
        from .config import load_config
        from .report.calibration import coverage, parameter_table
        from .report.text import markdown_table

        fit, cfg = self.fit, self.config or load_config(self.path / "config.toml")
        months = sorted({t.key.split()[-1] for t in fit.targets if t.group == "exports"})
        return "\n".join([markdown_table(parameter_table(cfg, fit), "{:.3g}"), "",
                          markdown_table(coverage(self.backtest(), months)),
                          f"{fit.simulations:,} simulations, {len(fit.generations)} "
                          f"generations in {fit.wall_seconds / 60:.1f} min -> {self.path} "
                          f"(posterior: {self.posterior_config})"])


def calibrate(cfg: Config, out: str | Path | None = None, *, workers: int | None = None,
              executor: str = "local", scheduler: str | None = None,
              overwrite: bool = False, plots: bool = True,
              progress: Any = None, config_path: str | Path | None = None,
              overrides: list[str] | None = None, source: str | None = None,
              force: bool = False, export: str | None = None,
              agree_with: str | Path | None = None) -> Calibration:
    """Fit `cfg`'s `[[uncertain]]` parameters to its observations by ABC-SMC (pyabc) and
    write into `out` (default `results/<cfg.name>-calibration`): `posterior.parquet`,
    `posterior.toml` (a config extending `config_path`, the file `cfg` came from, with the
    posterior as its uncertain parameters; the whole config if `overrides` were applied or
    no path is given), the posterior predictive run (`predictive/`, its back-test beside
    it), `generations.csv`, `calibration.md`, plots, and pyabc's database `abc.db`.
    `progress(line)` hears one line per generation. Bad input (no observations, nothing
    to calibrate, a fit month with nothing observed, a prior beyond its path's range) is
    refused before anything is written; what only the fit can find (no generation
    meeting `min_acceptance`, no target varying) is refused with the folder's manifest
    marked `failed` (`interrupted` for a stop or a crash), never left `running`. With
    `export` (a .toml path), the posterior config is also written there, its sample beside
    it; that target is checked before the fit. With `agree_with` (the folder of another
    fit of the same parameters with another seed), calibration.md and agreement.csv say
    whether the two posteriors agree within their Monte Carlo error."""
    from .workflows.calibrate import calibrate as run_calibration
    from .workflows.calibrate import check_export_target

    cfg = _check_config(cfg)
    ex = Execution(executor, workers, scheduler, overwrite=overwrite, force=force)
    source = source or (str(config_path) if config_path else cfg.name or "<config>")
    path = Path(out) if out is not None else Path("results") / f"{cfg.name or 'run'}-calibration"
    if export is not None:
        check_export_target(export, Path(config_path) if config_path else None, overrides,
                            path, overwrite)
    fit = run_calibration(cfg, path, ex, plots=plots, progress=progress,
                          config_path=config_path, overrides=overrides, source=source,
                          agree_with=agree_with)
    if export is not None:
        from .calibration.posterior import export as write_export

        write_export(path, Path(export))
    return Calibration(path, fit, cfg)


class Comparison:
    """What `compare` wrote: `table` (compare.csv), the scenarios' `labels` (the first is
    the reference), their `runs` and the folder."""

    def __init__(self, path: Path, table: Any, labels: list[str], runs: list[Results],
                 paired: bool) -> None:
        self.path, self.table, self.labels, self.runs, self.paired = \
            path, table, labels, runs, paired

    def text(self) -> str:
        from .report.compare import compare_text

        return compare_text(self.table, self.labels)


def compare(*sources: str | Path | Config, out: str | Path | None = None,
            replications: int | None = None, seed: int | None = None,
            workers: int | None = None, executor: str = "local", scheduler: str | None = None,
            unpaired: bool = False, overwrite: bool = False, plots: bool = True,
            force: bool = False) -> Comparison:
    """Compare scenarios on shared seeds: `sources` are results folders of runs (the first
    is the reference) or configs (a Config, or a .toml path), which are run first into
    `out/<name>` on the first config's seed and replications (or `seed`,
    `replications`). Writes compare.csv, compare.md and plots/compare.png into `out`
    (default `results/compare`): a new or empty folder, or one an earlier comparison
    made (finished: only with `overwrite`; unfinished: it is continued), never a run's
    folder or another one. Runs with other seeds or replication counts are refused
    unless `unpaired` (Welch intervals)."""
    from .workflows.compare import compare as run_comparison
    from .workflows.results import Results

    ex = Execution(executor, workers, scheduler, overwrite=overwrite, force=force)
    path = Path(out) if out is not None else Path("results") / "compare"
    table, labels, runs = run_comparison(sources, path, ex, replications=replications,
                                         seed=seed, unpaired=unpaired, plots=plots)
    return Comparison(path, table, labels, [Results(r.path, r.info) for r in runs],
                      not unpaired)


def optimize(cfg: Config, out: str | Path | None = None, *, workers: int | None = None,
             executor: str = "local", scheduler: str | None = None,
             chunk_size: int | None = None, overwrite: bool = False, plots: bool = True,
             force: bool = False, source: str | None = None) -> dict[str, Any]:
    """Solve `cfg`'s `[optimize]` problem (levers, objective, constraints) on common random
    numbers and write into `out` (default `results/<cfg.name>-optimize`): candidates.csv
    (every candidate, its replications and its constraint estimates with their bounds),
    evaluations.parquet (each candidate's outputs per replication), answer.json and
    optimize.md (the answer with its confidence, or "infeasible" with the best point found),
    plots/optimize.png and report.html (unless not `plots`). Bisection for one lever with
    a `levers` objective; Kim-Nelson ranking and selection for levers with values and a
    `mean` objective. Bad input (an
    unknown path, an output that does not exist, bounds the path cannot take) is refused
    before anything is written; an existing folder is replaced only with `overwrite`.
    Returns the answer (as answer.json holds it)."""
    from .workflows.optimize import optimize as solve

    cfg = _check_config(cfg)
    ex = Execution(executor, workers, scheduler, chunk_size, overwrite=overwrite, force=force)
    path = Path(out) if out is not None else Path("results") / f"{cfg.name or 'run'}-optimize"
    return solve(cfg, path, ex, source=source or cfg.name or "<config>", plots=plots)


def optimize_text(answer: dict[str, Any]) -> str:
    """The answer of `optimize` in a line or two, as the command line prints it."""
    from .report.optimize import answer_text

    return answer_text(answer)


def validate(cfg: Config, source: str, force: bool = False) -> list[str]:
    """Check `cfg` without running it: what it holds and the work it asks for (every
    sweep point's too), as lines; ConfigError beyond the work limits unless `force`."""
    from .workflows.validate import validate as check

    return check(_check_config(cfg), source, force)


def config_schema() -> dict[str, Any]:
    """The JSON Schema of the config (for editors)."""
    from .config import Config

    return Config.model_json_schema()


def validate_model(doc: str | Path, configs: str | Path = "configs", small: bool = False,
                   workers: int | None = None,
                   calibrations: list[str | Path] | None = None) -> Path:
    """Regenerate the validation report at `doc` (queueing theory, conservation,
    back-test) from the configs in the folder `configs`; its path."""
    from .report.validation import validate_model as write

    return write(Path(doc), Path(configs), small=small, workers=workers,
                 calibrations=[Path(c) for c in calibrations or []])


def explore_command(directory: str | Path, port: int) -> list[str]:
    """The command that serves the explore app of `directory` on 127.0.0.1:`port`, with
    Streamlit's usage statistics off and no browser opened."""
    import sys

    app = Path(__file__).parent / "explore" / "app.py"  # not imported: it runs in Streamlit
    return [sys.executable, "-m", "streamlit", "run", str(app),
            "--server.address", "127.0.0.1", "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--global.developmentMode", "false", "--server.fileWatcherType", "none",
            "--client.toolbarMode", "viewer"]


def explore(directory: str | Path = ".", *, port: int | None = None,
            say: Any = print) -> int:
    """Serve the explore app of `directory` (its configs/ and results/) until stopped:
    bound to 127.0.0.1 on `port` (default: a free one), whose address `say` hears. Needs
    Streamlit (the 'explore' extra): ArgumentError without it, or for a folder that does
    not exist. Returns Streamlit's exit status."""
    import importlib.util
    import os
    import socket
    import subprocess

    folder = Path(directory)
    if not folder.is_dir():
        raise ArgumentError("dir", str(directory), "is not a folder")
    if importlib.util.find_spec("streamlit") is None:
        raise ArgumentError("command", "explore", "needs streamlit; install the 'explore' "
                            "extra: pip install 'rareshock[explore]' (in a checkout: pip "
                            "install -e '.[explore]')")
    if port is None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
    env = {**os.environ, "RARESHOCK_EXPLORE_DIR": str(folder.resolve()),
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    say(f"http://127.0.0.1:{port} (Ctrl-C to stop)")
    try:
        return subprocess.run(explore_command(folder, port), env=env, check=False).returncode
    except KeyboardInterrupt:
        return 0


def progress_display(quiet: bool) -> Progress | None:
    """A batch's progress as the command line shows it: a bar on a terminal, a plain line
    every 10 s otherwise (`report.progress.terminal_progress`), nothing when `quiet`."""
    if quiet:
        return None
    from .report.progress import terminal_progress

    return terminal_progress()


def show_phases(enabled: bool = True) -> None:
    """Print a line to stderr as each long step after the replications starts."""
    from .run.phases import show_phases as show

    show(enabled)


def start_pool_early(executor: str, workers: int | None) -> None:
    """Start the local pool's fork server now, so that its imports overlap with reading
    the config (see sim.run.pool)."""
    if executor == "local" and (workers or os.cpu_count() or 1) > 1:
        from .run.pool import start_forkserver

        start_forkserver()
