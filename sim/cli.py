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
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

from . import api
from .errors import ArgumentError, BadInput, ConfigError, ConflictError, FolderError

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
    if isinstance(err, ConflictError):
        return f"{_flag(err.argument)}: cannot be combined with {_flag(err.other)}"
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


# Every flag, defined once: its names and argparse settings. A command lists the flags it
# takes (`_flags`), with its own help text where the default one does not fit.
FLAG_SPECS: dict[str, tuple[tuple[str, ...], dict]] = {
    "config": (("config",), {"metavar": "CONFIG", "help": "scenario config (TOML)"}),
    "set": (("--set",), {"dest": "overrides", "action": "append", "default": [],
                         "metavar": "PATH=VALUE", "help": "override a config value "
                         "(repeatable), e.g. --set authority.reviewers=1200"}),
    "force": (("--force",), {"action": "store_true", "help": "accept a config beyond the "
                             "work limits (events or time-series rows per replication, "
                             "horizon, mean durations) that would otherwise be refused"}),
    "replications": (("--replications", "-n"), {"type": _number(),
                                                "help": "replications (default: "
                                                "runs.replications)"}),
    "seed": (("--seed",), {"type": _number(minimum=0),
                           "help": "root seed (default: runs.seed)"}),
    "workers": (("--workers", "-j"), {"type": _number(),
                                      "help": "worker processes (default: all cores)"}),
    "executor": (("--executor",), {"choices": ["local", "dask"], "default": "local"}),
    "scheduler": (("--scheduler",), {"metavar": "ADDRESS", "help": "Dask scheduler of an "
                                     "existing cluster (with --executor dask)"}),
    "chunk_size": (("--chunk-size",), {"type": _number(), "help": "replications per task "
                                       "(default: about 32 tasks, at most 20 each)"}),
    "out": (("--out", "-o"), {"metavar": "DIR", "help": "results folder "
                              "(default: results/<config file name>)"}),
    "resume": (("--resume",), {"action": "store_true", "help": "continue an interrupted "
                               "run (or start it, if the folder is empty)"}),
    "overwrite": (("--overwrite",), {"action": "store_true",
                                     "help": "replace an existing folder"}),
    "no_plots": (("--no-plots",), {"action": "store_true",
                                   "help": "skip the plots and the HTML report"}),
    "quiet": (("--quiet", "-q"), {"action": "store_true", "help": "print only errors"}),
    "results": (("results",), {"metavar": "DIR"}),
}
BATCH = ("workers", "executor", "scheduler", "chunk_size", "out", "resume", "overwrite",
         "no_plots", "quiet")
"""The flags of `run` and `sweep`: executors, chunks, the results folder, output."""
EXECUTOR = ("workers", "executor", "scheduler")


