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
import inspect
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..run.phases import phase, steps

if TYPE_CHECKING:
    import pandas as pd


class Mapper(Protocol):
    """Where tasks run (`sim.run.executors`'s executors): `workers` processes, and
    `map_unordered(fn, jobs)` giving `(key, fn(*args))` for each `(key, args)` of `jobs`."""

    workers: int

    def map_unordered(self, fn: Callable[..., Any], jobs: Iterable[tuple[Any, tuple]]
                      ) -> Iterator[tuple[Any, Any]]: ...

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
            metric: str = "shortfall_frac", executor: Mapper | None = None) -> pd.DataFrame:
    """One row per uncertain parameter and sector (see the module); `parameters` has a
    `replication` column (and a `point` column in a sweep) and one per parameter,
    `sectors` is `sector_table`'s (or `sector_cases`'s). A case is one replication (of
    one point): parameters and outcomes are matched on both keys, never across points.

    Delta's density estimates are most of the time: only those of the numbers kept are
    made, and with an `executor` of several workers (`sim.run.executors`) each sector's
    parameters are shared out among them; the numbers are SALib's to the last bit (see
    `_delta_part`)."""
    import pandas as pd

    keys = [k for k in ("point", "replication") if k in parameters.columns]
    missing = [k for k in keys if k not in sectors.columns]
    if missing:
        raise ValueError(f"the outcomes have no {', '.join(missing)} column to match the "
                         "parameters on")
    names = [c for c in parameters.columns if c not in ("replication", "point")]
    groups = list(sectors.groupby("sector", sort=True))
    phase(f"computing what explains the spread (uncertainty.csv): {len(names)} parameters, "
          f"{len(groups)} sectors, {len(parameters):,} cases...")
    cases = [_sector_case(parameters, g, sector, keys, names, metric, seed)
             for sector, g in groups]
    # seed 0: SALib draws from numpy's global generator unseeded; as before, here
    workers = getattr(executor, "workers", 1) if seed else 1
    if workers > 1 and not (any(c.delta for c in cases) and _splittable()):
        workers = 1  # (SALib, and scipy.stats with it, imported only when delta is had)
    jobs = [((k, lo), (list(c.xs), np.column_stack(list(c.xs.values())), c.y, seed, lo, hi))
            for k, c in enumerate(cases) if c.delta for lo, hi in _ranges(len(c.xs), workers)]
    run = executor.map_unordered if executor is not None and seed else _here
    parts: dict[int, list[dict | None]] = {}
    what = "sectors analysed" if len(jobs) == sum(c.delta for c in cases) \
        else "parts of sectors analysed"
    for (k, _), part in steps(run(_delta_part, jobs), what, total=len(jobs)):
        parts.setdefault(k, []).append(part)
    rows = []
    for k, c in enumerate(cases):
        got = parts.get(k, [])
        if any(p is None for p in got):  # a density estimate failed: the sector as
            dl = _delta(c.xs, c.y, seed)  # `_delta` computes it, in this process
        else:
            dl = {n: v for p in got for n, v in p.items()}  # type: ignore[union-attr]
        rows += c.rows(dl, metric)
    return pd.DataFrame(rows, columns=COLUMNS)


def one_case_rows(names: list[str], sectors: Iterable[str],
                  metric: str = "shortfall_frac") -> list[dict[str, Any]]:
    """`explain`'s rows for a sample of one replication, built without pandas: with one
    case nothing varies, so every sector has each parameter's row and the noise floor's,
    with n = 1 and nothing estimated."""
    return [{"parameter": name, "sector": sector, "metric": metric, "n": 1}
            for sector in sorted(set(sectors)) for name in [*names, NOISE_FLOOR]]


def _here(fn: Callable[..., Any], jobs: Iterable[tuple[Any, tuple]]
          ) -> Iterator[tuple[Any, Any]]:
    """`(key, fn(*args))` for each job, in this process."""
    for key, args in jobs:
        yield key, fn(*args)


