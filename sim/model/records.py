"""Typed records kept during a replication: applications and shipments."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .firm import Firm

# Application states (where the file is now).
PRE, QUEUED, REVIEW, RFI, SHELF, CLOSED = range(6)
# Outcomes.
UNDECIDED, APPROVED, REFUSED = 0, 1, 2
OUTCOME_NAMES = ("pending", "approved", "refused")

# Shipment states, for the conservation identity.
AWAITING, TRANSIT, RECEIVED, CANCELLED = range(4)


class Shipment:
    """A quantity of one material on its way to one firm (kg)."""

    __slots__ = ("firm", "material", "kg", "supplier", "state", "ready_day", "application")

    def __init__(self, firm: Firm, material: str, kg: float, supplier: str, state: int) -> None:
        self.firm = firm
        self.material = material
        self.kg = kg
        self.supplier = supplier
        self.state = state
        self.ready_day = 0.0  # when the exporter could dispatch it, licence aside
        self.application: Application | None = None


class Application:
    """One export-licence application (one attempt for one shipment)."""

    __slots__ = (
        "id", "firm", "sector", "end_use", "material", "destination", "quantity_kg",
        "priority", "attempt", "submitted", "accepted", "review_start", "decided",
        "outcome", "state", "wait", "review", "rfi_rounds", "enqueued_at", "general",
        "shipment", "approve_p",
    )

    def __init__(
        self,
        app_id: int,
        firm: Firm | None,
        sector: str,
        end_use: str,
        material: str,
        destination: str,
        quantity_kg: float,
        priority: int,
        attempt: int,
        submitted: float,
        shipment: Shipment | None,
    ) -> None:
        self.id = app_id
        self.firm = firm
        self.sector = sector
        self.end_use = end_use
        self.material = material
        self.destination = destination
        self.quantity_kg = quantity_kg
        self.priority = priority
        self.attempt = attempt
        self.submitted = submitted
        self.accepted = float("nan")
        self.review_start = float("nan")
        self.decided = float("nan")
        self.outcome = UNDECIDED
        self.state = PRE
        self.wait = 0.0
        self.review = 0.0
        self.rfi_rounds = 0
        self.enqueued_at = 0.0
        self.general = False
        self.shipment = shipment
        self.approve_p = 0.0
