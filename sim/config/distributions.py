"""Distribution specifications as frozen pydantic models.

Each spec validates from a TOML inline table such as
``{dist = "exponential", mean = 1.0}`` and exposes ``expected`` (theoretical
mean, in the same units as the samples: days, working days or kg depending on
where it is used), ``sample(rng, size)`` returning a float64 array, and ``ppf(u)``, the
inverse CDF of an array of uniforms in [0, 1), for draws keyed to entities: the same
uniform maps through whatever distribution is in force when it is used.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

if TYPE_CHECKING:  # numpy is imported where variates are drawn: validating needs none
    import numpy as np

__all__ = [
    "Constant",
    "Distribution",
    "Empirical",
    "Exponential",
    "Gamma",
    "Lognormal",
    "Triangular",
    "Uniform",
    "nonnegative",
    "scaled",
]


def lognormal_ppf(u: np.ndarray | float, median: float, sigma: float) -> np.ndarray:
    """Inverse CDF of the lognormal with `median` = exp(mu) and log-scale `sigma` (u = 0
    maps to the quantile of the smallest positive float, not to 0)."""
    import numpy as np
    from scipy.special import ndtri

    return median * np.exp(sigma * ndtri(np.maximum(u, 5e-324)))


def triangular_ppf(u: np.ndarray | float, low: float, mode: float,
                   high: float) -> np.ndarray:
    """Inverse CDF of the triangular distribution on [low, high] peaking at `mode`."""
    import numpy as np

    u = np.asarray(u, dtype=float)
    c = (mode - low) / (high - low)
    left = low + np.sqrt(u * (high - low) * (mode - low))
    right = high - np.sqrt((1 - u) * (high - low) * (high - mode))
    return np.where(u < c, left, right)


def _check_finite(v: float) -> float:
    if not math.isfinite(v):
        raise PydanticCustomError(
            "finite_number", "value must be finite, got {value}", {"value": v}
        )
    return v


FiniteFloat = Annotated[float, AfterValidator(_check_finite)]
PositiveFloat = Annotated[float, AfterValidator(_check_finite), Field(gt=0)]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    @property
    def expected(self) -> float:
        """Theoretical mean of the distribution."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` variates from ``rng`` as a float64 array."""
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The inverse CDF at each ``u`` in [0, 1): the variates keyed uniforms stand for."""
        raise NotImplementedError


class Exponential(_Spec):
    """Exponential with the given ``mean`` (> 0)."""

    dist: Literal["exponential"] = "exponential"
    mean: PositiveFloat

    @property
    def expected(self) -> float:
        return self.mean

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean, size)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        import numpy as np

        return -self.mean * np.log1p(-np.asarray(u, dtype=float))


class Lognormal(_Spec):
    """Lognormal with ``median`` (> 0) = exp(mu) and log-scale ``sigma`` (>= 0)."""

    dist: Literal["lognormal"] = "lognormal"
    median: PositiveFloat
    sigma: Annotated[float, AfterValidator(_check_finite), Field(ge=0)]

    @property
    def expected(self) -> float:
        half_var = self.sigma**2 / 2
        if half_var > 709.0:  # exp overflows a float: the mean is beyond any float
            return math.inf
        return self.median * math.exp(half_var)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.lognormal(math.log(self.median), self.sigma, size)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return lognormal_ppf(u, self.median, self.sigma)


class Triangular(_Spec):
    """Triangular on [``low``, ``high``] with peak at ``mode``; requires low < high."""

    dist: Literal["triangular"] = "triangular"
    low: FiniteFloat
    mode: FiniteFloat
    high: FiniteFloat

    @field_validator("mode")
    @classmethod
    def _mode_at_least_low(cls, v: float, info: ValidationInfo) -> float:
        low = info.data.get("low")
        if low is not None and v < low:
            raise ValueError(f"mode {v:g} is below low {low:g}")
        return v

    @field_validator("high")
    @classmethod
    def _high_above_mode_and_low(cls, v: float, info: ValidationInfo) -> float:
        low, mode = info.data.get("low"), info.data.get("mode")
        if mode is not None and v < mode:
            raise ValueError(f"high {v:g} is below mode {mode:g}")
        if low is not None and v <= low:
            raise ValueError(f"high {v:g} must be above low {low:g} (use constant instead)")
        return v

    @property
    def expected(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, size)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return triangular_ppf(u, self.low, self.mode, self.high)


class Uniform(_Spec):
    """Uniform on [``low``, ``high``); requires low < high."""

    dist: Literal["uniform"] = "uniform"
    low: FiniteFloat
    high: FiniteFloat

    @field_validator("high")
    @classmethod
    def _high_above_low(cls, v: float, info: ValidationInfo) -> float:
        low = info.data.get("low")
        if low is not None and v <= low:
            raise ValueError(f"high {v:g} must be above low {low:g}")
        return v

    @property
    def expected(self) -> float:
        return (self.low + self.high) / 2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        import numpy as np

        return self.low + np.asarray(u, dtype=float) * (self.high - self.low)


class Gamma(_Spec):
    """Gamma with ``mean`` (> 0) and coefficient of variation ``cv`` (> 0)."""

    dist: Literal["gamma"] = "gamma"
    mean: PositiveFloat
    cv: PositiveFloat

    @property
    def expected(self) -> float:
        return self.mean

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean / shape, size)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy.special import gammaincinv

        shape = 1.0 / self.cv**2
        return gammaincinv(shape, u) * (self.mean / shape)


class Constant(_Spec):
    """Degenerate distribution at ``value``."""

    dist: Literal["constant"] = "constant"
    value: FiniteFloat

    @property
    def expected(self) -> float:
        return self.value

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return np.full(size, self.value, dtype=np.float64)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        import numpy as np

        return np.full(np.shape(u), self.value, dtype=np.float64)


class Empirical(_Spec):
    """Draw uniformly with replacement from ``values`` (non-empty, finite)."""

    dist: Literal["empirical"] = "empirical"
    values: Annotated[tuple[FiniteFloat, ...], Field(min_length=1, strict=False)]

    @property
    def expected(self) -> float:
        return math.fsum(self.values) / len(self.values)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        import numpy as np

        return rng.choice(np.asarray(self.values, dtype=np.float64), size)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Each value an equal share of [0, 1), in the order given."""
        import numpy as np

        n = len(self.values)
        k = np.minimum((np.asarray(u, dtype=float) * n).astype(np.int64), n - 1)
        return np.asarray(self.values, dtype=np.float64)[k]


