"""Scenario discovery: the box of parameter ranges where an outcome of interest
concentrates, by PRIM (Patient Rule Induction Method; Friedman & Fisher 1999, as used for
scenario discovery by Bryant & Lempert 2010).

Top-down peeling: starting from the box holding every case, each step removes a slice of
at most `alpha` of the box's cases from the low or the high end of one parameter (at least
one value's cases, for parameters with few distinct values), choosing the slice whose
removal leaves the highest share of cases of interest (density) in the box. Peeling stops
before the box would hold less than `min_mass` of all cases. Each box on this trajectory
has a coverage (share of all cases of interest inside it) and a density; the one reported
is the densest with coverage >= `min_coverage` (the analyst's trade-off; the whole
trajectory is returned for inspection), with the restrictions that add nothing
significant dropped (Bryant & Lempert's quasi-p-value > 0.05: a nibble off a parameter's
end that the density does not need). Pasting is not done: with the coarse sweep designs
here it rarely changes a box, and the peeling trajectory is what is plotted.

Written here rather than taken from a library: `prim` (PyPI) is GPL-3 (this project is
MIT) and needs mplcursors; EMA Workbench brings a large stack for one function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Box:
    """A box of the peeling trajectory: limits per parameter (inclusive) and its stats."""

    limits: dict[str, tuple[float, float]]
    mass: float
    coverage: float
    density: float
    n: int
    n_interest: int

    def restricted(self, full: dict[str, tuple[float, float]]) -> list[str]:
        """Parameters whose range the box narrows."""
        return [k for k, (lo, hi) in self.limits.items() if (lo, hi) != full[k]]


def prim(x: pd.DataFrame, y: np.ndarray, alpha: float = 0.05,
         min_mass: float = 0.05) -> list[Box]:
    """The peeling trajectory for cases `x` (numeric columns) and boolean outcome `y`;
    the first box holds every case."""
    cols = list(x.columns)
    X = x.to_numpy(dtype=float)
    y = np.asarray(y, dtype=bool)
    n, total = len(y), int(y.sum())
    inside = np.ones(n, dtype=bool)

    def box(mask: np.ndarray) -> Box:
        lims = {c: (float(X[mask, j].min()), float(X[mask, j].max()))
                for j, c in enumerate(cols)}
        k = int(mask.sum())
        hit = int(y[mask].sum())
        return Box(lims, k / n, hit / total if total else np.nan, hit / k if k else np.nan,
                   k, hit)

    trajectory = [box(inside)]
    while True:
        best: tuple[float, int, np.ndarray] | None = None
        k = int(inside.sum())
        for j in range(X.shape[1]):
            xj = X[inside, j]
            for side in ("low", "high"):
                if side == "low":
                    cut = np.quantile(xj, alpha)
                    drop = inside & (X[:, j] < cut)
                    if not drop.any():  # few distinct values: peel the lowest whole
                        drop = inside & (X[:, j] <= xj.min())
                else:
                    cut = np.quantile(xj, 1 - alpha)
                    drop = inside & (X[:, j] > cut)
                    if not drop.any():
                        drop = inside & (X[:, j] >= xj.max())
                m = int(drop.sum())
                if m == 0 or m == k:
                    continue
                keep = inside & ~drop
                if keep.sum() < min_mass * n:
                    continue
                dens = float(y[keep].mean())
                if best is None or (dens, -m) > (best[0], -best[1]):
                    best = (dens, m, keep)
        if best is None:
            break
        inside = best[2]
        trajectory.append(box(inside))
    return trajectory


def inside(x: pd.DataFrame, limits: dict[str, tuple[float, float]]) -> np.ndarray:
    """Which cases of `x` lie in the box `limits` (inclusive)."""
    mask = np.ones(len(x), dtype=bool)
    for c, (lo, hi) in limits.items():
        v = x[c].to_numpy(dtype=float)
        mask &= (v >= lo) & (v <= hi)
    return mask


def quasi_p(x: pd.DataFrame, y: np.ndarray, box: Box,
            full: dict[str, tuple[float, float]]) -> dict[str, float]:
    """For each restricted parameter, the one-sided binomial probability of the box's
    density if that restriction were dropped (Bryant & Lempert 2010's quasi-p-value): a
    large value says the restriction adds little."""
    from scipy import stats

    out = {}
    for c in box.restricted(full):
        lims = dict(box.limits)
        lims[c] = full[c]
        m = inside(x, lims)
        p0 = float(np.asarray(y)[m].mean())
        out[c] = float(stats.binom.sf(box.n_interest - 1, box.n, p0))
    return out


def box_of(x: pd.DataFrame, y: np.ndarray, limits: dict[str, tuple[float, float]]) -> Box:
    """The Box with `limits` and its statistics over the cases `x`, `y`."""
    y = np.asarray(y, dtype=bool)
    m = inside(x, limits)
    k, hit, total = int(m.sum()), int(y[m].sum()), int(y.sum())
    return Box(dict(limits), k / len(y), hit / total if total else np.nan,
               hit / k if k else np.nan, k, hit)


def prune(x: pd.DataFrame, y: np.ndarray, box: Box, full: dict[str, tuple[float, float]],
          max_p: float = 0.05) -> Box:
    """Drop the box's restrictions that add nothing significant (quasi-p > `max_p`), the
    least significant first, re-testing the rest after each drop."""
    while True:
        qp = quasi_p(x, y, box, full)
        if not qp or max(qp.values()) <= max_p:
            return box
        worst = max(qp, key=lambda c: qp[c])
        lims = dict(box.limits)
        lims[worst] = full[worst]
        box = box_of(x, y, lims)


def choose(trajectory: list[Box], min_coverage: float) -> int:
    """Index of the densest box with coverage >= `min_coverage` (the first on ties)."""
    ok = [i for i, b in enumerate(trajectory) if b.coverage >= min_coverage - 1e-12]
    if not ok:
        return 0
    return max(ok, key=lambda i: (trajectory[i].density, -i))


def trajectory_frame(trajectory: list[Box], full: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """One row per peeling step: coverage, density, mass, cases, restricted parameters."""
    return pd.DataFrame([{"step": i, "coverage": b.coverage, "density": b.density,
                          "mass": b.mass, "cases": b.n, "cases_of_interest": b.n_interest,
                          "restricted": len(b.restricted(full))}
                         for i, b in enumerate(trajectory)])
