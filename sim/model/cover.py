"""Licences that cover more than one shipment: a licence granted for a shipment from an
exporter to a firm also covers that pair's further shipments of the same material, up to
a quantity and until it expires."""

from __future__ import annotations

import math

from ..config.responses import LicenceCover
from .calendar import WorkingCalendar


class LicenceCovers:
    """The multi-shipment licences held, by (exporter, firm, material): each is
    [expiry day, kg still covered]. `shipments`, `kg` and `granted` count the shipments
    covered, their kg and the licences granted that cover further shipments."""

    def __init__(self, cfg: LicenceCover, calendar: WorkingCalendar) -> None:
        self.quantity = cfg.quantity_kg
        self.validity = cfg.validity_days
        self.sectors = None if cfg.sectors is None else frozenset(cfg.sectors)
        self.from_day = (calendar.day_of(cfg.granted_from) if cfg.granted_from is not None
                         else -math.inf)
        self.held: dict[tuple[str, str, str], list[float]] = {}
        self.shipments = 0
        self.kg = 0.0
        self.granted = 0

    def grant(self, exporter: str, firm: str, material: str, sector: str, day: float) -> None:
        """A licence for a shipment of `material` from `exporter` to `firm` (of `sector`)
        was granted on `day`: from then on it covers further shipments (it replaces any
        earlier one of the pair)."""
        if day < self.from_day or (self.sectors is not None and sector not in self.sectors):
            return
        self.held[exporter, firm, material] = [day + self.validity, self.quantity]
        self.granted += 1

    def covers(self, exporter: str, firm: str, material: str, kg: float, day: float) -> bool:
        """Whether a licence of the pair covers a shipment of `kg` leaving on `day`; if so
        its kg are taken from what the licence has left."""
        lic = self.held.get((exporter, firm, material))
        if lic is None or day >= lic[0] or kg > lic[1] * (1.0 + 1e-12):
            return False
        lic[1] = max(0.0, lic[1] - kg)
        self.shipments += 1
        self.kg += kg
        return True
