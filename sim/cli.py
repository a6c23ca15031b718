"""The `rareshock` command line: parse, load, call the library, exit with the right status.

Exit status: 0 success; 2 bad input (one line naming the file, the field and what is
wrong; nothing written); 1 internal error.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

from .errors import ArgumentError, BadInput, ConfigError, FolderError

# Keyword arguments of the library, as the flags that set them.
FLAGS = {"replications": "--replications", "workers": "--workers", "executor": "--executor",
         "scheduler": "--scheduler", "chunk_size": "--chunk-size", "resume": "--resume",
         "overwrite": "--overwrite", "out": "--out", "precision": "--precision",
         "max_replications": "--max-replications", "seed": "--seed", "crn": "--no-crn"}


def _flag(argument: str) -> str:
    return FLAGS.get(argument, "--" + argument.replace("_", "-"))


def describe_error(err: BadInput, accepted: Iterable[str] | None = None) -> str:
    """A library error, worded for the command line (flags, not keyword arguments); with
    `accepted` (the command's argument names), a command that writes names only the
    remedies it has (a reading command's hints are for the command that wrote)."""
    have = None if accepted is None else set(accepted)
    writes = have is not None and "overwrite" in have
    remedies = [r for r in getattr(err, "remedies", ()) or ()
                if not writes or r in have]
    if isinstance(err, ArgumentError):
        shown = "" if err.value is None or isinstance(err.value, bool) else f": {err.value}"
        return f"{_flag(err.argument)}{shown}: {err.message}"
    if isinstance(err, FolderError):
        hint = ""
        if remedies:
            hint = " (use " + " or ".join(_flag(r) for r in remedies) + ")"
        return f"{err.folder}: {err.message}{hint}"
    if isinstance(err, ConfigError):
        where = f"{err.source}: {err.path}" if err.path else err.source
        flags = " or ".join(_flag(r) for r in remedies)
        return "\n".join([f"{where}: {err.message}" + (f" (use {flags} to run it anyway)"
                                                       if flags else ""),
                          *(describe_error(e) for e in err.more)])
    return str(err)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"rareshock: error: {message} (see rareshock {self.prog.split()[-1]} "
                     f"--help)\n" if " " in self.prog else f"rareshock: error: {message}\n")


def _number(kind: type = int, minimum: float = 1, strict: bool = False):  # noqa: ANN202
    """An argparse type: a whole number (or a finite float) at least `minimum` (above it
    with `strict`); argparse names the option in its message."""
    what = "a whole number" if kind is int else "a number"

    def parse(text: str) -> int | float:
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if v != v or v in (float("inf"), float("-inf")) or v < minimum or (
                strict and v == minimum):
            bound = f"above {minimum:g}" if strict else f"at least {minimum:g}"
            raise argparse.ArgumentTypeError(f"must be {what} {bound}, got {text}")
        return v
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rareshock", description="Simulate rare-earth export-licence queues and "
                "the manufacturers they feed.")
    p.add_argument("--version", action="version", version=f"rareshock {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           parser_class=_Parser)

    def config_opts(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("config", metavar="CONFIG", help="scenario config (TOML)")
        sp.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="PATH=VALUE", help="override a config value (repeatable), "
                        "e.g. --set authority.reviewers=1200")
        sp.add_argument("--force", action="store_true", help="accept a config beyond the "
                        "work limits (events or time-series rows per replication, horizon, "
                        "mean durations) that would otherwise be refused")

    def batch_opts(sp: argparse.ArgumentParser) -> None:
        """Options shared by `run` and `sweep`: executors, chunks, the results folder."""
        sp.add_argument("--workers", "-j", type=_number(),
                        help="worker processes (default: all cores)")
        sp.add_argument("--executor", choices=["local", "dask"], default="local")
        sp.add_argument("--scheduler", metavar="ADDRESS",
                        help="Dask scheduler of an existing cluster (with --executor dask)")
        sp.add_argument("--chunk-size", type=_number(), help="replications per task "
                        "(default: about 32 tasks, at most 20 each)")
        sp.add_argument("--out", "-o", metavar="DIR", help="results folder "
                        "(default: results/<config file name>)")
        sp.add_argument("--resume", action="store_true", help="continue an interrupted run "
                        "(or start it, if the folder is empty)")
        sp.add_argument("--overwrite", action="store_true", help="replace an existing folder")
        sp.add_argument("--no-plots", action="store_true",
                        help="skip the plots and the HTML report")
        sp.add_argument("--quiet", "-q", action="store_true", help="print only errors")

    run = sub.add_parser("run", help="run a Monte Carlo batch and store its results",
                         description="Run N replications, store tables, summary and plots.")
    config_opts(run)
    run.add_argument("--replications", "-n", type=_number(),
                     help="replications (default: runs.replications)")
    run.add_argument("--seed", type=_number(minimum=0),
                     help="root seed (default: runs.seed)")
    batch_opts(run)
    run.add_argument("--precision", type=_number(float, 0, strict=True), metavar="X",
                     help="add replications until every sector's 95%% half-width of mean "
                     "shortfall_frac is under X")
    run.add_argument("--max-replications", type=_number(),
                     help="cap for --precision (default: 10x the start, at least 1000)")

    sw = sub.add_parser("sweep", help="run a sensitivity sweep (the config's [sweep] table)",
                        description="Run every point of the [sweep] design (grid, oat, lhs, "
                        "sobol, morris), replications per point with common random numbers; "
                        "store tables, points.csv, summary.csv, sensitivity.csv and plots.")
    config_opts(sw)
    sw.add_argument("--replications", "-n", type=_number(),
                    help="replications per point (default: sweep.replications)")
    sw.add_argument("--seed", type=_number(minimum=0),
                    help="root seed, also of the sampled design (default: runs.seed)")
    sw.add_argument("--no-crn", action="store_true", help="independent random streams per "
                    "point instead of common random numbers (for comparison)")
    batch_opts(sw)

    val = sub.add_parser("validate", help="check a config and say what it holds")
    config_opts(val)

    summ = sub.add_parser("summary", help="print the sector table of a results folder")
    summ.add_argument("results", metavar="DIR")
    summ.add_argument("--csv", action="store_true", help="print the whole summary as CSV")

    ver = sub.add_parser("verify", help="check a results folder: its manifest, config and "
                         "every part's size and checksum")
    ver.add_argument("results", metavar="DIR")

    plot = sub.add_parser("plot", help="draw the plots of a results folder")
    plot.add_argument("results", metavar="DIR")

    rep = sub.add_parser("report", help="write DIR/report.html: one self-contained HTML page "
                         "of a run, sweep, comparison or calibration folder",
                         description="Write DIR/report.html, one self-contained HTML page "
                         "(inline CSS and SVG figures, nothing fetched) for a run, sweep, "
                         "comparison or calibration folder.")
    rep.add_argument("results", metavar="DIR")

    sub.add_parser("schema", help="print the JSON Schema of the config (for editors)")

    bt = sub.add_parser("backtest", help="run a scenario and compare it with what was "
                        "observed (its config's `observed` data: exports, stoppages, "
                        "approvals)")
    bt.add_argument("config", metavar="CONFIG", nargs="?", default="configs/baseline.toml",
                    help="scenario config naming its observations (default: "
                    "configs/baseline.toml)")
    bt.add_argument("--set", dest="overrides", action="append", default=[],
                    metavar="PATH=VALUE", help="override a config value (repeatable)")
    bt.add_argument("--replications", "-n", type=_number(),
                    help="replications (default: runs.replications)")
    bt.add_argument("--workers", "-j", type=_number(),
                    help="worker processes (default: all cores)")
    bt.add_argument("--out", "-o", metavar="DIR",
                    help="results folder (default: results/<config name>-backtest)")
    bt.add_argument("--overwrite", action="store_true", help="replace an existing folder")

    cal = sub.add_parser("calibrate", help="fit the config's uncertain parameters to its "
                         "observations (ABC-SMC) and write the posterior as a config",
                         description="Approximate Bayesian computation (pyabc's ABC-SMC) of "
                         "the [[uncertain]] parameters against the observations of the fit "
                         "window ([calibration] settings); writes posterior.parquet, "
                         "posterior.toml, a posterior predictive run and calibration.md.")
    config_opts(cal)
    cal.add_argument("--workers", "-j", type=_number(),
                     help="worker processes (default: all cores)")
    cal.add_argument("--executor", choices=["local", "dask"], default="local")
    cal.add_argument("--scheduler", metavar="ADDRESS",
                     help="Dask scheduler of an existing cluster (with --executor dask)")
    cal.add_argument("--out", "-o", metavar="DIR", help="output folder "
                     "(default: results/<config file name>-calibration)")
    cal.add_argument("--overwrite", action="store_true", help="replace an existing folder "
                     "(and the --export files)")
    cal.add_argument("--export", metavar="FILE.toml", help="also write the posterior config "
                     "there, its sample beside it as FILE.parquet (to commit a calibrated "
                     "scenario; paths rewritten relative to it)")
    cal.add_argument("--no-plots", action="store_true",
                     help="skip the plots and the HTML report")
    cal.add_argument("--quiet", "-q", action="store_true", help="print only errors")

    cmp = sub.add_parser("compare", help="compare scenarios on shared seeds: paired "
                         "differences against the first",
                         description="Compare result folders of runs (same seed and "
                         "replications), or configs (run first, on the first config's seed, "
                         "into --out). Per sector and metric: the mean difference against the "
                         "first with a paired 95%% CI (Bonferroni for several), the share of "
                         "replications better, and which cannot be told apart from the best. "
                         "Writes compare.csv, compare.md and plots/compare.png.")
    cmp.add_argument("sources", nargs="+", metavar="RESULTS_OR_CONFIG",
                     help="two or more results folders or config files; the first is the "
                     "reference")
    cmp.add_argument("--replications", "-n", type=_number(),
                     help="replications of each config (default: the first's)")
    cmp.add_argument("--seed", type=_number(int, 0), help="the shared seed for configs "
                     "(default: the first config's runs.seed)")
    cmp.add_argument("--workers", "-j", type=_number(),
                     help="worker processes (default: all cores)")
    cmp.add_argument("--executor", choices=["local", "dask"], default="local")
    cmp.add_argument("--scheduler", metavar="ADDRESS",
                     help="Dask scheduler of an existing cluster (with --executor dask)")
    cmp.add_argument("--out", "-o", metavar="DIR",
                     help="output folder (default: results/compare)")
    cmp.add_argument("--unpaired", action="store_true", help="compare runs that do not "
                     "share seeds or replications (Welch intervals)")
    cmp.add_argument("--overwrite", action="store_true", help="replace an existing "
                     "comparison (and rerun its configs)")
    cmp.add_argument("--no-plots", action="store_true",
                     help="skip the plot and the HTML report")
    cmp.add_argument("--quiet", "-q", action="store_true", help="print only errors")

    vm = sub.add_parser("validate-model", help="regenerate the validation report "
                        "(docs/validation.md): queueing theory, conservation, back-test")
    vm.add_argument("--doc", default="docs/validation.md", metavar="FILE",
                    help="where to write the report (figures go beside it)")
    vm.add_argument("--configs", default="configs", metavar="DIR",
                    help="folder holding mmc.toml, baseline.toml and scenarios/ "
                    "(default: configs)")
    vm.add_argument("--small", action="store_true", help="quick version with few replications")
    vm.add_argument("--workers", "-j", type=_number(),
                    help="worker processes for the back-test batch")
    vm.add_argument("--calibrations", nargs="+", metavar="DIR", default=[],
                    help="folders of `rareshock calibrate` fitted on growing windows: the "
                    "rolling-origin section")
    return p


def _version() -> str:
    from .version import __version__

    return __version__


def _cmd_validate(args: argparse.Namespace) -> int:
    from .config import load_config
    from .config.workload import check_warnings, check_work, estimate_work

    cfg = load_config(args.config, args.overrides)
    if args.force:
        est = estimate_work(cfg)
    else:
        est = check_work(cfg, args.config, warn=False)
    plan = largest = None
    if cfg.sweep is not None:  # every point checked before anything is printed
        from .sweep.plan import check_plan_work, plan_sweep

        plan = plan_sweep(cfg, args.config)
        largest = None if args.force else check_plan_work(plan, args.config)
    check_warnings(cfg, args.config)
    controls = sum(1 for e in cfg.policy if e.type == "controls_start")
    print(f"{args.config}: ok — {cfg.horizon_days:g} days from {cfg.calendar.start}, "
          f"{len(cfg.materials)} materials, {len(cfg.firms)} firms, {len(cfg.suppliers)} "
          f"suppliers, {len(cfg.policy)} policy events ({controls} controls_start), "
          f"{cfg.authority.reviewers} reviewers, {cfg.runs.replications} replications")
    print(f"work: {est}")
    if plan is not None and cfg.sweep is not None:
        sw = cfg.sweep
        names = ", ".join(lv.label for lv in plan.levers)
        k = len(plan.levers)
        print(f"sweep: {sw.method} over {k} parameter{'s' if k > 1 else ''} ({names}), "
              f"{plan.design.size} points x {sw.replications} replications, "
              f"{'common random numbers' if sw.crn else 'independent streams'}; every "
              "point's config is valid" + (f" (the largest: {largest})" if largest else ""))
    return 0


def _progress(quiet: bool):  # noqa: ANN202 - a sim.run.progress.Progress, or None
    """A bar on a terminal, a plain line every 10 s otherwise, nothing with --quiet."""
    if quiet:
        return None
    from .report.progress import BarProgress, LineProgress

    return BarProgress() if sys.stderr.isatty() else LineProgress()


def _start_pool_early(args: argparse.Namespace) -> None:
    """Start the local pool's fork server now, so that its imports overlap with reading
    the config (see sim.run.pool)."""
    if args.executor == "local" and (args.workers or os.cpu_count() or 1) > 1:
        from .run.pool import start_forkserver

        start_forkserver()


def _cmd_run(args: argparse.Namespace) -> int:
    _start_pool_early(args)
    from .config import load_config

    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"runs.seed={args.seed}")
    if args.replications is not None:
        overrides.append(f"runs.replications={args.replications}")
    cfg = load_config(args.config, overrides)
    if args.precision is not None and not cfg.firms:
        raise ConfigError(args.config, "firms",
                          "--precision targets sector shortfall, and this config has no firms")
    _check_executor(args)
    out = Path(args.out) if args.out else Path("results") / Path(args.config).stem
    from .api import run_batch

    res = run_batch(
        cfg, out, workers=args.workers, executor=args.executor, scheduler=args.scheduler,
        chunk_size=args.chunk_size, resume=args.resume, overwrite=args.overwrite,
        precision=args.precision, max_replications=args.max_replications,
        progress=_progress(args.quiet), force=args.force, source=args.config,
    )
    if not args.no_plots:
        res.plot()
        res.report()
    if not args.quiet:
        info = res.info
        rate = info.replications / info.wall_seconds if info.wall_seconds > 0 else float("nan")
        print(res.text())
        prec = res.manifest.get("precision")
        if prec is not None:
            state = "met" if prec["met"] else "NOT met (cap reached)"
            print(f"precision {args.precision:g}: {state} after {info.replications} "
                  "replications")
        if info.chunks_run == 0:
            print(_nothing_run(out, f"{info.replications} replications", res.manifest,
                               info.wall_seconds))
        else:
            print(f"{info.replications} replications in {info.wall_seconds:.1f} s "
                  f"({rate:.2f}/s, {info.events:,} events) -> {out}")
    return 0


