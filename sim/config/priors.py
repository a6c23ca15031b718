"""Priors of uncertain parameters: what we do not know about a config value, as a
distribution. Each draws by inverse CDF from one uniform, so a replication's value is a
function of its own uniform (the same in every scenario that shares the table).

`posterior` draws whole rows of a weighted sample (a calibration's particles): entries
naming the same sample draw the same row, so correlations between parameters are kept.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import Date, Strict
from .distributions import lognormal_ppf, triangular_ppf

Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
ChoiceValue = bool | int | float | str | Date


U_MIN = 1e-12
"""Draws map a uniform clipped to [U_MIN, 1 - U_MIN] through the inverse CDF, so an
unbounded prior's draws lie between its U_MIN and 1 - U_MIN quantiles (about 7 standard
deviations either side of a normal's mean): the values checked against the config."""


TAIL_MASS = 1e-3
"""A truncated normal holding less of the normal's probability than this is drawn with
scipy's truncnorm, which works in the tail (the plain inverse CDF of a difference of
CDFs near 0 or 1 loses its digits: [8, 9] sd would draw its upper bound every time)."""


class _Prior(Strict):
    def ppf(self, u: float) -> float | int | bool | str:
        """The value at probability `u` in [0, 1)."""
        raise NotImplementedError

    @property
    def support(self) -> tuple[float, float]:
        """Lowest and highest value a draw can take (the U_MIN quantiles where unbounded)."""
        return float(self.ppf(U_MIN)), float(self.ppf(1 - U_MIN))  # type: ignore[arg-type]

    @property
    def bounds(self) -> tuple[float, float]:
        """The prior's true bounds: -inf or inf on a side where it has none (a normal's
        tails, a lognormal's upper tail), where `support` gives the U_MIN quantiles."""
        return self.support

    def quantile(self, q: float) -> float:
        """The value below which a share `q` in [0, 1] of draws fall: the bound itself at
        q = 0 or 1 where the prior has one, else the U_MIN quantile (what draws reach).
        For checks over a prior's range (e.g. the work a high value would cost)."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"q must be in [0, 1], got {q!r}")
        lo, hi = self.bounds
        if q == 0.0 and math.isfinite(lo):
            return lo
        if q == 1.0 and math.isfinite(hi):
            return hi
        return float(self.ppf(min(max(q, U_MIN), 1.0 - U_MIN)))  # type: ignore[arg-type]

    @property
    def numeric(self) -> bool:
        return True


class _Interval(_Prior):
    """A prior on [low, high] (the fields declared by each kind), low < high."""

    @model_validator(mode="after")
    def _order(self) -> _Interval:
        lo, hi = self.low, self.high  # type: ignore[attr-defined]
        if not hi > lo:
            raise ValueError(f"high {hi:g} must be above low {lo:g}")
        return self

    @property
    def support(self) -> tuple[float, float]:
        return self.low, self.high  # type: ignore[attr-defined]


class UniformPrior(_Interval):
    """Uniform on [low, high]."""

    dist: Literal["uniform"] = "uniform"
    low: Finite
    high: Finite

    def ppf(self, u: float) -> float:
        return self.low + u * (self.high - self.low)


class LogUniformPrior(_Interval):
    """Uniform in log(value) on [low, high], low > 0."""

    dist: Literal["loguniform"] = "loguniform"
    low: Positive
    high: Positive

    def ppf(self, u: float) -> float:
        return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))


class NormalPrior(_Prior):
    """Normal(mean, sd), optionally truncated to [low, high]."""

    dist: Literal["normal"] = "normal"
    mean: Finite
    sd: Positive
    low: Finite | None = None
    high: Finite | None = None

    @model_validator(mode="after")
    def _order(self) -> NormalPrior:
        if self.low is not None and self.high is not None and not self.high > self.low:
            raise ValueError(f"high {self.high:g} must be above low {self.low:g}")
        return self

    @model_validator(mode="after")
    def _drawable(self) -> NormalPrior:
        lo, hi = self.support
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"the truncation [{self.low}, {self.high}] lies too far in the "
                             "normal's tail to draw from in double precision")
        return self

    @property
    def _mass(self) -> float:
        """The normal's probability between the truncation bounds."""
        from scipy.special import ndtr

        a = ndtr((self.low - self.mean) / self.sd) if self.low is not None else 0.0
        b = ndtr((self.high - self.mean) / self.sd) if self.high is not None else 1.0
        return float(b - a)

    def ppf(self, u: float) -> float:
        from scipy.special import ndtr, ndtri

        lo = self.low if self.low is not None else -math.inf
        hi = self.high if self.high is not None else math.inf
        if self._mass < TAIL_MASS:  # deep in a tail: the CDF difference loses its digits
            from scipy.stats import truncnorm

            alpha, beta = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd
            x = float(self.mean + self.sd * truncnorm.ppf(u, alpha, beta))
        else:
            a = ndtr((lo - self.mean) / self.sd) if self.low is not None else 0.0
            b = ndtr((hi - self.mean) / self.sd) if self.high is not None else 1.0
            x = float(self.mean + self.sd * ndtri(a + u * (b - a)))
        return min(max(x, lo), hi)

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.low if self.low is not None else -math.inf,
                self.high if self.high is not None else math.inf)


