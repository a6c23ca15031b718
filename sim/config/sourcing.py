"""How firms respond to export controls on the supply side: re-sourcing to other
suppliers, other routes (buying the sub-assembly instead of the magnet) and front-running
an announced control. Every section is off by default; `Config` checks the names they use
once the whole config is known.

Defaults and examples take their figures from public reporting on the 2025 rare-earth
licence regime; ⚠ marks a figure that was derived rather than reported.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import NonNegFloat, PosFloat, Probability, Strict


class Resourcing(Strict):
    """A firm moves orders from its controlled sources to other suppliers when its usable
    cover runs low, a licence file has waited too long, or (with `[prices]`) the price
    has risen too far. Usable cover counts stock on
    hand and (with `count_in_transit`) in transit, never stock awaiting a licence or on a
    supplier's back-order. After `qualification_days` the moved share goes to `to`; once
    the material is no longer controlled the shares stay or drift back (`after`)."""

    to: dict[str, Probability] = Field(
        description="Free suppliers (or routes) the moved orders go to, with their shares "
        "of what moves (summing to 1): e.g. Neo's Narva plant (2,000 t/yr) or MP "
        "Materials' Independence (~1,000 t/yr ramping from late 2025); for a part firms "
        "make (`motor_set`), a free supplier selling it, its capacity in pieces a day.")
    away_from: list[str] | None = Field(
        default=None, description="Sources named in the firm's ordering (suppliers or "
        "firms) whose orders move (none: its controlled suppliers). A firm that buys a "
        "part (`motor_set`) from tier-1s whose magnets are controlled names the tier-1s, "
        "and a free supplier selling the part (a motor assembled in China) in `to`; it "
        "then switches while a material upstream of the part (in the tier-1s' bills of "
        "materials) is controlled, and once switched stops counting what those sources "
        "still owe it.")
    move_share: Probability = Field(
        default=1.0, description="Share of the controlled sources' orders moved (1: all).")
    cover_below_days: NonNegFloat | None = Field(
        default=None, description="Trigger: usable cover below this many days of planned "
        "use at an order review. ⚠ 35 days in the baseline, derived as a reorder point: the "
        "cover that lasts while the other route delivers (qualification ~15 days, the "
        "calibrated median before this trigger, + production ~6 + transit ~16).")
    pending_over_days: PosFloat | None = Field(
        default=None, description="Trigger: a licence file of the firm's pending more than "
        "this many calendar days. ⚠ 63 days: the statutory 45 working days are about 63 "
        "calendar days.")
    price_above: float | None = Field(
        default=None, gt=1.0, allow_inf_nan=False, description="Trigger: the material's "
        "price index (`[prices]`) above this at an order review (2: twice the price "
        "before the controls).")
    count_in_transit: bool = Field(
        default=True, description="Usable cover counts stock in transit (on hand only if "
        "false).")
    qualification_days: NonNegFloat = Field(
        default=0.0, description="Days from the decision to switch until the first order "
        "to a new supplier (orders keep going where they went meanwhile). ⚠ Re-qualifying "
        "a substitute magnet grade or motor takes about 6-18 months (180-540 days); a "
        "grade already qualified at another plant much less.")
    after: Literal["stay", "drift_back"] = Field(
        default="stay", description="Once the material is no longer controlled: keep the "
        "new shares (`stay`) or move back to the old ones linearly over "
        "`drift_back_days` (`drift_back`).")
    drift_back_days: PosFloat = Field(
        default=180.0, description="Days the drift back takes. ⚠ about the re-qualification "
        "time (6-18 months); no measured figure.")

    @field_validator("to")
    @classmethod
    def _to(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("must name at least one supplier")
        total = sum(v.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares must sum to 1 (they sum to {total:g})")
        return v

    @model_validator(mode="after")
    def _trigger(self) -> Resourcing:
        if (self.cover_below_days is None and self.pending_over_days is None
                and self.price_above is None):
            raise ValueError("needs a trigger: cover_below_days, pending_over_days, "
                             "price_above, or several")
        return self


class FrontRunning(Strict):
    """Between a policy event's `announced` date and the day it takes effect, buyers raise
    their order-up-to level (target cover) by `cover_factor`, or to `target_cover_days`
    (whichever is higher); after it, the usual target applies again and the extra stock
    carries them into the controls. Germanium exports more than doubled in the month before
    China's 1 August 2023 controls; graphite exports ran at ~45 kt in November 2023 against
    ~17 kt a month before the 1 December 2023 controls (about 2.6x)."""

    cover_factor: float = Field(
        default=1.0, ge=1.0, le=20.0, allow_inf_nan=False,
        description="Target cover times this during the window. ⚠ 2.0: a month of orders "
        "at about twice the usual rate, as germanium in July 2023 (derived).")
    target_cover_days: NonNegFloat | None = Field(
        default=None, description="Or: target cover of this many days during the window.")
    lead_days: PosFloat | None = Field(
        default=None, description="Buyers act only in the last this many days before the "
        "control takes effect (none: from the announcement). ⚠ 30: germanium and graphite "
        "exports surged in the month before their controls took effect (derived).")
    materials: list[str] | None = Field(
        default=None, min_length=1, description="Only these materials (or those the event "
        "names, or all of the firm's if it names none).")


class Route(Strict):
    """A free supplier that is another route: it sells the sub-assembly (a motor assembled
    in China, which the April 2025 licence did not cover) instead of the magnet. Its
    capacity, ramp, production and transit days are the supplier's own and count in kg of
    the firm's material carried inside the assemblies, so one kg bought this way stands
    for one kg of the material the firm would otherwise fit. A route may instead sell a
    part that firms make (its `materials` name that part, counted in pieces): then it
    serves firms whose bill of materials is the part, its capacity is in pieces a day and
    the premium is per piece. A `close_route` policy event (a later rule that controls
    the assemblies) closes it."""

    assembly: str = Field(default="assembly", min_length=1, description="What is bought "
                          "(shown in tables), e.g. `motor`.")
    kg_per_assembly: PosFloat = Field(
        default=1.5, description="kg of the material inside one assembly. ⚠ a battery-EV "
        "traction motor holds about 1.3-2 kg of NdFeB magnet.")
    premium_per_kg: NonNegFloat = Field(
        default=0.0, description="Extra cost (USD) per kg of material bought this way (per "
        "piece, for a route selling a part firms make), over the usual route. ⚠ European "
        "magnet prices rose to up to ~6x Chinese domestic during the controls; no figure "
        "for assembled motors.")