def _nothing_run(out: Path, what: str, manifest: dict, wall: float) -> str:
    """The last line of a resumed batch that found nothing left to run: not a time or a
    rate as if it had run the replications now."""
    return (f"{out} is complete ({what}, started {manifest.get('created', 'earlier')}, "
            f"{wall:.1f} s of computing); nothing left to run")


def _check_executor(args: argparse.Namespace) -> None:
    if getattr(args, "max_replications", None) is not None and args.precision is None:
        raise ArgumentError("max_replications", None, "only applies with --precision")
    if args.resume and args.overwrite:
        raise ArgumentError("resume", None, "cannot be combined with --overwrite")
    if args.scheduler and args.executor != "dask":
        raise ArgumentError("scheduler", args.scheduler, "needs --executor dask")
    if args.executor == "dask":
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise ArgumentError("executor", "dask", "Dask is not installed; install the "
                                "'dask' extra: pip install 'rareshock[dask]'") from None


def _cmd_sweep(args: argparse.Namespace) -> int:
    _start_pool_early(args)
    from .config import load_config

    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"runs.seed={args.seed}")
    cfg = load_config(args.config, overrides)
    if cfg.sweep is None:
        raise ConfigError(args.config, "sweep", "this config has no [sweep] table (see the "
                          "README, Sensitivity sweeps)")
    _check_executor(args)
    out = Path(args.out) if args.out else Path("results") / Path(args.config).stem
    from .api import run_sweep

    res = run_sweep(
        cfg, out, replications=args.replications, crn=False if args.no_crn else None,
        workers=args.workers, executor=args.executor, scheduler=args.scheduler,
        chunk_size=args.chunk_size, resume=args.resume, overwrite=args.overwrite,
        progress=_progress(args.quiet), source=args.config, force=args.force,
    )
    if not args.no_plots:
        res.plot()
        res.report()
    if not args.quiet:
        info = res.info
        runs = info.points * info.replications
        rate = runs / info.wall_seconds if info.wall_seconds > 0 else float("nan")
        print(res.text())
        if info.chunks_run == 0:
            print(_nothing_run(out, f"{info.points} points x {info.replications} "
                               "replications", res.manifest, info.wall_seconds))
        else:
            print(f"{info.points} points x {info.replications} replications in "
                  f"{info.wall_seconds:.1f} s ({rate:.2f} replications/s, "
                  f"{info.events:,} events) -> {out}")
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    from .api import open_results

    res = open_results(args.results)
    if args.csv:
        sys.stdout.write(res.summary().to_csv(index=False))
    else:
        print(res.text())
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from .run.store import ResultsDir

    store = ResultsDir(args.results)
    man = store.open_header()
    if man.get("kind") == "calibration":  # no chunks of its own: its outputs and its runs
        store.config_bytes()  # config.toml as the calibration began
        return _verify_calibration(store, man)
    man = store.check()  # the manifest, config.toml as the run began, parts by size
    chunks = store.chunks(man["run_id"])
    bad = store.problems(checksums=True, chunks=chunks)
    if bad:
        listed = "; ".join(f"chunk {c}: {why}" for c, why in bad.items())
        raise FolderError(str(store.path), f"{len(bad)} damaged chunk"
                          f"{'s' if len(bad) > 1 else ''} ({listed}); resuming the run "
                          "recomputes them", ("resume",))
    wrong = store.log_problems(man, chunks)
    if wrong:
        raise FolderError(str(store.path), f"its log is damaged: {'; '.join(wrong)}; run it "
                          "again into a new folder")
    parts = sum(len(ch.parts) for ch in chunks.values())
    reps = sum(ch.replications for ch in chunks.values())
    total = int(man["replications"]) * int(man.get("points", 1))
    state = "complete" if reps >= total else f"unfinished: {reps:,} of {total:,}"
    print(f"{store.path}: {man.get('kind', 'run')} {man.get('name') or ''}, "
          f"{len(chunks)} chunks, {reps:,} replications ({state}), each recorded once; "
          f"{parts} parts match their sizes and sha256 checksums; config.toml is the one "
          "that ran")
    return 0