class LognormalPrior(_Prior):
    """Lognormal with `median` = exp(mu) and log-scale `sigma`."""

    dist: Literal["lognormal"] = "lognormal"
    median: Positive
    sigma: Positive

    def ppf(self, u: float) -> float:
        return float(lognormal_ppf(u, self.median, self.sigma))

    @property
    def bounds(self) -> tuple[float, float]:
        return 0.0, math.inf


class TriangularPrior(_Prior):
    """Triangular on [low, high] with its peak at `mode`."""

    dist: Literal["triangular"] = "triangular"
    low: Finite
    mode: Finite
    high: Finite

    @model_validator(mode="after")
    def _order(self) -> TriangularPrior:
        if not (self.low <= self.mode <= self.high and self.high > self.low):
            raise ValueError("needs low <= mode <= high and low < high")
        return self

    def ppf(self, u: float) -> float:
        return float(triangular_ppf(u, self.low, self.mode, self.high))

    @property
    def support(self) -> tuple[float, float]:
        return self.low, self.high


class BetaPrior(_Prior):
    """Beta(a, b) stretched onto [low, high] (default [0, 1])."""

    dist: Literal["beta"] = "beta"
    a: Positive
    b: Positive
    low: Finite = 0.0
    high: Finite = 1.0

    @model_validator(mode="after")
    def _order(self) -> BetaPrior:
        if not self.high > self.low:
            raise ValueError(f"high {self.high:g} must be above low {self.low:g}")
        return self

    def ppf(self, u: float) -> float:
        from scipy.special import betaincinv

        return float(self.low + (self.high - self.low) * betaincinv(self.a, self.b, u))

    @property
    def support(self) -> tuple[float, float]:
        return self.low, self.high


class ChoicePrior(_Prior):
    """One of `values`, with `weights` (equal if not given)."""

    dist: Literal["choice"] = "choice"
    values: list[ChoiceValue] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = None

    @model_validator(mode="after")
    def _weights(self) -> ChoicePrior:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(f"{len(self.weights)} weights for {len(self.values)} values")
            if not sum(self.weights) > 0:
                raise ValueError("weights must not all be 0")
        return self

    def ppf(self, u: float) -> ChoiceValue:
        w = self.weights or [1.0] * len(self.values)
        total, acc = sum(w), 0.0
        for v, wi in zip(self.values, w, strict=True):
            acc += wi
            if u * total < acc:
                return v
        return self.values[-1]

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, int | float) and not isinstance(v, bool) for v in self.values)

    @property
    def support(self) -> tuple[float, float]:
        nums = [float(v) for v in self.values]  # type: ignore[arg-type]
        return min(nums), max(nums)


class PosteriorPrior(_Prior):
    """Rows of a weighted sample (a calibration's particles): `file` names it (a parquet
    file relative to the config, with a `weight` column and one column per parameter);
    loading the config reads this entry's `column` (default: its name) into `values` and
    the weights into `weights`. Entries naming the same file draw the same row."""

    dist: Literal["posterior"] = "posterior"
    file: str = Field(min_length=1)
    column: str | None = None
    values: list[Finite] = Field(default=[], description="Filled from the file.")
    weights: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        default=[], description="Filled from the file.")

    @model_validator(mode="after")
    def _rows(self) -> PosteriorPrior:
        if len(self.values) != len(self.weights):
            raise ValueError(f"{len(self.values)} values for {len(self.weights)} weights")
        if self.weights and not sum(self.weights) > 0:
            raise ValueError("weights must not all be 0")
        return self

    def row(self, u: float) -> int:
        """The row drawn at probability `u` (by weight)."""
        total, acc = sum(self.weights), 0.0
        for k, w in enumerate(self.weights):
            acc += w
            if u * total < acc:
                return k
        return len(self.weights) - 1

    def ppf(self, u: float) -> float:
        return self.values[self.row(u)]

    @property
    def support(self) -> tuple[float, float]:
        return min(self.values), max(self.values)


Prior = Annotated[
    UniformPrior | LogUniformPrior | NormalPrior | LognormalPrior | TriangularPrior
    | BetaPrior | ChoicePrior | PosteriorPrior,
    Field(discriminator="dist"),
]
