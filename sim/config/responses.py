"""How buyers and the authority respond to the controls: what other buyers do with a file
that is refused or waits too long, and licences that cover more than one shipment.

Each section is off unless its table is given; the defaults inside a table are sourced
in comments (⚠ where derived rather than reported).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, PlainValidator, field_validator, model_validator

from .base import Date, PosFloat, Probability, Sector, Strict
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
        default=None, description="Sectors whose suppliers get such licences (none: all).")


class ResponseSwitches(Strict):
    """Switches for the responses a config sets up, all on by default: `false` turns a
    mechanism off wherever the config gives it, leaving its settings (and the uncertain
    parameters that name them) in place -- for a scenario that asks what one mechanism
    carries, paired with the config that keeps it on (`rareshock compare`)."""

    deferred_demand: bool = Field(
        default=True, description="Other buyers' refused or long-pending files are "
        "re-filed, bought elsewhere or given up (`authority.background.deferred`).")
    licence_cover: bool = Field(
        default=True, description="Licences cover further shipments "
        "(`authority.licence_cover`).")
    resourcing: bool = Field(
        default=True, description="Firms re-source (`firms.NAME.ordering.resourcing`).")
    front_running: bool = Field(
        default=True, description="Firms front-run announced controls (`front_running`, "
        "`firms.NAME.ordering.front_running`).")