def _verify_calibration(store: object, man: dict) -> int:
    """A calibration folder: finished, every output it lists present, and its posterior
    predictive run sound."""
    from .run.store import ResultsDir

    assert isinstance(store, ResultsDir)
    if man.get("state") != "complete":
        raise FolderError(str(store.path), "the calibration did not finish; run it again "
                          "with --overwrite", ())
    missing = [o for o in man.get("outputs", []) if not (store.path / o).exists()]
    if missing:
        raise FolderError(str(store.path), f"missing {', '.join(missing)}; run the "
                          "calibration again with --overwrite", ())
    from .run.store import digest

    changed = [o for o, h in man.get("sha256", {}).items()
               if digest((store.path / o).read_bytes()) != h]
    if changed:
        raise FolderError(str(store.path), f"{', '.join(changed)} changed since the "
                          "calibration wrote them (sha256 differs); run the calibration again "
                          "with --overwrite", ())
    args = argparse.Namespace(results=str(store.path / "predictive"))
    _cmd_verify(args)
    print(f"{store.path}: calibration, {man.get('simulations', 0):,} simulations in "
          f"{man.get('generations', 0)} generations; {len(man.get('outputs', []))} outputs "
          f"present, {len(man.get('sha256', {}))} files match their sha256 checksums; "
          "config.toml is the one that ran")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from .api import open_results

    res = open_results(args.results)
    paths = res.plot()
    print(f"{len(paths)} plots in {res.path / 'plots'}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .api import report

    path = report(args.results)
    print(f"report written to {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    import json

    from .config.schema import Config

    print(json.dumps(Config.model_json_schema(), indent=2))
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    from .calibration.backtest import check_backtest
    from .config import load_config

    overrides = list(args.overrides)
    if args.replications is not None:
        overrides.append(f"runs.replications={args.replications}")
    cfg = load_config(args.config, overrides)
    check_backtest(cfg, args.config)
    out = Path(args.out) if args.out else Path("results") / f"{Path(args.config).stem}-backtest"
    from .api import run_batch
    from .report.backtest import markdown_tables, plot_backtest, write_backtest

    res = run_batch(cfg, out, workers=args.workers, overwrite=args.overwrite,
                    progress=_progress(False))
    bt = res.backtest()
    title = f"{cfg.name or Path(args.config).stem}, {res.replications} replications"
    with res.store.locked():
        for p in [*write_backtest(bt, out, title), *plot_backtest(bt, out, title)]:
            res.store.record_output(p.name)
    print(markdown_tables(bt))
    print(f"back-test written to {out / 'backtest.md'}")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    _start_pool_early(args)
    from .config import load_config

    cfg = load_config(args.config, args.overrides)
    args.resume = False
    _check_executor(args)
    out = Path(args.out) if args.out else Path("results") / f"{Path(args.config).stem}-calibration"
    from .api import calibrate

    def say(line: str) -> None:
        print(f"rareshock: {line}", file=sys.stderr, flush=True)

    if args.export:
        target = Path(args.export)
        if target.suffix != ".toml":
            raise ArgumentError("export", args.export, "must name a .toml file")
        from .calibration.posterior import check_export

        check_export(target, Path(args.config), args.overrides, out)
        for f in (target, target.with_suffix(".parquet")):
            if f.exists() and not args.overwrite:
                raise ArgumentError("export", args.export, f"{f} exists (use --overwrite to "
                                    "replace it)")
        # checked before hours of fitting, not after: the nearest existing folder above it
        # must be a folder we can write in
        up = target.parent.absolute()
        while not up.exists() and up != up.parent:
            up = up.parent
        try:
            if not up.is_dir():
                raise NotADirectoryError(str(up))
            with tempfile.TemporaryFile(dir=up):
                pass
        except OSError:
            raise ArgumentError("export", args.export, f"cannot write under {up}") from None
    cal = calibrate(cfg, out, workers=args.workers, executor=args.executor,
                    scheduler=args.scheduler, overwrite=args.overwrite,
                    plots=not args.no_plots, progress=None if args.quiet else say,
                    config_path=args.config, overrides=args.overrides, source=args.config,
                    force=args.force)
    if args.export:
        from .calibration.posterior import export

        export(out, Path(args.export))
    if not args.quiet:
        from .report.calibration import coverage, parameter_table
        from .report.text import markdown_table

        fit = cal.fit
        print(markdown_table(parameter_table(cfg, fit), "{:.3g}"))
        print()
        print(markdown_table(coverage(cal.backtest(), sorted(
            {t.key.split()[-1] for t in fit.targets if t.group == "exports"}))))
        print(f"{fit.simulations:,} simulations, {len(fit.generations)} generations in "
              f"{fit.wall_seconds / 60:.1f} min -> {out} (posterior: "
              f"{out / 'posterior.toml'})")
    return 0


def _cmd_validate_model(args: argparse.Namespace) -> int:
    from .report.validation import validate_model

    doc = validate_model(Path(args.doc), Path(args.configs), small=args.small,
                         workers=args.workers, calibrations=[Path(c) for c in args.calibrations])
    print(f"validation report written to {doc}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .api import compare

    args.resume = False
    _check_executor(args)
    cmp = compare(*args.sources, out=args.out, replications=args.replications,
                  seed=args.seed, workers=args.workers, executor=args.executor,
                  scheduler=args.scheduler, unpaired=args.unpaired,
                  overwrite=args.overwrite, plots=not args.no_plots)
    if not args.quiet:
        print(cmp.text())
        print(f"-> {cmp.path / 'compare.md'}")
    return 0


COMMANDS = {"run": _cmd_run, "sweep": _cmd_sweep, "validate": _cmd_validate,
            "summary": _cmd_summary, "plot": _cmd_plot, "report": _cmd_report,
            "verify": _cmd_verify, "schema": _cmd_schema, "backtest": _cmd_backtest,
            "calibrate": _cmd_calibrate, "validate-model": _cmd_validate_model,
            "compare": _cmd_compare}


class Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: unwind (workers are stopped on the way) and exit."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, _frame: object) -> None:
    # Once: a second signal must not cut the clean-up (stopping the workers) short.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise Stopped(signum)


def _handle_signals() -> None:
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _stop)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _handle_signals()
    logging.basicConfig(level=logging.WARNING, format="rareshock: %(message)s")
    # Libraries that set their own loggers to INFO (Dask's scheduler and nannies) would
    # otherwise print through this handler, even with --quiet; --quiet prints only errors.
    level = logging.ERROR if getattr(args, "quiet", False) else logging.WARNING
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)
    from .run.phases import show_phases

    show_phases(not getattr(args, "quiet", False))  # a line as each long step starts
    try:
        return COMMANDS[args.command](args)
    except BadInput as exc:
        print(f"rareshock: error: {describe_error(exc, vars(args))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `rareshock summary DIR | head`: the reader left; so do we
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - nothing more to flush
        return 141
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        what = ("the calibration is incomplete (run it again with --overwrite)"
                if args.command == "calibrate" else
                "finished chunks are kept (continue with --resume)")
        print(f"rareshock: stopped by {signal.Signals(signum).name}; {what}", file=sys.stderr)
        return 128 + signum
    except Exception as exc:  # an internal error: say so, traceback only on request
        if os.environ.get("RARESHOCK_DEBUG"):
            raise
        print(f"rareshock: internal error: {type(exc).__name__}: {exc} "
              "(set RARESHOCK_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
