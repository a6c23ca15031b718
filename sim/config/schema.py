"""The config schema: one frozen, typed object parsed from TOML.

Units: times in calendar days unless a field says working days; quantities in kg;
production in units per calendar day. Every model refuses unknown keys.
"""

from __future__ import annotations

import difflib
import math
import typing
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from .base import (
    Date,
    EndUse,
    Name,
    NonNegFloat,
    PathError,
    PosFloat,
    Probability,
    Sector,
    Strict,
)
from .distributions import Distribution, nonnegative
from .observed import Month, ObservedData
from .priors import Prior
from .responses import DeferredDemand, LicenceCover
from .sourcing import FrontRunning, Resourcing, Route, check_sourcing

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


def _check_nonnegative(d: Distribution | None, what: str) -> Distribution | None:
    if d is not None and not nonnegative(d):
        raise ValueError(f"{what} must not take negative values")
    return d


def _check_shares(shares: dict[str, float], what: str) -> dict[str, float]:
    """At least one entry. That they sum to 1 is checked once every name is known to exist
    (`Config._references`), so a misspelt name is reported as such, not as a bad sum."""
    if not shares:
        raise ValueError(f"{what} must name at least one entry")
    return shares


def _check_sum(shares: dict[str, float], path: str) -> None:
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        listed = ", ".join(f"{k} {v:g}" for k, v in shares.items())
        raise PathError(path, f"must sum to 1 (they sum to {total:g}: {listed})")


def _last_day(start: date, horizon_days: float) -> str:
    """The last date simulated (the day holding t = horizon - epsilon), as ISO text."""
    try:
        return (start + timedelta(days=math.ceil(horizon_days) - 1)).isoformat()
    except OverflowError:
        return "beyond 9999-12-31"


# --------------------------------------------------------------------------- calendar


class Holiday(Strict):
    """An inclusive range of dates on which the authority does not work."""

    name: str = ""
    start: Date = Field(description="First day off.")
    end: Date = Field(description="Last day off (inclusive).")

    @model_validator(mode="after")
    def _ordered(self) -> Holiday:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class CalendarConfig(Strict):
    """Date of t = 0 and the authority's working-day calendar."""

    start: Date = Field(description="Date of t = 0 (midnight starting this day).")
    working_days: Literal["mon-fri", "all"] = Field(
        default="mon-fri", description="Days the authority works, before holidays."
    )
    holidays: list[Holiday] = Field(default=[], description="Date ranges not worked.")
    extra_working_days: list[Date] = Field(
        default=[], description="Weekend dates that are worked (make-up working days)."
    )


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


# --------------------------------------------------------------------------- world


class MaterialConfig(Strict):
    """A product traded between suppliers and firms: a rare-earth material (kg), or a part
    a firm makes for other firms (a motor, an actuator: pieces)."""

    description: str = ""
    unit: Literal["kg", "pieces"] = Field(
        default="kg", description="What quantities of it count: kg, or pieces (a firm's "
        "output)."
    )
    controlled_at_start: bool = Field(
        default=False, description="Licences already required at t = 0."
    )


class DestinationConfig(Strict):
    """An importing country or region."""

    priority: int = Field(
        default=0, ge=0, description="Queue class under `priority` discipline; 0 is served first"
    )


class InformationRequests(Strict):
    """Files sent back for more information; the applicant answers, the file re-joins the queue."""

    probability: Probability = Field(
        default=0.0, description="Chance that a reviewed file is sent back."
    )
    response_days: Distribution | None = Field(
        default=None, description="Calendar days the applicant takes to answer."
    )
    max_rounds: int = Field(default=3, ge=0, description="Most times one file is sent back.")

    @model_validator(mode="after")
    def _needs_delay(self) -> InformationRequests:
        if self.probability > 0 and self.response_days is None:
            raise ValueError("response_days is required when probability > 0")
        _check_nonnegative(self.response_days, "response_days")
        return self


class DecisionRule(Strict):
    """Outcome probabilities for applications that match every field given.

    After review an application is approved with probability `approve`, refused with
    `refuse`, and otherwise left pending; a pending file may still be approved later at
    the authority's pending approval rate.
    """

    destination: str | None = Field(default=None, description="Match this destination.")
    sector: Sector | Literal["none"] | None = Field(
        default=None, description="Match this sector; `none` matches background applications."
    )
    end_use: EndUse | None = Field(default=None, description="Match this end use.")
    material: str | None = Field(default=None, description="Match this material.")
    approve: Probability = Field(description="Chance of approval at review.")
    refuse: Probability = Field(default=0.0, description="Chance of refusal at review.")

    @model_validator(mode="after")
    def _sum(self) -> DecisionRule:
        if self.approve + self.refuse > 1 + 1e-12:
            raise ValueError(
                f"approve + refuse = {self.approve + self.refuse:g} exceeds 1"
            )
        return self


class DecisionConfig(Strict):
    """How reviewed applications are decided. The first matching rule applies."""

    approve: Probability = Field(default=1.0, description="Default approval probability.")
    refuse: Probability = Field(default=0.0, description="Default refusal probability.")
    rules: list[DecisionRule] = Field(
        default=[], description="Checked in order; the first that matches applies."
    )
    pending_approval_rate_per_day: NonNegFloat = Field(
        default=0.0,
        description="Hazard (per calendar day) at which a pending file is approved later.",
    )

    @model_validator(mode="after")
    def _sum(self) -> DecisionConfig:
        if self.approve + self.refuse > 1 + 1e-12:
            raise ValueError(f"approve + refuse = {self.approve + self.refuse:g} exceeds 1")
        return self


