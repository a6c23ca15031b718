"""The validation report: the queue against queueing theory, conservation, the back-test
against the baseline's observations and the sensitivity of its fit. `rareshock
validate-model` writes `docs/validation.md` and its figures from the configs in a folder
(`configs/`: `mmc.toml`, `baseline.toml`, `scenarios/*.toml`); `small=True` runs a quick
version (for tests)."""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.stats import describe
from ..analysis.stored import StoredRun
from ..calibration.backtest import Backtest
from ..calibration.scores import score_table
from ..calibration.theory import cobham_waits, erlang_c, mmc_wq
from ..config.loading import load_config
from ..config.schema import Config
from ..errors import ArgumentError, ConfigError, ConservationError
from ..model import simulate
from ..run.batch import run_batch
from ..run.execution import Execution
from ..run.phases import phase, steps
from ..version import __version__
from .backtest import markdown_tables, plot_backtest
from .progress import shown_progress
from .text import markdown_table, md_text


@dataclass
class Sizes:
    queue_reps: int
    conservation_reps: int
    backtest_reps: int
    fit_reps: int

    @classmethod
    def full(cls) -> Sizes:
        return cls(20, 40, 100, 8)

    @classmethod
    def small(cls) -> Sizes:
        return cls(3, 2, 4, 2)


def _seeds(root: int, n: int) -> list[np.random.SeedSequence]:
    return [np.random.SeedSequence(entropy=root, spawn_key=(i,)) for i in range(n)]


def _ci_row(what: str, values: list[float], theory: float) -> dict:
    d = describe(np.asarray(values))
    return {"check": what, "theory": theory, "simulated mean": d["mean"],
            "95% CI": f"[{d['ci_low']:.4f}, {d['ci_high']:.4f}]",
            "inside": bool(d["ci_low"] <= theory <= d["ci_high"]), "replications": d["n"]}


def queue_checks(n: int, mmc_path: Path, horizon: float | None = None) -> pd.DataFrame:
    """M/M/5 against Erlang C, two priority classes against Cobham, M/M/2, Little's law,
    from the M/M/5 config at `mmc_path`."""
    over = [f"horizon_days={horizon}"] if horizon else []
    mmc = load_config(mmc_path, over)
    reps = [simulate(mmc, s) for s in steps(_seeds(mmc.runs.seed, n), "M/M/5 replications")]
    rows = [
        _ci_row("M/M/5 mean queue wait (days), Erlang C",
                [r.applications["queue_wait_days"].mean() for r in reps], mmc_wq(5, 4.0, 1.0)),
        _ci_row("M/M/5 P(wait > 0), Erlang C",
                [(r.applications["queue_wait_days"].fillna(1.0) > 0).mean() for r in reps],
                erlang_c(5, 4.0)),
        _ci_row("M/M/5 utilisation, rho", [r.authority["utilisation"].iloc[0] for r in reps],
                0.8),
    ]
    little_q = [abs(r.authority["queue_mean"].iloc[0] / (r.authority["arrival_rate_per_day"]
                                                          .iloc[0] * r.authority[
                                                              "queue_wait_mean"].iloc[0]) - 1)
                for r in reps]
    rows.append({"check": "Little's law L_q = lambda W_q, largest relative gap",
                 "theory": 0.0, "simulated mean": float(max(little_q)), "95% CI": "",
                 "inside": bool(max(little_q) < 0.02), "replications": n})
    # Two classes, 40% high priority: configs/mmc.toml with a priority queue.
    prio = load_config(mmc_path, over + [
        "authority.discipline=priority", "destinations.HI.priority=0",
        "destinations.LO.priority=1", "authority.background.destinations={HI = 0.4, LO = 0.6}",
        "destinations.ROW.priority=0"])
    preps = [simulate(prio, s) for s in steps(_seeds(prio.runs.seed, n),
                                              "priority-queue replications")]
    w = cobham_waits(5, 1.0, [1.6, 2.4])
    for k, dest in enumerate(("HI", "LO")):
        vals = [r.applications.loc[r.applications["destination"] == dest, "queue_wait_days"]
                .mean() for r in preps]
        rows.append(_ci_row(f"priority class {k} ({dest}) mean wait, Cobham", vals, w[k]))
    m2 = load_config(mmc_path, over + ["authority.reviewers=2",
                                                   "authority.background.rate_per_day=1.5"])
    r2 = [simulate(m2, s) for s in steps(_seeds(m2.runs.seed, n), "M/M/2 replications")]
    rows.append(_ci_row("M/M/2 (lambda 1.5) mean queue wait, Erlang C",
                        [r.applications["queue_wait_days"].mean() for r in r2],
                        mmc_wq(2, 1.5, 1.0)))
    return pd.DataFrame(rows)


