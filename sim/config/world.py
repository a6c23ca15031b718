"""The world of a scenario: its calendar, materials, destinations, the licensing
authority, suppliers, the stockpile and the firms.

Units: times in calendar days unless a field says working days; quantities in kg;
production in units per calendar day. Every model refuses unknown keys.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import (
    Date,
    EndUse,
    NonNegFloat,
    PathError,
    Period,
    PosFloat,
    Probability,
    Sector,
    Strict,
)
from .checks import Misses, Names, unknown_name
from .distributions import Distribution, check_nonnegative
from .responses import DeferredDemand, LicenceCover, OrderingAhead, Rationing
from .sourcing import FrontRunning, Resourcing, Route


def _check_shares(shares: dict[str, float], what: str) -> dict[str, float]:
    """At least one entry. That they sum to 1 is checked once every name is known to exist
    (`Config._references`), so a misspelt name is reported as such, not as a bad sum."""
    if not shares:
        raise ValueError(f"{what} must name at least one entry")
    return shares


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

    def check_extra_days(self, misses: Misses) -> None:
        """An extra working day is a day that would otherwise not be worked."""
        for k, d in enumerate(self.extra_working_days):
            weekend = self.working_days == "mon-fri" and d.weekday() >= 5
            if not weekend and not any(h.start <= d <= h.end for h in self.holidays):
                misses.fail(f"calendar.extra_working_days.{k}", f"{d} is a working day anyway "
                            "(extra working days are weekend days or holidays that are worked)")




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
    elements: dict[str, PosFloat] = Field(
        default_factory=dict, description="Its rare-earth elements: kg of each in one unit "
        "(for a material counted in kg, a weight fraction: NdFeB with Dy about "
        "{Nd = 0.23, Pr = 0.07, Dy = 0.03}). A `controls_start` or `controls_lift` may name "
        "elements instead of materials."
    )
    price_usd_per_kg: PosFloat | None = Field(
        default=None, description="Its price (USD per kg, or per piece), which values its "
        "Chinese-origin content under a `foreign_content` rule with a `threshold`."
    )

    @model_validator(mode="after")
    def _fractions(self) -> MaterialConfig:
        total = sum(self.elements.values())
        if self.unit == "kg" and total > 1.0 + 1e-9:
            raise ValueError(f"elements add up to {total:g} kg per kg of the material; a "
                             "weight fraction is at most 1")
        return self

    def content(self, elements: list[str]) -> float:
        """kg of `elements` (together) in one unit of the material."""
        return sum(self.elements.get(e, 0.0) for e in elements)


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
        check_nonnegative(self.response_days, "response_days")
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

    def check_names(self, at: str, names: Names, misses: Misses) -> None:
        misses.need("destination", names.destinations, self.destination, f"{at}.destination")
        misses.need("material", names.materials, self.material, f"{at}.material")



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
        return check_nonnegative(d, "resubmit_after_days")  # type: ignore[return-value]


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
    ordering_ahead: OrderingAhead | None = Field(
        default=None, description="Buyers file ahead of need by the licence lead time "
        "they see (none: they file on the day they need a shipment).")

    @field_validator("quantity_kg")
    @classmethod
    def _q(cls, d: Distribution | None) -> Distribution | None:
        return check_nonnegative(d, "quantity_kg")

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
        return check_nonnegative(d, info.field_name)

    def check_names(self, names: Names, misses: Misses) -> None:
        for m in self.background.materials:
            misses.need("material", names.materials, m, f"authority.background.materials.{m}")
        for d in self.background.destinations:
            misses.need("destination", names.destinations, d,
                        f"authority.background.destinations.{d}")
        for j, r in enumerate(self.decision.rules):
            r.check_names(f"authority.decision.rules.{j}", names, misses)



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
        return check_nonnegative(d, "days")  # type: ignore[return-value]


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
        return check_nonnegative(d, info.field_name)  # type: ignore[return-value]

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
        if len(set(self.materials)) < len(self.materials):
            dup = next(m for m in self.materials if self.materials.count(m) > 1)
            raise ValueError(f"materials lists {dup!r} twice")
        starts = [s.start for s in self.ramp]
        if starts != sorted(starts):
            raise ValueError("ramp steps must be in date order")
        if len(set(starts)) != len(starts):
            dup = next(d for d in starts if starts.count(d) > 1)
            raise ValueError(f"two ramp steps start on {dup}: which capacity holds from then "
                             "is not said; keep one step per date")
        return self

    def check_names(self, name: str, names: Names, misses: Misses) -> None:
        for k, m in enumerate(self.materials):
            misses.need("material", names.materials, m, f"suppliers.{name}.materials.{k}")
        misses.priority(self.priority, f"suppliers.{name}.priority", name, names)



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
        return check_nonnegative(d, "release_days")  # type: ignore[return-value]

    def check_names(self, names: Names, misses: Misses) -> None:
        for m in self.stock_kg:
            misses.need("material", names.materials, m, f"stockpile.stock_kg.{m}")



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
        return check_nonnegative(d, "transit_days")  # type: ignore[return-value]

    @model_validator(mode="after")
    def _arcs(self) -> ShippingConfig:
        for k, d in self.transit_days_to.items():
            check_nonnegative(d, f"transit_days_to.{k}")
        return self


DEFAULT_SHIPPING = ShippingConfig()


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
    rationing: Rationing | None = Field(
        default=None, description="Product lines served highest value first when short "
        "(none: one line, all or nothing)."
    )

    def check_names(self, name: str, names: Names, misses: Misses) -> None:
        p = f"firms.{name}"
        misses.need("destination", names.destinations, self.destination, f"{p}.destination")
        for m in self.bom:
            misses.need("material", names.materials, m, f"{p}.bom.{m}")
        misses.need("material", names.materials, self.output, f"{p}.output")
        for s_name in self.ordering.suppliers:
            if s_name not in names.suppliers and s_name not in names.firms:
                makers = names.makers
                also = f"; firms that make parts: {', '.join(makers)}" if makers else ""
                misses.fail(f"{p}.ordering.suppliers.{s_name}", unknown_name(
                    "supplier", s_name, names.suppliers, [*names.suppliers, *makers], also))
        mine = names.customers.get(name, frozenset())
        if self.output is None and self.shipping != DEFAULT_SHIPPING:
            misses.fail(f"{p}.shipping", "is for a firm that makes an `output` for other "
                        "firms; this one has none, so its shipping settings would do nothing")
        for k in self.shipping.transit_days_to:
            if misses.need("firm", names.firms, k, f"{p}.shipping.transit_days_to.{k}") and \
                    k not in mine:
                misses.fail(f"{p}.shipping.transit_days_to.{k}", f"firm {k!r} does not order "
                            f"from {name!r} (its customers: {', '.join(sorted(mine)) or 'none'})")
        misses.priority(self.shipping.priority, f"{p}.shipping.priority", name, names)

