"""Checking a config without running it: the work it asks for, every sweep point, and
the [optimize] problem's levers and bounds."""

from __future__ import annotations

from ..config import Config
from ..config.workload import check_warnings, check_work, estimate_work
from ..optimize.problem import plan_problem
from ..sweep.plan import check_plan_work, plan_sweep


def validate(cfg: Config, source: str, force: bool = False) -> list[str]:
    """What `cfg` holds and the work it asks for, as lines; ConfigError if it is beyond
    the work limits (unless `force`) or a sweep point is."""
    est = estimate_work(cfg) if force else check_work(cfg, source, warn=False)
    plan = largest = None
    if cfg.sweep is not None:  # every point checked before anything is printed
        plan = plan_sweep(cfg, source)
        largest = None if force else check_plan_work(plan, source)
    problem = plan_problem(cfg, source, force) if cfg.optimize is not None else None
    check_warnings(cfg, source)
    controls = sum(1 for e in cfg.policy if e.type == "controls_start")
    lines = [f"{source}: ok — {cfg.horizon_days:g} days from {cfg.calendar.start}, "
             f"{len(cfg.materials)} materials, {len(cfg.firms)} firms, {len(cfg.suppliers)} "
             f"suppliers, {len(cfg.policy)} policy events ({controls} controls_start), "
             f"{cfg.authority.reviewers} reviewers, {cfg.runs.replications} replications",
             f"work: {est}"]
    if plan is not None and cfg.sweep is not None:
        sw = cfg.sweep
        names = ", ".join(lv.label for lv in plan.levers)
        k = len(plan.levers)
        streams = "common random numbers" if sw.crn else "independent streams"
        lines.append(f"sweep: {sw.method} over {k} parameter{'s' if k > 1 else ''} "
                     f"({names}), {plan.design.size} points x {sw.replications} "
                     f"replications, {streams}; every point's config is valid"
                     + (f" (the largest: {largest})" if largest else ""))
    if problem is not None:
        opt = problem.settings
        what = (f"{len(problem.candidates())} candidates" if problem.method == "kn" else
                "the box's corners" if problem.method == "surrogate" else
                "the range's ends" if problem.lever.values is None else "every value")
        lines.append(f"optimize: {problem.method} on "
                     f"{', '.join(s.label for s in opt.levers)}, {len(opt.constraints)} "
                     f"constraint{'s' if len(opt.constraints) != 1 else ''}, confidence "
                     f"{opt.confidence:g}, {opt.replications} to {opt.max_replications} "
                     f"replications per candidate; {what} valid")
    return lines