def _flags(sp: argparse.ArgumentParser, *names: str, **helps: str) -> argparse.ArgumentParser:
    """Add the flags `names` (keys of FLAG_SPECS) to `sp`; `helps` replace help texts."""
    for name in names:
        flags, settings = FLAG_SPECS[name]
        sp.add_argument(*flags, **{**settings, **({"help": helps[name]}
                                                  if name in helps else {})})
    return sp


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rareshock", description="Simulate rare-earth export-licence queues and "
                "the manufacturers they feed.")
    p.add_argument("--version", action="version", version=f"rareshock {api.__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           parser_class=_Parser)
    config = ("config", "set", "force")
    run = _flags(sub.add_parser("run", help="run a Monte Carlo batch and store its results",
                                description="Run N replications, store tables, summary and "
                                "plots."), *config, "replications", "seed", *BATCH)
    run.add_argument("--precision", type=_number(float, 0, strict=True), metavar="X",
                     help="add replications until every sector's 95%% half-width of mean "
                     "shortfall_frac is under X")
    run.add_argument("--max-replications", type=_number(),
                     help="cap for --precision (default: 10x the start, at least 1000)")
    sw = _flags(sub.add_parser(
        "sweep", help="run a sensitivity sweep (the config's [sweep] table)",
        description="Run every point of the [sweep] design (grid, oat, lhs, sobol, morris), "
        "replications per point with common random numbers; store tables, points.csv, "
        "summary.csv, sensitivity.csv and plots."), *config, "replications", "seed",
        replications="replications per point (default: sweep.replications)",
        seed="root seed, also of the sampled design (default: runs.seed)")
    sw.add_argument("--no-crn", action="store_true", help="independent random streams per "
                    "point instead of common random numbers (for comparison)")
    _flags(sw, *BATCH)
    _flags(sub.add_parser("validate", help="check a config and say what it holds"), *config)
    summ = _flags(sub.add_parser("summary", help="print the sector table of a results "
                                 "folder"), "results")
    summ.add_argument("--csv", action="store_true", help="print the whole summary as CSV")
    _flags(sub.add_parser("verify", help="check a results folder: its manifest, config and "
                          "every part's size and checksum"), "results")
    _flags(sub.add_parser("plot", help="draw the plots of a results folder"), "results")
    _flags(sub.add_parser("report", help="write DIR/report.html: one self-contained HTML "
                          "page of a run, sweep, comparison or calibration folder",
                          description="Write DIR/report.html, one self-contained HTML page "
                          "(inline CSS and SVG figures, nothing fetched) for a run, sweep, "
                          "comparison or calibration folder."), "results")
    sub.add_parser("schema", help="print the JSON Schema of the config (for editors)")
    exp = sub.add_parser("explore", help="a local web app: browse results, build a scenario "
                         "with widgets, run it and compare it with its base",
                         description="Start the explore app (Streamlit, the 'explore' extra) "
                         "on 127.0.0.1 only, usage statistics off; it prints its address. "
                         "DIR holds configs/ and results/ (default: here).")
    exp.add_argument("dir", nargs="?", default=".", metavar="DIR",
                     help="the folder with configs/ and results/ (default: .)")
    exp.add_argument("--port", type=int, help="the port (default: a free one)")
    bt = sub.add_parser("backtest", help="run a scenario and compare it with what was "
                        "observed (its config's `observed` data: exports, stoppages, "
                        "approvals)")
    bt.add_argument("config", metavar="CONFIG", nargs="?", default="configs/baseline.toml",
                    help="scenario config naming its observations (default: "
                    "configs/baseline.toml)")
    _flags(bt, "set", "replications", "workers", "out", "overwrite",
           set="override a config value (repeatable)",
           out="results folder (default: results/<config name>-backtest)")
    cal = _flags(sub.add_parser(
        "calibrate", help="fit the config's uncertain parameters to its observations "
        "(ABC-SMC) and write the posterior as a config",
        description="Approximate Bayesian computation (pyabc's ABC-SMC) of the "
        "[[uncertain]] parameters against the observations of the fit window ([calibration] "
        "settings); writes posterior.parquet, posterior.toml, a posterior predictive run and "
        "calibration.md."), *config, *EXECUTOR, "out", "overwrite",
        out="output folder (default: results/<config file name>-calibration)",
        overwrite="replace an existing folder (and the --export files)")
    cal.add_argument("--export", metavar="FILE.toml", help="also write the posterior config "
                     "there, its sample beside it as FILE.parquet (to commit a calibrated "
                     "scenario; paths rewritten relative to it)")
    cal.add_argument("--check", metavar="K", type=int, help="with calibration.method = "
                     "\"npe\": the simulation-based calibration check on K synthetic "
                     "datasets (coverage of the truth, ranks, contraction; sbc.csv)")
    cal.add_argument("--agree-with", metavar="DIR", help="another fit of the same "
                     "parameters with another seed (--set runs.seed=...): calibration.md "
                     "says whether the two posteriors agree (agreement.csv)")
    _flags(cal, "no_plots", "quiet")
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
    _flags(cmp, "replications", "seed", *EXECUTOR, "out",
           replications="replications of each config (default: the first's)",
           seed="the shared seed for configs (default: the first config's runs.seed)",
           out="output folder (default: results/compare)")
    cmp.add_argument("--unpaired", action="store_true", help="compare runs that do not "
                     "share seeds or replications (Welch intervals)")
    _flags(cmp, "overwrite", "no_plots", "quiet",
           overwrite="replace an existing comparison (and rerun its configs)",
           no_plots="skip the plot and the HTML report")
    _flags(sub.add_parser(
        "optimize", help="answer a decision: the cheapest lever meeting chance constraints, "
        "or the best of a set of policies (the config's [optimize] table)",
        description="Solve the [optimize] problem on common random numbers: bisection for "
        "one lever under chance constraints (exact Clopper-Pearson bounds), Kim-Nelson "
        "ranking and selection for a finite set of policies. Writes candidates.csv, "
        "evaluations.parquet, answer.json, optimize.md, plots/optimize.png and report.html."),
        *config, "seed", *EXECUTOR, "chunk_size", "out", "overwrite", "no_plots", "quiet",
        out="output folder (default: results/<config file name>-optimize)",
        chunk_size="replications per task (default: each stage's new replications in two "
        "tasks per worker)",
        seed="root seed: replication i of every candidate uses its child i "
        "(default: runs.seed)")
    vm = sub.add_parser("validate-model", help="regenerate the validation report "
                        "(docs/validation.md): queueing theory, conservation, back-test")
    vm.add_argument("--doc", default="docs/validation.md", metavar="FILE",
                    help="where to write the report (figures go beside it)")
    vm.add_argument("--configs", default="configs", metavar="DIR",
                    help="folder holding mmc.toml, baseline.toml and scenarios/ "
                    "(default: configs)")
    vm.add_argument("--small", action="store_true", help="quick version with few replications")
    _flags(vm, "workers", workers="worker processes for the back-test batch")
    vm.add_argument("--calibrations", nargs="+", metavar="DIR", default=[],
                    help="folders of `rareshock calibrate` fitted on growing windows: the "
                    "rolling-origin section")
    return p


def _cmd_validate(args: argparse.Namespace) -> int:
    cfg = api.load_config(args.config, args.overrides)
    for line in api.validate(cfg, args.config, args.force):
        print(line)
    return 0


def _execution(args: argparse.Namespace) -> api.Execution:
    """How to run, from the flags (validated: ArgumentError for a bad combination)."""
    return api.Execution(args.executor, args.workers, args.scheduler, args.chunk_size,
                         args.resume, args.overwrite, api.progress_display(args.quiet),
                         args.force, args.quiet)


def _cmd_run(args: argparse.Namespace) -> int:
    api.start_pool_early(args.executor, args.workers)
    cfg = api.load_config(args.config, [
        *args.overrides, *([f"runs.seed={args.seed}"] if args.seed is not None else []),
        *([f"runs.replications={args.replications}"] if args.replications is not None
          else [])])
    if args.precision is not None and not cfg.firms:
        raise ConfigError(args.config, "firms",
                          "--precision targets sector shortfall, and this config has no firms")
    if args.max_replications is not None and args.precision is None:
        raise ArgumentError("max_replications", None, "only applies with --precision")
    out = Path(args.out) if args.out else Path("results") / Path(args.config).stem
    res = api.run_batch(cfg, out, execution=_execution(args), precision=args.precision,
                        max_replications=args.max_replications, source=args.config)
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


def _load_for(args: argparse.Namespace, table: str, section: str) -> Any:
    """Start the pool, load the config (with --seed) and check it has the command's
    table (`[sweep]`, `[optimize]`), naming the README section that explains it."""
    api.start_pool_early(args.executor, args.workers)
    cfg = api.load_config(args.config, [
        *args.overrides, *([f"runs.seed={args.seed}"] if args.seed is not None else [])])
    if getattr(cfg, table) is None:
        raise ConfigError(args.config, table, f"this config has no [{table}] table (see the "
                          f"README, {section})")
    return cfg


def _cmd_sweep(args: argparse.Namespace) -> int:
    cfg = _load_for(args, "sweep", "Sensitivity sweeps")
    out = Path(args.out) if args.out else Path("results") / Path(args.config).stem
    res = api.run_sweep(cfg, out, replications=args.replications,
                        crn=False if args.no_crn else None, execution=_execution(args),
                        source=args.config)
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
    res = api.open_results(args.results)
    if args.csv:
        sys.stdout.write(res.summary().to_csv(index=False))
    else:
        print(res.text())
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    for line in api.verify(args.results):
        print(line)
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    res = api.open_results(args.results)
    paths = res.plot()
    print(f"{len(paths)} plots in {res.path / 'plots'}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    path = api.report(args.results)
    print(f"report written to {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    import json

    print(json.dumps(api.config_schema(), indent=2))
    return 0


def _cmd_backtest(args: argparse.Namespace) -> int:
    cfg = api.load_config(args.config, [*args.overrides, *(
        [f"runs.replications={args.replications}"] if args.replications is not None else [])])
    out = Path(args.out) if args.out else Path("results") / f"{Path(args.config).stem}-backtest"
    bt = api.backtest(cfg, out, workers=args.workers, overwrite=args.overwrite,
                      progress=api.progress_display(False), source=args.config)
    print(bt.text())
    print(f"back-test written to {out / 'backtest.md'}")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    api.start_pool_early(args.executor, args.workers)
    if args.check is not None:  # --check K is --set calibration.check=K
        args.overrides = [*(args.overrides or []), f"calibration.check={args.check}"]
    cfg = api.load_config(args.config, args.overrides)
    out = Path(args.out) if args.out else Path("results") / f"{Path(args.config).stem}-calibration"

    def say(line: str) -> None:
        print(f"rareshock: {line}", file=sys.stderr, flush=True)

    cal = api.calibrate(cfg, out, workers=args.workers, executor=args.executor,
                        scheduler=args.scheduler, overwrite=args.overwrite,
                        plots=not args.no_plots, progress=None if args.quiet else say,
                        config_path=args.config, overrides=args.overrides,
                        source=args.config, force=args.force, export=args.export,
                        agree_with=args.agree_with)
    if not args.quiet:
        print(cal.text())
    return 0


def _cmd_optimize(args: argparse.Namespace) -> int:
    cfg = _load_for(args, "optimize", "Decisions")
    out = Path(args.out) if args.out else Path("results") / f"{Path(args.config).stem}-optimize"
    answer = api.optimize(cfg, out, workers=args.workers, executor=args.executor,
                          scheduler=args.scheduler, chunk_size=args.chunk_size,
                          overwrite=args.overwrite, plots=not args.no_plots,
                          force=args.force, source=args.config)
    if not args.quiet:
        print(api.optimize_text(answer))
        print(f"{answer['simulations']:,} simulations in {answer['wall_seconds']:.1f} s "
              f"-> {out / 'optimize.md'}")
    return 0


def _cmd_validate_model(args: argparse.Namespace) -> int:
    doc = api.validate_model(args.doc, args.configs, small=args.small, workers=args.workers,
                             calibrations=args.calibrations)
    print(f"validation report written to {doc}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    cmp = api.compare(*args.sources, out=args.out, replications=args.replications,
                      seed=args.seed, workers=args.workers, executor=args.executor,
                      scheduler=args.scheduler, unpaired=args.unpaired,
                      overwrite=args.overwrite, plots=not args.no_plots)
    if not args.quiet:
        print(cmp.text())
        print(f"-> {cmp.path / 'compare.md'}")
    return 0


def _cmd_explore(args: argparse.Namespace) -> int:
    return api.explore(args.dir, port=args.port,
                       say=lambda line: print(f"rareshock explore: {line}", flush=True))


COMMANDS = {"explore": _cmd_explore, "run": _cmd_run, "sweep": _cmd_sweep,
            "validate": _cmd_validate,
            "summary": _cmd_summary, "plot": _cmd_plot, "report": _cmd_report,
            "verify": _cmd_verify, "schema": _cmd_schema, "backtest": _cmd_backtest,
            "calibrate": _cmd_calibrate, "validate-model": _cmd_validate_model,
            "compare": _cmd_compare, "optimize": _cmd_optimize}


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
    api.show_phases(not getattr(args, "quiet", False))  # a line as each long step starts
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
                "the optimisation is incomplete (run it again with --overwrite)"
                if args.command == "optimize" else
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