class RefusalConfig(Strict):
    """What an applicant does after a refusal."""

    max_attempts: int = Field(default=1, ge=1, description="Applications per shipment, in all.")
    resubmit_after_days: Distribution = Field(
        default={"dist": "constant", "value": 10.0},  # type: ignore[assignment]
        description="Calendar days before a refused shipment is applied for again.",
    )
    then: Literal["redirect", "cancel"] = Field(
        default="redirect",
        description="After the last refusal: order the quantity from the firm's other "
        "suppliers (`redirect`) or drop it (`cancel`).",
    )

    @field_validator("resubmit_after_days")
    @classmethod
    def _nonneg(cls, d: Distribution) -> Distribution:
        return _check_nonnegative(d, "resubmit_after_days")  # type: ignore[return-value]


class BackgroundConfig(Strict):
    """Applications from destinations and buyers not modelled as firms (Poisson stream).
    Without this table (or with rate 0) there are none; with a rate above 0 the other
    fields are required."""

    rate_per_day: NonNegFloat = Field(
        default=0.0, description="Poisson arrivals per calendar day (0: no background).")
    quantity_kg: Distribution | None = Field(
        default=None, description="kg per shipment (required when rate_per_day > 0).")
    materials: dict[str, Probability] = Field(
        default={}, description="Share of shipments by material (required when "
        "rate_per_day > 0).")
    destinations: dict[str, Probability] = Field(
        default={}, description="Share of shipments by destination (required when "
        "rate_per_day > 0)."
    )
    military_share: Probability = Field(default=0.0, description="Share with military end use.")
    deferred: DeferredDemand | None = Field(
        default=None, description="What buyers do with refused or long-pending files "
        "(none: they are lost).")

    @field_validator("quantity_kg")
    @classmethod
    def _q(cls, d: Distribution | None) -> Distribution | None:
        return _check_nonnegative(d, "quantity_kg")

    @model_validator(mode="after")
    def _needed(self) -> BackgroundConfig:
        if self.rate_per_day > 0:
            for f in ("quantity_kg", "materials", "destinations"):
                if not getattr(self, f):
                    raise PathError(f"authority.background.{f}", "is required when "
                                    f"rate_per_day > 0 (got {self.rate_per_day:g})")
        return self


class AuthorityConfig(Strict):
    """The licensing authority: reviewers, queue, calendar-bound review, decisions."""

    reviewers: int = Field(ge=1, description="Reviewers working files at once.")
    discipline: Literal["fifo", "priority"] = "fifo"
    review_time: Distribution = Field(description="Working days a reviewer spends on a file.")
    pre_acceptance: Distribution | None = Field(
        default=None, description="Working days from submission to acceptance (forwarding)."
    )
    statutory_limit_working_days: PosFloat = Field(
        default=45.0, description="Acceptance-to-decision limit whose breaches are counted."
    )
    information_requests: InformationRequests = InformationRequests()
    decision: DecisionConfig = DecisionConfig()
    refusal: RefusalConfig = RefusalConfig()
    background: BackgroundConfig = Field(
        default=BackgroundConfig(), description="Other buyers' applications (default: none)."
    )
    licence_cover: LicenceCover | None = Field(
        default=None, description="Licences that cover further shipments (none: one each).")

    @field_validator("review_time", "pre_acceptance")
    @classmethod
    def _nonneg(cls, d: Distribution | None, info) -> Distribution | None:  # noqa: ANN001
        return _check_nonnegative(d, info.field_name)


# --------------------------------------------------------------------------- suppliers


class CustomsHold(Strict):
    """Export inspections that hold a shipment before it leaves."""

    probability: Probability = Field(
        default=0.0, description="Chance that a licensed shipment is held."
    )
    days: Distribution = Field(
        default={"dist": "constant", "value": 0.0},  # type: ignore[assignment]
        description="Calendar days held.",
    )

    @field_validator("days")
    @classmethod
    def _nonneg(cls, d: Distribution) -> Distribution:
        return _check_nonnegative(d, "days")  # type: ignore[return-value]


Allocation = Literal["proportional", "fifo", "priority"]


class OrderBookConfig(Strict):
    """How a supplier with finite supply (a free supplier's capacity, a maker's finished
    goods) serves its open orders: a dispatch every `dispatch_every_days`, sharing what it
    has by `allocation` when it cannot fill them all."""

    dispatch_every_days: Period = Field(
        default=1.0, description="Days between dispatches while orders are open (at least "
        "a minute)."
    )
    allocation: Allocation = Field(
        default="proportional", description="When supply falls short of the open orders: "
        "`proportional` (each gets the same share of what it asked), `fifo` (oldest order "
        "first) or `priority` (by `priority`, proportional within a level)."
    )
    priority: list[str] = Field(
        default=[], description="`priority` allocation: sectors or firm names, served first "
        "to last; customers named nowhere come last."
    )

    @model_validator(mode="after")
    def _priority_list(self) -> OrderBookConfig:
        if self.allocation == "priority" and not self.priority:
            raise ValueError("allocation = \"priority\" needs a priority list")
        return self


class CapacityStep(Strict):
    """From `start` on, the supplier can produce `kg_per_day`."""

    start: Date
    kg_per_day: NonNegFloat


