"""The study settings of a scenario: replications and output, sweep, calibration and
uncertain parameters."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .base import (
    Date,
    NonNegFloat,
    PathError,
    Period,
    Probability,
    Sector,
    Strict,
)
from .checks import Misses, Names, unknown_name
from .observed import Month
from .priors import Prior


class RunsConfig(Strict):
    """Monte Carlo settings."""

    replications: int = Field(default=100, ge=1, description="Replications in a batch.")
    seed: int = Field(
        default=12345, ge=0, description="Root seed; replication i uses its child i."
    )
    warmup_days: NonNegFloat = Field(
        default=0.0, description="Application statistics leave out those submitted before it."
    )


class OutputConfig(Strict):
    """What a replication records besides its tables of firms and applications."""

    sample_every_days: Period = Field(default=7.0, description="Time-series sampling interval.")
    recovery_window_days: NonNegFloat = Field(
        default=28.0,
        description="Production must stay at plan this long after a stock-out to count as "
        "recovered (time to recover).",
    )
    measure_from: Date | None = Field(
        default=None, description="Planned and produced units (and so shortfall and value "
        "lost) count from this date (default: the start)."
    )
    measure_until: Date | None = Field(
        default=None, description="... and until this date, exclusive (default: the end of "
        "the horizon)."
    )



# --------------------------------------------------------------------------- sweep

SweepValue = bool | int | float | str | Date


class PathLever(Strict):
    """What sweep and uncertain parameters share: a `path` field (a dotted config path or a
    list of them, declared by each with its own description), checked, and `paths`."""

    @field_validator("path", check_fields=False)
    @classmethod
    def _path(cls, v: str | list[str]) -> str | list[str]:
        paths = [v] if isinstance(v, str) else v
        if not paths:
            raise ValueError("must not be empty")
        for q in paths:
            if not q.strip() or any(not k.strip() for k in q.split(".")):
                raise ValueError(f"{q!r} is not a dotted config path")
        return v

    @property
    def paths(self) -> tuple[str, ...]:
        path = self.path  # type: ignore[attr-defined]
        return (path,) if isinstance(path, str) else tuple(path)


class SweepParameter(PathLever):
    """One lever of a sweep: a dotted config path and the values it takes.

    `values` for `grid` and `oat` (the first is the base value of `oat` unless `base` is
    given); `low`/`high` (with `log`, `integer`) for the sampled designs. With
    `scale = true` the values are factors that multiply what the path holds: a number, a
    distribution (every draw), `authority.decision` (every approval probability, the
    default and each rule, capped at 1 - refuse) or a free supplier `suppliers.NAME`
    (`capacity_kg_per_day` and every ramp step).
    """

    path: str | list[str] = Field(
        description="Dotted config path (e.g. `authority.reviewers`, "
        "`authority.decision.rules.0.approve`); a list sets every path to the same value."
    )
    name: str | None = Field(
        default=None, description="Column name in points.csv and plots (default: the path; "
        "required when `path` is a list)."
    )
    values: list[SweepValue] | None = Field(
        default=None, min_length=1, description="Values taken (grid, oat)."
    )
    base: SweepValue | None = Field(
        default=None, description="oat: the base value (default: the first of `values`)."
    )
    low: float | None = Field(
        default=None, allow_inf_nan=False, description="Lowest value (lhs, sobol, morris)."
    )
    high: float | None = Field(
        default=None, allow_inf_nan=False, description="Highest value (lhs, sobol, morris)."
    )
    log: bool = Field(default=False, description="Sample uniformly in log(value) (low > 0).")
    integer: bool = Field(
        default=False, description="Round sampled values to whole numbers (whole-number "
        "paths only, e.g. `authority.reviewers`)."
    )
    scale: bool = Field(
        default=False, description="The values multiply what the path holds (see above)."
    )

    @property
    def label(self) -> str:
        """The column name: `name`, or the path."""
        return self.name or (self.path if isinstance(self.path, str) else ", ".join(self.path))

    @model_validator(mode="after")
    def _consistent(self) -> SweepParameter:
        ranged = self.low is not None or self.high is not None
        if self.values is not None and ranged:
            raise ValueError("give either values or low/high, not both")
        if self.values is None and not ranged:
            raise ValueError("needs values (grid, oat) or low and high (lhs, sobol, morris)")
        if ranged:
            if self.low is None or self.high is None:
                raise ValueError("low and high go together")
            if self.low >= self.high:
                raise ValueError(f"low must be below high (got low = {self.low:g}, "
                                 f"high = {self.high:g})")
            if self.log and self.low <= 0:
                raise ValueError(f"log = true needs low > 0 (got {self.low:g})")
            if self.integer and math.floor(self.high) < math.ceil(self.low):
                raise ValueError(f"no whole number between low = {self.low:g} and "
                                 f"high = {self.high:g}")
        if self.base is not None and self.values is None:
            raise ValueError("base goes with values (oat)")
        if self.log and self.values is not None:
            raise ValueError("log applies to low/high (sampled designs), not to values")
        if isinstance(self.path, list) and not self.name:
            raise ValueError("name is required when path lists several paths")
        return self


class SweepDiscovery(Strict):
    """Scenario discovery: the box of parameter ranges where an outcome concentrates (PRIM,
    Friedman & Fisher 1999). A case is one replication at one point; it is "of interest"
    when its sector `metric` is above `above` (or below `below`)."""

    sector: Sector = Field(description="Sector whose outcome is classified.")
    metric: Literal["shortfall_frac", "value_lost"] = Field(
        default="shortfall_frac", description="Per-replication sector metric."
    )
    above: float | None = Field(
        default=None, allow_inf_nan=False, description="Of interest when metric > this."
    )
    below: float | None = Field(
        default=None, allow_inf_nan=False, description="Of interest when metric < this."
    )
    peel_alpha: float = Field(
        default=0.05, gt=0, lt=0.5, description="Share of the box's cases peeled per step."
    )
    min_mass: float = Field(
        default=0.05, gt=0, lt=1, description="Peeling stops before the box holds less than "
        "this share of all cases."
    )
    min_coverage: Probability = Field(
        default=0.5, description="The box reported is the densest on the peeling trajectory "
        "that still holds this share of the cases of interest."
    )

    @model_validator(mode="after")
    def _one_threshold(self) -> SweepDiscovery:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of above or below")
        return self


class SweepConfig(Strict):
    """`rareshock sweep`: which levers matter. Every point's config is the scenario with the
    point's parameter values applied; replication i of every point uses the same random
    streams (common random numbers) unless `crn = false` or `--no-crn`."""

    method: Literal["grid", "oat", "lhs", "sobol", "morris"] = Field(
        description="`grid` (every combination of values), `oat` (one at a time from the "
        "base: tornado), `lhs` (Latin hypercube, N points), `sobol` (Saltelli/Sobol, N(D+2) "
        "points), `morris` (N trajectories, N(D+1) points)."
    )
    replications: int = Field(default=10, ge=1, description="Replications per point.")
    N: int = Field(default=16, ge=1, description="Base sample size (lhs, sobol, morris); "
                   "a power of 2 for sobol.")
    levels: int = Field(default=4, ge=2, description="morris: grid levels per parameter.")
    crn: bool = Field(default=True, description="Common random numbers across points.")
    tables: list[Literal[
        "replications", "applications", "exports", "timeseries", "authority", "policy"
    ]] = Field(
        default=["replications", "authority", "exports", "policy"],
        description="Datasets stored per replication (applications and timeseries are "
        "large: ~0.7 MB per baseline replication).",
    )
    parameters: list[SweepParameter] = Field(min_length=1, description="The levers.")
    discovery: SweepDiscovery | None = Field(
        default=None, description="Scenario discovery (PRIM) on the sweep's cases."
    )

    @model_validator(mode="after")
    def _method(self) -> SweepConfig:
        sampled = self.method in ("lhs", "sobol", "morris")
        seen: dict[str, int] = {}
        for i, prm in enumerate(self.parameters):
            where = f"sweep.parameters.{i}"
            if sampled and prm.values is not None:
                raise PathError(f"{where}.values", f"method {self.method!r} samples between "
                                "low and high; values are for grid and oat")
            if not sampled and prm.values is None:
                raise PathError(f"{where}.low", f"method {self.method!r} takes values, not "
                                "low/high")
            if prm.label in seen:
                raise PathError(f"{where}.path", f"{prm.label!r} is already "
                                f"sweep.parameters.{seen[prm.label]}")
            seen[prm.label] = i
            if self.method == "oat":
                vals = list(prm.values or [])
                base = vals[0] if prm.base is None else prm.base
                if all(v == base and type(v) is type(base) for v in vals):
                    raise PathError(f"{where}.values", "oat needs the base value and at "
                                    "least one other")
        if self.method == "sobol" and self.N & (self.N - 1):
            raise PathError("sweep.N", f"sobol needs a power of 2 (got {self.N}; "
                            "e.g. 8, 16, 32)")
        if self.method in ("sobol", "morris") and self.N < 2:
            raise PathError("sweep.N", f"{self.method} needs N of at least 2")
        for t in ("replications", "authority"):
            if t not in self.tables:
                raise PathError("sweep.tables", f"must include {t!r} (the summary reads it)")
        return self


# --------------------------------------------------------------------------- calibration


class CalibrationConfig(Strict):
    """`rareshock calibrate`: the `[[uncertain]]` parameters fitted to the `observed` data
    of the fit window, by approximate Bayesian computation (ABC-SMC, pyabc) or neural
    posterior estimation (NPE, sbi)."""

    method: Literal["abc", "npe"] = Field(
        default="abc", description="`abc`: ABC-SMC (pyabc); `npe`: neural posterior "
        "estimation (sbi; the `npe` extra): a flow trained on `simulations` draws from the "
        "prior, then `draws` independent posterior draws.")
    simulations: int = Field(default=4000, ge=50, description="npe: simulations from the "
                             "prior the network learns from.")
    draws: int = Field(default=4000, ge=100, description="npe: posterior draws kept "
                       "(independent, equal weights).")
    flows: int = Field(default=1, ge=1, le=50, description="npe: flows trained on the same "
                       "simulations from different starting weights; the posterior is their "
                       "equal mixture, so what training leaves to chance widens it instead "
                       "of moving it between fits (each flow adds its training time).")
    population: int = Field(default=200, ge=10, description="abc: particles per "
                            "generation.")
    generations: int = Field(default=12, ge=1, description="Most generations to run.")
    min_acceptance: Probability = Field(
        default=0.02, description="Stop once a generation accepts fewer of its simulations."
    )
    fit_months: list[Month] | None = Field(
        default=None, description="Months fitted (default: `observed.fit_months`); stoppages "
        "and approval shares dated within them are fitted too."
    )
    parameters: list[str] | None = Field(
        default=None, description="The uncertain parameters to fit (default: all); the "
        "others are drawn from their priors in every simulation and stay priors in the "
        "posterior (e.g. what only held-out months could tell)."
    )
    weights: dict[Literal["exports", "level", "stoppages", "downtimes", "approvals",
                          "prices"],
                  Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        default={"exports": 1.0, "level": 1.0, "stoppages": 1.0, "downtimes": 1.0,
                 "approvals": 1.0, "prices": 1.0},
        description="Weight of each kind of target in the distance (a kind left out: 1); "
        "within a kind every target has an equal share, each scaled by its spread across "
        "the simulations (pyabc's adaptive distance). Downtimes (`observed.downtimes`), peak "
        "prices (`observed.prices`) and the level before the controls (each export "
        "series' reference level) are fitted whatever the fit window, unless their weight "
        "is 0.",
    )
    batch: int = Field(default=10, ge=1, description="Simulations per task sent to a worker.")
    predictive_replications: int = Field(
        default=100, ge=1, description="Replications of the posterior run for the posterior "
        "predictive check."
    )
    check: int = Field(default=0, ge=0, le=100_000, description="npe: synthetic datasets "
                       "of the simulation-based calibration check (`--check K`): fresh "
                       "simulations from the prior whose truth the posterior should cover "
                       "(0: none).")

    @model_validator(mode="after")
    def _check_needs_npe(self) -> CalibrationConfig:
        if self.check and self.method != "npe":
            raise PathError("calibration.check", "the simulation-based calibration check "
                            "runs on the amortised network of method = \"npe\" (with abc it "
                            "would be a whole fit per dataset)")
        if self.flows > 1 and self.method != "npe":
            raise PathError("calibration.flows", "an ensemble of flows is how method = "
                            "\"npe\" learns its posterior; abc trains no network")
        return self

    @field_validator("weights")
    @classmethod
    def _some_weight(cls, v: dict[str, float]) -> dict[str, float]:
        if not any(w > 0 for w in v.values()):
            raise ValueError("no kind of target has a weight above 0: the distance would be 0 "
                             "for every simulation and nothing would be fitted")
        return v

    def check_names(self, names: Names, misses: Misses) -> None:
        """The parameters calibration fits are uncertain parameters. (A config without any
        -- a replication's, with its draws applied -- keeps the table; `calibrate` refuses
        it for having nothing to fit, and checks the fit months against the observations.)"""
        if not names.uncertain:
            return
        for k, n in enumerate(self.parameters or []):
            if n not in names.uncertain:
                misses.fail(f"calibration.parameters.{k}", unknown_name(
                    "uncertain parameter", n, names.uncertain).replace(
                    "unknown uncertain parameter", "no uncertain parameter named", 1))
        misses.unique(self.parameters or [], "calibration.parameters")



# --------------------------------------------------------------------------- uncertain


class UncertainParameter(PathLever):
    """A config value we do not know: each replication draws it from `prior`, from a
    random stream of its own keyed to the replication (so replication i draws the same
    value in every scenario that shares this entry). With `scale = true` the value is a
    factor on what the path holds (as for sweep parameters)."""

    name: str = Field(min_length=1, description="Column name in the parameters table.")
    path: str | list[str] = Field(
        description="Dotted config path(s); a list sets each to the same value."
    )
    scale: bool = Field(default=False, description="The value multiplies what the path holds.")
    integer: bool = Field(default=False, description="Round the value to a whole number.")
    prior: Prior = Field(description="What we know of it: `uniform`, `loguniform`, "
                         "`normal` (optionally truncated), `lognormal`, `triangular`, "
                         "`beta`, `choice`, or `posterior` (rows of a weighted sample).")
    note: str = Field(default="", description="Where the prior comes from.")
    description: str | None = Field(default=None, description="What the parameter is, in "
                                    "one line: shown beside its name in summaries and "
                                    "reports.")
