"""The policy events of a scenario: dated changes to the world."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from .base import (
    Date,
    EndUse,
    NonNegFloat,
    PathError,
    PosFloat,
    Probability,
    Sector,
    Strict,
)
from .checks import Misses, Names, unknown_name
from .distributions import Distribution, check_nonnegative
from .world import DecisionRule, MaterialConfig

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

    eases: ClassVar[bool] = False
    """An event that eases supply (nothing to front-run)."""

    def check_names(self, at: str, names: Names, misses: Misses) -> None:
        """Each name the event uses (at path `at`) is one the config defines; the misses
        go to `misses`. (An event that names nothing has nothing to check.)"""

    def check_fits(self, at: str, names: Names) -> None:
        """PathError where the event does not fit the world its names exist in."""
        if self.delay_days is not None and not math.isfinite(self.delay_days.expected):
            raise PathError(f"{at}.delay_days", "must have a finite mean")
        if self.announced is not None and self.announced > self.date:
            raise PathError(f"{at}.announced", f"{self.announced} is after the event's "
                            f"date {self.date}")
        if self.announced is not None and self.eases:
            raise PathError(f"{at}.announced", f"buyers front-run an announced event that "
                            f"restricts supply; a {self.type} eases it, so there is nothing "
                            "to order ahead of (remove `announced`)")

    @staticmethod
    def _need_each(misses: Misses, kind: str, known: frozenset[str],
                   listed: list[str] | None, at: str) -> None:
        for k, n in enumerate(listed or []):
            misses.need(kind, known, n, f"{at}.{k}")



class CoversMaterials(PolicyEventBase):
    """An event about materials, named directly or through the elements they contain."""

    materials: list[str] = Field(default_factory=list, description="Materials it covers.")
    elements: list[str] = Field(
        default_factory=list, description="Elements it covers: every material whose "
        "`elements` hold more than `min_content` of one of them is covered too."
    )
    min_content: NonNegFloat = Field(
        default=0.0, description="kg of a listed element per unit of a material (a weight "
        "fraction for a material in kg) above which the material is covered."
    )

    @model_validator(mode="after")
    def _names_something(self) -> CoversMaterials:
        if not self.materials and not self.elements:
            raise ValueError("names no `materials` and no `elements`: it must cover at "
                             "least one")
        return self

    def covered(self, materials: Mapping[str, MaterialConfig]) -> list[str]:
        """The materials it covers: those it names, then those with more than
        `min_content` of a listed element (in config order)."""
        out = list(self.materials)
        out += [m for m, mc in materials.items() if m not in out and any(
            mc.elements.get(e, 0.0) > self.min_content for e in self.elements)]
        return out

    def check_names(self, at: str, names: Names, misses: Misses) -> None:
        self._need_each(misses, "material", names.materials, self.materials, f"{at}.materials")
        self._need_each(misses, "element", names.elements, self.elements, f"{at}.elements")


class ControlsStart(CoversMaterials):
    """Licences are required from this date. Shipments already produced, declared or in
    production when controls begin may still leave without one for a while: during
    `transition_days` a shipment is exempt with a probability that falls linearly from
    `exempt_share` to 0."""

    type: Literal["controls_start"]
    exempt_share: Probability = Field(
        default=0.0, description="Share of shipments that still leave without a licence "
        "when controls begin (falling to 0 over `transition_days`)."
    )
    transition_days: NonNegFloat = Field(
        default=0.0, description="Calendar days over which the exempt share falls to 0."
    )


class ControlsLift(CoversMaterials):
    """Licences no longer required: files still waiting are released as approved."""

    type: Literal["controls_lift"]
    eases: ClassVar[bool] = True


class SuspendApprovals(PolicyEventBase):
    """Reviewers stop deciding; the queue keeps filling."""

    type: Literal["suspend_approvals"]


class ResumeApprovals(PolicyEventBase):
    type: Literal["resume_approvals"]
    eases: ClassVar[bool] = True


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

    def check_names(self, at: str, names: Names, misses: Misses) -> None:
        self._need_each(misses, "destination", names.destinations, self.destinations,
                        f"{at}.destinations")
        for j, r in enumerate(self.rules or []):
            r.check_names(f"{at}.rules.{j}", names, misses)



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
        return check_nonnegative(d, "review_time")

    def check_fits(self, at: str, names: Names) -> None:
        if (self.information_request_probability or 0) > 0 and \
                not names.information_response_days:
            raise PathError(f"{at}.information_request_probability",
                            "needs authority.information_requests.response_days")
        super().check_fits(at, names)



class GeneralLicence(PolicyEventBase):
    """Matching applications skip the queue for `valid_days`, decided in `processing_days`
    working days and always approved."""

    type: Literal["general_licence"]
    eases: ClassVar[bool] = True
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
        return check_nonnegative(d, "processing_days")  # type: ignore[return-value]

    def check_names(self, at: str, names: Names, misses: Misses) -> None:
        self._need_each(misses, "material", names.materials, self.materials, f"{at}.materials")
        self._need_each(misses, "destination", names.destinations, self.destinations,
                        f"{at}.destinations")
        self._need_each(misses, "firm", names.firms, self.firms, f"{at}.firms")



class StockpileRelease(PolicyEventBase):
    type: Literal["stockpile_release"]
    eases: ClassVar[bool] = True

    def check_fits(self, at: str, names: Names) -> None:
        if not names.has_stockpile:
            raise PathError(f"{at}.type", "stockpile_release needs a [stockpile] table")
        super().check_fits(at, names)



class AddCapacity(PolicyEventBase):
    type: Literal["capacity"]
    supplier: str = Field(description="A free supplier.")
    add_kg_per_day: float = Field(
        allow_inf_nan=False, description="kg/day added (negative removes)."
    )

    def check_names(self, at: str, names: Names, misses: Misses) -> None:
        misses.need("supplier", names.suppliers, self.supplier, f"{at}.supplier")

    def check_fits(self, at: str, names: Names) -> None:
        if self.supplier not in names.free_suppliers:
            raise PathError(f"{at}.supplier", "capacity is added to free suppliers only")
        super().check_fits(at, names)



class CloseRoute(PolicyEventBase):
    """A later rule controls another route: it carries nothing from now on."""

    type: Literal["close_route"]
    supplier: str = Field(description="A free supplier with a [route] table.")

    def check_names(self, at: str, names: Names, misses: Misses) -> None:
        if self.supplier not in names.suppliers:
            misses.fail(f"{at}.supplier", unknown_name("supplier", self.supplier,
                                                       names.suppliers, names.routes))

    def check_fits(self, at: str, names: Names) -> None:
        if self.supplier not in names.routes:
            raise PathError(f"{at}.supplier", f"{self.supplier!r} is not a supplier with a "
                            "[route] table")
        super().check_fits(at, names)

class ForeignContent(PolicyEventBase):
    """Extraterritorial control (MOFCOM No. 61, 9 October 2025: foreign-made items with at
    least 0.1% of their value in Chinese-origin rare earths need a licence). From now on,
    shipments of the listed materials that hold Chinese-origin rare earths need a licence
    from the same authority.

    - A free supplier's feedstock is not modelled: the share of its shipments that need
      one is given (its `china_content_share`).
    - With a `threshold`, the rule also reaches the firms that make an `output` as written:
      a shipment of theirs needs a licence when the Chinese-origin share of its value is
      at least `threshold`. That share is tracked, not given: each input the firm bought
      from a controlled supplier is Chinese-origin at its `price_usd_per_kg`, what it makes
      carries the value of the inputs it used, and its stocks and finished goods mix as
      they are used (its starting stock: by its ordering shares)."""

    type: Literal["foreign_content"]
    materials: list[str] = Field(min_length=1, description="Materials the rule covers.")
    suppliers: list[str] | None = Field(
        default=None, description="Only these free suppliers and firms that make an "
        "`output` (or every free one, and with a `threshold` every firm making a listed "
        "material)."
    )
    threshold: Probability | None = Field(
        default=None, description="The Chinese-origin share of a shipment's value (0.001: "
        "0.1%) at or above which a firm's shipment needs a licence; none: the rule covers "
        "free suppliers only."
    )
    lift: bool = Field(default=False, description="End the rule instead.")

    def check_names(self, at: str, names: Names, misses: Misses) -> None:
        self._need_each(misses, "material", names.materials, self.materials, f"{at}.materials")
        known = names.suppliers | frozenset(names.makers)
        for k, n in enumerate(self.suppliers or []):
            if n not in known:
                misses.fail(f"{at}.suppliers.{k}", unknown_name("supplier", n, known))

    def check_fits(self, at: str, names: Names) -> None:
        for k, n in enumerate(self.suppliers or []):
            if n in names.makers:
                if self.threshold is None:
                    raise PathError(f"{at}.suppliers.{k}", f"{n!r} is a firm: the rule "
                                    "reaches a firm's shipments through their tracked "
                                    "content, which needs a `threshold`")
            elif n not in names.free_suppliers:
                raise PathError(f"{at}.suppliers.{k}", f"{n!r} is controlled: the rule "
                                "is about free suppliers' Chinese-origin content")
        super().check_fits(at, names)


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