def conservation_checks(n: int, paths: list[Path], root: Path) -> pd.DataFrame:
    """Run each config `n` times; each replication checks its own balance and raises on a
    violation, which is counted here (the report then shows it, instead of stopping)."""
    rows = []
    for path in paths:
        phase(f"  conservation: {path.name}, {n} replications...")
        cfg = load_config(path)
        t = time.perf_counter()
        firms = violations = 0
        for s in steps(_seeds(cfg.runs.seed, n), f"{path.name} replications"):
            try:
                firms += len(simulate(cfg, s).firms)
            except ConservationError:
                violations += 1
        rows.append({"config": str(path.relative_to(root)), "replications": n,
                     "firm ledgers checked": firms, "replications with a violation": violations,
                     "seconds": round(time.perf_counter() - t, 1)})
    return pd.DataFrame(rows)


def coverage_row(label: str, bt: Backtest, fit_months: list[str]) -> dict:
    """One line of the before/after table: points inside the P5-P95, by kind."""
    ex = bt.exports
    fit = ex["month"].isin(fit_months)
    st, ap = bt.stoppages, bt.approvals
    first = ap[ap["basis"].str.startswith("submitted in")] if len(ap) else ap
    near = int((st["days_p50_minus_reported"].abs() <= 7).sum()) if len(st) else 0
    return {"model": label,
            "monthly points inside": f"{int(ex['inside'].sum())} of {len(ex)}",
            "fit window": f"{int(ex[fit]['inside'].sum())} of {int(fit.sum())}",
            "held out": f"{int(ex[~fit]['inside'].sum())} of {int((~fit).sum())}",
            "approval shares inside": f"{int(first['inside'].sum())} of {len(first)}",
            "stoppages, P50 within 7 days": f"{near} of {len(st)}",
            "downtimes, P5-P95 meets the report": (
                f"{int(bt.downtimes['overlaps_p5_p95'].sum())} of {len(bt.downtimes)}"),
            "median abs error (fit / held out)":
                f"{ex[fit]['abs_error'].median():.2f} / {ex[~fit]['abs_error'].median():.2f}",
            **_score_cells(score_table(ex, fit_months)),
            **_level_cell(bt.level)}


def _level_cell(level: pd.DataFrame) -> dict[str, str]:
    """The total's level before the controls: P5-P95 in t/month and whether within 10%."""
    tot = level[level["series"] == "total"] if len(level) else level
    if tot.empty:
        return {}
    r = tot.iloc[0]
    ok = "yes" if r["within_10%"] else "no"
    return {"level before controls, P5-P95 t/month (within 10%)":
            f"{r['sim_p5']:,.0f}-{r['sim_p95']:,.0f} of {r['reference_t_per_month']:,.0f} "
            f"({ok})"}


def _score_cells(sc: pd.DataFrame) -> dict[str, str]:
    """The proper scores a before/after row shows: over all points, and held out."""
    by = sc.set_index(["sample", "series"]) if len(sc) else sc
    cells = {}
    if ("all", "both") in by.index:
        a = by.loc[("all", "both")]
        cells["above median"] = str(a["above_median"])
        cells["band / observed (median)"] = f"{a['band_over_observed']:.2f}"
    if ("out", "both") in by.index:
        o = by.loc[("out", "both")]
        cells["held-out CRPS (skill vs persistence / 2024 level)"] = (
            f"{o['crps']:.3f} ({o['skill_vs_persistence']:.2f} / "
            f"{o['skill_vs_2024_level']:.2f})")
    return cells


