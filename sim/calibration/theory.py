"""Closed-form queueing results the simulation is checked against (tests and the
validation report share them)."""

from __future__ import annotations

import math


def erlang_c(c: int, a: float) -> float:
    """Erlang C: probability that an arrival to an M/M/c queue has to wait.

    ``c`` servers, offered load ``a = lambda / mu`` (Erlangs), requires ``a < c``:

        C(c, a) = [a^c / c! * c / (c - a)] / [sum_{k=0}^{c-1} a^k / k! + a^c / c! * c / (c - a)]

    Standard formula, e.g. Gross, Shortle, Thompson & Harris, *Fundamentals of Queueing
    Theory* (4th ed., 2008), sec. 2.3 (M/M/c), or Kleinrock, *Queueing Systems* vol. 1
    (1975), eq. (3.40).
    """
    if not 0 <= a < c:
        raise ValueError(f"need 0 <= a < c for a stable queue, got a={a}, c={c}")
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def mmc_wq(c: int, lam: float, mu: float) -> float:
    """Mean wait in queue of M/M/c (FIFO): Wq = C(c, lambda/mu) / (c mu - lambda).

    Same references as :func:`erlang_c` (Gross et al. 2008, eq. 2.36 ff.).
    """
    return erlang_c(c, lam / mu) / (c * mu - lam)


def cobham_waits(c: int, mu: float, lams: list[float]) -> list[float]:
    """Mean queue wait of each class in an M/M/c queue with non-preemptive priority and the
    same service rate ``mu`` for every class (class 0 served first), Cobham (1954):

        W_k = [C(c, a) / (c mu)] / ((1 - sigma_{k-1}) (1 - sigma_k)),
        sigma_k = sum_{i <= k} lambda_i / (c mu),  sigma_{-1} = 0,  a = sum(lambda) / mu.

    A. Cobham, "Priority assignment in waiting line problems", J. Oper. Res. Soc. Am. 2
    (1954) 70-76; also Gross et al. (2008), sec. 3.4.1 (eq. 3.39 for c servers).
    """
    lam = sum(lams)
    w0 = erlang_c(c, lam / mu) / (c * mu)
    out, prev = [], 0.0
    for lk in lams:
        sig = prev + lk / (c * mu)
        out.append(w0 / ((1.0 - prev) * (1.0 - sig)))
        prev = sig
    return out
