"""The `rareshock` command line: parse, load, call the library, exit with the right status.

Exit status: 0 success; 2 bad input (one line naming the file, the field and what is
wrong; nothing written); 1 internal error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

from .errors import ConfigError

log = logging.getLogger("sim")


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

    run = sub.add_parser("run", help="run a Monte Carlo batch and store its results",
                         description="Run N replications, store tables, summary and plots.")
    config_opts(run)
    run.add_argument("--replications", "-n", type=_number(),
                     help="replications (default: runs.replications)")
    run.add_argument("--seed", type=_number(minimum=0),
                     help="root seed (default: runs.seed)")
    run.add_argument("--workers", "-j", type=_number(),
                     help="worker processes (default: all cores)")
    run.add_argument("--executor", choices=["local", "dask"], default="local")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="Dask scheduler of an existing cluster (with --executor dask)")
    run.add_argument("--chunk-size", type=_number(),
                     help="replications per task (default: about 32 tasks, at most 20 each)")
    run.add_argument("--out", "-o", metavar="DIR", help="results folder "
                     "(default: results/<config name>)")
    run.add_argument("--resume", action="store_true", help="continue an interrupted run "
                     "(or start it, if the folder is empty)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    run.add_argument("--precision", type=_number(float, 0, strict=True), metavar="X",
                     help="add replications until every sector's 95%% half-width of mean "
                     "shortfall_frac is under X")
    run.add_argument("--max-replications", type=_number(),
                     help="cap for --precision (default: 10x the start, at least 1000)")
    run.add_argument("--no-plots", action="store_true", help="skip the plots")
    run.add_argument("--quiet", "-q", action="store_true", help="print only errors")

    val = sub.add_parser("validate", help="check a config and say what it holds")
    config_opts(val)

    summ = sub.add_parser("summary", help="print the sector table of a results folder")
    summ.add_argument("results", metavar="DIR")
    summ.add_argument("--csv", action="store_true", help="print the whole summary as CSV")

    plot = sub.add_parser("plot", help="draw the plots of a results folder")
    plot.add_argument("results", metavar="DIR")

    sub.add_parser("schema", help="print the JSON Schema of the config (for editors)")
    return p


def _version() -> str:
    from . import __version__

    return __version__


def _cmd_validate(args: argparse.Namespace) -> int:
    from .config import load_config

    cfg = load_config(args.config, args.overrides)
    controls = sum(1 for e in cfg.policy if e.type == "controls_start")
    print(f"{args.config}: ok — {cfg.horizon_days:g} days from {cfg.calendar.start}, "
          f"{len(cfg.materials)} materials, {len(cfg.firms)} firms, {len(cfg.suppliers)} "
          f"suppliers, {len(cfg.policy)} policy events ({controls} controls_start), "
          f"{cfg.authority.reviewers} reviewers, {cfg.runs.replications} replications")
    return 0


def _progress_factory(quiet: bool):  # noqa: ANN202
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    def factory(total: int, done: int):  # noqa: ANN202
        bar = tqdm(total=total, initial=done, unit="rep", dynamic_ncols=True,
                   desc="replications", file=sys.stderr)

        def tick(k: int) -> None:
            bar.update(k)
            if bar.n >= bar.total:
                bar.close()
        return tick
    return factory


def _cmd_run(args: argparse.Namespace) -> int:
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
    if args.max_replications is not None and args.precision is None:
        raise ConfigError("--max-replications", "", "only applies with --precision")
    if args.resume and args.overwrite:
        raise ConfigError("--resume", "", "cannot be combined with --overwrite")
    if args.scheduler and args.executor != "dask":
        raise ConfigError("--scheduler", args.scheduler, "needs --executor dask")
    if args.executor == "dask":
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise ConfigError("--executor", "dask", "Dask is not installed; install the "
                              "'dask' extra: pip install 'rareshock[dask]'") from None
    out = Path(args.out) if args.out else Path("results") / Path(args.config).stem
    from .results import Results
    from .runner import run_batch

    info = run_batch(
        cfg, out, workers=args.workers, executor=args.executor, scheduler=args.scheduler,
        chunk_size=args.chunk_size, resume=args.resume, overwrite=args.overwrite,
        precision=args.precision, max_replications=args.max_replications,
        progress=_progress_factory(args.quiet),
    )
    res = Results(out, info)
    res.write_summary()
    if not args.no_plots:
        res.plot()
    if not args.quiet:
        rate = info.replications / info.wall_seconds if info.wall_seconds > 0 else float("nan")
        print(res.sector_text())
        if info.precision_met is not None:
            state = "met" if info.precision_met else "NOT met (cap reached)"
            print(f"precision {args.precision:g}: {state} after {info.replications} "
                  "replications")
        print(f"{info.replications} replications in {info.wall_seconds:.1f} s "
              f"({rate:.2f}/s, {info.events:,} events) -> {out}")
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    from .results import Results

    res = Results(args.results)
    if args.csv:
        sys.stdout.write(res.summary().to_csv(index=False))
    else:
        print(res.sector_text())
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from .results import Results

    res = Results(args.results)
    paths = res.plot()
    print(f"{len(paths)} plots in {res.path / 'plots'}")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    import json

    from .schema import Config

    print(json.dumps(Config.model_json_schema(), indent=2))
    return 0


COMMANDS = {"run": _cmd_run, "validate": _cmd_validate, "summary": _cmd_summary,
            "plot": _cmd_plot, "schema": _cmd_schema}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="rareshock: %(message)s")
    # Libraries that set their own loggers to INFO (Dask's scheduler and nannies) would
    # otherwise print through this handler, even with --quiet.
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print(f"rareshock: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rareshock: interrupted (continue with --resume)", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: say so, traceback only on request
        if os.environ.get("RARESHOCK_DEBUG"):
            raise
        print(f"rareshock: internal error: {type(exc).__name__}: {exc} "
              "(set RARESHOCK_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
