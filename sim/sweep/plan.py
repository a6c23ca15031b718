"""A sweep ready to run: its design and every point's validated config (nothing runs)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..config.schema import Config
from ..config.workload import WorkEstimate, check_work
from ..errors import ConfigError
from .design import Design, build_design
from .levers import Lever, base_data, check_levers, fixed_uncertain, point_config

log = logging.getLogger(__name__)

__all__ = ["SweepPlan", "check_plan_work", "plan_sweep", "with_options"]


@dataclass(frozen=True)
class SweepPlan:
    """A sweep ready to run: the design and every point's validated config."""

    design: Design
    levers: list[Lever]
    configs: list[Config]

    @property
    def points(self) -> pd.DataFrame:
        return self.design.points


def plan_sweep(cfg: Config, source: str = "<config>") -> SweepPlan:
    """Check the sweep's parameters, build its design and validate every point's config
    (nothing runs). Raises ConfigError naming the parameter and the point."""
    if cfg.sweep is None:
        raise ConfigError(source, "sweep", "this config has no [sweep] table "
                          "(see the README, Sensitivity sweeps)")
    levers = check_levers(cfg, source)
    fixed = fixed_uncertain(cfg, levers)
    if fixed:
        log.warning("%s: the sweep's levers set the uncertain parameter%s %s: its points do "
                    "not draw %s (the other uncertain parameters are drawn as in the "
                    "scenario)", source, "s" if len(fixed) > 1 else "", ", ".join(fixed),
                    "them" if len(fixed) > 1 else "it")
    design = build_design(cfg.sweep, cfg.runs.seed)
    base = base_data(cfg)
    configs = []
    for p, row in enumerate(design.points.to_dict("records")):
        configs.append(point_config(cfg, levers, row, base, source, p))
    return SweepPlan(design, levers, configs)


def check_plan_work(plan: SweepPlan, source: str = "<config>") -> WorkEstimate:
    """`check_work` on every point's config (no warnings: those are the scenario's); a
    ConfigError names the point. Returns the estimate of the point with the most events."""
    worst: WorkEstimate | None = None
    for p, cfg in enumerate(plan.configs):
        try:
            est = check_work(cfg, source, warn=False)
        except ConfigError as exc:
            raise ConfigError(exc.source, exc.path, f"point {p}: {exc.message}",
                              exc.remedies) from None
        if worst is None or est.events > worst.events:
            worst = est
    assert worst is not None  # a design has at least one point
    return worst


def with_options(cfg: Config, replications: int | None = None,
                 crn: bool | None = None) -> Config:
    """`cfg` with `sweep.replications` and `sweep.crn` replaced (when given)."""
    if cfg.sweep is None:
        return cfg
    upd: dict[str, Any] = {}
    if replications is not None:
        upd["replications"] = replications
    if crn is not None:
        upd["crn"] = crn
    if not upd:
        return cfg
    return cfg.model_copy(update={"sweep": cfg.sweep.model_copy(update=upd)})
