"""The Python entry points, for notebooks and the command line alike: load a config, run
one replication, a batch or a sweep, and read stored results with their summaries, text
tables and plots. Everything here calls the layers below; nothing below imports it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .analysis.precision import PrecisionTarget
from .analysis.stored import StoredRun, StoredSweep, is_sweep
from .config import Config, load_config
from .config.workload import check_warnings, check_work
from .errors import ArgumentError, BadInput, ConfigError, FolderError
from .model import Replication, simulate
from .run.batch import check_count
from .run.batch import run_batch as _run_batch_in
from .run.progress import Progress
from .run.store import ResultsDir

__all__ = ["Calibration", "Comparison", "Config", "Replication", "Results", "SweepResults",
           "calibrate", "compare", "load_config", "open_results", "report", "run_batch",
           "run_sweep", "simulate"]


class Results(StoredRun):
    """A run's results folder: tables as DataFrames (`firms`, `applications`, `exports`,
    `timeseries`, `authority`, `policy`), `summary()`, `sectors()`, `backtest()`, and
    `plot()` / `text()` for people."""

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """Draw every plot as PNG into `out` (default `<results>/plots`)."""
        from .report.run.plots import plot_run

        return _plots(self, plot_run, out)

    def report(self) -> Path:
        """Write the folder's self-contained HTML report (`report.html`); its path."""
        return report(self.path)

    def text(self) -> str:
        """The sector and authority tables, as `rareshock summary` prints them."""
        from .report.run.text import run_text

        return run_text(self)


class SweepResults(StoredSweep):
    """A sweep's results folder: as `Results`, with a `point` column in every table, and
    `points`, `sensitivity()`, `discovery()`."""

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """Draw the plots that fit the sweep's method into `out` (default `<results>/plots`)."""
        from .report.sweep.plots import plot_sweep

        return _plots(self, plot_sweep, out)

    def report(self) -> Path:
        """Write the folder's self-contained HTML report (`report.html`); its path."""
        return report(self.path)

    def text(self) -> str:
        """The points, the sensitivity ranking and the discovered box, as `rareshock
        summary` prints them."""
        from .report.sweep.text import sweep_text

        return sweep_text(self)


def _plots(res: StoredRun, draw: Any, out: str | Path | None) -> list[Path]:
    """Draw into `out`; plots drawn into the results folder are listed in its manifest (so
    replacing the run removes them), under the folder's lock."""
    from .run.phases import phase

    phase(f"drawing plots into {Path(out) if out is not None else res.path / 'plots'}...")
    if out is not None:
        out = Path(out)
        _claim_plot_folder(out, res.path)
        return draw(res, out)
    with res.store.locked():
        paths = draw(res, res.path / "plots")
        for p in paths:
            res.store.record_output(str(p.relative_to(res.path)))
    return paths


PLOTS_MARK = ".rareshock-plots"
"""The file that says a folder outside the results folder was made by `plot(out=...)`."""


def _claim_plot_folder(out: Path, source: Path) -> None:
    """Plots drawn outside the results folder go into a new or empty folder, or one an
    earlier `plot(out=...)` made (it holds PLOTS_MARK): never over a user's files, nor into
    a results folder (its own plots go into its `plots/`)."""
    from .run.store import MANIFEST, atomic_write_bytes

    if out.exists() and not out.is_dir():
        raise ArgumentError("out", str(out), "exists and is not a folder")
    here = out.absolute().resolve()
    if here == source.absolute().resolve() or (out / MANIFEST).exists():
        raise ArgumentError("out", str(out), "is a results folder: leave out `out` to draw "
                            "into its plots/ folder, or choose a new folder")
    if out.is_dir() and any(out.iterdir()) and not (out / PLOTS_MARK).is_file():
        raise ArgumentError("out", str(out), "is not empty and was not made by rareshock's "
                            "plot: choose a new folder")
    atomic_write_bytes(out / PLOTS_MARK, f"plots of {source}\n".encode())


def report(path: str | Path) -> Path:
    """Write `report.html`, one self-contained HTML page, into the results folder of a
    run, sweep, comparison or calibration at `path`; returns its path."""
    from .report.write import write_report

    return write_report(Path(path))


