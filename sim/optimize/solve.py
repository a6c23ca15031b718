"""Solving a planned problem with its method, on an Evaluator: the search's outcome as
tables (every candidate, its replications and estimates) and the answer (a dict, as
answer.json holds it)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config.schema import Constraint
from ..run.phases import phase
from .bisection import Bisection, bisect, stages_of
from .bounds import (
    ACCEPTED,
    METHODS,
    REJECTED,
    UNDECIDED,
    Estimate,
    cvar_estimate,
    mean_estimate,
    probability_estimate,
)
from .evaluate import Evaluator
from .problem import Problem
from .selection import Selection, equal_allocation, kn_select
from .surrogate import surrogate_search

__all__ = ["Solution", "estimate", "solve"]


@dataclass
class Solution:
    """The method's outcome: `rows` (one per candidate, or per candidate and constraint),
    `answer` (answer.json), `trace` (the search's steps, for the convergence plot)."""

    method: str
    rows: list[dict[str, Any]]
    answer: dict[str, Any]
    trace: list[dict[str, Any]] = field(default_factory=list)
    raw: Bisection | Selection | None = None


def estimate(c: Constraint, y: np.ndarray, a: float) -> Estimate:
    """A constraint's estimate with bounds at level 1 - a."""
    if c.kind == "probability":
        assert c.above is not None
        return probability_estimate(y, c.above, c.at_most, a)
    if c.kind == "mean":
        return mean_estimate(y, c.at_most, a)
    return cvar_estimate(y, c.level, c.at_most, a)


def solve(prob: Problem, ev: Evaluator) -> Solution:
    """Run the problem's method."""
    if prob.method == "bisection":
        return _bisection(prob, ev)
    if prob.method == "surrogate":
        return _surrogate(prob, ev)
    return _selection(prob, ev)


def _surrogate(prob: Problem, ev: Evaluator) -> Solution:
    opt = prob.settings
    out_ = opt.objective.output
    assert out_ is not None
    specs = prob.specs
    names = [s.label for s in specs]

    def values_of(x: np.ndarray) -> dict[str, Any]:
        return {s.label: (int(v) if s.integer else float(v)) for s, v in zip(specs, x,
                                                                             strict=True)}

    def evaluate(x: np.ndarray, start: int, stop: int) -> np.ndarray:
        vals = values_of(x)
        key = tuple(vals.values())
        ev.add(key, prob.config(vals))
        ev.run([key], stop)
        y = ev.done[key][out_.label][start:stop] + prob.cost(vals)
        phase(f"optimize: surrogate, {', '.join(f'{k} = {v:.4g}' for k, v in vals.items())}"
              f", replications {start} to {stop - 1}: mean {y.mean():.4g}")
        return y

    res = surrogate_search(evaluate, [float(s.low or 0) for s in specs],
                           [float(s.high or 0) for s in specs], [s.integer for s in specs],
                           opt.points, opt.replications, prob.cfg.runs.seed)
    rows = []
    for i, x in enumerate(res.x):
        rows.append({"order": i, **values_of(x), "cost": prob.cost(values_of(x)),
                     "replications": opt.replications, "mean": res.mean[i],
                     "sd_of_mean": math.sqrt(res.var[i]), "posterior_mean": res.posterior[i],
                     "phase": "design" if res.design[i] else "search",
                     "incumbent": i == res.incumbent})
    best = values_of(res.x[res.incumbent])
    objective = f"E[{out_.label}]" + (" + lever cost" if any(r["cost"] for r in rows) else "")
    answer = {
        "method": "surrogate", "objective": objective, "levers": names,
        "answer": best, "confidence": opt.confidence,
        "mean_fresh": res.fresh_mean, "ci_fresh": [res.fresh_low, res.fresh_high],
        "fresh_replications": [opt.replications, 2 * opt.replications - 1],
        "mean_search": float(res.mean[res.incumbent]), "points": len(res.x),
        "simulations": ev.simulations,
        "guarantee": "none: the best of the points a Gaussian-process search chose; its "
                     "mean is re-estimated on replications the search did not use",
    }
    trace = [{"order": i, "simulations": (i + 1) * opt.replications,
              "best_mean": float(np.min(res.mean[:i + 1]))} for i in range(len(res.x))]
    return Solution("surrogate", rows, answer, trace, None)


def _bisection(prob: Problem, ev: Evaluator) -> Solution:
    opt = prob.settings
    label = prob.lever.label
    cons = opt.constraints

    def judge(pos: float, n: int, a: float) -> Sequence[Estimate]:
        value = prob.value_at(pos)
        key = (value,)
        ev.add(key, prob.config({label: value}))
        ev.run([key], n)
        est = [estimate(c, ev.values(key, c.label, n), a) for c in cons]
        phase(f"optimize: {label} = {value:.4g}, {n} replications: " + "; ".join(
            f"{c.text.split(' <=')[0]} = {e.estimate:.3g} [{e.low:.3g}, {e.high:.3g}] "
            f"{e.decision}" for c, e in zip(cons, est, strict=True)))
        return est

    low, high, integer = prob.search_range()
    stages = stages_of(opt.replications, opt.max_replications)
    res = bisect(judge, low, high, integer=integer, tolerance=prob.tolerance(),
                 stages=stages, confidence=opt.confidence, constraints=len(cons))
    rows, trace = [], []
    for j, p in enumerate(res.points):
        value = prob.value_at(p.position)
        for c, e in zip(cons, p.estimates, strict=True):
            rows.append({"order": p.order, label: value, "cost": prob.cost({label: value}),
                         "replications": p.replications, "status": p.status,
                         "constraint": c.text, "estimate": e.estimate, "low": e.low,
                         "high": e.high, "limit": e.limit, "bound": METHODS[c.kind],
                         "level_each": 1 - e.a})
        seen = res.points[:j + 1]
        passed = [q.position for q in seen if q.status == "accepted"]
        failed = [q.position for q in seen if q.status == "rejected" and
                  (not passed or q.position < min(passed))]
        trace.append({"order": p.order, "simulations": _sims_up_to(res, p.order),
                      "value": value, "status": p.status,
                      "bracket_low": prob.value_at(max(failed, default=low)),
                      "bracket_high": prob.value_at(min(passed)) if passed else None})
    answer = _bisection_answer(prob, res, ev)
    return Solution("bisection", rows, answer, trace, res)


def _sims_up_to(res: Bisection, order: int) -> int:
    """Replications run by the time point `order` was judged: each new point's last
    stage (CRN: the points' replications are not shared, each point runs its own)."""
    return sum(p.replications for p in res.points if p.order <= order)


def _bisection_answer(prob: Problem, res: Bisection, ev: Evaluator) -> dict[str, Any]:
    opt = prob.settings
    label = prob.lever.label
    last = {p.position: p for p in res.points}
    out: dict[str, Any] = {
        "method": "bisection", "lever": label, "confidence": opt.confidence,
        "seeks": "largest" if prob.sign < 0 else "least",
        "level_each_look": 1 - res.a, "constraints": [c.text for c in opt.constraints],
        "simulations": ev.simulations, "points_judged": len(res.points),
        "stages": stages_of(opt.replications, opt.max_replications),
        "stopped_on": "max_points" if res.exhausted else "tolerance",
        "tolerance": prob.tolerance(),
    }
    if not res.feasible:
        p = res.points[0]
        out.update(feasible=False, answer="infeasible", best_point={
            label: prob.value_at(p.position), "replications": p.replications,
            "status": p.status, "estimates": [_est(c, e) for c, e in
                                              zip(opt.constraints, p.estimates, strict=True)]},
            note=("even the dearest value in the range was not shown to meet the "
                  "constraints" + (" (it was shown to fail one)" if p.status == "rejected"
                                   else f" at {p.replications} replications")))
        return out
    assert res.answer is not None
    p = last[res.answer]
    ends = sorted([prob.value_at(res.lo), prob.value_at(res.hi)],
                  key=lambda v: float(v))
    out.update(feasible=True, answer={label: prob.value_at(res.answer)},
               bracket=ends, replications=p.replications,
               estimates=[_est(c, e) for c, e in zip(opt.constraints, p.estimates,
                                                     strict=True)],
               undecided=[prob.value_at(q.position) for q in res.points
                          if q.status == "undecided"])
    return out


def _est(c: Constraint, e: Estimate) -> dict[str, Any]:
    return {"constraint": c.text, "estimate": e.estimate, "low": e.low, "high": e.high,
            "n": e.n, "decision": e.decision}


def _screen(prob: Problem, ev: Evaluator, keys: list[tuple], alpha: float
            ) -> tuple[dict[int, str], dict[int, list[Estimate]], int]:
    """Each candidate's constraints judged as bisection judges a point, the candidates
    side by side stage by stage (at level alpha split over candidates, stages and
    constraints): the verdicts, the estimates, and the replications the screening used
    (KN then starts after them, on fresh ones)."""
    cons = prob.settings.constraints
    stages = stages_of(prob.settings.replications, prob.settings.max_replications)
    a = alpha / (len(keys) * len(stages) * len(cons))
    status = {i: UNDECIDED for i in range(len(keys))}
    est: dict[int, list[Estimate]] = {}
    used = 0
    for n in stages:
        open_ = [i for i, st in status.items() if st == UNDECIDED]
        if not open_:
            break
        phase(f"optimize: screening {len(open_)} candidate{'s' if len(open_) > 1 else ''} "
              f"on the constraints, {n} replications")
        ev.run([keys[i] for i in open_], n)
        used = n
        for i in open_:
            est[i] = [estimate(c, ev.values(keys[i], c.label, n), a) for c in cons]
            ds = {e.decision for e in est[i]}
            status[i] = REJECTED if REJECTED in ds else ACCEPTED if ds == {ACCEPTED} \
                else UNDECIDED
    return status, est, used


def _selection(prob: Problem, ev: Evaluator) -> Solution:
    opt = prob.settings
    out_ = opt.objective.output
    assert out_ is not None and opt.indifference is not None
    cands = prob.candidates()
    keys = [tuple(c.values()) for c in cands]
    for key, values in zip(keys, cands, strict=True):
        ev.add(key, prob.config(values))
    costs = np.array([prob.cost(c) for c in cands])
    alpha = 1 - opt.confidence
    cons = opt.constraints
    status: dict[int, str] = {}
    est: dict[int, list[Estimate]] = {}
    offset = 0
    if cons:  # half the error to the screening, half to the selection
        status, est, offset = _screen(prob, ev, keys, alpha / 2)
        alpha /= 2
    pool = [i for i in range(len(cands)) if not cons or status[i] == ACCEPTED]

    def sample(systems: Sequence[int], start: int, stop: int) -> np.ndarray:
        ks = [keys[pool[i]] for i in systems]
        phase(f"optimize: KN, {len(systems)} candidate{'s' if len(systems) > 1 else ''} "
              f"in contention, replications {offset + start} to {offset + stop - 1}")
        ev.run(ks, offset + stop)
        return np.array([ev.done[keys[pool[i]]][out_.label][offset + start:offset + stop]
                         + costs[pool[i]] for i in systems])

    sel = None
    if len(pool) >= 2:
        sel = kn_select(sample, len(pool), opt.indifference, alpha, opt.replications,
                        max_n=opt.max_replications, batch=max(1, min(10, opt.replications)))
    rows = []
    for i, values in enumerate(cands):
        row: dict[str, Any] = {**values, "cost": costs[i]}
        if cons:
            row["feasibility"] = status[i]
            row["constraints"] = "; ".join(
                f"{c.text}: {e.estimate:.4g} [{e.low:.4g}, {e.high:.4g}]"
                for c, e in zip(cons, est[i], strict=True))
        j = pool.index(i) if i in pool else None
        if sel is not None and j is not None:
            y = ev.done[keys[i]][out_.label][offset:offset + int(sel.used[j])] + costs[i]
            e = mean_estimate(y, math.inf, alpha / 2)
            row.update({"replications": int(sel.used[j]), "simulated": int(sel.simulated[j]),
                        "mean": e.estimate, "ci_low": e.low, "ci_high": e.high,
                        "eliminated_at": sel.eliminated_at[j], "selected": j == sel.selected,
                        "in_subset": j in sel.subset, "diff_vs_selected": sel.diff[j],
                        "diff_low": sel.diff_low[j]})
        else:
            row.update({"selected": j is not None and sel is None, "in_subset": False})
        rows.append(row)
    objective = (f"E[{out_.label}]" + (" + lever cost" if costs.any() else ""))
    answer: dict[str, Any] = {
        "method": "kn", "objective": objective, "confidence": opt.confidence,
        "indifference": opt.indifference, "simulations": ev.simulations,
        "candidates": len(cands), "n0": opt.replications,
        "constraints": [c.text for c in cons], "screened_with": offset,
        "shown_feasible": len(pool)}
    if not pool:
        worst = {i: max((e.low - e.limit) / max(abs(e.limit), 1e-12) for e in est[i])
                 for i in est}
        b = min(worst, key=lambda i: worst[i])
        answer.update(feasible=False, answer="infeasible", best_point={
            **cands[b], "estimates": [_est(c, e) for c, e in zip(cons, est[b], strict=True)]},
            note="no candidate was shown to meet the constraints", finished=True, subset=[],
            guarantee="none", mean=None, replications_used=0, equal_allocation=0, h2=None)
        return Solution("kn", rows, answer, [], None)
    if sel is None:  # one candidate shown feasible: nothing to rank
        i = pool[0]
        y = ev.done[keys[i]][out_.label][:offset] + costs[i]
        answer.update(feasible=True, answer=cands[i], mean=float(y.mean()), finished=True,
                      subset=[cands[i]], replications_used=0, equal_allocation=0, h2=None,
                      guarantee=f"the only candidate shown to meet the constraints (the "
                      f"screening's verdicts hold together with probability at least "
                      f"{1 - alpha:g})")
        return Solution("kn", rows, answer, [], None)
    first = np.array([ev.done[keys[i]][out_.label][offset:offset + opt.replications]
                      + costs[i] for i in pool])
    best = pool[sel.selected]
    among = " among the candidates shown to meet the constraints" if cons else ""
    answer.update(
        feasible=True, answer=cands[best], mean=float(sel.means[sel.selected]),
        guarantee=(f"P(correct selection{among}) >= {opt.confidence:g} when the best mean "
                   f"is at least {opt.indifference:g} below every other (normal outputs)")
        if sel.finished else (f"none: stopped at max_replications = "
                              f"{opt.max_replications} before KN finished; the selection "
                              "is the least mean of the systems left"),
        finished=sel.finished, subset=[cands[pool[j]] for j in sel.subset],
        replications_used=sel.total_used,
        equal_allocation=equal_allocation(first, opt.indifference, alpha), h2=sel.h2)
    trace = [{"candidate": pool[j], "eliminated_at": sel.eliminated_at[j]}
             for j in range(len(pool))]
    return Solution("kn", rows, answer, trace, sel)