class SupplierConfig(OrderBookConfig):
    """A source of material.

    `controlled` suppliers need an approved export licence per shipment while a material
    is under control and have no capacity limit; `free` suppliers (rest of world) need no
    licence but share a capacity (kg/day) that follows a ramp-up schedule.
    """

    kind: Literal["controlled", "free"] = Field(
        description="`controlled`: licence per shipment; `free`: capacity-limited."
    )
    materials: list[str] = Field(min_length=1, description="Materials it supplies.")
    production_days: Distribution = Field(
        default={"dist": "constant", "value": 0.0},  # type: ignore[assignment]
        description="Calendar days from go-ahead (licence or order) to dispatch.",
    )
    transit_days: Distribution = Field(description="Calendar days from dispatch to receipt.")
    customs_hold: CustomsHold = CustomsHold()
    max_shipment_kg: PosFloat | None = Field(
        default=None, description="Orders above this are split; each part needs its own licence."
    )
    capacity_kg_per_day: NonNegFloat | None = Field(
        default=None, description="Free suppliers: kg/day at t = 0 over all materials."
    )
    ramp: list[CapacityStep] = Field(default=[], description="Free suppliers: later capacity.")
    china_content_share: Probability = Field(
        default=0.0, description="Free suppliers: share of shipments containing "
        "Chinese-origin rare earths above the threshold of a `foreign_content` rule "
        "(Japanese magnets with Chinese Dy/Tb); under the rule they need a licence."
    )
    route: Route | None = Field(
        default=None, description="Free suppliers: another route (sub-assemblies).")

    @field_validator("production_days", "transit_days")
    @classmethod
    def _nonneg(cls, d: Distribution, info) -> Distribution:  # noqa: ANN001
        return _check_nonnegative(d, info.field_name)  # type: ignore[return-value]

    @model_validator(mode="after")
    def _capacity(self) -> SupplierConfig:
        if self.kind == "free" and self.capacity_kg_per_day is None:
            raise ValueError("capacity_kg_per_day is required for a free supplier")
        if self.kind == "controlled" and (self.capacity_kg_per_day is not None or self.ramp):
            raise ValueError("a controlled supplier has no capacity_kg_per_day or ramp")
        if self.kind == "controlled" and (self.allocation != "proportional" or self.priority
                                          or self.china_content_share > 0):
            raise ValueError("a controlled supplier has no capacity to allocate and needs "
                             "licences anyway: allocation, priority and china_content_share "
                             "are for free suppliers")
        starts = [s.start for s in self.ramp]
        if starts != sorted(starts):
            raise ValueError("ramp steps must be in date order")
        return self


class StockpileConfig(Strict):
    """A government reserve released to listed sectors when their cover falls low."""

    sectors: list[Sector] = Field(default=["defence"], description="Sectors it serves.")
    stock_kg: dict[str, NonNegFloat] = Field(default={}, description="kg held per material.")
    trigger_cover_days: NonNegFloat = Field(
        default=30.0, description="Release when a firm's on-hand cover (days) falls below."
    )
    release_days: Distribution = Field(
        default={"dist": "constant", "value": 14.0},  # type: ignore[assignment]
        description="Calendar days from release decision to receipt.",
    )
    available_from_start: bool = Field(
        default=False, description="Otherwise only after a `stockpile_release` policy event."
    )

    @field_validator("release_days")
    @classmethod
    def _nonneg(cls, d: Distribution) -> Distribution:
        return _check_nonnegative(d, "release_days")  # type: ignore[return-value]


# --------------------------------------------------------------------------- firms


class Substitution(Strict):
    """After `after_days` short, produce `fraction` of plan with a design that needs none of
    the short materials."""

    after_days: NonNegFloat = Field(description="Days down before switching.")
    fraction: Probability = Field(description="Share of planned output made meanwhile.")


class ShippingConfig(OrderBookConfig):
    """How a firm that makes an `output` for other firms serves their orders: from its
    finished goods, at every dispatch, sharing what it has by `allocation` when it cannot
    fill every open order."""

    transit_days: Distribution = Field(
        default={"dist": "constant", "value": 2.0},  # type: ignore[assignment]
        description="Calendar days from dispatch to the customer (every arc).",
    )
    transit_days_to: dict[str, Distribution] = Field(
        default={}, description="Per customer firm: its arc's transit days instead."
    )
    initial_cover_days: NonNegFloat = Field(
        default=0.0, description="Finished goods at t = 0, in days of planned output."
    )
    max_finished_days: PosFloat | None = Field(
        default=None, description="Finished goods above this many days of planned output "
        "go to customers outside the model (a firm that also sells elsewhere); none: all "
        "it makes waits for its modelled customers."
    )

    @field_validator("transit_days")
    @classmethod
    def _nonneg(cls, d: Distribution) -> Distribution:
        return _check_nonnegative(d, "transit_days")  # type: ignore[return-value]

    @model_validator(mode="after")
    def _arcs(self) -> ShippingConfig:
        for k, d in self.transit_days_to.items():
            _check_nonnegative(d, f"transit_days_to.{k}")
        return self


_DEFAULT_SHIPPING = ShippingConfig()


class OrderingConfig(Strict):
    """Periodic review, order up to a target cover of inventory position."""

    review_period_days: Period = Field(
        default=7.0, description="Days between order reviews (at least a minute).")
    target_cover_days: NonNegFloat = Field(
        description="Order up to this many days of planned use, counting on hand and on order."
    )
    suppliers: dict[str, Probability] = Field(
        description="Share of each order by supplier: suppliers, or firms whose `output` is "
        "in the bill of materials (their shares sum to 1 per material)."
    )
    cut_inflation: float = Field(
        default=1.0, ge=1.0, le=10.0, allow_inf_nan=False,
        description="Shortage gaming: after a firm supplier cut one of its orders, the next "
        "order to it is this many times what is needed (1: no inflation).",
    )
    in_transit_days: NonNegFloat = Field(
        default=0.0,
        description="Steady state at t = 0: this many days of use already ordered and on "
        "its way (production, transit, pipeline), arriving evenly over the first such days. "
        "Set it to the usual lead time.",
    )
    resourcing: Resourcing | None = Field(default=None, description="Re-sourcing (off).")
    front_running: FrontRunning | None = Field(
        default=None, description="Front-running announced controls (or the global one).")

    @field_validator("suppliers")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_shares(v, "suppliers")