def open_results(path: str | Path) -> Results | SweepResults:
    """The Results of a run folder, or the SweepResults of a sweep folder (a calibration
    folder's predictive run is its `predictive/` folder)."""
    if ResultsDir(path).open_header().get("kind") == "calibration":
        raise FolderError(str(path), "is a calibration folder: see its calibration.md; its "
                          f"posterior predictive run is {Path(path) / 'predictive'}")
    return SweepResults(path) if is_sweep(path) else Results(path)


def _check_config(cfg: Any) -> Config:
    if not isinstance(cfg, Config):
        raise ArgumentError("cfg", None, f"must be a Config (from sim.load_config), got "
                            f"{type(cfg).__name__}")
    return cfg


def _check_options(replications: Any, workers: Any, force: Any) -> None:
    """The typed keyword arguments, before anything is read or written."""
    if replications is not None:
        check_count("replications", replications)
    if workers is not None:
        check_count("workers", workers)
    if not isinstance(force, bool):
        raise ArgumentError("force", force, "must be True or False")


def run_batch(cfg: Config, out: str | Path | None = None, *, replications: int | None = None,
              workers: int | None = None, executor: str = "local",
              scheduler: str | None = None, chunk_size: int | None = None,
              resume: bool = False, overwrite: bool = False, precision: float | None = None,
              max_replications: int | None = None,
              progress: Progress | None = None, force: bool = False,
              source: str | None = None) -> Results:
    """Run a Monte Carlo batch of `cfg` into `out` (default `results/<cfg.name>`) and return
    its Results; `summary.csv` is written.

    `replications` defaults to `runs.replications`; `workers` to every core; `executor` is
    "local" (a process pool) or "dask" (a LocalCluster, or the cluster at `scheduler`);
    `resume` continues an interrupted run, `overwrite` replaces an existing folder. With
    `precision`, replications are added until every sector's 95% half-width of mean
    `shortfall_frac` is under it (up to `max_replications`); the manifest records whether
    it was met. Unless `force`, a config beyond the work limits (`sim.config.workload`) is
    refused before anything is written; errors and warnings name `source` (default: the
    config's name).
    """
    cfg = _check_config(cfg)
    _check_options(replications, workers, force)
    if resume and overwrite:
        raise ArgumentError("resume", True, "cannot be combined with overwrite")
    source = source or cfg.name or "<config>"
    path = Path(out) if out is not None else Path("results") / (cfg.name or "run")
    grow = None
    if precision is not None:
        first = replications if replications is not None else cfg.runs.replications
        grow = PrecisionTarget(precision, first, max_replications)
        if not cfg.firms:
            raise ConfigError(source, "firms", "a precision target is on sector shortfall, "
                              "and this config has no firms")
    elif max_replications is not None:
        raise ArgumentError("max_replications", max_replications,
                            "only applies with a precision target")
    if force:
        check_warnings(cfg, source)
    else:
        check_work(cfg, source)

    def finished(store: ResultsDir) -> None:
        if grow is not None:
            store.update_manifest(precision={"target_halfwidth": grow.halfwidth,
                                             "met": grow.met, "worst_halfwidth": grow.worst})
        Results(path).write_summary()

    info = _run_batch_in(cfg, path, replications=replications, workers=workers,
                         executor=executor, scheduler=scheduler, chunk_size=chunk_size,
                         resume=resume, overwrite=overwrite, progress=progress, grow=grow,
                         finished=finished)
    return Results(path, info)


def run_sweep(cfg: Config, out: str | Path | None = None, *, replications: int | None = None,
              crn: bool | None = None, workers: int | None = None, executor: str = "local",
              scheduler: str | None = None, chunk_size: int | None = None,
              resume: bool = False, overwrite: bool = False,
              progress: Progress | None = None, source: str = "<config>",
              force: bool = False) -> SweepResults:
    """Run the sweep of `cfg` (its `[sweep]` table) into `out` (default
    `results/<cfg.name>`) and return its SweepResults; summary.csv, sensitivity.csv and
    discovery.csv are written. `replications` is per point (default
    `sweep.replications`); `crn` overrides `sweep.crn`; unless `force`, every point's
    config is checked against the work limits; the rest as `run_batch`."""
    from .sweep import run_sweep as _run_sweep_in

    cfg = _check_config(cfg)
    _check_options(replications, workers, force)
    if resume and overwrite:
        raise ArgumentError("resume", True, "cannot be combined with overwrite")
    path = Path(out) if out is not None else Path("results") / (cfg.name or "sweep")
    info = _run_sweep_in(cfg, path, replications=replications, crn=crn, workers=workers,
                         executor=executor, scheduler=scheduler, chunk_size=chunk_size,
                         resume=resume, overwrite=overwrite, progress=progress, source=source,
                         finished=lambda store: SweepResults(path).write_outputs(),
                         force=force)
    return SweepResults(path, info)