def _ranges(n: int, parts: int) -> list[tuple[int, int]]:
    """[0, n) cut into at most `parts` consecutive ranges of nearly equal length."""
    parts = max(1, min(parts, n))
    cuts = [round(n * k / parts) for k in range(parts + 1)]
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def _one_blas_thread():  # noqa: ANN202 - a context manager
    """BLAS on one thread while delta runs: its thousands of tiny density estimates are
    slowed, not sped up, by more threads (each call wakes and waits for them; two orders
    of magnitude on a busy machine). The numbers are the same."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency; slower without it, same result
        return contextlib.nullcontext()
    # The limit reaches only the BLAS libraries loaded when it is set: scipy's own copy
    # is loaded with scipy.linalg (here through SALib), so import it first. (Without,
    # delta took 75 s instead of 10 s for 64 replications on a busy machine.)
    import SALib.analyze.delta  # noqa: F401

    return threadpool_limits(limits=1, user_api="blas")


@dataclass
class _Case:
    """One sector's sample: the usable parameter columns (and the floors after them), the
    outcome `y`, and whether delta is estimated (enough cases, and a spread)."""

    sector: str
    names: list[str]
    floors: list[str]
    xs: dict[str, np.ndarray]
    y: np.ndarray

    @property
    def delta(self) -> bool:
        return bool(self.xs) and len(self.y) >= MIN_DELTA and bool(np.std(self.y) > 0)

    def rows(self, dl: dict[str, dict], metric: str) -> list[dict]:
        """The sector's rows (see `explain`), given delta's results by column."""
        rows = []
        y = self.y
        for name in [*self.names, *self.floors]:
            x = self.xs.get(name)
            rho = _spearman(x, y) if x is not None and np.std(y) > 0 else math.nan
            d = dl.get(name, {})
            rows.append({"parameter": name, "sector": self.sector, "metric": metric,
                         "n": len(y), "spearman": rho,
                         "delta": d.get("delta", math.nan),
                         "delta_conf": d.get("delta_conf", math.nan),
                         "S1": d.get("S1", math.nan), "S1_conf": d.get("S1_conf", math.nan)})
        return rows


def _sector_case(parameters: pd.DataFrame, g: pd.DataFrame, sector: str, keys: list[str],
                 names: list[str], metric: str, seed: int) -> _Case:
    """One sector's sample (see `explain`)."""
    joined = parameters.merge(g[[*keys, metric]], on=keys, validate="one_to_one")
    y = joined[metric].to_numpy(dtype=float)
    usable = {n: x for n in names if (x := _numeric(joined[n])) is not None}
    floors = floor_columns(joined, list(usable), seed)
    return _Case(sector, names, list(floors), usable | floors, y)


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
    names = list(xs)
    return _analyze(names, np.column_stack([xs[n] for n in names]), y, seed)


def _analyze(names: list[str], x: np.ndarray, y: np.ndarray, seed: int,
             real: set[str] | None = None) -> dict[str, dict]:
    """SALib's delta (and S1) of the columns `names` of `x`, for those in `real` (default
    all)."""
    import io
    import warnings

    from SALib.analyze import delta

    problem = {"num_vars": len(names), "names": names,
               "bounds": [[float(x[:, k].min()), float(x[:, k].max())]
                          for k in range(len(names))]}
    with _one_blas_thread(), warnings.catch_warnings(), \
            contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")  # SALib prints its binning notes: not ours to show
        res = delta.analyze(problem, x, y, num_resamples=100, seed=seed,
                            print_to_console=False)
    keys = {"delta": "delta_balanced", "delta_conf": "delta_balanced_conf", "S1": "S1",
            "S1_conf": "S1_conf"}
    return {n: {k: float(res[v][i]) for k, v in keys.items()} for i, n in enumerate(names)
            if real is None or n in real}


# ---------------------------------------------------------------- delta, in parts
#
# SALib's `delta.analyze` takes the columns in turn from one random stream (seeded once):
# column k's resamples depend on every draw columns 0..k-1 made. It estimates three
# deltas a column (balanced, raw, step) of which only the balanced one is kept here. The
# draws are cheap; the density estimates (`calc_delta`, four kernel densities on each of
# 101 resamples) are not, and draw nothing. So:
# - the raw and step estimates are skipped, their resamples drawn all the same; an
#   estimate that might fail (a resample, or a bin of one, with next to no spread) is
#   computed, since a failure changes what SALib does next;
# - columns [lo, hi) can be computed apart: `analyze` on columns [0, hi), the columns
#   before lo only drawing their resamples (`_replay`).
# Both hold while no density estimate fails: a failure makes SALib stop a column early
# (fewer draws) or give up, so any failure anywhere sends the sector back to `_delta`.