class FirmConfig(Strict):
    """A manufacturer making one product line."""

    sector: Sector = Field(description="`defence`, `auto` or `tech`.")
    destination: str = Field(description="Where its imports go (a destination name).")
    end_use: EndUse = Field(default="civil", description="Declared end use.")
    units_per_day: PosFloat = Field(description="Planned production, units per calendar day.")
    unit_value: NonNegFloat = Field(default=0.0, description="Value of one unit (USD).")
    bom: dict[str, PosFloat] = Field(min_length=1, description="kg of each material per unit.")
    initial_cover_days: NonNegFloat = Field(description="Days of planned use on hand at t = 0.")
    ordering: OrderingConfig
    restart_delay_days: NonNegFloat = Field(
        default=0.0, description="Days from material back to production back."
    )
    pipeline_days: NonNegFloat = Field(
        default=0.0, description="Days from receipt to usable stock (tier-1/tier-2 processing)."
    )
    substitution: Substitution | None = Field(
        default=None, description="Alternative design used after a long stoppage."
    )
    output: str | None = Field(
        default=None, description="The material (part) it makes for other firms, which "
        "name it in their bill of materials and order it from this firm."
    )
    shipping: ShippingConfig = Field(
        default=ShippingConfig(), description="How it serves its customer firms (with "
        "`output`)."
    )


# --------------------------------------------------------------------------- policy


class PolicyEventBase(Strict):
    """A dated change to the world. The date may be uncertain: it is `date` plus a draw of
    `delay_days` (calendar days), and the event happens at all with `probability`."""

    date: Date = Field(description="Nominal date.")
    delay_days: Distribution | None = Field(
        default=None, description="Calendar days added to the date, drawn per replication."
    )
    probability: Probability = Field(
        default=1.0, description="Chance the event happens at all (per replication)."
    )
    label: str = Field(default="", description="Shown on plots.")
    announced: Date | None = Field(
        default=None, description="Announced on this date (buyers may front-run).")
    branch: str | None = Field(
        default=None, description="Happens only in this branch of the future (the "
        "config's `branch`); none: in every branch."
    )
    outside_window: bool = Field(
        default=False, description="The nominal `date` may lie outside the simulated window "
        "[calendar.start, calendar.start + horizon_days). An event dated before the start is "
        "refused unless this is set, and then applies at t = 0 (the start); one dated at or "
        "after the end never happens (`validate`, `run` and `sweep` warn about it unless "
        "this is set)."
    )


class ControlsStart(PolicyEventBase):
    """Licences are required from this date. Shipments already produced, declared or in
    production when controls begin may still leave without one for a while: during
    `transition_days` a shipment is exempt with a probability that falls linearly from
    `exempt_share` to 0."""

    type: Literal["controls_start"]
    materials: list[str] = Field(min_length=1, description="Materials that now need licences.")
    exempt_share: Probability = Field(
        default=0.0, description="Share of shipments that still leave without a licence "
        "when controls begin (falling to 0 over `transition_days`)."
    )
    transition_days: NonNegFloat = Field(
        default=0.0, description="Calendar days over which the exempt share falls to 0."
    )


class ControlsLift(PolicyEventBase):
    """Licences no longer required: files still waiting are released as approved."""

    type: Literal["controls_lift"]
    materials: list[str] = Field(min_length=1, description="Materials freed from licensing.")


class SuspendApprovals(PolicyEventBase):
    """Reviewers stop deciding; the queue keeps filling."""

    type: Literal["suspend_approvals"]


class ResumeApprovals(PolicyEventBase):
    type: Literal["resume_approvals"]


class SetReviewers(PolicyEventBase):
    type: Literal["reviewers"]
    count: int = Field(ge=0, description="New number of reviewers.")


class SetDecision(PolicyEventBase):
    """Changes approval behaviour from this date on."""

    type: Literal["decision"]
    approve_factor: NonNegFloat | None = Field(
        default=None, description="Multiplies approval probabilities (capped by 1 - refuse)."
    )
    destinations: list[str] | None = Field(
        default=None, description="Restrict approve_factor to these destinations."
    )
    pending_approval_rate_per_day: NonNegFloat | None = None
    end_use: EndUse | None = Field(
        default=None, description="`approve_factor` applies only to files with this end "
        "use (and, with `destinations`, to those)."
    )
    rules: list[DecisionRule] | None = Field(default=None, description="Replace the rules.")


class SetReviewTime(PolicyEventBase):
    type: Literal["review_time"]
    review_time: Distribution | None = Field(
        default=None, description="New review time, working days."
    )
    information_request_probability: Probability | None = Field(
        default=None, description="New chance that a file is sent back."
    )

    @field_validator("review_time")
    @classmethod
    def _nonneg(cls, d: Distribution | None) -> Distribution | None:
        return _check_nonnegative(d, "review_time")


class GeneralLicence(PolicyEventBase):
    """Matching applications skip the queue for `valid_days`, decided in `processing_days`
    working days and always approved."""

    type: Literal["general_licence"]
    destinations: list[str] | None = Field(default=None, description="Only these (or all).")
    sectors: list[Sector] | None = Field(
        default=None, description="Only these sectors (or all, background included)."
    )
    firms: list[str] | None = Field(default=None, description="Only these firms (or all).")
    materials: list[str] | None = Field(default=None, description="Only these (or all).")
    valid_days: PosFloat = Field(default=365.0, description="Calendar days it stays valid.")
    processing_days: Distribution = Field(
        default={"dist": "uniform", "low": 0.0, "high": 5.0}  # type: ignore[assignment]
    )

    @field_validator("processing_days")
    @classmethod
    def _nonneg(cls, d: Distribution) -> Distribution:
        return _check_nonnegative(d, "processing_days")  # type: ignore[return-value]


