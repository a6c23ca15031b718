"""The cheapest value of one lever that meets chance constraints: a bisection that accepts
a point only when every constraint's upper bound meets its limit.

Positions run from cheap to dear (`low` to `high`); meeting the constraints is assumed
monotone (a dearer point is at least as safe). Each point is judged on a growing number
of replications (`stages`, e.g. 30, 60, 120, 240): `accepted` when every bound holds,
`rejected` when one constraint's lower bound is beyond its limit, else more replications,
and `undecided` at the last stage. The search narrows [lo, hi] -- lo the dearest point
known to fail (or the cheap end of the range), hi the cheapest known to pass -- testing
the middle of the widest gap left between the points judged, until every gap is at most
`tolerance` or `max_points` points have been judged.

Every look (a point at a stage) tests at level a = (1 - confidence) / (max_points x
stages x constraints): by the union bound, with probability at least `confidence` no
point is wrongly accepted or wrongly rejected, so the cheapest feasible value lies in
[lo, hi] and hi is feasible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .bounds import ACCEPTED, REJECTED, UNDECIDED, Estimate

Judge = Callable[[float, int, float], Sequence[Estimate]]
"""judge(position, n, a): each constraint's estimate on replications [0, n) at the point,
at level 1 - a."""


@dataclass
class Point:
    """A point judged: its position, replications, the estimates at its last stage, and
    the verdict."""

    position: float
    replications: int
    estimates: list[Estimate]
    status: str
    order: int


@dataclass
class Bisection:
    """The search's outcome: `answer` (the cheapest accepted position, or None when even
    `high` was not accepted), the bracket [lo, hi], every point judged, the level of each
    look, and whether it stopped on `max_points` rather than on `tolerance`."""

    answer: float | None
    lo: float
    hi: float
    points: list[Point] = field(default_factory=list)
    a: float = 0.0
    exhausted: bool = False

    @property
    def feasible(self) -> bool:
        return self.answer is not None


def stages_of(first: int, most: int) -> list[int]:
    """first, 2 first, 4 first, ... up to most (included)."""
    out = [first]
    while out[-1] < most:
        out.append(min(most, out[-1] * 2))
    return out


def max_points_of(low: float, high: float, tolerance: float) -> int:
    """Points a bisection of [low, high] to `tolerance` judges, with a few to spare for
    points left undecided: the dear end, log2 of the range over the tolerance, the cheap
    end, and three more."""
    return 2 + max(1, math.ceil(math.log2(max((high - low) / tolerance, 1.0)))) + 3


def judge_point(judge: Judge, pos: float, stages: Sequence[int], a: float,
                order: int) -> Point:
    """Judge one point stage by stage until it is accepted or rejected."""
    est: list[Estimate] = []
    for n in stages:
        est = list(judge(pos, n, a))
        decisions = {e.decision for e in est}
        if REJECTED in decisions:
            return Point(pos, n, est, REJECTED, order)
        if decisions == {ACCEPTED}:
            return Point(pos, n, est, ACCEPTED, order)
    return Point(pos, stages[-1], est, UNDECIDED, order)


def _snap(x: float, integer: bool) -> float:
    return float(math.floor(x)) if integer else x


def bisect(judge: Judge, low: float, high: float, *, integer: bool, tolerance: float,
           stages: Sequence[int], confidence: float, constraints: int,
           max_points: int | None = None) -> Bisection:
    """The cheapest position in [low, high] whose constraints all hold (see the module)."""
    limit = max_points or max_points_of(low, high, tolerance)
    a = (1 - confidence) / (limit * len(stages) * max(1, constraints))
    points: list[Point] = []

    def run(pos: float) -> Point:
        p = judge_point(judge, pos, stages, a, len(points))
        points.append(p)
        return p

    top = run(high)
    if top.status != ACCEPTED:
        return Bisection(None, high, high, points, a)
    lo, hi = low, high
    while len(points) < limit:
        inner = sorted(p.position for p in points if lo < p.position < hi)
        cuts = [lo, *inner, hi]
        gaps = [(cuts[i + 1] - cuts[i], i) for i in range(len(cuts) - 1)]
        gaps = [(w, i) for w, i in gaps if w > tolerance and
                _snap((cuts[i] + cuts[i + 1]) / 2, integer) not in (cuts[i], cuts[i + 1])]
        if not gaps:
            break
        _, i = max(gaps)
        p = run(_snap((cuts[i] + cuts[i + 1]) / 2, integer))
        if p.status == ACCEPTED:
            hi = p.position
        elif p.status == REJECTED:
            lo = p.position
    else:
        exhausted = True
        return _finish(judge, points, lo, hi, low, stages, a, limit, exhausted)
    return _finish(judge, points, lo, hi, low, stages, a, limit, False)


def _finish(judge: Judge, points: list[Point], lo: float, hi: float, low: float,
            stages: Sequence[int], a: float, limit: int, exhausted: bool) -> Bisection:
    """The cheap end itself, when the bracket has come down to it and it is untested."""
    tested = {p.position for p in points}
    if lo == low and low not in tested and len(points) < limit and \
            not any(p.status == UNDECIDED for p in points if p.position < hi):
        p = judge_point(judge, low, stages, a, len(points))
        points.append(p)
        if p.status == ACCEPTED:
            hi = low
    return Bisection(hi, lo, hi, points, a, exhausted)