class Calibration:
    """A calibration folder: `posterior` (the weighted sample), `generations`,
    `posterior_config` (the path of posterior.toml), `predictive` (the Results of the
    posterior predictive run) and `backtest()` of it."""

    def __init__(self, path: str | Path, fit: Any = None) -> None:
        self.path = Path(path)
        self.fit = fit

    @property
    def posterior_config(self) -> Path:
        return self.path / "posterior.toml"

    @property
    def predictive(self) -> Results:
        return Results(self.path / "predictive")

    def posterior(self) -> Any:
        """The particles (DataFrame): a column per parameter, and `weight`."""
        import pandas as pd

        return pd.read_parquet(self.path / "posterior.parquet")

    def backtest(self) -> Any:
        return self.predictive.backtest()


def calibrate(cfg: Config, out: str | Path | None = None, *, workers: int | None = None,
              executor: str = "local", scheduler: str | None = None,
              overwrite: bool = False, plots: bool = True,
              progress: Any = None, config_path: str | Path | None = None,
              overrides: list[str] | None = None, source: str | None = None,
              force: bool = False) -> Calibration:
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
    marked `failed` (`interrupted` for a stop or a crash), never left `running`."""
    import subprocess
    import time

    from .calibration.abc import check_calibratable
    from .calibration.abc import fit as run_fit
    from .calibration.backtest import check_backtest
    from .calibration.targets import fit_targets
    from .run.executors import make_executor

    cfg = _check_config(cfg)
    _check_options(None, workers, force)
    source = source or (str(config_path) if config_path else cfg.name or "<config>")
    check_calibratable(cfg, source)
    targets = fit_targets(cfg, source)
    check_backtest(cfg, source)
    if force:
        check_warnings(cfg, source)
    else:
        check_work(cfg, source)
    try:
        import cloudpickle  # noqa: F401
        import pyabc  # noqa: F401
    except ImportError:
        raise ArgumentError("command", "calibrate", "needs pyabc; install the 'calibrate' "
                            "extra: pip install 'rareshock[calibrate]'") from None
    path = Path(out) if out is not None else Path("results") / f"{cfg.name or 'run'}-calibration"
    settings = cfg.calibration
    predictive_n = settings.predictive_replications if settings else 100
    fit_months = sorted({t.key.split()[-1] for t in targets if t.group == "exports"})
    store = ResultsDir(path)
    try:
        store.precheck(resume=False, overwrite=overwrite, kind="calibration")
    except FolderError as exc:  # a calibration starts again; it does not resume
        raise FolderError(exc.folder, exc.message, tuple(r for r in exc.remedies
                                                         if r != "resume")) from None
    try:  # the code the posterior was fitted with
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10,
                                cwd=Path(__file__).parent).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    ex = make_executor(executor, workers or os.cpu_count() or 1, scheduler)
    t0 = time.perf_counter()
    aborted = True
    prepared = False
    try:
        with store.locked():
            store.prepare(cfg, {"kind": "calibration", "replications": predictive_n,
                                "seed": cfg.runs.seed, "chunk_size": None, "crn": None,
                                "name": cfg.name}, resume=False, overwrite=overwrite)
            prepared = True
            for name in ("abc.db", "predictive"):  # listed before they exist
                store.record_output(name)
            fit = run_fit(cfg, path / "abc.db", ex, source, progress)
            aborted = False
        ex.close()
        with store.locked():
            _write_calibration(cfg, fit, store, path, predictive_n, fit_months, commit,
                               overrides, config_path, workers, executor, scheduler,
                               force, plots, source, t0)
    except BaseException as exc:
        if prepared:  # the folder says it did not finish, and why
            _unfinished(store, exc)
        raise
    finally:
        ex.close(abort=aborted)
    if plots:
        report(path)
    return Calibration(path, fit)


def _unfinished(store: ResultsDir, exc: BaseException) -> None:
    """Mark a calibration folder that did not finish: `failed` (bad input found during
    the fit, with the message) or `interrupted` (a stop or a crash)."""
    import contextlib

    state = "failed" if isinstance(exc, BadInput) else "interrupted"
    with contextlib.suppress(BadInput, OSError), store.locked():
        store.update_manifest(state=state, error=str(exc) or type(exc).__name__)


def _write_calibration(cfg: Config, fit: Any, store: ResultsDir, path: Path,
                       predictive_n: int, fit_months: list[str], commit: str,
                       overrides: list[str] | None, config_path: str | Path | None,
                       workers: int | None, executor: str, scheduler: str | None,
                       force: bool, plots: bool, source: str, t0: float) -> None:
    """Write a finished fit's files into its (locked) calibration folder, run the
    posterior predictive check, and mark the folder complete."""
    import time

    from .calibration.posterior import SAMPLE, posterior_toml, sample_bytes
    from .report.backtest import write_backtest
    from .report.calibration import (
        calibration_markdown,
        plot_marginals,
        plot_pairs,
        plot_predictive,
    )
    from .report.progress import shown_progress
    from .run.phases import phase
    from .run.store import config_toml, digest

    store.write_output(SAMPLE, sample_bytes(fit))
    store.write_output("generations.csv", fit.generations.to_csv(index=False).encode())
    # settings of the calibration itself leave the calibrated scenario as it is
    changed = [o for o in overrides or [] if not o.strip().startswith("calibration.")]
    store.write_output("posterior.toml", posterior_toml(
        cfg, fit, path, Path(config_path) if config_path else None, changed,
        config_toml(cfg), commit))
    pcfg = load_config(path / "posterior.toml")
    phase(f"posterior predictive run: {predictive_n} replications...")
    res = run_batch(pcfg, path / "predictive", replications=predictive_n,
                    workers=workers, executor=executor, scheduler=scheduler,
                    overwrite=True, force=force, source=str(path / "posterior.toml"),
                    progress=shown_progress())
    phase("back-test of the posterior predictive run...")
    bt = res.backtest()
    title = f"{cfg.name or source} posterior predictive, {predictive_n} replications"
    with res.store.locked():
        for p in write_backtest(bt, path / "predictive", title):
            res.store.record_output(p.name)
    figures: list[str] = []
    if plots:
        phase("drawing the calibration plots...")
        drawn = [plot_marginals(cfg, fit, path / "plots"),
                 plot_pairs(fit, path / "plots"),
                 *plot_predictive(bt, path / "plots", title)]
        for p in drawn:
            store.record_output(str(p.relative_to(path)))
        figures = [str(p.relative_to(path)) for p in drawn]
    md = calibration_markdown(cfg, fit, bt, title=cfg.name or source, source=source,
                              fit_months=fit_months, predictive=predictive_n,
                              commit=commit, plots=figures)
    store.write_output("calibration.md", md.encode())
    # the files' checksums, for `verify` (the predictive run has its own)
    sums = {o: digest((path / o).read_bytes()) for o in store.header()["outputs"]
            if (path / o).is_file()}
    store.update_manifest(state="complete", simulations=fit.simulations,
                          sha256=sums,
                          fit_seconds=round(fit.wall_seconds, 3),
                          wall_seconds=round(time.perf_counter() - t0, 3),
                          generations=len(fit.generations), commit=commit,
                          unscaled=fit.unscaled)


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
    from .analysis.compare import check_comparable, compare_runs
    from .report.compare import COMPARE_INFO, compare_markdown, plot_differences
    from .report.progress import shown_progress
    from .run.store import atomic_write_bytes, digest

    if len(sources) < 2:
        raise ArgumentError("sources", len(sources), "needs at least two scenarios to compare")
    path = Path(out) if out is not None else Path("results") / "compare"
    configs = {i: s if isinstance(s, Config) else load_config(s)
               for i, s in enumerate(sources)
               if isinstance(s, Config) or Path(s).suffix == ".toml"}
    opened: dict[int, Results] = {}
    for i, src in enumerate(sources):
        if i not in configs:
            res = open_results(src)
            if not isinstance(res, Results):
                raise FolderError(str(src), "is a sweep folder: compare runs (or configs)")
            opened[i] = res
    _claim_compare_folder(path, overwrite, [r.path for r in opened.values()])
    check_comparable([configs[i] if i in configs else opened[i].config
                      for i in range(len(sources))],
                     [str(opened[i].path) if i in opened else
                      (str(s) if not isinstance(s, Config) else s.name or f"config {i + 1}")
                      for i, s in enumerate(sources)])
    first = next(iter(configs.values()), None)
    shared_seed = seed if seed is not None else (first.runs.seed if first else None)
    shared_n = replications if replications is not None else (
        first.runs.replications if first else None)
    runs: list[Results] = []
    labels: list[str] = []
    if configs:  # the runs are the comparison's: from here on the folder is its
        _mark_compare_folder(path)
    for i, src in enumerate(sources):
        if i in configs:
            cfg = configs[i]
            cfg = cfg.model_copy(update={"runs": cfg.runs.model_copy(
                update={"seed": shared_seed})})
            label = _unique(cfg.name or Path(str(src)).stem, labels)
            runs.append(run_batch(cfg, path / label, replications=shared_n, workers=workers,
                                  executor=executor, scheduler=scheduler,
                                  resume=not overwrite, overwrite=overwrite, force=force,
                                  source=str(src) if not isinstance(src, Config) else None,
                                  progress=shown_progress()))
        else:
            res = opened[i]
            label = _unique(res.manifest.get("name") or res.path.name, labels)
            runs.append(res)
        labels.append(label)
    for label, res in zip(labels, runs, strict=True):
        if not res.complete:
            raise FolderError(str(res.path), f"{label} is unfinished ({res.replications} of "
                              f"{res.planned} replications): continue it first", ("resume",))
    table = compare_runs(runs, labels, paired=not unpaired)
    _mark_compare_folder(path)
    drawn = [str(plot_differences(runs, labels, path / "plots").relative_to(path))] \
        if plots and not runs[0].firms.empty else []
    csv = table.to_csv(index=False).encode()
    atomic_write_bytes(path / "compare.csv", csv)
    md = compare_markdown(table, labels, [str(r.path) for r in runs], not unpaired,
                          runs[0].replications, runs[0].manifest.get("seed"), drawn)
    atomic_write_bytes(path / "compare.md", md.encode())
    info = {"kind": "compare", "state": "complete", "labels": labels,
            "runs": [os.path.relpath(r.path.absolute(), path.absolute()) for r in runs],
            "paired": not unpaired, "replications": runs[0].replications,
            "seed": runs[0].manifest.get("seed"), "sha256": {"compare.csv": digest(csv)},
            "run_ids": [r.manifest["run_id"] for r in runs]}
    atomic_write_bytes(path / COMPARE_INFO, json.dumps(info, indent=1).encode())
    if plots:
        report(path)
    return Comparison(path, table, labels, runs, not unpaired)


def _claim_compare_folder(path: Path, overwrite: bool, inputs: list[Path]) -> None:
    """Make `path` a comparison's folder, or refuse: it must not be (or be inside) a run it
    compares, and must be new, empty, or a comparison's folder (an unfinished one is
    continued; a finished one is replaced only with `overwrite`). Marks it as a
    comparison's by `_mark_compare_folder` before anything is written into it."""
    from .report.compare import COMPARE_INFO, compare_info

    here = path.absolute().resolve()
    for src in inputs:
        s = src.absolute().resolve()
        if here == s or s in here.parents:
            where = "a run" if here == s else f"inside {src}, a run"
            raise FolderError(str(path), f"is {where} being compared: write the comparison "
                              "into another folder")
    if path.exists() and not path.is_dir():
        raise FolderError(str(path), "exists and is not a folder")
    if path.is_dir() and any(path.iterdir()):
        if not (path / COMPARE_INFO).exists():
            raise FolderError(str(path), f"is not empty and was not made by rareshock compare "
                              f"(no {COMPARE_INFO}): write the comparison into a new folder")
        if compare_info(path).get("state") == "complete" and not overwrite:
            raise FolderError(str(path), "holds a comparison already", ("overwrite",))


def _mark_compare_folder(path: Path) -> None:
    """Mark `path` as a comparison's, unfinished (compare.json), creating it if need be."""
    from .report.compare import COMPARE_INFO
    from .run.store import atomic_write_bytes

    try:
        atomic_write_bytes(path / COMPARE_INFO, json.dumps(
            {"kind": "compare", "state": "running"}, indent=1).encode())
    except OSError as exc:
        raise FolderError(str(path), f"cannot write {COMPARE_INFO} "
                          f"({exc.strerror or exc})") from None


def _unique(label: str, taken: list[str]) -> str:
    out, k = label, 2
    while out in taken:
        out, k = f"{label}-{k}", k + 1
    return out