class StockpileRelease(PolicyEventBase):
    type: Literal["stockpile_release"]


class AddCapacity(PolicyEventBase):
    type: Literal["capacity"]
    supplier: str = Field(description="A free supplier.")
    add_kg_per_day: float = Field(
        allow_inf_nan=False, description="kg/day added (negative removes)."
    )


class CloseRoute(PolicyEventBase):
    """A later rule controls another route: it carries nothing from now on."""

    type: Literal["close_route"]
    supplier: str = Field(description="A free supplier with a [route] table.")


class ForeignContent(PolicyEventBase):
    """Extraterritorial control (the 0.1%-of-value rule announced 9 October 2025): from
    now on, the shipments of free suppliers that contain Chinese-origin rare earths above
    the threshold (their `china_content_share`) need a licence from the same authority."""

    type: Literal["foreign_content"]
    materials: list[str] = Field(min_length=1, description="Materials the rule covers.")
    suppliers: list[str] | None = Field(
        default=None, description="Only these free suppliers (or every free one)."
    )
    lift: bool = Field(default=False, description="End the rule instead.")


PolicyEvent = Annotated[
    ControlsStart
    | ControlsLift
    | SuspendApprovals
    | ResumeApprovals
    | SetReviewers
    | SetDecision
    | SetReviewTime
    | GeneralLicence
    | StockpileRelease
    | AddCapacity
    | ForeignContent
    | CloseRoute,
    Field(discriminator="type"),
]


# --------------------------------------------------------------------------- sweep

SweepValue = bool | int | float | str | Date


class _PathLever(Strict):
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


class SweepParameter(_PathLever):
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
    """`rareshock calibrate`: approximate Bayesian computation (ABC-SMC, pyabc) of the
    `[[uncertain]]` parameters against the `observed` data of the fit window."""

    population: int = Field(default=200, ge=10, description="Particles per generation.")
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
    weights: dict[Literal["exports", "stoppages", "approvals"],
                  Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        default={"exports": 1.0, "stoppages": 1.0, "approvals": 1.0},
        description="Weight of each kind of target in the distance; within a kind every "
        "target has an equal share, each scaled by its spread across the simulations "
        "(pyabc's adaptive distance).",
    )
    batch: int = Field(default=10, ge=1, description="Simulations per task sent to a worker.")
    predictive_replications: int = Field(
        default=100, ge=1, description="Replications of the posterior run for the posterior "
        "predictive check."
    )

    @field_validator("weights")
    @classmethod
    def _some_weight(cls, v: dict[str, float]) -> dict[str, float]:
        if not any(w > 0 for w in v.values()):
            raise ValueError("no kind of target has a weight above 0: the distance would be 0 "
                             "for every simulation and nothing would be fitted")
        return v


# --------------------------------------------------------------------------- uncertain


class UncertainParameter(_PathLever):
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


# --------------------------------------------------------------------------- root


