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
