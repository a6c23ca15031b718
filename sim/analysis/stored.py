"""Stored results read back: a run's or a sweep's results folder as pandas DataFrames,
its summary statistics, and the analyses that read stored tables (sensitivity, scenario
discovery, the back-test)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config.costs import COST_METRICS
from ..config.schema import Config
from ..errors import FolderError
from ..run.store import ResultsDir
from .stats import COLUMNS, FIRM_COLUMNS, csv_text, sector_table, summary_rows

if TYPE_CHECKING:  # pandas is imported when a table is asked for: `summary_rows` and
    import pandas as pd  # `write_summary` (what the command line needs) do without it

    from ..calibration.backtest import Backtest
    from .uncertainty import Mapper


UNCERTAINTY = "uncertainty.csv"
UNCERTAINTY_MARK = "uncertainty"  # manifest: uncertainty.csv's sha256 and replications


class StoredRun:
    """The results folder of a batch run (`rareshock run`, `sim.run_batch`).

    Tables are read from the parquet datasets on first use: `firms` (one row per
    replication and firm), `applications`, `exports`, `timeseries`, `authority`, `policy`.
    """

    def __init__(self, path: str | Path, info: Any = None) -> None:
        self.store = ResultsDir(path)
        self.manifest = self.store.check()
        self.path = self.store.path
        self.info = info
        self.chunks = self.store.chunks(self.manifest["run_id"])

    @cached_property
    def config(self) -> Config:
        """The config that ran (config.toml, checked against the manifest)."""
        return self.store.config()

    @property
    def replications(self) -> int:
        """Replications stored (finished chunks)."""
        return sum(ch.replications for ch in self.chunks.values())

    @property
    def planned(self) -> int:
        """Replications the run was asked for."""
        return int(self.manifest.get("replications", 0))

    @property
    def complete(self) -> bool:
        return self.replications >= self.planned

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """Dataset `name` (all its columns, or `columns`) as a DataFrame."""
        return self.store.read(name, columns)

    def columns(self, name: str, columns: list[str] | None = None) -> dict[str, np.ndarray]:
        """Dataset `name` as numpy columns (strings as objects), without pandas."""
        return self.store.read_columns(name, columns)

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
    def arcs(self) -> pd.DataFrame:
        """One row per replication and arc (supplier or firm -> customer firm, material):
        ordered, delivered, in transit, back-ordered, cancelled, fill rate, bullwhip and
        ripple lag. Empty for a folder stored before supply tiers."""
        import pandas as pd

        if not any("arcs" in ch.parts for ch in self.chunks.values()):
            return pd.DataFrame()
        return self.table("arcs")

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

    @property
    def uncertain(self) -> list[str]:
        """The names of the uncertain parameters each replication drew (none: [])."""
        return [u.name for u in self.config.uncertain]

    @cached_property
    def parameters(self) -> pd.DataFrame | None:
        """Each replication's draws of the uncertain parameters (None without any)."""
        return self.table("parameters") if self.uncertain else None

    def explained(self) -> pd.DataFrame | None:
        """Which uncertain parameters explain the spread of each sector's shortfall, from
        this sample (`sim.analysis.uncertainty.explain`); None without any, or no firms.
        The table `write_summary` stored is read back when its checksum and replication
        count in the manifest say it is this sample's; otherwise it is computed."""
        if "_explained" not in self.__dict__:
            stored = self._stored_explained()
            self.__dict__["_explained"] = stored if stored is not None else self._explain()
        return self.__dict__["_explained"]

    def _explain(self, executor: Mapper | None = None) -> pd.DataFrame | None:
        from .uncertainty import explain

        if self.parameters is None or self.firms.empty:
            return None
        return explain(self.parameters, self.sectors(), seed=self.config.runs.seed,
                       executor=executor)

    def _stored_explained(self) -> pd.DataFrame | None:
        import io

        import pandas as pd

        from ..run.store import digest

        mark = self.manifest.get(UNCERTAINTY_MARK) or {}
        f = self.path / UNCERTAINTY
        if mark.get("replications") != self.replications or not f.is_file():
            return None
        data = f.read_bytes()
        return pd.read_csv(io.BytesIO(data)) if digest(data) == mark.get("sha256") else None

    @cached_property
    def summary_rows(self) -> list[dict[str, Any]]:
        """The across-replication statistics, one dict a row (`summary()` as a table)."""
        firms = self.columns("replications", self.firm_columns())
        return summary_rows(firms, self.columns("authority"))

    def firm_columns(self) -> list[str]:
        """The replications columns a summary reads: FIRM_COLUMNS, `tier` where the
        folder has it (runs stored before supply tiers do not), and the costs of a
        config with a `[costs]` table."""
        import pyarrow.parquet as pq  # not pyarrow.dataset, which imports pandas

        parts = [self.path / p.file for ch in self.chunks.values()
                 for name, p in ch.parts.items() if name == "replications"]
        names = pq.read_schema(parts[0]).names if parts else []
        return [*FIRM_COLUMNS, *(["tier"] if "tier" in names else []),
                *(c for c in COST_METRICS if c in names)]

    @property
    def summary_columns(self) -> list[str]:
        return COLUMNS

    def summary(self) -> pd.DataFrame:
        """The across-replication statistics (long format, as in summary.csv)."""
        import pandas as pd

        return pd.DataFrame(self.summary_rows, columns=self.summary_columns)

    def write_summary(self, executor: Mapper | None = None) -> Path:
        """Write summary.csv, and uncertainty.csv when the run drew uncertain parameters
        (its analysis shared out among `executor`'s workers, if given), with the folder's
        lock; returns summary.csv's path."""
        with self.store.locked():
            path = self.store.write_output(
                "summary.csv", csv_text(self.summary_rows, self.summary_columns).encode())
            if self.replications == 1:  # nothing varies: the rows without pandas
                data = self._one_case_text()
            else:
                exp = self._explain(executor)
                data = None if exp is None else exp.to_csv(index=False).encode()
                self.__dict__["_explained"] = exp
            if data is not None:
                from ..run.store import digest

                self.store.write_output(UNCERTAINTY, data)
                self.store.update_manifest(**{UNCERTAINTY_MARK: {
                    "sha256": digest(data), "replications": self.replications}})
            return path

    def _one_case_text(self) -> bytes | None:
        """uncertainty.csv of a one-replication run (as `_explain` would write it)."""
        from .uncertainty import COLUMNS as EXPLAIN_COLUMNS
        from .uncertainty import one_case_rows

        if not self.uncertain:
            return None
        firms = self.columns("replications", ["sector"])
        if not len(firms["sector"]):
            return None
        rows = one_case_rows(self.uncertain, firms["sector"].astype(str))
        return csv_text(rows, EXPLAIN_COLUMNS).encode()

    def backtest(self) -> Backtest:
        """The run against the observations its config names (`observed`)."""
        from ..calibration.backtest import BACKTEST_APPLICATION_COLUMNS, backtest_tables

        apps = self.table("applications", BACKTEST_APPLICATION_COLUMNS)
        obs = self.config.observed
        ts = (self.table("timeseries", ["replication", "day", "series", "material", "value"])
              if obs is not None and obs.prices and self.config.prices is not None
              else None)
        return backtest_tables(self.config, self.firms, self.exports, apps, ts)

