"""A calibration: fit the uncertain parameters to the observations (ABC-SMC), write the
posterior as a config, run it, back-test it, draw it, and record every file's checksum."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis.stored import StoredRun
from ..calibration.abc import calibrated, check_calibratable
from ..calibration.abc import fit as run_fit
from ..calibration.agreement import agreement, read_other
from ..calibration.backtest import Backtest, check_backtest
from ..calibration.posterior import SAMPLE, check_export, posterior_toml, sample_bytes
from ..calibration.targets import fit_targets
from ..config import Config, load_config
from ..errors import ArgumentError, BadInput, FolderError
from ..report.backtest import write_backtest
from ..report.calibration import (
    agreement_lines,
    calibration_markdown,
    plot_marginals,
    plot_pairs,
    plot_predictive,
    plot_ranks,
)
from ..report.progress import shown_progress
from ..report.write import write_report
from ..run.execution import Execution
from ..run.executors import make_executor
from ..run.phases import phase
from ..run.store import ResultsDir, config_toml, digest
from .run import check_limits, run


@dataclass
class Job:
    """A calibration under way: what it fits, where it writes, and what it found."""

    cfg: Config
    path: Path
    ex: Execution
    source: str
    fit_months: list[str]
    config_path: Path | None = None
    overrides: list[str] = field(default_factory=list)
    plots: bool = True
    agree_with: Path | None = None  # another seed's fit to compare the posterior with
    other: Any = None  # its posterior sample, read (and checked) before the fit
    commit: str = "unknown"
    t0: float = field(default_factory=time.perf_counter)
    store: ResultsDir = field(init=False)

    def __post_init__(self) -> None:
        self.store = ResultsDir(self.path)

    @property
    def predictive_n(self) -> int:
        settings = self.cfg.calibration
        return settings.predictive_replications if settings else 100

    @property
    def title(self) -> str:
        return (f"{self.cfg.name or self.source} posterior predictive, "
                f"{self.predictive_n} replications")


def calibrate(cfg: Config, path: Path, ex: Execution, *, plots: bool = True,
              progress: Callable[[str], None] | None = None,
              config_path: str | Path | None = None, overrides: list[str] | None = None,
              source: str = "<config>", agree_with: str | Path | None = None) -> Any:
    """Fit `cfg` into `path` and write everything a calibration folder holds; the fit.
    With `agree_with` (another fit of the same parameters, another seed), calibration.md
    says whether the two posteriors agree (agreement.csv)."""
    targets = check(cfg, ex, source)
    other = (read_other(Path(agree_with), [u.name for u in calibrated(cfg, source)],
                        cfg.runs.seed) if agree_with is not None else None)
    job = Job(cfg, path, ex, source,
              sorted({t.key.split()[-1] for t in targets if t.group == "exports"}),
              Path(config_path) if config_path else None, list(overrides or []), plots,
              Path(agree_with) if agree_with is not None else None, other)
    claim_folder(job)
    job.commit = record_commit()
    job.t0 = time.perf_counter()
    fitted = fit(job, progress)
    if plots:
        write_report(path)
    return fitted


def check(cfg: Config, ex: Execution, source: str) -> list:
    """Everything that can be refused before a file is written; the fit's targets."""
    check_calibratable(cfg, source)
    targets = fit_targets(cfg, source)
    check_backtest(cfg, source)
    check_limits(cfg, ex, source)
    try:
        import cloudpickle  # noqa: F401
        import pyabc  # noqa: F401
    except ImportError:
        raise ArgumentError("command", "calibrate", "needs pyabc; install the 'calibrate' "
                            "extra: pip install 'rareshock[calibrate]' (in a checkout: "
                            "pip install -e '.[calibrate]')") from None
    if uses_npe(cfg):
        try:
            import sbi  # noqa: F401
            import torch  # noqa: F401
        except ImportError:
            raise ArgumentError("command", "calibrate", "method = \"npe\" needs sbi and torch; "
                                "install the 'npe' extra: pip install 'rareshock[npe]' (in a "
                                "checkout: pip install -e '.[npe]')") from None
    return targets


