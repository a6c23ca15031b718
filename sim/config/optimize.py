"""The `[optimize]` table: decision levers, an objective and constraints on the outputs,
for `rareshock optimize` (issue #25).

A lever is a dotted config path (as a sweep parameter) with `low`/`high` (a range) or
`values` (a finite set). The objective is the levers' cost (`kind = "levers"`: the
smallest buffer, stockpile...) or an expected output plus the levers' cost
(`kind = "mean"`: the policy with the least expected value lost). Constraints bound an
output per replication -- a sector's or a firm's `metric` -- in probability
(`P(metric > above) <= at_most`), in mean, or in CVaR, each judged at `confidence`.

The method follows the problem's shape: one lever, a `levers` objective and constraints
-> bisection; levers with `values` and a `mean` objective -> ranking and selection (KN).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from .base import Name, PathError, Sector, Strict
from .checks import Misses, Names
from .costs import COST_METRICS, PRICE_METRICS
from .study import PathLever

FIRM_OUTPUTS = ("shortfall_frac", "shortfall_units", "value_lost", "downtime_days",
                *COST_METRICS)
"""Per-replication metrics of one firm an objective or constraint may name (the costs
need a `[costs]` table)."""
SECTOR_OUTPUTS = ("shortfall_frac", "value_lost", *COST_METRICS)
"""Per-replication metrics of a sector (value-weighted over its firms; costs summed)."""
BOUNDED = frozenset({"shortfall_frac"})
"""Metrics known to lie in [0, 1]: the only ones a CVaR bound can be exact for."""
MAX_CANDIDATES = 200
"""Most candidates a finite set (the product of the levers' values) may hold."""

Metric = Literal["shortfall_frac", "shortfall_units", "value_lost", "downtime_days",
                 "holding_cost", "premium_cost", "shortfall_cost", "stockpile_cost",
                 "cost_premium", "total_cost"]


class Output(Strict):
    """A per-replication output: `metric` of a `sector` (value-weighted over its firms)
    or of one `firm`."""

    metric: Metric = Field(description="`shortfall_frac`, `value_lost` (sector or firm); "
                           "`shortfall_units`, `downtime_days` (firm only); with a `[costs]` "
                           "table, `total_cost` and its parts `holding_cost`, "
                           "`premium_cost`, `shortfall_cost`, `stockpile_cost`; with a "
                           "`[prices]` table `cost_premium` and `total_cost` (USD, summed "
                           "over a sector).")
    sector: Sector | None = Field(default=None, description="The sector measured.")
    firm: Name | None = Field(default=None, description="... or the firm measured.")

    @model_validator(mode="after")
    def _one_level(self) -> Output:
        if (self.sector is None) == (self.firm is None):
            raise ValueError("give exactly one of sector or firm")
        if self.sector is not None and self.metric not in SECTOR_OUTPUTS:
            raise ValueError(f"metric {self.metric!r} is a firm metric; a sector has "
                             f"{', '.join(SECTOR_OUTPUTS)}")
        return self

    @property
    def label(self) -> str:
        """`shortfall_frac[auto]`, `value_lost[us_tier1]`."""
        return f"{self.metric}[{self.sector or self.firm}]"

    def check_output(self, where: str, names: Names, sectors: frozenset[str],
                     misses: Misses) -> None:
        """The sector has firms; the firm exists; a cost has a `[costs]` table."""
        has = (names.has_prices if self.metric == "cost_premium" else names.has_costs
               or (names.has_prices and self.metric in PRICE_METRICS))
        if self.metric in COST_METRICS and not has:
            need = ("a [prices] table" if self.metric == "cost_premium" else
                    "a [costs] table (what holding, premiums, the reserve and lost output "
                    "cost)")
            misses.fail(f"{where}.metric", f"{self.metric} needs {need}")
        if self.sector is not None and self.sector not in sectors:
            misses.fail(f"{where}.sector", f"no firm is in sector {self.sector!r} (sectors "
                        f"with firms: {', '.join(sorted(sectors)) or 'none'})")
        if self.firm is not None:
            misses.need("firm", names.firms, self.firm, f"{where}.firm")


class OptimizeLever(PathLever):
    """A decision lever: a dotted config path (or several set to one value), with a range
    (`low`, `high`, optionally `integer`) or a finite set of `values`."""

    path: str | list[str] = Field(description="Dotted config path (e.g. "
                                  "`firms.us_tier1.ordering.target_cover_days`); a list "
                                  "sets every path to the same value.")
    name: str | None = Field(default=None, description="Column name in candidates.csv "
                             "(default: the path; required when `path` is a list).")
    low: float | None = Field(default=None, allow_inf_nan=False, description="Lowest value.")
    high: float | None = Field(default=None, allow_inf_nan=False,
                               description="Highest value.")
    integer: bool = Field(default=False, description="Whole numbers only (whole-number "
                          "paths, e.g. `authority.reviewers`).")
    scale: bool = Field(default=False, description="The value is a factor on what each "
                        "path holds (as for sweep parameters: a stockpile of every material "
                        "scaled together).")
    values: list[bool | int | float | str] | None = Field(
        default=None, min_length=2, description="A finite set of values (ranking and "
        "selection; with one lever and a `levers` objective, numbers searched in order).")
    cost: float | None = Field(
        default=None, allow_inf_nan=False, description="Objective units per unit of the "
        "lever (default 1 for a `levers` objective, 0 for `mean`: e.g. USD per day of "
        "buffer, added to the expected value lost). Negative: less of the lever is dearer "
        "(the search looks for the largest value that meets the constraints).")

    @property
    def label(self) -> str:
        return self.name or (self.path if isinstance(self.path, str) else ", ".join(self.path))

    @model_validator(mode="after")
    def _consistent(self) -> OptimizeLever:
        ranged = self.low is not None or self.high is not None
        if self.values is not None and ranged:
            raise ValueError("give either values or low/high, not both")
        if self.values is None and not ranged:
            raise ValueError("needs low and high (a range) or values (a finite set)")
        if ranged:
            if self.low is None or self.high is None:
                raise ValueError("low and high go together")
            if self.low >= self.high:
                raise ValueError(f"high must be above low (got low = {self.low:g}, "
                                 f"high = {self.high:g}): the range is empty")
            if self.integer and math.floor(self.high) < math.ceil(self.low):
                raise ValueError(f"no whole number between low = {self.low:g} and "
                                 f"high = {self.high:g}")
        if self.values is not None:
            if len(set(map(repr, self.values))) < len(self.values):
                raise ValueError("values lists a value twice")
            if self.integer:
                raise ValueError("integer applies to low/high; values are taken as given")
        if isinstance(self.path, list) and not self.name:
            raise ValueError("name is required when path lists several paths")
        return self


class Objective(Strict):
    """What to minimise: `levers` -- the levers' cost, Σ cost × value (the smallest
    buffer that meets the constraints); `mean` -- the expected `output` plus the levers'
    cost (the policy that loses least)."""

    kind: Literal["levers", "mean"] = Field(description="`levers` or `mean`.")
    output: Output | None = Field(default=None, description="`mean`: the output whose "
                                  "expectation is minimised.")

    @model_validator(mode="after")
    def _output(self) -> Objective:
        if self.kind == "mean" and self.output is None:
            raise ValueError("a `mean` objective needs an output (metric and sector or "
                             "firm)")
        if self.kind == "levers" and self.output is not None:
            raise ValueError("a `levers` objective takes no output (the levers' cost is "
                             "known without simulating)")
        return self


class Constraint(Output):
    """A bound on an output, judged at the table's `confidence`: `probability` --
    P(metric > above) <= at_most (exact Clopper-Pearson bounds); `mean` -- E[metric] <=
    at_most (Student's t); `cvar` -- the mean of the worst (1 - level) share of
    replications <= at_most (shortfall_frac only: a bound from the
    Dvoretzky-Kiefer-Wolfowitz inequality, valid for values in [0, 1])."""

    kind: Literal["probability", "mean", "cvar"] = Field(
        description="`probability`, `mean` or `cvar`.")
    above: float | None = Field(default=None, allow_inf_nan=False, description="probability: "
                                "the threshold exceeded (e.g. 0.05: more than 5% lost).")
    at_most: float = Field(allow_inf_nan=False, description="The bound (a probability for "
                           "`probability`; in the metric's units otherwise).")
    level: float = Field(default=0.95, gt=0, lt=1, allow_inf_nan=False,
                         description="cvar: the tail is the worst (1 - level) share.")

    @model_validator(mode="after")
    def _fields(self) -> Constraint:
        if self.kind == "probability":
            if self.above is None:
                raise ValueError("a probability constraint needs `above`, the threshold "
                                 "(P(metric > above) <= at_most)")
            if not 0 < self.at_most < 1:
                raise ValueError(f"at_most: a probability bound must be between 0 and 1, "
                                 f"exclusive (got {self.at_most:g}): 0 cannot be shown by "
                                 "sampling, 1 always holds")
        elif self.above is not None:
            raise ValueError(f"above is for probability constraints, not {self.kind}")
        if self.kind == "cvar" and self.metric not in BOUNDED:
            raise ValueError(f"a cvar bound is exact only for a metric in [0, 1] "
                             f"({', '.join(sorted(BOUNDED))}); {self.metric!r} is unbounded")
        return self

    @property
    def text(self) -> str:
        """`P(shortfall_frac[auto] > 0.05) <= 0.1`."""
        if self.kind == "probability":
            return f"P({self.label} > {self.above:g}) <= {self.at_most:g}"
        if self.kind == "mean":
            return f"E[{self.label}] <= {self.at_most:g}"
        return f"CVaR{self.level:g}[{self.label}] <= {self.at_most:g}"


class OptimizeConfig(Strict):
    """`rareshock optimize`: the levers, the objective, the constraints and how sure the
    answer must be. Every candidate runs replications 0, 1, ... with the run's seeds
    (common random numbers), so candidates differ only by their levers."""

    levers: list[OptimizeLever] = Field(min_length=1, description="The decision levers.")
    objective: Objective = Field(description="What to minimise.")
    constraints: list[Constraint] = Field(default=[], description="Bounds on outputs; a "
                                          "candidate is accepted only when every one holds "
                                          "at `confidence` (kn: only candidates shown to "
                                          "meet them are ranked).")
    confidence: float = Field(default=0.95, gt=0.5, lt=1, allow_inf_nan=False,
                              description="Of the whole answer: the bracket holds the "
                              "optimum (bisection), or the selection is correct within "
                              "the indifference zone (ranking and selection); the "
                              "surrogate search has none to give (its incumbent's fresh "
                              "interval is 95%).")
    method: Literal["auto", "bisection", "kn", "surrogate"] = Field(
        default="auto", description="`bisection` (one lever, `levers` objective), `kn` "
        "(Kim-Nelson ranking and selection: levers with values, `mean` objective), "
        "`surrogate` (levers with ranges, `mean` objective: a Gaussian-process search), "
        "or `auto` (by the problem's shape).")
    replications: int = Field(default=30, ge=2, description="First-stage replications "
                              "per candidate (n0 of kn; the first stage of bisection, "
                              "doubled up to `max_replications`; every point of the "
                              "surrogate search).")
    max_replications: int = Field(default=240, ge=2, description="Most replications per "
                                  "candidate.")
    tolerance: float | None = Field(default=None, gt=0, allow_inf_nan=False,
                                    description="bisection: stop when the bracket is this "
                                    "narrow (default: 1 for a whole-number lever, 1% of "
                                    "the range otherwise).")
    points: int = Field(default=20, ge=3, le=500, description="surrogate: points "
                        "evaluated (a Latin hypercube of 2d + 2, then expected improvement), "
                        "each on `replications`; the incumbent then runs on as many fresh "
                        "ones.")
    indifference: float | None = Field(default=None, gt=0, allow_inf_nan=False,
                                       description="kn: differences in the objective "
                                       "smaller than this do not matter (δ, in its "
                                       "units); required for kn.")

    @model_validator(mode="after")
    def _shape(self) -> OptimizeConfig:
        if self.max_replications < self.replications:
            raise PathError("optimize.max_replications", f"is below replications "
                            f"({self.max_replications} < {self.replications})")
        seen: dict[str, int] = {}
        for i, lv in enumerate(self.levers):
            if lv.label in seen:
                raise PathError(f"optimize.levers.{i}.path", f"{lv.label!r} is already "
                                f"optimize.levers.{seen[lv.label]}")
            seen[lv.label] = i
        method = self.resolved_method()
        if method == "bisection":
            self._check_bisection()
        elif method == "surrogate":
            self._check_surrogate()
        else:
            self._check_selection()
        return self

    def resolved_method(self) -> str:
        """`bisection` or `kn`: the method asked for, or the one the shape calls for."""
        if self.method != "auto":
            return self.method
        if self.objective.kind == "levers":
            return "bisection"
        return "kn" if any(lv.values is not None for lv in self.levers) else "surrogate"

    def _check_surrogate(self) -> None:
        if self.objective.kind != "mean":
            raise PathError("optimize.objective.kind", "the surrogate search minimises an "
                            "expected output: use a `mean` objective")
        for i, lv in enumerate(self.levers):
            if lv.values is not None:
                raise PathError(f"optimize.levers.{i}.values", "the surrogate search "
                                "moves levers within ranges: give low/high (or values for "
                                "every lever: ranking and selection)")
        if self.constraints:
            raise PathError("optimize.constraints", "constraints with the surrogate "
                            "search are not supported yet")
        if self.points < 2 * len(self.levers) + 3:
            raise PathError("optimize.points", f"{self.points} points cannot fit a surface "
                            f"over {len(self.levers)} levers: give at least "
                            f"{2 * len(self.levers) + 3}")

    def _check_bisection(self) -> None:
        if len(self.levers) != 1:
            raise PathError("optimize.levers", f"bisection searches one lever ({len(self.levers)} "
                            "given); several levers under constraints are not supported "
                            "yet (with a `mean` objective: ranking and selection over "
                            "values, or the surrogate search over ranges)")
        if self.objective.kind != "levers":
            raise PathError("optimize.objective.kind", "bisection minimises the lever's "
                            "cost (`levers`); a `mean` objective is for ranking and "
                            "selection (levers with values)")
        if not self.constraints:
            raise PathError("optimize.constraints", "nothing constrains the lever: the "
                            "answer would be its cheapest value without a simulation")
        lv = self.levers[0]
        if lv.values is not None and not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in lv.values):
            raise PathError("optimize.levers.0.values", "bisection needs numbers (it "
                            "searches them in order)")
        if (lv.cost if lv.cost is not None else 1.0) == 0:
            raise PathError("optimize.levers.0.cost", "a lever that costs nothing has no "
                            "cheapest value: give a cost other than 0")

    def _check_selection(self) -> None:
        if self.objective.kind != "mean":
            raise PathError("optimize.objective.kind", "ranking and selection (kn) picks "
                            "the least expected output: use a `mean` objective")
        for i, lv in enumerate(self.levers):
            if lv.values is None:
                raise PathError(f"optimize.levers.{i}.values", "ranking and selection "
                                "chooses among a finite set: give values, not low/high")
        if self.indifference is None:
            raise PathError("optimize.indifference", "kn needs the indifference zone δ: "
                            "the smallest difference in the objective that matters")
        n = math.prod(len(lv.values or []) for lv in self.levers)
        if n > MAX_CANDIDATES:
            raise PathError("optimize.levers", f"{n} candidates (the product of the "
                            f"levers' values) is more than {MAX_CANDIDATES}")
        if self.replications < 5:
            raise PathError("optimize.replications", "kn needs at least 5 first-stage "
                            "replications to estimate the variances")

    def check_names(self, names: Names, sectors: frozenset[str], misses: Misses) -> None:
        """The outputs name sectors that have firms and firms that exist."""
        if self.objective.output is not None:
            self.objective.output.check_output("optimize.objective.output", names, sectors,
                                               misses)
        for i, c in enumerate(self.constraints):
            c.check_output(f"optimize.constraints.{i}", names, sectors, misses)


__all__ = ["BOUNDED", "FIRM_OUTPUTS", "SECTOR_OUTPUTS", "Constraint", "Objective",
           "OptimizeConfig", "OptimizeLever", "Output"]