class Config(Strict):
    """A whole scenario."""

    name: str = Field(default="", description="Shown in titles and the manifest.")
    description: str = ""
    horizon_days: PosFloat = Field(description="Calendar days simulated.")
    branch: str = Field(
        default="", description="Which branch of the future this scenario follows: policy "
        "events with another `branch` do not happen (a `choice` uncertain parameter on "
        "`branch` draws it per replication)."
    )
    calendar: CalendarConfig
    runs: RunsConfig = RunsConfig()
    output: OutputConfig = OutputConfig()
    materials: dict[Name, MaterialConfig] = Field(min_length=1)
    destinations: dict[Name, DestinationConfig] = Field(min_length=1)
    authority: AuthorityConfig
    suppliers: dict[Name, SupplierConfig] = {}
    stockpile: StockpileConfig | None = None
    firms: dict[Name, FirmConfig] = {}
    policy: list[PolicyEvent] = []
    front_running: FrontRunning | None = Field(
        default=None, description="Front-running for every firm without its own (off).")
    sweep: SweepConfig | None = Field(
        default=None, description="Sensitivity sweep (`rareshock sweep`); `run` ignores it."
    )
    calibration: CalibrationConfig | None = Field(
        default=None, description="Settings of `rareshock calibrate` (defaults without it)."
    )
    uncertain: list[UncertainParameter] = Field(
        default=[], description="Values we do not know, drawn per replication from priors "
        "(`[[uncertain]]`); the `parameters` dataset records each replication's draws."
    )
    observed: ObservedData | None = Field(
        default=None, description="What was observed in the world this scenario stands for "
        "(the targets of `backtest` and calibration): in a file, a path relative to the config "
        "naming it (`observed = \"observed/2025.toml\"`), or a table."
    )

    @model_validator(mode="after")
    def _references(self) -> Config:
        """Every name used somewhere is defined (every miss reported at once, each with the
        path of the use and the nearest known name), then what the names make fits
        together (shares, tiers, windows). Set and dict lookups only: linear in the size
        of the config."""
        refs = _References(self)
        refs.check()
        if refs.errors:
            raise PathErrors(refs.errors, refs.unreported)
        self._check_structure()
        return self

    def _check_structure(self) -> None:
        a = self.authority
        if a.background.materials:
            _check_sum(a.background.materials, "authority.background.materials")
        if a.background.destinations:
            _check_sum(a.background.destinations, "authority.background.destinations")
        for name in self.firms:
            if name in self.suppliers:
                raise PathError(f"firms.{name}", f"{name!r} names a supplier too: a name is a "
                                "supplier's or a firm's")
        for f_name, f in self.firms.items():
            if f.output is not None and f.output in f.bom:
                raise PathError(f"firms.{f_name}.output", f"{f.output!r} is in its own bill "
                                "of materials")
            self._check_sources(f_name, f)
        self._check_tiers()
        for i, ev in enumerate(self.policy):
            self._check_event(i, ev)
        self._check_measured()
        check_sourcing(self)
        names: dict[str, int] = {}
        for i, u in enumerate(self.uncertain):
            if u.name in names:
                raise PathError(f"uncertain.{i}.name", f"{u.name!r} is already "
                                f"uncertain.{names[u.name]}")
            names[u.name] = i

    def _check_event(self, i: int, ev: PolicyEventBase) -> None:
        p = f"policy.{i}"
        a = self.authority
        if not ev.outside_window:
            self._check_window(ev.date, f"{p}.date")
        if isinstance(ev, ForeignContent):
            for k, n in enumerate(ev.suppliers or []):
                if self.suppliers[n].kind != "free":
                    raise PathError(f"{p}.suppliers.{k}", f"{n!r} is controlled: the rule "
                                    "is about free suppliers' Chinese-origin content")
        if isinstance(ev, AddCapacity) and self.suppliers[ev.supplier].kind != "free":
            raise PathError(f"{p}.supplier", "capacity is added to free suppliers only")
        if (isinstance(ev, SetReviewTime) and (ev.information_request_probability or 0) > 0
                and a.information_requests.response_days is None):
            raise PathError(f"{p}.information_request_probability",
                            "needs authority.information_requests.response_days")
        if isinstance(ev, StockpileRelease) and self.stockpile is None:
            raise PathError(f"{p}.type", "stockpile_release needs a [stockpile] table")
        if ev.delay_days is not None and not math.isfinite(ev.delay_days.expected):
            raise PathError(f"{p}.delay_days", "must have a finite mean")

    def _check_measured(self) -> None:
        """The measured window (`output.measure_from` to `measure_until`) holds some of the
        simulated window."""
        o, start, h = self.output, self.calendar.start, self.horizon_days
        window = f"the simulated window is {start} to {_last_day(start, h)} (horizon_days = {h:g})"
        lo = (o.measure_from - start).days if o.measure_from else 0
        hi = (o.measure_until - start).days if o.measure_until else math.inf
        if o.measure_from and o.measure_until and hi <= lo:
            raise PathError("output.measure_until", f"{o.measure_until} is not after "
                            f"measure_from {o.measure_from}: nothing would be measured")
        if o.measure_from and lo < 0:
            raise PathError("output.measure_from", f"{o.measure_from} is before the start; "
                            f"{window}")
        if o.measure_from and lo >= h:
            raise PathError("output.measure_from", f"{o.measure_from} is not before the end: "
                            f"nothing would be measured; {window}")
        if o.measure_until and hi <= 0:
            raise PathError("output.measure_until", f"{o.measure_until} is not after the "
                            f"start: nothing would be measured; {window}")

    def sources(self, firm: FirmConfig) -> dict[str, dict[str, float]]:
        """Per material of `firm`'s bill of materials, the suppliers (or firms) it orders it
        from and their shares: a material some named firm makes comes from those firms,
        every other material from the named suppliers."""
        shares = firm.ordering.suppliers
        firms = {n: s for n, s in shares.items() if n in self.firms}
        out = {}
        for m in firm.bom:
            makers = {n: s for n, s in firms.items() if self.firms[n].output == m}
            out[m] = makers or {n: s for n, s in shares.items() if n not in self.firms}
        return out

    def _check_sources(self, name: str, f: FirmConfig) -> None:
        p = f"firms.{name}.ordering.suppliers"
        for s_name in f.ordering.suppliers:
            maker = self.firms.get(s_name)
            if maker is not None and maker.output not in f.bom:
                what = (f"makes {maker.output!r}, which is not in the bill of materials"
                        if maker.output else "makes nothing for other firms (no output)")
                raise PathError(f"{p}.{s_name}", f"firm {s_name!r} {what}")
        groups = self.sources(f)
        if all(g.keys() <= self.suppliers.keys() for g in groups.values()):
            _check_sum(f.ordering.suppliers, p)  # no firm suppliers: one set of shares
        for m, g in groups.items():
            if not g:
                raise PathError(p, f"nothing named here supplies {m!r} (in the bill of "
                                "materials)")
            if g.keys() <= self.firms.keys():
                total = sum(g.values())
                if abs(total - 1.0) > 1e-6:
                    listed = ", ".join(f"{k} {v:g}" for k, v in g.items())
                    raise PathError(p, f"the firms making {m!r} must have shares summing "
                                    f"to 1 (they sum to {total:g}: {listed})")
                continue
            for s_name, share in g.items():
                if m not in self.suppliers[s_name].materials and share > 0:
                    raise PathError(
                        f"{p}.{s_name}",
                        f"supplier {s_name!r} does not supply {m!r} (in the bill of materials)",
                    )
        suppliers_only = {n: s for n, s in f.ordering.suppliers.items() if n in self.suppliers}
        if suppliers_only and len(suppliers_only) < len(f.ordering.suppliers):
            _check_sum(suppliers_only, p)

    def _check_tiers(self) -> None:
        """No firm buys, through any chain of firms, from itself; the loop is named."""
        buys = {n: [s for s in f.ordering.suppliers if s in self.firms]
                for n, f in self.firms.items()}
        state: dict[str, int] = {}

        def visit(n: str, path: list[str]) -> None:
            state[n] = 1
            for s in buys[n]:
                if state.get(s) == 1:
                    loop = " -> ".join([*path[path.index(s):], s])
                    raise PathError(f"firms.{n}.ordering.suppliers.{s}",
                                    f"firms buy from each other in a loop: {loop}")
                if s not in state:
                    visit(s, [*path, s])
            state[n] = 2

        for n in self.firms:
            if n not in state:
                visit(n, [n])

    def tiers(self) -> dict[str, int]:
        """Each firm's tier: 0 for a firm no firm buys from (it makes the end product), and
        one more than its nearest customer's for a firm that supplies firms."""
        customers: dict[str, list[str]] = {n: [] for n in self.firms}
        for n, f in self.firms.items():
            for s in f.ordering.suppliers:
                if s in customers:
                    customers[s].append(n)
        tier: dict[str, int] = {}

        def of(n: str) -> int:
            if n not in tier:
                tier[n] = 1 + min(of(c) for c in customers[n]) if customers[n] else 0
            return tier[n]

        return {n: of(n) for n in self.firms}

    def _check_window(self, when: date, path: str) -> None:
        """A policy date before the start would silently apply at t = 0: refused. (One at or
        after the end never happens; `sim.config.work` warns about those.)"""
        start = self.calendar.start
        if when >= start:
            return
        window = f"{start} to {_last_day(start, self.horizon_days)}"
        raise PathError(path, f"{when} is before the simulated window ({window}): it would "
                        "apply at t = 0; set outside_window = true if that is meant")