def rolling_origin(calibrations: list[Path]) -> pd.DataFrame:
    """Per calibration folder (`rareshock calibrate`): the months it was fitted to and how
    its posterior predictive run covers the observed months after them."""
    from ..run.store import ResultsDir

    rows = []
    for folder in calibrations:
        cfg = ResultsDir(folder).config()
        obs = cfg.observed
        assert obs is not None  # a calibration needs observations
        fit = (cfg.calibration.fit_months if cfg.calibration and cfg.calibration.fit_months
               else obs.fit_months)
        bt = StoredRun(folder / "predictive").backtest()
        ex = bt.exports
        after = ex[ex["month"] > max(fit)]
        nxt = sorted(set(after["month"]))
        fitted = ex[ex["month"].isin(fit)]
        rows.append({"calibrated on": f"{min(m for m in fit if m >= '2025-04')} to {max(fit)}"
                     if any(m >= "2025-04" for m in fit) else ", ".join(fit),
                     "fit points inside": f"{int(fitted['inside'].sum())} of {len(fitted)}",
                     "predicted": f"{nxt[0]} to {nxt[-1]}" if nxt else "",
                     "predicted points inside": f"{int(after['inside'].sum())} of {len(after)}",
                     "next two months inside": (
                         f"{int(after[after['month'].isin(nxt[:2])]['inside'].sum())} of "
                         f"{int(after['month'].isin(nxt[:2]).sum())}"),
                     "median abs error, predicted": float(after["abs_error"].median())
                     if len(after) else math.nan,
                     **_predicted_scores(ex, fit),
                     "folder": str(folder)})
    return pd.DataFrame(rows)


def _predicted_scores(ex: pd.DataFrame, fit: list[str]) -> dict[str, object]:
    """CRPS of the months after the fit window, its skill against persistence of the last
    fitted month and against the 2024 level, and the points above the median."""
    sc = score_table(ex, fit)
    out = sc[(sc["sample"] == "out") & (sc["series"] == "both")]
    if out.empty:
        return {"CRPS, predicted": math.nan, "skill vs persistence": math.nan,
                "skill vs 2024 level": math.nan, "above median, predicted": ""}
    r = out.iloc[0]
    return {"CRPS, predicted": float(r["crps"]),
            "skill vs persistence": float(r["skill_vs_persistence"]),
            "skill vs 2024 level": float(r["skill_vs_2024_level"]),
            "above median, predicted": str(r["above_median"])}


def run_backtest_batch(n: int, workers: int | None, config: Path,
                       overrides: list[str] | None = None,
                       out: Path | None = None) -> tuple[Backtest, StoredRun]:
    """A batch of `n` replications of `config` and its back-test."""
    cfg = load_config(config, overrides)
    path = out or Path(tempfile.mkdtemp(prefix="rareshock-backtest-"))
    run_batch(cfg, path, Execution(workers=workers, overwrite=True,
                                   progress=shown_progress()), replications=n)
    res = StoredRun(path)
    return res.backtest(), res


def _posterior_source(cfg: Config, folder: Path) -> str:
    """The posterior config the baseline draws from, and the commit it was fitted at (its
    header says), for the report."""
    import re

    files = {u.prior.file for u in cfg.uncertain if u.prior.dist == "posterior"}
    out = []
    for f in sorted(files):
        toml = (folder / f).with_suffix(".toml")
        m = re.search(r"at commit (\w+)", toml.read_text()) if toml.is_file() else None
        shown = (folder.name / toml.resolve().relative_to(folder.resolve())).as_posix() \
            if toml.resolve().is_relative_to(folder.resolve()) else str(toml)
        out.append(f"`{shown}`" + (f" fitted at commit {m.group(1)}" if m else ""))
    return ", ".join(out) or "no posterior"


