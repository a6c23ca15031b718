"""Ranking and selection: the system with the least mean, by Kim and Nelson's fully
sequential procedure KN (Kim & Nelson 2001, "A fully sequential procedure for
indifference-zone selection in simulation", ACM TOMACS 11(3)), which allows common random
numbers: it screens on the variances of the pairwise differences.

With normal observations and the best mean at least `delta` below every other, KN selects
the best with probability at least 1 - alpha. First n0 observations of every system give
S2_il, the variance of X_i - X_l; eta = ((2 alpha / (k - 1))^(-2 / (n0 - 1)) - 1) / 2,
h2 = 2 eta (n0 - 1). At each r >= n0, system i leaves when its mean exceeds another's
by more than W_il(r) = max(0, delta / (2r) (h2 S2_il / delta^2 - r)); the procedure stops
with one system left, or at r = max N_il + 1 (N_il = floor(h2 S2_il / delta^2)) with the
least mean of the survivors.

`sim-tools`' `ovs.indifference_zone.KN` (1.3.0) was read and not used: it looks up
S2_il by `i * (k - 1) + (l - 1)`, the wrong pair whenever l < i (its own comment doubts
it), and drives the model through an observer object one replication at a time, where
the batch executors want many at once.

`sample(systems, start, stop)` returns the observations of replications [start, stop)
of each listed system (rows): replication j of every system may share random numbers.
Observations are asked for in batches of `batch` per survivor; the screening still looks
at them one replication at a time, so the procedure is KN's exactly, and `used` counts
what KN needed (a batch's unneeded tail is `simulated` but not `used`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Sampler = Callable[[Sequence[int], int, int], np.ndarray]


@dataclass
class Selection:
    """What KN found: the selected system, each system's observations used, its mean on
    them, the r at which it left (None for the selected), the subset that cannot be told
    apart from the selected, each one's paired difference from it and the lower bound of
    that difference; whether KN finished within `max_n` (else its guarantee does not
    hold), and its constants."""

    selected: int
    used: np.ndarray
    simulated: np.ndarray
    means: np.ndarray
    eliminated_at: list[int | None]
    subset: list[int]
    diff: np.ndarray
    diff_low: np.ndarray
    finished: bool
    h2: float
    eta: float
    delta: float
    alpha: float
    n0: int

    @property
    def total_used(self) -> int:
        return int(self.used.sum())


def kn_constants(k: int, alpha: float, n0: int) -> tuple[float, float]:
    """(eta, h2) of KN with c = 1."""
    eta = 0.5 * ((2 * alpha / (k - 1)) ** (-2 / (n0 - 1)) - 1)
    return eta, 2 * eta * (n0 - 1)


def equal_allocation(first: np.ndarray, delta: float, alpha: float) -> int:
    """The replications of a non-sequential procedure with KN's guarantee and constants:
    every system run to KN's last stage, max N_il + 1 (at least n0); `first` holds the
    n0 first-stage observations (k rows)."""
    k, n0 = first.shape
    _, h2 = kn_constants(k, alpha, n0)
    s2 = _pair_variances(first)
    return k * max(n0, int(math.floor(h2 * s2.max() / delta**2)) + 1)


def _pair_variances(x: np.ndarray) -> np.ndarray:
    d = x[:, None, :] - x[None, :, :]
    s2 = d.var(axis=2, ddof=1)
    np.fill_diagonal(s2, 0.0)
    return s2


def kn_select(sample: Sampler, k: int, delta: float, alpha: float, n0: int,
              max_n: int | None = None, batch: int = 10) -> Selection:
    """KN for the least mean of `k` systems (see the module)."""
    if k < 2:
        raise ValueError("ranking and selection needs at least two systems")
    eta, h2 = kn_constants(k, alpha, n0)
    obs = np.asarray(sample(list(range(k)), 0, n0), dtype=float)
    simulated = np.full(k, n0)
    s2 = _pair_variances(obs)
    last = int(math.floor(h2 * s2.max() / delta**2)) + 1  # r at which KN stops anyway
    cap = max_n if max_n is not None else max(last, n0)
    data = [list(obs[i]) for i in range(k)]
    sums = obs.sum(axis=1)
    alive = list(range(k))
    out: list[int | None] = [None] * k
    used = np.full(k, n0)
    r = n0
    finished = True
    while True:
        means = sums / r
        keep = []
        for i in alive:
            w = np.maximum(0.0, delta / (2 * r) * (h2 * s2[i] / delta**2 - r))
            if all(means[i] <= means[j] + w[j] for j in alive if j != i):
                keep.append(i)
        for i in alive:
            if i not in keep:
                out[i] = r
        alive = keep
        if len(alive) == 1 or r >= last:
            break
        if r >= cap:
            finished = False
            break
        if len(data[alive[0]]) <= r:  # the next batch for the survivors
            stop = min(r + batch, cap)
            new = np.asarray(sample(alive, r, stop), dtype=float)
            for row, i in zip(new, alive, strict=True):
                data[i].extend(row.tolist())
                simulated[i] = stop
        for i in alive:
            sums[i] += data[i][r]
        r += 1
        for i in alive:
            used[i] = r
    ns = [min(len(data[i]), used[i]) for i in range(k)]
    means = np.array([np.mean(data[i][:ns[i]]) for i in range(k)])
    best = min(alive, key=lambda i: (means[i], i))
    subset, diff, low = _subset(data, ns, best, alpha, k)
    return Selection(best, used, simulated, means, out, subset, diff, low, finished, h2, eta,
                     delta, alpha, n0)


def _subset(data: list[list[float]], ns: Sequence[int], best: int, alpha: float, k: int
            ) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The systems whose mean cannot be shown above the selected one's: the one-sided
    lower bound (level 1 - alpha / (k - 1), Bonferroni) of the paired difference on the
    replications both have is at most 0."""
    from ..analysis.stats import t_quantile

    diff = np.zeros(k)
    low = np.zeros(k)
    subset = [best]
    for i in range(k):
        if i == best:
            continue
        n = min(ns[i], ns[best])
        d = np.asarray(data[i][:n]) - np.asarray(data[best][:n])
        diff[i] = float(d.mean())
        sd = float(d.std(ddof=1)) if n > 1 else math.inf
        low[i] = diff[i] - t_quantile(1 - alpha / (k - 1), n - 1) * sd / math.sqrt(n) \
            if sd > 0 else diff[i]
        if low[i] <= 0:
            subset.append(i)
    return sorted(subset), diff, low
