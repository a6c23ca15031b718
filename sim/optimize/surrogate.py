"""Several continuous levers: a surrogate search on the replications' means and their
variances (stochastic kriging in the simple form of Ankenman, Nelson & Staum 2010: a
Gaussian process whose noise at each point is that point's variance of the mean, here
scikit-learn's GaussianProcessRegressor with a per-point `alpha`), choosing each next
point by expected improvement, within a stated number of points.

A Latin hypercube of `initial` points starts it; each later point maximises expected
improvement over 2,048 random points of the box. The incumbent is the evaluated point
with the least posterior mean, and it is run again on fresh replications (ones no point
of the search used) so that its reported mean is not the minimum of noisy estimates
(the winner's curse). There is no guarantee of a global optimum: the answer says so.

`evaluate(x, start, stop)` returns the objective's values on replications [start, stop)
at x (common random numbers across points)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Evaluate = Callable[[np.ndarray, int, int], np.ndarray]
CANDIDATES = 2048


@dataclass
class Surrogate:
    """The search: every point (`x`, in lever units), its mean and variance of the mean,
    the posterior mean there at the end, which are design points, the incumbent, and its
    mean on fresh replications with a 95% t interval."""

    x: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    posterior: np.ndarray
    design: np.ndarray
    incumbent: int
    fresh_mean: float
    fresh_low: float
    fresh_high: float
    fresh_n: int


def _gp(xs: np.ndarray, y: np.ndarray, var: np.ndarray, seed: int):  # noqa: ANN202
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern

    scale = float(np.std(y)) or 1.0
    centre = float(np.mean(y))
    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
        length_scale=[0.3] * xs.shape[1], length_scale_bounds=(1e-2, 1e1), nu=2.5)
    gp = GaussianProcessRegressor(kernel, alpha=np.maximum(var, 1e-12) / scale**2 + 1e-10,
                                  n_restarts_optimizer=1, random_state=seed)
    with warnings.catch_warnings():  # a length scale at its bound: a flat direction
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(xs, (y - centre) / scale)

    def predict(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m, s = gp.predict(z, return_std=True)
        return m * scale + centre, s * scale

    return predict


def _expected_improvement(m: np.ndarray, s: np.ndarray, best: float) -> np.ndarray:
    from scipy.stats import norm

    s = np.maximum(s, 1e-12)
    z = (best - m) / s
    return (best - m) * norm.cdf(z) + s * norm.pdf(z)


def surrogate_search(evaluate: Evaluate, low: Sequence[float], high: Sequence[float],
                     integer: Sequence[bool], points: int, n: int, seed: int,
                     initial: int | None = None) -> Surrogate:
    """Minimise the mean of `evaluate` over the box [low, high] (see the module)."""
    from scipy.stats import qmc

    from ..analysis.stats import t_quantile

    lo, hi = np.asarray(low, float), np.asarray(high, float)
    d = len(lo)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(25, 1)))
    k0 = initial or min(points, max(d + 1, 2 * d + 2))

    def to_units(u: np.ndarray) -> np.ndarray:
        x = lo + u * (hi - lo)
        return np.where(integer, np.round(x), x)

    def to_unit(x: np.ndarray) -> np.ndarray:
        return (x - lo) / (hi - lo)

    xs: list[np.ndarray] = []
    ys: list[float] = []
    vs: list[float] = []

    def run(x: np.ndarray) -> None:
        y = np.asarray(evaluate(x, 0, n), float)
        xs.append(x)
        ys.append(float(y.mean()))
        vs.append(float(y.var(ddof=1)) / n if n > 1 else 0.0)

    for u in qmc.LatinHypercube(d, seed=rng).random(k0):
        run(to_units(u))
    while len(xs) < points:
        predict = _gp(to_unit(np.array(xs)), np.array(ys), np.array(vs),
                      int(rng.integers(2**31)))
        cand = rng.uniform(size=(CANDIDATES, d))
        m, s = predict(cand)
        ei = _expected_improvement(m, s, float(np.min(predict(to_unit(np.array(xs)))[0])))
        seen = {tuple(x) for x in xs}
        for j in np.argsort(-ei):
            x = to_units(cand[j])
            if tuple(x) not in seen:
                break
        else:
            break  # every candidate is a point already run (a small integer box)
        run(x)
    X = np.array(xs)
    post, _ = _gp(to_unit(X), np.array(ys), np.array(vs), seed)(to_unit(X))
    best = int(np.argmin(post))
    fresh = np.asarray(evaluate(X[best], n, 2 * n), float)
    fm = float(fresh.mean())
    half = t_quantile(0.975, n - 1) * float(fresh.std(ddof=1)) / math.sqrt(n) if n > 1 \
        else math.inf
    design = np.zeros(len(X), bool)
    design[:k0] = True
    return Surrogate(X, np.array(ys), np.array(vs), post, design, best, fm, fm - half,
                     fm + half, n)
