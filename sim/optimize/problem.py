"""An optimisation problem ready to run: the `[optimize]` table's levers checked against
the config, each candidate's config (the scenario with the levers' values applied), the
positions a bisection searches, and the objective's known part (the levers' cost).

Every bound of a range and every listed value is built and validated before anything
runs, so a bound the path cannot take ("infeasible bounds") is one error naming the
lever, not a failure halfway through a search."""

from __future__ import annotations

import copy
import itertools
import logging
import math
from dataclasses import dataclass
from typing import Any

from ..config.levers import Lever, apply_levers, check_lever, plain
from ..config.loading import config_dict, config_from_dict
from ..config.schema import Config, OptimizeConfig, OptimizeLever
from ..config.workload import check_work
from ..errors import ArgumentError, ConfigError
from ..sweep.levers import fixed_uncertain

__all__ = ["Problem", "plan_problem"]

log = logging.getLogger(__name__)


@dataclass
class Problem:
    """The config, its `[optimize]` settings, the checked levers and the base data every
    candidate's config is built from."""

    cfg: Config
    settings: OptimizeConfig
    levers: list[Lever]
    base: dict[str, Any]
    source: str
    method: str

    @property
    def specs(self) -> list[OptimizeLever]:
        return self.settings.levers

    def cost(self, values: dict[str, Any]) -> float:
        """Σ cost x value over the levers (cost default 1 for a `levers` objective, 0 for
        `mean`); 0 for a lever whose values are not numbers."""
        default = 1.0 if self.settings.objective.kind == "levers" else 0.0
        total = 0.0
        for spec in self.specs:
            c = spec.cost if spec.cost is not None else default
            v = values[spec.label]
            if c and isinstance(v, int | float) and not isinstance(v, bool):
                total += c * float(v)
        return total

    def config(self, values: dict[str, Any]) -> Config:
        """The scenario with each lever at `values[label]`, validated; ConfigError naming
        the lever and the value."""
        data = copy.deepcopy(self.base)

        def error(lv: Lever, value: Any, message: str) -> ConfigError:
            shown = "true" if value is True else "false" if value is False else f"{value!r}"
            return ConfigError(self.source, f"{lv.where} ({lv.label})", f"value {shown}: "
                               f"{message}")

        try:
            return apply_levers(self.cfg, data, self.levers, values, self.source, error,
                                build=config_from_dict)
        except ConfigError as exc:
            if exc.path.startswith("optimize.levers."):
                raise
            at = ", ".join(f"{lv.label} = {plain(values[lv.label])!r}" for lv in self.levers)
            raise ConfigError(self.source, "optimize.levers", f"({at}): {exc.path}: "
                              f"{exc.message}") from None

    # ------------------------------------------------------------------ bisection

    @property
    def lever(self) -> OptimizeLever:
        return self.specs[0]

    @property
    def sign(self) -> float:
        """+1 when dearer means more of the lever, -1 when less."""
        c = self.lever.cost
        return -1.0 if c is not None and c < 0 else 1.0

    def search_range(self) -> tuple[float, float, bool]:
        """(low, high, integer) of the positions a bisection searches: the lever's own
        values (a range), or the indices of its values sorted from cheap to dear."""
        lv = self.lever
        if lv.values is not None:
            return 0.0, float(len(lv.values) - 1), True
        assert lv.low is not None and lv.high is not None
        if lv.integer:
            return float(math.ceil(lv.low)), float(math.floor(lv.high)), True
        return lv.low, lv.high, False

    def value_at(self, pos: float) -> Any:
        """The lever's value at a search position (cheap to dear)."""
        lv = self.lever
        if lv.values is not None:
            ordered = sorted(lv.values, key=lambda v: self.sign * float(v))
            return ordered[int(pos)]
        low, high, integer = self.search_range()
        v = pos if self.sign > 0 else low + high - pos
        return int(round(v)) if integer else float(v)

    def tolerance(self) -> float:
        """Bracket width at which bisection stops, in search positions (listed values:
        neighbours in the list)."""
        if self.lever.values is not None:
            return 1.0
        low, high, integer = self.search_range()
        if integer:
            return max(1.0, self.settings.tolerance or 1.0)
        return self.settings.tolerance or (high - low) / 100

    # ------------------------------------------------------------------ selection

    def candidates(self) -> list[dict[str, Any]]:
        """Every combination of the levers' values (ranking and selection)."""
        names = [s.label for s in self.specs]
        return [dict(zip(names, combo, strict=True)) for combo in
                itertools.product(*[s.values or [] for s in self.specs])]


def plan_problem(cfg: Config, source: str = "<config>", force: bool = False) -> Problem:
    """Check `cfg`'s `[optimize]` table against the config, and build the config of every
    bound and listed value (ConfigError naming the lever on the first that cannot be
    built, or that is beyond the work limits unless `force`)."""
    if cfg.optimize is None:
        raise ConfigError(source, "optimize", "this config has no [optimize] table (see the "
                          "README, Decisions)")
    opt = cfg.optimize
    levers = [check_lever(cfg, source, f"optimize.levers.{i}", lv.label, lv.paths, lv.scale,
                          lv.integer, lv.values is None, "a decision lever")
              for i, lv in enumerate(opt.levers)]
    for i, (lv, spec) in enumerate(zip(levers, opt.levers, strict=True)):
        if spec.values is not None and opt.resolved_method() == "bisection" and \
                lv.kind not in ("int", "float"):
            raise ConfigError(source, f"optimize.levers.{i}.path", f"holds a {lv.kind}; "
                              "bisection searches numbers")
    base = config_dict(cfg)
    for key in ("optimize", "sweep"):
        base.pop(key, None)
    fixed = set(fixed_uncertain(cfg, levers))
    if fixed:
        log.warning("%s: the levers set the uncertain parameter%s %s: candidates do not "
                    "draw %s (the other uncertain parameters are drawn as in the scenario)",
                    source, "s" if len(fixed) > 1 else "", ", ".join(sorted(fixed)),
                    "them" if len(fixed) > 1 else "it")
        base["uncertain"] = [u for u in base.get("uncertain", []) if u["name"] not in fixed]
    prob = Problem(cfg, opt, levers, base, source, opt.resolved_method())
    if prob.method == "surrogate":
        try:
            import sklearn  # noqa: F401
        except ImportError:
            raise ArgumentError("method", "surrogate", "needs scikit-learn; install the "
                                "'optimize' extra: pip install 'rareshock[optimize]'") \
                from None
    for values in _corners(prob):
        built = prob.config(values)
        if not force:
            try:
                check_work(built, source, warn=False)
            except ConfigError as exc:
                at = ", ".join(f"{k} = {v!r}" for k, v in values.items())
                raise ConfigError(exc.source, exc.path, f"({at}): {exc.message}",
                                  exc.remedies) from None
    return prob


def _corners(prob: Problem) -> list[dict[str, Any]]:
    """The candidates to check before running: each bound of a range, or every value."""
    if prob.method == "bisection" and prob.lever.values is None:
        low, high, _ = prob.search_range()
        return [{prob.lever.label: prob.value_at(p)} for p in (low, high)]
    if prob.method == "surrogate":  # the box's lowest and highest corners
        return [{s.label: (math.ceil(b) if s.integer else b) if end == "low" else
                 (math.floor(b) if s.integer else b)
                 for s in prob.specs for b in [getattr(s, end)]} for end in ("low", "high")]
    return prob.candidates()