def claim_folder(job: Job) -> None:
    """The folder must be new or replaced: a calibration starts again, it does not resume."""
    try:
        job.store.precheck(resume=False, overwrite=job.ex.overwrite, kind="calibration")
    except FolderError as exc:
        raise FolderError(exc.folder, exc.message, tuple(r for r in exc.remedies
                                                         if r != "resume")) from None


def record_commit() -> str:
    """The code's git commit (short), or "unknown"."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10,
                              cwd=Path(__file__).parent).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def fit(job: Job, progress: Callable[[str], None] | None) -> Any:
    """Prepare the folder, fit, then write the outputs, all under the folder's lock; a
    folder that does not finish is marked so."""
    ex = make_executor(job.ex.executor, job.ex.workers or os.cpu_count() or 1,
                       job.ex.scheduler)
    store = job.store
    # a folder this call makes, refused for the user's own setting mid-fit (a floor no
    # generation reaches, priors that clash in a draw), is removed: nothing half-written
    fresh = not job.path.exists() or not any(job.path.iterdir())
    aborted, prepared, remove = True, False, False
    try:
        with store.locked():
            store.prepare(job.cfg, {"kind": "calibration", "replications": job.predictive_n,
                                    "seed": job.cfg.runs.seed, "chunk_size": None,
                                    "crn": None, "name": job.cfg.name},
                          resume=False, overwrite=job.ex.overwrite)
            prepared = True
            npe = uses_npe(job.cfg)
            db = "training.parquet" if npe else "abc.db"
            for name in (db, "predictive"):  # listed before they exist
                store.record_output(name)
            if npe:
                result = fit_npe_checked(job, ex, progress)
            else:
                result = run_fit(job.cfg, job.path / db, ex, job.source, progress)
            aborted = False
        ex.close()
        with store.locked():
            write_outputs(job, store, result)
    except BaseException as exc:
        remove = prepared and fresh and isinstance(exc, BadInput)
        if prepared and not remove:  # the folder says it did not finish, and why
            mark_unfinished(store, exc)
        raise
    finally:
        ex.close(abort=aborted)
        if remove:
            shutil.rmtree(job.path, ignore_errors=True)
    return result


def fit_npe_checked(job: Job, ex: Any, progress: Callable[[str], None] | None) -> Any:
    """NPE, then its simulation-based calibration check on `calibration.check` datasets."""
    from ..calibration.npe import fit_npe, sbc

    settings = job.cfg.calibration
    assert settings is not None
    result, trained = fit_npe(job.cfg, job.path / "training.parquet", ex, job.source,
                              progress)
    if settings.check:
        result.sbc = sbc(trained, settings.check, job.cfg.runs.seed, ex, settings.batch,
                         progress=progress)
    return result


def uses_npe(cfg: Config) -> bool:
    """Whether the calibration is by neural posterior estimation (else ABC-SMC)."""
    return cfg.calibration is not None and cfg.calibration.method == "npe"


def write_outputs(job: Job, store: ResultsDir, result: Any) -> None:
    """A finished fit's files, its predictive run and back-test, plots and checksums."""
    write_posterior(job, store, result)
    res = predictive_run(job)
    bt = backtest_predictive(job, res)
    figures = draw(job, store, result, bt) if job.plots else []
    md = calibration_markdown(job.cfg, result, bt, title=job.cfg.name or job.source,
                              source=job.source, fit_months=job.fit_months,
                              predictive=job.predictive_n, commit=job.commit, plots=figures)
    if job.agree_with is not None:
        table = agreement(job.other, result.posterior, result.names)
        store.write_output("agreement.csv", table.to_csv(index=False).encode())
        md += "\n" + "\n".join(agreement_lines(table, str(job.agree_with)))
    store.write_output("calibration.md", md.encode())
    write_checksums(job, store, result)