TINY = 1e-100
"""A sample whose spread (max - min) is above this has a variance far above the smallest
double: its kernel density estimate cannot be singular."""


def _splittable() -> bool:
    """Whether SALib's delta is the one `_replay` follows (SALib 1.6's)."""
    try:
        from SALib.analyze import delta
    except ImportError:  # pragma: no cover - a dependency
        return False
    want = ["Y", "Ygrid", "X", "m", "num_resamples", "conf_level", "y_resamples", "mode",
            "bin_edges", "paramname", "min_class_size"]
    return all(hasattr(delta, f) for f in ("calc_delta", "obtain_resampled_subset",
                                           "rankdata")) and \
        list(inspect.signature(delta.bias_reduced_delta).parameters) == want


def _delta_part(names: list[str], x: np.ndarray, y: np.ndarray, seed: int, lo: int,
                hi: int) -> dict[str, dict] | None:
    """`_delta_all` of the columns `names[lo:hi]` of `x`, the same numbers (the module's
    note above). None when a density estimate failed in a part of a sector: then
    `_delta` must do the sector (a whole sector is done so here)."""
    whole = lo == 0 and hi == len(names)
    if not _splittable():
        return _delta(dict(zip(names, x.T, strict=True)), y, seed) if whole else None
    failed: list[BaseException] = []
    with _replay(set(names[lo:hi]), failed):
        try:
            out = _analyze(names[:hi], x[:, :hi], y, seed, real=set(names[lo:hi]))
        except (ValueError, np.linalg.LinAlgError):
            out = None
    if out is not None and not failed:
        return out
    return _delta(dict(zip(names, x.T, strict=True)), y, seed) if whole else None


def _estimable(y: np.ndarray, x: np.ndarray, m: np.ndarray) -> bool:
    """Whether SALib's `calc_delta(y, _, x, m)` certainly succeeds: the whole sample, and
    each bin of it with any spread (one without is skipped), spread above TINY."""
    from SALib.analyze.delta import rankdata

    if not np.ptp(y) > TINY:
        return False
    xr = rankdata(x, method="ordinal")
    for j in range(len(m) - 1):
        s = y[(xr > m[j]) & (xr <= m[j + 1])]
        if len(s) and (p := np.ptp(s)) != 0.0 and not p > TINY:
            return False
    return True


@contextlib.contextmanager
def _replay(real: set[str], failed: list[BaseException]) -> Iterator[None]:
    """While SALib's delta runs here: the balanced delta of the columns in `real` is
    estimated as SALib does; every other estimate only draws its resamples, as
    `bias_reduced_delta` does and in the same order (nan), except that for the columns
    in `real` an estimate that might fail is computed; one that fails is recorded in
    `failed`."""
    from SALib.analyze import delta as mod

    brd, calc, draw = mod.bias_reduced_delta, mod.calc_delta, mod.obtain_resampled_subset

    def calc_delta(*args):  # noqa: ANN002, ANN202
        try:
            return calc(*args)
        except BaseException as e:
            failed.append(e)
            raise

    def check(Y, Ygrid, X, m, r) -> None:  # noqa: ANN001, N803
        if not _estimable(Y[r], X[r], m):
            calc_delta(Y[r], Ygrid, X[r], m)

    def bias_reduced_delta(Y, Ygrid, X, m, num_resamples, conf_level, y_resamples,  # noqa: ANN001, ANN202, N803
                           mode, bin_edges, paramname, min_class_size):
        mine = paramname in real
        if mine and mode == "balanced":
            return brd(Y, Ygrid, X, m, num_resamples, conf_level, y_resamples, mode,
                       bin_edges, paramname, min_class_size)
        ind = draw(X, y_resamples, mode, bin_edges, paramname, min_class_size,
                   warn_print=True)
        if mine:
            check(Y, Ygrid, X, m, ind)
        try:
            rs = [draw(X, y_resamples, mode, bin_edges, paramname, min_class_size,
                       warn_print=False) for _ in range(num_resamples)]
        except ValueError as e:
            raise RuntimeError(f"Bootstrap error: [{paramname}][{mode}]: {e}") from e
        for r in rs if mine else ():
            check(Y, Ygrid, X, m, r)
        return math.nan, math.nan, ind

    mod.bias_reduced_delta, mod.calc_delta = bias_reduced_delta, calc_delta
    try:
        yield
    finally:
        mod.bias_reduced_delta, mod.calc_delta = brd, calc
