"""Which uncertain parameters explain the spread of an outcome, from the sample a run
already drew (no extra runs): per sector, Spearman's rank correlation of each parameter
with the replication's sector shortfall, and Borgonovo's moment-independent delta with
its first-order index (SALib's `delta`, a given-data method), with 95% intervals.

Delta is biased upwards in small samples, so a column of random numbers that explains
nothing is analysed beside the parameters, and its row (`NOISE_FLOOR`) says where
"nothing" lies. Parameters drawn together as rows of a posterior sample repeat values (a
replication draws a particle, and a few particles carry most of the weight), so they are
confounded with one another: a random column taking one value per distinct row
(`ROW_FLOOR`) is their floor, and only what stands above it can be told apart."""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING

import numpy as np

from ..run.phases import phase, steps

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["parameter", "sector", "metric", "n", "spearman", "delta", "delta_conf", "S1",
           "S1_conf"]
NOISE_FLOOR = "(noise floor)"
"""The row of a uniform random column, independent of everything: indices near its own
explain nothing."""
ROW_FLOOR = "(noise floor, per sample row)"
"""The row of a random column constant within each distinct row of the repeated
(posterior) parameters: the floor for those parameters."""
MIN_DELTA = 30
"""Replications below which delta is not estimated (its bins would be nearly empty)."""


def _numeric(col: pd.Series) -> np.ndarray | None:
    """A parameter as numbers: as they are, or a choice of labels coded in order of first
    appearance; None when it does not vary."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        x = col.to_numpy(dtype=float)
    else:
        x = pd.factorize(col)[0].astype(float)
    return None if np.nanstd(x) == 0 else x


def explain(parameters: pd.DataFrame, sectors: pd.DataFrame, seed: int = 0,
            metric: str = "shortfall_frac") -> pd.DataFrame:
    """One row per uncertain parameter and sector (see the module); `parameters` has a
    `replication` column (and a `point` column in a sweep) and one per parameter,
    `sectors` is `sector_table`'s (or `sector_cases`'s). A case is one replication (of
    one point): parameters and outcomes are matched on both keys, never across points."""
    import pandas as pd

    keys = [k for k in ("point", "replication") if k in parameters.columns]
    missing = [k for k in keys if k not in sectors.columns]
    if missing:
        raise ValueError(f"the outcomes have no {', '.join(missing)} column to match the "
                         "parameters on")
    names = [c for c in parameters.columns if c not in ("replication", "point")]
    rows = []
    groups = list(sectors.groupby("sector", sort=True))
    phase(f"computing what explains the spread (uncertainty.csv): {len(names)} parameters, "
          f"{len(groups)} sectors, {len(parameters):,} cases...")
    with _one_blas_thread():
        for sector, g in steps(groups, "sectors analysed"):
            rows += _sector_rows(parameters, g, sector, keys, names, metric, seed)
    return pd.DataFrame(rows, columns=COLUMNS)


def _one_blas_thread():  # noqa: ANN202 - a context manager
    """BLAS on one thread while delta runs: its thousands of tiny density estimates are
    slowed, not sped up, by more threads (each call wakes and waits for them; two orders
    of magnitude on a busy machine). The numbers are the same."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency; slower without it, same result
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _sector_rows(parameters: pd.DataFrame, g: pd.DataFrame, sector: str, keys: list[str],
                 names: list[str], metric: str, seed: int) -> list[dict]:
    """The rows of one sector (see `explain`)."""
    joined = parameters.merge(g[[*keys, metric]], on=keys, validate="one_to_one")
    y = joined[metric].to_numpy(dtype=float)
    usable = {n: x for n in names if (x := _numeric(joined[n])) is not None}
    floors = floor_columns(joined, list(usable), seed)
    usable |= floors
    dl = _delta(usable, y, seed) if len(y) >= MIN_DELTA and np.std(y) > 0 else {}
    rows = []
    for name in [*names, *floors]:
        x = usable.get(name)
        rho = _spearman(x, y) if x is not None and np.std(y) > 0 else math.nan
        d = dl.get(name, {})
        rows.append({"parameter": name, "sector": sector, "metric": metric,
                     "n": len(y), "spearman": rho,
                     "delta": d.get("delta", math.nan),
                     "delta_conf": d.get("delta_conf", math.nan),
                     "S1": d.get("S1", math.nan), "S1_conf": d.get("S1_conf", math.nan)})
    return rows


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation; scipy.stats is imported here, only when there is a
    spread to correlate (it takes about a second to import)."""
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)


def floor_of(parameters: pd.DataFrame, name: str) -> str:
    """Which floor row applies to parameter `name`: the per-row one when its values repeat."""
    return ROW_FLOOR if parameters[name].nunique() < len(parameters) else NOISE_FLOOR


def floor_columns(joined: pd.DataFrame, names: list[str], seed: int) -> dict[str, np.ndarray]:
    import pandas as pd

    n = len(joined)
    rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(n,)))
    out = {NOISE_FLOOR: rng.random(n)}
    repeated = [c for c in names if joined[c].nunique() < n]
    if repeated:
        rows = pd.MultiIndex.from_frame(joined[repeated]).factorize()[0]
        out[ROW_FLOOR] = rng.random(rows.max() + 1)[rows]
    return out


def _delta(xs: dict[str, np.ndarray], y: np.ndarray, seed: int) -> dict[str, dict]:
    """SALib's delta for every column at once; where its density estimate fails (an
    outcome almost constant, e.g. zero in all but a few replications), column by column,
    leaving out those it cannot estimate."""
    try:
        return _delta_all(xs, y, seed)
    except (ValueError, np.linalg.LinAlgError):
        out = {}
        for name, x in xs.items():
            with contextlib.suppress(ValueError, np.linalg.LinAlgError):
                out |= _delta_all({name: x}, y, seed)
        return out


def _delta_all(xs: dict[str, np.ndarray], y: np.ndarray, seed: int) -> dict[str, dict]:
    if not xs:
        return {}
    import io
    import warnings

    from SALib.analyze import delta

    names = list(xs)
    x = np.column_stack([xs[n] for n in names])
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[float(x[:, k].min()), float(x[:, k].max())]
                          for k in range(len(names))]}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")  # SALib prints its binning notes: not ours to show
        res = delta.analyze(problem, x, y, num_resamples=100, seed=seed,
                            print_to_console=False)
    keys = {"delta": "delta_balanced", "delta_conf": "delta_balanced_conf", "S1": "S1",
            "S1_conf": "S1_conf"}
    return {n: {k: float(res[v][i]) for k, v in keys.items()} for i, n in enumerate(names)}