def write_posterior(job: Job, store: ResultsDir, result: Any) -> None:
    """The weighted sample, the generations and posterior.toml."""
    store.write_output(SAMPLE, sample_bytes(result))
    store.write_output("generations.csv", result.generations.to_csv(index=False).encode())
    if result.sbc is not None:
        from ..report.calibration import sbc_table

        store.write_output("sbc.csv", sbc_table(result.sbc).to_csv(index=False).encode())
        import pandas as pd

        ranks = pd.DataFrame(result.sbc["ranks"], columns=result.names)
        store.write_output("sbc_ranks.csv", ranks.to_csv(index=False).encode())
    # settings of the calibration itself leave the calibrated scenario as it is
    changed = [o for o in job.overrides if not o.strip().startswith("calibration.")]
    store.write_output("posterior.toml", posterior_toml(
        job.cfg, result, job.path, job.config_path, changed, config_toml(job.cfg),
        job.commit))


def predictive_run(job: Job) -> StoredRun:
    """The posterior predictive run, into `predictive/`."""
    pcfg = load_config(job.path / "posterior.toml")
    phase(f"posterior predictive run: {job.predictive_n} replications...")
    out = job.path / "predictive"
    ex = Execution(job.ex.executor, job.ex.workers, job.ex.scheduler, overwrite=True,
                   progress=shown_progress(), force=job.ex.force)
    return StoredRun(out, run(pcfg, out, ex, replications=job.predictive_n,
                              source=str(job.path / "posterior.toml")))


def backtest_predictive(job: Job, res: StoredRun) -> Backtest:
    """The predictive run against the observations, written beside it."""
    phase("back-test of the posterior predictive run...")
    bt = res.backtest()
    with res.store.locked():
        for p in write_backtest(bt, job.path / "predictive", job.title):
            res.store.record_output(p.name)
    return bt


def draw(job: Job, store: ResultsDir, result: Any, bt: Backtest) -> list[str]:
    """The marginal, pair and predictive plots, listed as outputs; their paths."""
    phase("drawing the calibration plots...")
    plots = job.path / "plots"
    drawn = [plot_marginals(job.cfg, result, plots), plot_pairs(result, plots),
             *plot_predictive(bt, plots, job.title)]
    if result.sbc is not None:
        drawn.append(plot_ranks(result.sbc, result.names, plots))
    for p in drawn:
        store.record_output(str(p.relative_to(job.path)))
    return [str(p.relative_to(job.path)) for p in drawn]


def write_checksums(job: Job, store: ResultsDir, result: Any) -> None:
    """The outputs' checksums, for `verify` (the predictive run has its own), and the
    folder marked complete."""
    sums = {o: digest((job.path / o).read_bytes()) for o in store.header()["outputs"]
            if (job.path / o).is_file()}
    store.update_manifest(state="complete", simulations=result.simulations, sha256=sums,
                          fit_seconds=round(result.wall_seconds, 3),
                          wall_seconds=round(time.perf_counter() - job.t0, 3),
                          generations=len(result.generations), commit=job.commit,
                          unscaled=result.unscaled,
                          **({"sbc_draws": result.sbc["draws"]} if result.sbc else {}))


def mark_unfinished(store: ResultsDir, exc: BaseException) -> None:
    """`failed` (bad input found during the fit, with the message) or `interrupted` (a
    stop or a crash)."""
    state = "failed" if isinstance(exc, BadInput) else "interrupted"
    with contextlib.suppress(BadInput, OSError), store.locked():
        store.update_manifest(state=state, error=str(exc) or type(exc).__name__)


def check_export_target(export: str, config: Path | None, overrides: list[str] | None,
                        out: Path, overwrite: bool) -> None:
    """Before hours of fitting: exporting the posterior to `target` (a .toml file, its
    sample beside it) must not replace what the calibration reads or another file without
    `overwrite`, and the nearest existing folder above it must be writable."""
    target = Path(export)
    if target.suffix != ".toml":
        raise ArgumentError("export", export, "must name a .toml file")
    check_export(target, config, overrides, out)
    for f in (target, target.with_suffix(".parquet")):
        if f.exists() and not overwrite:
            raise ArgumentError("export", export, f"{f} exists (use --overwrite to "
                                "replace it)")
    up = target.parent.absolute()
    while not up.exists() and up != up.parent:
        up = up.parent
    try:
        if not up.is_dir():
            raise NotADirectoryError(str(up))
        with tempfile.TemporaryFile(dir=up):
            pass
    except OSError:
        raise ArgumentError("export", export, f"cannot write under {up}") from None
