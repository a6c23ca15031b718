"""One-sided confidence bounds of a constraint's quantity from per-replication values,
and the decision they support: `accepted` (the upper bound meets the limit), `rejected`
(the lower bound exceeds it) or `undecided`.

- probability P(Y > a): exact Clopper-Pearson bounds (beta quantiles, as
  `scipy.stats.binomtest(k, n).proportion_ci(method="exact")` one-sided);
- mean E[Y]: Student's t bounds;
- CVaR_L[Y] for Y in [0, 1]: distribution-free bounds from the one-sided
  Dvoretzky-Kiefer-Wolfowitz inequality (Massart's constant): with probability 1 - a the
  true CDF lies within eps = sqrt(ln(1/a) / 2n) of the empirical one, so moving eps of
  probability mass from the smallest values to 1 (or from the largest to 0) bounds CVaR.

Each bound is at level 1 - `a` (`a` the error allowed to this one look; the search splits
1 - confidence between its looks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ACCEPTED, REJECTED, UNDECIDED = "accepted", "rejected", "undecided"

METHODS = {"probability": "Clopper-Pearson (exact binomial)", "mean": "Student's t",
           "cvar": "Dvoretzky-Kiefer-Wolfowitz (values in [0, 1])"}


@dataclass(frozen=True)
class Estimate:
    """A constraint's quantity on n replications: the estimate, one-sided bounds at level
    1 - a each, the limit, and the decision."""

    estimate: float
    low: float
    high: float
    limit: float
    n: int
    a: float

    @property
    def decision(self) -> str:
        if self.high <= self.limit:
            return ACCEPTED
        if self.low > self.limit:
            return REJECTED
        return UNDECIDED


def clopper_pearson(k: int, n: int, a: float) -> tuple[float, float]:
    """One-sided exact bounds (each at level 1 - a) of a binomial share with k of n."""
    from scipy.special import betaincinv

    low = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, a))
    high = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - a))
    return low, high


def probability_estimate(y: np.ndarray, above: float, limit: float, a: float) -> Estimate:
    """P(y > above) with its Clopper-Pearson bounds."""
    n = len(y)
    k = int(np.count_nonzero(y > above))
    low, high = clopper_pearson(k, n, a)
    return Estimate(k / n, low, high, limit, n, a)


def mean_estimate(y: np.ndarray, limit: float, a: float) -> Estimate:
    """E[y] with one-sided Student's t bounds (a constant sample: the mean itself)."""
    from ..analysis.stats import t_quantile

    n = len(y)
    m = float(np.mean(y))
    s = float(np.std(y, ddof=1)) if n > 1 else math.inf
    half = t_quantile(1 - a, n - 1) * s / math.sqrt(n) if s > 0 else 0.0
    return Estimate(m, m - half, m + half, limit, n, a)


def _quantile_integral(xs: np.ndarray, lo: float, hi: float) -> float:
    """∫_lo^hi q(u) du for the empirical quantile function of the sorted `xs` (q(u) =
    xs[i] on ((i)/n, (i+1)/n]), with 0 <= lo <= hi <= 1."""
    n = len(xs)
    edges = np.arange(n + 1) / n
    width = np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0, None)
    return float(np.dot(width, xs))


def cvar_value(xs: np.ndarray, level: float, shift: float = 0.0) -> float:
    """CVaR at `level` (mean of the worst 1 - level share) of the sorted `xs` with `shift`
    of probability mass moved: > 0 from the smallest values to 1, < 0 from the largest
    to 0."""
    tail = 1.0 - level
    if shift >= 0:  # q_G(u) = q(u + shift), 1 beyond 1 - shift
        top = min(1.0, 1.0 - shift)
        part = _quantile_integral(xs, min(level + shift, 1.0), 1.0) if level < top else 0.0
        ones = 1.0 - max(level, top)
        return (part + ones) / tail
    s = -shift  # q_G(u) = q(u - s) for u >= s, 0 below
    return _quantile_integral(xs, max(level - s, 0.0), 1.0 - s) / tail


def cvar_estimate(y: np.ndarray, level: float, limit: float, a: float) -> Estimate:
    """CVaR_level[y] for y in [0, 1] with DKW bounds."""
    xs = np.sort(np.clip(np.asarray(y, float), 0.0, 1.0))
    eps = math.sqrt(math.log(1 / a) / (2 * len(xs)))
    return Estimate(cvar_value(xs, level), cvar_value(xs, level, -eps),
                    cvar_value(xs, level, eps), limit, len(xs), a)