Distribution = Annotated[
    Exponential | Lognormal | Triangular | Uniform | Gamma | Constant | Empirical,
    Field(discriminator="dist"),
]
"""Any distribution spec, discriminated by its ``dist`` field."""


def scaled(d: Distribution, factor: float) -> Distribution:
    """Return ``d`` with every sample multiplied by ``factor`` (finite; > 0 unless constant).

    Used e.g. for review-time scale policies. The result is re-validated.
    """
    if not math.isfinite(factor):
        raise ValueError(f"factor must be finite, got {factor}")
    f = float(factor)
    match d:
        case Exponential():
            upd = {"mean": d.mean * f}
        case Lognormal():
            upd = {"median": d.median * f}
        case Triangular():
            lo, mo, hi = d.low * f, d.mode * f, d.high * f
            if f < 0:
                lo, hi = hi, lo
            upd = {"low": lo, "mode": mo, "high": hi}
        case Uniform():
            lo, hi = sorted((d.low * f, d.high * f))
            upd = {"low": lo, "high": hi}
        case Gamma():
            upd = {"mean": d.mean * f}
        case Constant():
            upd = {"value": d.value * f}
        case Empirical():
            upd = {"values": tuple(v * f for v in d.values)}
        case _:
            raise TypeError(f"not a distribution spec: {type(d).__name__}")
    return type(d).model_validate({**d.model_dump(), **upd})


def nonnegative(d: Distribution) -> bool:
    """Whether the support of ``d`` lies in [0, inf) (for durations and quantities)."""
    match d:
        case Exponential() | Lognormal() | Gamma():
            return True
        case Triangular() | Uniform():
            return d.low >= 0
        case Constant():
            return d.value >= 0
        case Empirical():
            return min(d.values) >= 0
        case _:
            raise TypeError(f"not a distribution spec: {type(d).__name__}")


def check_nonnegative(d: Distribution | None, what: str) -> Distribution | None:
    """`d` unchanged; ValueError if it can draw a negative value."""
    if d is not None and not nonnegative(d):
        raise ValueError(f"{what} must not take negative values")
    return d