def validate_model(doc: Path, configs: Path = Path("configs"), small: bool = False,
                   workers: int | None = None, calibrations: list[Path] | None = None) -> Path:
    """Run every check on the configs in the folder `configs` and write the report to
    `doc` (figures beside it); `calibrations` (folders of `rareshock calibrate`, fitted on
    growing windows) give the rolling-origin section."""
    try:  # its own earlier report is replaced; nothing else is written over
        head = doc.read_bytes()[:20] if doc.exists() else b"# Validation report"
    except OSError:
        head = b""
    if not head.startswith(b"# Validation report"):
        raise ArgumentError("doc", str(doc), "exists and is not a validation report "
                            "rareshock wrote: choose another file")
    mmc, base = configs / "mmc.toml", configs / "baseline.toml"
    for need in (mmc, base):
        if not need.is_file():
            raise ConfigError(str(configs), need.name, f"the validation report needs {need} "
                              "(the M/M/5 queue and the baseline)")
    scenarios = [base, *sorted((configs / "scenarios").glob("*.toml"))]
    for path in [mmc, *scenarios]:  # a bad config is refused before anything runs
        load_config(path)
    sizes = Sizes.small() if small else Sizes.full()
    figs = doc.parent / "validation"
    figs.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    phase(f"1/4 queue against theory: {sizes.queue_reps} replications of each queue...")
    q = queue_checks(sizes.queue_reps, mmc, horizon=300.0 if small else None)
    phase(f"2/4 conservation: {sizes.conservation_reps} replications of each of "
          f"{len(scenarios)} configs...")
    cons = conservation_checks(sizes.conservation_reps, scenarios, configs.parent)
    phase(f"3/4 back-test: {sizes.backtest_reps} replications of {base}...")
    bt, res = run_backtest_batch(sizes.backtest_reps, workers, base)
    plot_backtest(bt, figs, f"baseline, {sizes.backtest_reps} replications")
    obs = res.config.observed
    assert obs is not None  # the back-test ran, so the baseline names its observations
    table = [coverage_row("baseline: posterior predictive (parameters drawn from the 2025 "
                          "posterior)", bt, obs.fit_months)]
    if res.config.uncertain:
        phase(f"3/4 back-test with the point values: {sizes.backtest_reps} replications...")
        fixed, _ = run_backtest_batch(sizes.backtest_reps, workers, base, ["uncertain=[]"])
        table.append(coverage_row("baseline with its point values (noise only)", fixed,
                                  obs.fit_months))
    fitted = _posterior_source(res.config, base.parent)
    rolling = ""
    phase(f"4/4 rolling origin: {len(calibrations or [])} calibrations; writing {doc}...")
    if calibrations:
        ro = rolling_origin(calibrations)
        rolling = f"""Each calibration was fitted on the window shown (with the level before
the controls, 2024's) and its posterior predictive run is compared with the months after
it, which it never saw. The predicted months are scored with the CRPS (mean over the
points) and its skill against two naive forecasts: the last fitted month's observed
ratio persisting, and the 2024 level (a ratio of 1); 1 is perfect, 0 no better, below 0
worse.

{markdown_table(ro, "{:.2f}")}
"""
    else:
        rolling = ("Not run here: give `rareshock validate-model` the calibration folders "
                   "(`--calibrations DIR...`, as `make validation` does).\n")
    text = f"""# Validation report

Generated by `rareshock validate-model` (rareshock {__version__}{', small sizes' if small else ''})
in {time.perf_counter() - t0:.0f} s. Every number below is recomputed each time; nothing is
typed in by hand.

## 1. The licence queue against queueing theory

`configs/mmc.toml` is the licence queue with every day worked, Poisson arrivals (4/day),
exponential reviews (mean 1 day) and 5 reviewers: an M/M/5 queue at utilisation 0.8. Each
replication gives one mean; the check is whether the closed-form value lies in the 95%
Student-t interval across replications. Formulas: `sim/calibration/theory.py` (Erlang C;
Cobham 1954 for non-preemptive priority classes).

{markdown_table(q)}

## 2. Conservation

Every replication checks, per firm and material, that ordered = received + in transit +
awaiting licence + cancelled, that initial stock + received = consumed + on hand, and that
consumption matches the units made with the standard bill of materials; a violation raises
(a bug, never a warning) and is counted here.

{markdown_table(cons)}

## 3. Back-test against {md_text(obs.name or "the observations")}

`{base}`, {sizes.backtest_reps} replications, against its observations ({md_text(obs.source)}).
Its uncertain parameters are drawn from the posterior of the 2025 calibration
({fitted}, fitted on {", ".join(obs.fit_months)} and the level before the controls (2024's); see
[the calibration report](calibration/2025/calibration.md));
{", ".join(obs.held_out_months)} are held out. The
P5-P95 bands are posterior predictive: they hold what we do not know about the parameters
as well as the noise of arrivals and reviews. The same seeds with the parameters fixed at
the baseline's point values show what the bands hold without parameter uncertainty.

{markdown_table(pd.DataFrame(table))}

![back-test exports](validation/backtest_exports.png)

{markdown_tables(bt)}

## 4. Rolling origin

{rolling}"""
    doc.write_text(text)
    return doc
