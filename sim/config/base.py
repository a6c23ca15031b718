"""Building blocks of the config schema: the strict base model and shared field types."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

Sector = Literal["defence", "auto", "tech"]
EndUse = Literal["civil", "military"]

PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


def _to_date(v: object) -> date:
    """Dates are TOML dates, or ISO strings from Python callers; nothing else."""
    if isinstance(v, date) and not isinstance(v, datetime):
        return v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v)
        except ValueError:
            pass
    raise ValueError(f"should be a date like 2025-01-31 (got {v!r})")


Date = Annotated[date, BeforeValidator(_to_date)]
Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")]


class Strict(BaseModel):
    """Base: frozen, unknown keys refused, no NaN or infinity."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, strict=True, validate_default=True
    )


class PathError(ValueError):
    """A cross-reference error that knows the dotted path it concerns."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


MIN_PERIOD_DAYS = 1.0 / 1440.0
"""Shortest period of a repeating process (a dispatch, an order review, a sample): one minute.
Shorter ones are not a schedule but a loop that barely advances the clock."""


def _period(v: float) -> float:
    if not v >= MIN_PERIOD_DAYS:
        raise ValueError(f"must be at least {MIN_PERIOD_DAYS:.3g} days (one minute): a "
                         f"shorter period repeats without end (got {v:g})")
    return v


Period = Annotated[float, Field(gt=0, allow_inf_nan=False), AfterValidator(_period)]
"""Days between the repetitions of a periodic process, at least `MIN_PERIOD_DAYS`."""
