"""How buyers and the authority respond to the controls: what other buyers do with a file
that is refused or waits too long, and licences that cover more than one shipment.

Each section is off unless its table is given; the defaults inside a table are sourced
in comments (⚠ where derived rather than reported).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, PlainValidator, field_validator, model_validator

from .base import Date, NonNegFloat, PosFloat, Probability, Sector, Strict
from .distributions import Distribution, nonnegative


def _patience(v: object) -> float | str:
    if v == "never":
        return "never"
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < math.inf:
        raise ValueError(f'should be a number of days above 0 or "never" (got {v!r})')
    return float(v)


Patience = Annotated[float | Literal["never"], PlainValidator(_patience)]
"""Days a buyer waits, above 0, or "never" (waits for ever)."""


class DeferredDemand(Strict):
    """Other buyers' files that are refused, or still undecided `patience_days` after
    they were filed, are withdrawn and then re-filed, bought elsewhere or given up, by
    the shares below. A re-filed file is a new application (the next attempt) after
    `refile_after_days`; after `max_attempts` filings the re-file share goes to the other
    two fates in proportion (all to giving up if both are 0)."""

    # ⚠ derived: in September the EU Chamber's members still had 121 of 141 files pending,
    # filed from April on: buyers kept files open five months and more rather than
    # withdraw them, so about six months (far beyond the statutory 45 working days).
    patience_days: Patience = Field(
        default=180.0, description="Calendar days after filing that a buyer waits for a "
        'decision before acting (`"never"`: waits for ever; only refusals trigger a fate).')
    # ⚠ derived: July-December 2025 exports ran at 1.15-1.27x the 2024 level after the
    # April-June squeeze, so most deferred demand came back to the Chinese exporter.
    refile_share: Probability = Field(
        default=0.8, description="Share of withdrawn or refused files filed again.")
    # ⚠ derived: non-China supply was about 5-6% of magnets for US/EU buyers in 2025.
    elsewhere_share: Probability = Field(
        default=0.05, description="Share bought from another source (not a Chinese export).")
    # ⚠ derived: the rest; 2025's exports (57,392 t) were 1.3% below 2024's (58,152 t).
    give_up_share: Probability = Field(
        default=0.15, description="Share given up (the demand is lost).")
    # ⚠ derived: refiling the papers, as a firm's resubmission (5-15 days).
    refile_after_days: Distribution = Field(
        default={"dist": "uniform", "low": 5.0, "high": 15.0},  # type: ignore[assignment]
        description="Calendar days from withdrawal or refusal to the new filing.")
    # ⚠ derived: an assumption; bounds the chain of filings of one shipment.
    max_attempts: int = Field(
        default=3, ge=1, description="Filings of one shipment, in all (the first included).")

    @field_validator("refile_after_days")
    @classmethod
    def _nonneg(cls, d: Distribution) -> Distribution:
        if not nonnegative(d):
            raise ValueError("refile_after_days must not take negative values")
        return d

    @model_validator(mode="after")
    def _shares(self) -> DeferredDemand:
        total = self.refile_share + self.elsewhere_share + self.give_up_share
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"refile_share + elsewhere_share + give_up_share must sum to 1 (they sum to "
                f"{total:g}: {self.refile_share:g}, {self.elsewhere_share:g}, "
                f"{self.give_up_share:g})")
        return self


class OrderingAhead(Strict):
    """Other buyers file for a shipment ahead of the day they need it, by the licence
    lead time they have seen: when licences take longer they file earlier, so a rise in
    the lead time brings forward a wave of filings and a fall leaves a lull (the pipeline
    filled by orders, Forrester's and Lee et al.'s bullwhip, rather than by shipments
    missed). Their estimate is the mean filing-to-approval time of their approved files,
    smoothed day by day over `memory_days`; they file `anticipation` times it ahead, at
    most `max_days`. A shipment that needs no licence when it is filed still leaves on
    the day it is needed."""

    # ⚠ derived: 1 = buyers order exactly one lead time ahead (an order-up-to policy that
    # counts its pipeline); 0 = they do not react. Uncertain (2025 calibration).
    anticipation: NonNegFloat = Field(
        default=1.0, description="Multiple of the lead time seen that buyers file ahead "
        "of need (0: they do not).")
    # ⚠ derived: buyers see a month or so of decisions before they change how far ahead
    # they order.
    memory_days: PosFloat = Field(
        default=30.0, description="Calendar days over which buyers smooth the lead times "
        "they see (an exponential average, updated daily).")
    # ⚠ derived: FACTS §3, buffers (on hand and in transit) of 25-100 days: buyers do not
    # order much further ahead than the stock they are used to carrying.
    max_days: PosFloat = Field(
        default=120.0, description="Most calendar days ahead of need that buyers file.")


class LicenceCover(Strict):
    """A licence granted for a modelled firm's shipment also covers that exporter's
    further shipments of the same material to the same firm, up to `quantity_kg` of them
    (the shipment it was granted for aside) and for `validity_days` from the grant; a
    covered shipment needs no application and skips the queue. A shipment that does not
    fit what is left files as usual, and its licence, once granted, replaces the old
    one."""

    # ⚠ derived: no quantity was reported. A licence per shipment was a median 2 t, mean
    # ~6 t; six monthly shipments of ~6 t is about 36 t.
    quantity_kg: PosFloat = Field(
        default=36000.0, description="kg of further shipments one licence covers.")
    # The first multi-shipment licences (2 June 2025, to suppliers of the top three US
    # automakers) ran six months; December 2025's general licences ran a year.
    validity_days: PosFloat = Field(
        default=183.0, description="Calendar days from the grant that a licence covers.")
    # None: from the start. The 2025 scenario's first such licences: 2025-06-02.
    granted_from: Date | None = Field(
        default=None, description="Only licences granted on or after this date cover "
        "further shipments (none: from the start).")
    # The 2 June 2025 licences went to suppliers of US automakers (sector auto).
    sectors: list[Sector] | None = Field(
        default=None, min_length=1,
        description="Sectors whose suppliers get such licences (none: all).")


class RationLine(Strict):
    """One product line of a firm that rations: its share of the firm's planned output and
    the value of one of its units."""

    name: str = Field(min_length=1, description="The line's name (shown in errors), e.g. `ev`.")
    share: Probability = Field(description="Share of the firm's planned units (the shares "
                               "of a firm's lines sum to 1).")
    value: NonNegFloat = Field(description="Value of one unit of this line (USD).")


class Rationing(Strict):
    """A short firm gives its scarce material to its highest-value lines first. The firm
    runs its lines (by value, highest first) while its stock on hand covers them for at
    least `min_cover_days` at their planned use; when it no longer does, the lowest-value
    line still running stops, and when a delivery lifts the cover the stopped lines start
    again (after `restart_delay_days`). The top line runs while there is any stock. Lines
    share one bill of materials (kg per unit), so a line uses material in proportion to
    its units. Stock in transit does not count: the decision is on what is at hand.

    The firm's `unit_value` must be the plan-weighted mean of the lines' values, so its
    planned value is unchanged; its `value_lost` is the planned value less the value of
    the units each line made. A day on which some line is stopped counts as downtime
    (`downtime_days`: days below plan); `stopped_days` counts the days every line was
    stopped."""

    lines: list[RationLine] = Field(min_length=2, description="The firm's product lines, "
                                    "at least two (in any order).")
    # ⚠ derived: no threshold was reported. In 2025 firms cut single lines or models
    # rather than whole plants (Ford idled the Chicago Explorer line; Maruti cut its
    # e-Vitara plan 69% April-September; FACTS §3). Two weeks is about the time to the
    # next delivery of a firm that reviews weekly with a week's transit.
    min_cover_days: PosFloat = Field(
        default=14.0, description="Days of planned use of the lines running that stock on "
        "hand must cover; below it the lowest-value running line stops.")

    @model_validator(mode="after")
    def _lines(self) -> Rationing:
        total = sum(line.share for line in self.lines)
        if abs(total - 1.0) > 1e-6:
            listed = ", ".join(f"{x.name} {x.share:g}" for x in self.lines)
            raise ValueError(f"the lines' shares must sum to 1 (they sum to {total:g}: "
                             f"{listed})")
        names = [x.name for x in self.lines]
        for k, n in enumerate(names):
            if n in names[:k]:
                raise ValueError(f"line {n!r} is listed twice (lines.{names.index(n)} and "
                                 f"lines.{k})")
        if any(x.share <= 0.0 for x in self.lines):
            bad = next(x.name for x in self.lines if x.share <= 0.0)
            raise ValueError(f"line {bad!r} has share 0: a line makes some of the plan")
        return self

    def mean_value(self) -> float:
        """The plan-weighted mean of the lines' unit values (USD)."""
        return sum(x.share * x.value for x in self.lines)


class ResponseSwitches(Strict):
    """Switches for the responses a config sets up, all on by default: `false` turns a
    mechanism off wherever the config gives it, leaving its settings (and the uncertain
    parameters that name them) in place -- for a scenario that asks what one mechanism
    carries, paired with the config that keeps it on (`rareshock compare`)."""

    deferred_demand: bool = Field(
        default=True, description="Other buyers' refused or long-pending files are "
        "re-filed, bought elsewhere or given up (`authority.background.deferred`).")
    ordering_ahead: bool = Field(
        default=True, description="Other buyers file ahead of need by the lead time they "
        "see (`authority.background.ordering_ahead`).")
    licence_cover: bool = Field(
        default=True, description="Licences cover further shipments "
        "(`authority.licence_cover`).")
    resourcing: bool = Field(
        default=True, description="Firms re-source (`firms.NAME.ordering.resourcing`).")
    front_running: bool = Field(
        default=True, description="Firms front-run announced controls (`front_running`, "
        "`firms.NAME.ordering.front_running`).")
    rationing: bool = Field(
        default=True, description="Firms ration short material across their lines "
        "(`firms.NAME.rationing`).")
