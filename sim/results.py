"""A stored run, for notebooks and the CLI: tables as pandas DataFrames, summary, plots."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from .schema import Config
from .stats import sector_table, summarise
from .store import ResultsDir, atomic_write_bytes


class Results:
    """The results folder of a batch run (`rareshock run`, `sim.run_batch`).

    Tables are read from the parquet datasets on first use: `firms` (one row per
    replication and firm), `applications`, `exports`, `timeseries`, `authority`, `policy`.
    """

    def __init__(self, path: str | Path, info: Any = None) -> None:
        self.store = ResultsDir(path)
        self.manifest = self.store.check()
        self.path = self.store.path
        self.info = info

    @cached_property
    def config(self) -> Config:
        return self.store.config()

    @property
    def replications(self) -> int:
        return int(self.manifest.get("replications_done", self.manifest.get("replications", 0)))

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        return self.store.read(name, columns)

    @cached_property
    def firms(self) -> pd.DataFrame:
        return self.table("replications")

    @cached_property
    def authority(self) -> pd.DataFrame:
        return self.table("authority")

    @property
    def applications(self) -> pd.DataFrame:
        return self.table("applications")

    @property
    def exports(self) -> pd.DataFrame:
        return self.table("exports")

    @property
    def timeseries(self) -> pd.DataFrame:
        return self.table("timeseries")

    @cached_property
    def policy(self) -> pd.DataFrame:
        # A config without policy events stores an empty table whose columns parquet
        # reads back as untyped (object); give them their types so filters work.
        df = self.table("policy")
        return df.astype({"index": "int64", "day": "float64", "happened": "bool"}) \
            if df.empty else df

    def sectors(self) -> pd.DataFrame:
        """Per replication and sector: shortfall_frac (value-weighted) and value_lost."""
        return sector_table(self.firms)

    def summary(self) -> pd.DataFrame:
        """The across-replication statistics (long format, as in summary.csv)."""
        return summarise(self.firms, self.authority)

    def write_summary(self) -> pd.DataFrame:
        df = self.summary()
        atomic_write_bytes(self.path / "summary.csv", df.to_csv(index=False).encode())
        return df

    def plot(self, out: str | Path | None = None) -> list[Path]:
        """Draw every plot as PNG into `out` (default `<results>/plots`)."""
        from .plots import plot_all

        return plot_all(self, Path(out) if out else self.path / "plots")

    def sector_text(self) -> str:
        """The sector table, readable in a terminal."""
        s = self.summary()
        s = s[s["level"] == "sector"]
        lines = [f"{self.manifest.get('name') or self.path.name}: "
                 f"{self.replications} replications"]
        head = (f"{'sector':<10} {'metric':<15} {'mean':>12} {'95% CI':>27} {'P50':>12} "
                f"{'P95':>12} {'P(>0)':>7} {'CVaR95':>12}")
        lines.append(head if len(s) else "(no firms in this config: no sector table)")
        for _, r in s.iterrows():
            fmt = _fmt_frac if r["metric"] == "shortfall_frac" else _fmt_money
            ci = f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]"
            lines.append(f"{r['name']:<10} {r['metric']:<15} {fmt(r['mean']):>12} {ci:>27} "
                         f"{fmt(r['p50']):>12} {fmt(r['p95']):>12} {r['p_positive']:>7.2f} "
                         f"{fmt(r['cvar95']):>12}")
        auth = self.summary()
        auth = auth[auth["level"] == "authority"]
        if len(auth):
            lines.append("")
            lines.append(f"{'authority':<26} {'mean':>12} {'95% CI':>27} {'P50':>12} "
                         f"{'P95':>12}")
            for _, r in auth.iterrows():
                ci = f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}]"
                lines.append(f"{r['metric']:<26} {r['mean']:>12.4g} {ci:>27} "
                             f"{r['p50']:>12.4g} {r['p95']:>12.4g}")
        return "\n".join(lines)


def _fmt_frac(x: float) -> str:
    return "nan" if x != x else f"{100 * x:.2f}%"


def _fmt_money(x: float) -> str:
    if x != x:
        return "nan"
    for unit, div in (("bn", 1e9), ("m", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"${x / div:.2f}{unit}"
    return f"${x:.0f}"


# --------------------------------------------------------------------------- sweeps


class SweepResults(Results):
    """The results folder of a sweep (`rareshock sweep`, `sim.run_sweep`).

    Tables carry a `point` column; `points` holds each point's parameter values;
    `summary()` is the run summary per point; `sensitivity()` the method's sensitivity
    table (Sobol indices, Morris mu*/sigma or the oat tornado); `discovery()` the PRIM
    box of `[sweep.discovery]`.
    """

    def __init__(self, path: str | Path, info: Any = None) -> None:
        super().__init__(path, info)
        if self.manifest.get("kind") != "sweep":
            from .errors import ConfigError

            raise ConfigError(str(self.path), "", "holds a run, not a sweep")

    @property
    def replications(self) -> int:
        """Replications per point."""
        return int(self.manifest.get("replications", 0))

    @property
    def crn(self) -> bool:
        return bool(self.manifest.get("crn", True))

    @property
    def method(self) -> str:
        return str(self.manifest.get("method", ""))

    @cached_property
    def design(self):  # noqa: ANN201 - sim.design.Design
        from .design import build_design

        sweep = self.config.sweep
        assert sweep is not None
        return build_design(sweep, self.config.runs.seed)

    @property
    def labels(self) -> list[str]:
        return list(self.design.points.columns)

    @property
    def points(self) -> pd.DataFrame:
        """One row per point: `point`, a column per parameter."""
        df = self.design.points.copy()
        df.insert(0, "point", range(len(df)))
        return df

    @cached_property
    def cases(self) -> pd.DataFrame:
        """Per point, replication and sector: shortfall_frac, value_lost, tts_days."""
        from .sensitivity import sector_cases

        return sector_cases(self.firms)

    def sectors(self) -> pd.DataFrame:
        return self.cases

    def summary(self) -> pd.DataFrame:
        """The run summary of every point, with `point` in front and `crn` at the end."""
        from .stats import COLUMNS

        firms = dict(list(self.firms.groupby("point", sort=True)))
        frames = []
        for p, auth in self.authority.groupby("point", sort=True):  # a row per replication
            s = summarise(firms.get(p, self.firms.iloc[:0]), auth)
            s.insert(0, "point", int(p))
            frames.append(s)
        out = (pd.concat(frames, ignore_index=True) if frames
               else pd.DataFrame(columns=["point", *COLUMNS]))
        out["crn"] = self.crn
        return out

    def sensitivity(self) -> pd.DataFrame | None:
        """Sobol indices (sobol), mu*/sigma (morris) or the tornado table (oat); None for
        grid and lhs."""
        from . import sensitivity as sa

        d = self.design
        if self.authority["point"].nunique() < d.size or self.cases.empty:
            return None  # an unfinished sweep (the analysis needs every point), or no firms
        if self.method == "sobol":
            return sa.sobol_table(d, self.cases, self.config.runs.seed)
        if self.method == "morris":
            sweep = self.config.sweep
            assert sweep is not None
            return sa.morris_table(d, self.cases, self.config.runs.seed, sweep.levels)
        if self.method == "oat":
            return sa.tornado_table(d, self.cases, self.crn)
        return None

    def discovery(self) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """(the chosen box, one row per parameter; the peeling trajectory), or None when the
        config has no [sweep.discovery] or no case is of interest."""
        from .discovery import choose, prim, prune, quasi_p, trajectory_frame

        sweep = self.config.sweep
        if sweep is None or sweep.discovery is None:
            return None
        disc = sweep.discovery
        cases = self.cases[self.cases["sector"] == disc.sector]
        if cases.empty:
            return None
        x = numeric_points(self.design.points)
        if x.empty:
            return None
        xs = x.iloc[cases["point"].to_numpy()].reset_index(drop=True)
        v = cases[disc.metric].to_numpy(dtype=float)
        y = v > disc.above if disc.above is not None else v < disc.below
        if not y.any():
            return None
        traj = prim(xs, y, disc.peel_alpha, disc.min_mass)
        full = traj[0].limits
        k = choose(traj, disc.min_coverage)
        b = prune(xs, y, traj[k], full)
        qp = quasi_p(xs, y, b, full)
        swept = {p.label: (p.low, p.high) if p.low is not None else full.get(p.label)
                 for p in sweep.parameters}
        op, thr = (">", disc.above) if disc.above is not None else ("<", disc.below)
        outcome = f"{disc.sector} {disc.metric} {op} {thr:g}"
        box = pd.DataFrame([{
            "parameter": c, "low": lo, "high": hi, "full_low": swept[c][0],
            "full_high": swept[c][1], "restricted": (lo, hi) != full[c],
            "quasi_p": qp.get(c, float("nan")),
            "coverage": b.coverage, "density": b.density, "mass": b.mass, "cases": b.n,
            "cases_of_interest": b.n_interest, "all_of_interest": traj[0].n_interest,
            "all_cases": traj[0].n, "outcome": outcome, "step": k,
        } for c, (lo, hi) in b.limits.items()])
        return box, trajectory_frame(traj, full)

    def write_outputs(self) -> None:
        """summary.csv, sensitivity.csv, discovery.csv and discovery-trajectory.csv."""
        self.write_summary()
        sens = self.sensitivity()
        if sens is not None:
            atomic_write_bytes(self.path / "sensitivity.csv", sens.to_csv(index=False).encode())
        disc = self.discovery()
        if disc is not None:
            atomic_write_bytes(self.path / "discovery.csv", disc[0].to_csv(index=False).encode())
            atomic_write_bytes(self.path / "discovery-trajectory.csv",
                               disc[1].to_csv(index=False).encode())

    def plot(self, out: str | Path | None = None) -> list[Path]:
        from .sweep_plots import plot_sweep

        return plot_sweep(self, Path(out) if out else self.path / "plots")

    def sector_text(self) -> str:
        """The points (mean sector shortfall with 95% CI), the sensitivity ranking and the
        discovered box, readable in a terminal."""
        crn = "common random numbers" if self.crn else "independent streams (--no-crn)"
        n = self.authority["point"].nunique()
        lines = [f"{self.manifest.get('name') or self.path.name}: {self.method} sweep, "
                 f"{len(self.design.points)} points x {self.replications} replications, {crn}"]
        if n < len(self.design.points):
            lines.append(f"(unfinished: {n} points have results; continue with --resume)")
        summ = self.summary()
        sec = summ[(summ["level"] == "sector") & (summ["metric"] == "shortfall_frac")]
        wait = summ[(summ["level"] == "authority") & (summ["metric"] == "queue_wait_days")]
        sectors = sorted(sec["name"].unique())
        if len(self.design.points) <= 40:
            pts = self.points
            head = f"{'point':>5} " + " ".join(f"{c[-24:]:>24}" for c in self.labels)
            head += "".join(f" {s + ' shortfall [95% CI]':>30}" for s in sectors)
            head += f" {'queue wait (days)':>18}"
            lines += ["", head]
            for p, row in pts.set_index("point").iterrows():
                vals = " ".join(f"{_fmt_value(row[c]):>24}" for c in self.labels)
                cells = []
                for s_ in sectors:
                    r = sec[(sec["point"] == p) & (sec["name"] == s_)]
                    cells.append(f" {_fmt_ci(r):>30}")
                w = wait[wait["point"] == p]
                wtxt = f"{w['mean'].iloc[0]:.3g}" if len(w) else ""
                lines.append(f"{p:>5} {vals}{''.join(cells)} {wtxt:>18}")
        else:
            lines.append(f"{len(self.design.points)} points: per-point statistics in "
                         "summary.csv")
        sens = self.sensitivity()
        if sens is not None and len(sens):
            lines += ["", *_sensitivity_text(self.method, sens)]
        disc = self.discovery()
        if disc is not None:
            box = disc[0]
            b = box.iloc[0]
            lines += ["", f"scenario discovery (PRIM): {b['outcome']} in {b['all_of_interest']}"
                      f" of {b['all_cases']} cases; box coverage {b['coverage']:.2f}, "
                      f"density {b['density']:.2f}, mass {b['mass']:.2f}"]
            for _, r in box[box["restricted"]].iterrows():
                lines.append(f"  {r['parameter']:<40} {_fmt_value(r['low'])} .. "
                             f"{_fmt_value(r['high'])}  (swept {_fmt_value(r['full_low'])} .. "
                             f"{_fmt_value(r['full_high'])}; quasi-p {r['quasi_p']:.2g})")
            if not box["restricted"].any():
                lines.append("  (no restriction: the outcome is spread over the whole range)")
        return "\n".join(lines)


def numeric_points(points: pd.DataFrame) -> pd.DataFrame:
    """The parameter columns that hold numbers (booleans as 0/1), as floats."""
    out = {}
    for c in points.columns:
        col = points[c]
        if pd.api.types.is_bool_dtype(col):
            out[c] = col.astype(float)
            continue
        num = pd.to_numeric(col, errors="coerce") if col.dtype == object else col
        if pd.api.types.is_numeric_dtype(num) and not num.isna().any():
            out[c] = num.astype(float)
    return pd.DataFrame(out, index=points.index)


def _fmt_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _fmt_ci(r: pd.DataFrame) -> str:
    if not len(r):
        return ""
    x = r.iloc[0]
    return f"{_fmt_frac(x['mean'])} [{_fmt_frac(x['ci_low'])}, {_fmt_frac(x['ci_high'])}]"


def _sensitivity_text(method: str, sens: pd.DataFrame) -> list[str]:
    """The shortfall_frac rows of the sensitivity table, per sector, most important first."""
    sf = sens[sens["metric"] == "shortfall_frac"]
    lines: list[str] = []
    for sector, g in sf.groupby("sector", sort=True):
        share = g["noise_share"].iloc[0] if "noise_share" in g else None
        noise = ("" if share is None else "; no variation between points" if share != share
                 else f"; Monte Carlo noise <= {100 * share:.0f}% of the variance of point "
                 "means")
        if method == "sobol":
            lines.append(f"Sobol indices, {sector} shortfall_frac (95% conf{noise}):")
            for _, r in g.sort_values("ST", ascending=False).iterrows():
                lines.append(f"  {r['parameter']:<40} S1 {r['S1']:6.3f} ± {r['S1_conf']:.3f}"
                             f"   ST {r['ST']:6.3f} ± {r['ST_conf']:.3f}")
        elif method == "morris":
            lines.append(f"Morris, {sector} shortfall_frac (mu*, 95% conf, sigma{noise}):")
            for _, r in g.sort_values("mu_star", ascending=False).iterrows():
                lines.append(f"  {r['parameter']:<40} mu* {r['mu_star']:.4f} ± "
                             f"{r['mu_star_conf']:.4f}   sigma {r['sigma']:.4f}")
        elif method == "oat":
            lines.append(f"Tornado, {sector} shortfall_frac (effect vs base "
                         f"{_fmt_frac(g['base_mean'].iloc[0])}, 95% CI):")
            for _, r in g.sort_values("rank").iterrows():
                lo = (f"{_fmt_pp(r['low_effect'])} [{_fmt_pp(r['low_ci_low'])}, "
                      f"{_fmt_pp(r['low_ci_high'])}]")
                hi = (f"{_fmt_pp(r['high_effect'])} [{_fmt_pp(r['high_ci_low'])}, "
                      f"{_fmt_pp(r['high_ci_high'])}]")
                lines.append(f"  {int(r['rank']):>2}. {r['parameter']:<38} "
                             f"{_fmt_value(r['low_value'])}: {lo:<30} "
                             f"{_fmt_value(r['high_value'])}: {hi}")
    return lines


def _fmt_pp(x: float) -> str:
    """A difference of fractions in percentage points."""
    return "nan" if x != x else f"{100 * x:+.2f}pp"


def open_results(path: str | Path, info: Any = None) -> Results:
    """The Results of a run folder, or the SweepResults of a sweep folder."""
    store = ResultsDir(path)
    man = store.manifest() or {}
    return SweepResults(path, info) if man.get("kind") == "sweep" else Results(path, info)