MAX_REPORTED = 20
"""Most unknown names reported at once (the rest are counted)."""

SECTORS: tuple[str, ...] = typing.get_args(Sector)


def unknown_name(kind: str, name: str, known: Iterable[str], suggest: Iterable[str] | None = None,
                 also: str = "") -> str:
    """'unknown KIND NAME; did you mean X? (known: ...)': the nearest of `suggest` (default
    `known`), and the known names (the first dozen of many), then `also`."""
    names = sorted(known)
    close = difflib.get_close_matches(str(name), sorted(suggest) if suggest is not None
                                      else names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")
    return f"unknown {kind} {name!r}{hint} (known: {shown or 'none'}{also})"


class PathErrors(PathError):
    """Several cross-reference errors found at once; the first is this error's own."""

    def __init__(self, errors: list[PathError], unreported: int = 0) -> None:
        super().__init__(errors[0].path, errors[0].message)
        self.errors = errors
        self.unreported = unreported


class _References:
    """Checks every name a config uses against those it defines, collecting the misses."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.errors: list[PathError] = []
        self.unreported = 0
        self.customers: dict[str, set[str]] = {}  # supplier or maker -> firms ordering there
        for n, f in cfg.firms.items():
            for s in f.ordering.suppliers:
                self.customers.setdefault(s, set()).add(n)

    def fail(self, path: str, message: str) -> None:
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(PathError(path, message))
        else:
            self.unreported += 1

    def need(self, kind: str, known: Mapping[str, object] | set[str] | frozenset[str],
             name: str | None, path: str) -> bool:
        """Whether `name` (None: not given) is in `known`; records the miss if not."""
        if name is None or name in known:
            return True
        if len(self.errors) < MAX_REPORTED:
            self.fail(path, unknown_name(kind, name, known))
        else:
            self.unreported += 1
        return False

    def unique(self, names: Iterable[str], path: str, what: str = "") -> None:
        """Each of `names` (at `path`.k) appears once."""
        seen: dict[str, int] = {}
        for k, n in enumerate(names):
            if n in seen:
                self.fail(f"{path}.{k}", f"{n!r} is listed twice{what} (also {path}.{seen[n]})")
            seen.setdefault(n, k)

    def check(self) -> None:
        cfg = self.cfg
        mats, dests = cfg.materials, cfg.destinations
        a = cfg.authority
        for m in a.background.materials:
            self.need("material", mats, m, f"authority.background.materials.{m}")
        for d in a.background.destinations:
            self.need("destination", dests, d, f"authority.background.destinations.{d}")
        self.rules(a.decision.rules, "authority.decision.rules")
        for s_name, s in cfg.suppliers.items():
            for k, m in enumerate(s.materials):
                self.need("material", mats, m, f"suppliers.{s_name}.materials.{k}")
            self.priority(s.priority, f"suppliers.{s_name}.priority", s_name)
        if cfg.stockpile is not None:
            for m in cfg.stockpile.stock_kg:
                self.need("material", mats, m, f"stockpile.stock_kg.{m}")
        for f_name, f in cfg.firms.items():
            self.firm(f_name, f)
        for i, ev in enumerate(cfg.policy):
            self.event(i, ev)
        self.branch()
        self.calendar()
        if cfg.observed is not None:
            self.observed(cfg.observed)
        self.calibration()

    def rules(self, rules: Iterable[DecisionRule], path: str) -> None:
        mats, dests = self.cfg.materials, self.cfg.destinations
        for j, r in enumerate(rules):
            self.need("destination", dests, r.destination, f"{path}.{j}.destination")
            self.need("material", mats, r.material, f"{path}.{j}.material")

    def priority(self, prio: list[str], path: str, who: str) -> None:
        """A priority list names sectors or firms, each once. (A firm that does not order
        from `who` is allowed: a list may be shared by configs whose firms differ.)"""
        self.unique(prio, path)
        firms = self.cfg.firms
        for k, p in enumerate(prio):
            if p not in SECTORS and p not in firms:
                mine = sorted(self.customers.get(who, set()))
                shown = ", ".join(mine[:12]) + (", ..." if len(mine) > 12 else "")
                msg = unknown_name("sector or firm", p, SECTORS, [*SECTORS, *firms],
                                   also=f"; firms that order from {who}: {shown or 'none'}")
                self.fail(f"{path}.{k}", msg.replace("(known: ", "(sectors: ", 1))

    def firm(self, f_name: str, f: FirmConfig) -> None:
        cfg = self.cfg
        p = f"firms.{f_name}"
        self.need("destination", cfg.destinations, f.destination, f"{p}.destination")
        for m in f.bom:
            self.need("material", cfg.materials, m, f"{p}.bom.{m}")
        self.need("material", cfg.materials, f.output, f"{p}.output")
        for s_name in f.ordering.suppliers:
            if s_name not in cfg.suppliers and s_name not in cfg.firms:
                makers = sorted(n for n, g in cfg.firms.items() if g.output is not None)
                also = f"; firms that make parts: {', '.join(makers)}" if makers else ""
                self.fail(f"{p}.ordering.suppliers.{s_name}", unknown_name(
                    "supplier", s_name, cfg.suppliers, [*cfg.suppliers, *makers], also))
        mine = self.customers.get(f_name, set())
        if f.output is None and f.shipping != _DEFAULT_SHIPPING:
            self.fail(f"{p}.shipping", "is for a firm that makes an `output` for other firms; "
                      "this one has none, so its shipping settings would do nothing")
        for k in f.shipping.transit_days_to:
            if self.need("firm", cfg.firms, k, f"{p}.shipping.transit_days_to.{k}") and \
                    k not in mine:
                self.fail(f"{p}.shipping.transit_days_to.{k}", f"firm {k!r} does not order "
                          f"from {f_name!r} (its customers: {', '.join(sorted(mine)) or 'none'})")
        self.priority(f.shipping.priority, f"{p}.shipping.priority", f_name)

    def event(self, i: int, ev: PolicyEventBase) -> None:
        cfg = self.cfg
        p = f"policy.{i}"
        for k, m in enumerate(getattr(ev, "materials", None) or []):
            self.need("material", cfg.materials, m, f"{p}.materials.{k}")
        for k, d in enumerate(getattr(ev, "destinations", None) or []):
            self.need("destination", cfg.destinations, d, f"{p}.destinations.{k}")
        for k, fn in enumerate(getattr(ev, "firms", None) or []):
            self.need("firm", cfg.firms, fn, f"{p}.firms.{k}")
        if isinstance(ev, ForeignContent):
            for k, n in enumerate(ev.suppliers or []):
                self.need("supplier", cfg.suppliers, n, f"{p}.suppliers.{k}")
        if isinstance(ev, AddCapacity):
            self.need("supplier", cfg.suppliers, ev.supplier, f"{p}.supplier")
        if isinstance(ev, SetDecision) and ev.rules:
            self.rules(ev.rules, f"{p}.rules")

    def branch(self) -> None:
        cfg = self.cfg
        branches = {ev.branch for ev in cfg.policy if ev.branch is not None}
        if cfg.branch and cfg.branch not in branches:
            self.fail("branch", unknown_name("branch", cfg.branch, branches).replace(
                "unknown branch", "no policy event has branch", 1).replace("known:",
                                                                           "branches:"))

    def calendar(self) -> None:
        """An extra working day is a day that would otherwise not be worked."""
        c = self.cfg.calendar
        for k, d in enumerate(c.extra_working_days):
            weekend = c.working_days == "mon-fri" and d.weekday() >= 5
            if not weekend and not any(h.start <= d <= h.end for h in c.holidays):
                self.fail(f"calendar.extra_working_days.{k}", f"{d} is a working day anyway "
                          "(extra working days are weekend days or holidays that are worked)")

    def observed(self, obs: ObservedData) -> None:
        cfg = self.cfg
        firms: dict[str, int] = {}
        for i, st in enumerate(obs.stoppages):
            self.need("firm", cfg.firms, st.firm, f"observed.stoppages.{i}.firm")
            if st.firm in firms:
                self.fail(f"observed.stoppages.{i}.firm", f"{st.firm!r} already has a "
                          f"stoppage (observed.stoppages.{firms[st.firm]}): a firm's first "
                          "stoppage is one date")
            firms.setdefault(st.firm, i)
        for i, ap in enumerate(obs.approvals):
            self.need("destination", cfg.destinations, ap.destination,
                      f"observed.approvals.{i}.destination")
        series = obs.exports.series if obs.exports else []
        names: dict[str, int] = {}
        for i, se in enumerate(series):
            for k, d in enumerate(se.destinations or []):
                self.need("destination", cfg.destinations, d,
                          f"observed.exports.series.{i}.destinations.{k}")
            if se.name in names:
                self.fail(f"observed.exports.series.{i}.name", f"{se.name!r} is already "
                          f"observed.exports.series.{names[se.name]}: each series needs "
                          "its own name")
            names.setdefault(se.name, i)

    def calibration(self) -> None:
        """The parameters calibration fits are uncertain parameters. (A config without any
        -- a replication's, with its draws applied -- keeps the table; `calibrate` refuses
        it for having nothing to fit, and checks the fit months against the observations.)"""
        cal = self.cfg.calibration
        uncertain = {u.name for u in self.cfg.uncertain}
        if cal is None or not uncertain:
            return
        for k, n in enumerate(cal.parameters or []):
            if n not in uncertain:
                self.fail(f"calibration.parameters.{k}", unknown_name(
                    "uncertain parameter", n, uncertain).replace(
                    "unknown uncertain parameter", "no uncertain parameter named", 1))
        self.unique(cal.parameters or [], "calibration.parameters")