# --------------------------------------------------------------------------- sweeps


class StoredSweep(StoredRun):
    """The results folder of a sweep (`rareshock sweep`, `sim.run_sweep`).

    Tables carry a `point` column; `points` holds each point's parameter values;
    `summary()` is the run summary per point; `sensitivity()` the method's sensitivity
    table (Sobol indices, Morris mu*/sigma or the oat tornado); `discovery()` the PRIM
    box of `[sweep.discovery]`.
    """

    def __init__(self, path: str | Path, info: Any = None) -> None:
        super().__init__(path, info)
        if self.manifest.get("kind") != "sweep":
            raise FolderError(str(self.path), "holds a run, not a sweep")

    def explained(self) -> pd.DataFrame | None:
        """Not for sweeps: their `sensitivity()` ranks the swept levers."""
        return None

    @property
    def complete(self) -> bool:
        pairs = sum(ch.replications for ch in self.chunks.values())
        return pairs >= self.replications * int(self.manifest.get("points", 0))

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
    def design(self):  # noqa: ANN201 - sim.sweep.design.Design
        from ..sweep.design import build_design

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
        from ..sweep.sensitivity import sector_cases

        return sector_cases(self.firms)

    def sectors(self) -> pd.DataFrame:
        return self.cases

    @cached_property
    def summary_rows(self) -> list[dict[str, Any]]:
        """The run summary of every point, with `point` in front and `crn` at the end."""
        firms = self.columns("replications", ["point", *self.firm_columns()])
        auth = self.columns("authority")
        rows = []
        for p in np.unique(auth["point"]).tolist():  # a row per replication
            f = {k: v[firms["point"] == p] for k, v in firms.items()}
            a = {k: v[auth["point"] == p] for k, v in auth.items()}
            rows += [{"point": int(p)} | r | {"crn": self.crn} for r in summary_rows(f, a)]
        return rows

    @property
    def summary_columns(self) -> list[str]:
        return ["point", *COLUMNS, "crn"]

    def sensitivity(self) -> pd.DataFrame | None:
        """Sobol indices (sobol), mu*/sigma (morris) or the tornado table (oat); None for
        grid and lhs. Computed once per folder object: every reader (the text, the plots,
        the page) gets its own copy."""
        if "_sensitivity" not in self.__dict__:
            self.__dict__["_sensitivity"] = self._sensitivity()
        sens = self.__dict__["_sensitivity"]
        return sens.copy() if sens is not None else None

    def _sensitivity(self) -> pd.DataFrame | None:
        from ..sweep import sensitivity as sa

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
        from ..sweep.discovery import choose, prim, prune, quasi_p, trajectory_frame

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
        import pandas as pd

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
        with self.store.locked():
            self.write_summary()
            sens = self.sensitivity()
            if sens is not None:
                self.store.write_output("sensitivity.csv", sens.to_csv(index=False).encode())
            disc = self.discovery()
            if disc is not None:
                self.store.write_output("discovery.csv", disc[0].to_csv(index=False).encode())
                self.store.write_output("discovery-trajectory.csv",
                                        disc[1].to_csv(index=False).encode())

def numeric_points(points: pd.DataFrame) -> pd.DataFrame:
    """The parameter columns that hold numbers (booleans as 0/1), as floats."""
    import pandas as pd

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


def is_sweep(path: str | Path) -> bool:
    """Whether the results folder at `path` holds a sweep."""
    return ResultsDir(path).open_header().get("kind") == "sweep"
