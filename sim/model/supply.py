"""Suppliers: the controlled exporter, capacity-limited free suppliers, the stockpile."""

from __future__ import annotations

import bisect
import math

import simpy

from ..config.schema import StockpileConfig, SupplierConfig
from .calendar import WorkingCalendar
from .clock import now
from .licensing import Licensing
from .orders import OrderBook
from .records import (
    AWAITING,
    EXEMPT,
    HOLD,
    HOLD_DAYS,
    PRODUCTION,
    SHIPMENT_STEPS,
    TRANSIT,
    TRANSIT_DAYS,
    Customer,
    ExportLog,
    Shipment,
)
from .rng import Keys, Streams


def keyed_shipment(keys: Keys, firm: Customer, material: str, kg: float, origin: str,
                   state: int, source: str, key: int | None) -> Shipment:
    """A new shipment from `origin` to `firm`, its random steps row `key` of the keyed
    table `source` (for key None, that table's next row), added to the firm's ledger."""
    draws = keys(source, SHIPMENT_STEPS)
    sh = Shipment(firm, material, kg, origin, state, draws,
                  draws.take() if key is None else key, source)
    firm.add_shipment(sh)
    return sh


class Supplier:
    """Common part: production, customs hold, transit, delivery to the firm.

    A shipment's random steps (records.PRODUCTION ...) are its row of the keyed table of
    its source, ``<supplier>.<firm>.<material>.<part>``: the firm's k-th order of that
    material from this supplier gets row k whatever else happened."""

    controlled = False
    exports: ExportLog | None = None  # where dispatches are recorded (the controlled exporter)
    licensing: Licensing | None = None  # where its shipments' licences are filed, if any

    def __init__(self, env: simpy.Environment, name: str, cfg: SupplierConfig,
                 streams: Streams) -> None:
        self.env = env
        self.name = name
        self.cfg = cfg
        self.keys: Keys = streams.keys
        self.production = cfg.production_days
        self.transit = cfg.transit_days
        self.hold_p = cfg.customs_hold.probability
        self.hold_days = cfg.customs_hold.days

    def order(self, firm: Customer, material: str, kg: float, key: int | None) -> None:
        """Order `kg` of `material` for `firm`; `key` is the firm's order review that placed
        it (None: a redirected refusal, keyed by its own count)."""
        raise NotImplementedError

    def licensed(self, sh: Shipment) -> None:
        """Dispatch a shipment whose licence came through (or was not needed after all)."""
        raise NotImplementedError

    def refused(self, sh: Shipment) -> None:
        """Refused for good: nothing to undo (it was never dispatched)."""

    def decided(self, i: int) -> None:
        """The authority decided application row `i` of a shipment this supplier filed
        (as the applicant): its licensing says what follows."""
        self.licensing.decided(i, self)  # type: ignore[union-attr] - it filed, so it has one

    def add_capacity(self, now: float, delta: float) -> None:
        raise NotImplementedError(f"supplier {self.name!r} has no capacity to change")

    def _shipment(self, firm: Customer, material: str, kg: float, state: int, key: int | None,
                  part: int = 0) -> Shipment:
        """A new shipment of this supplier's: part `part` of the order the firm's review
        `key` placed for `material` (or, for key None, its next redirected order)."""
        source = f"{self.name}.{firm.name}.{material}.{part}"
        if key is None:
            source += ".redirect"
        return keyed_shipment(self.keys, firm, material, kg, self.name, state, source, key)

    def _ship(self, sh: Shipment, go: float) -> None:
        """Dispatch at calendar day `go`, then transit to the firm. Licensed shipments may
        be held by export inspections first (keyword-triggered customs checks)."""
        draws, key = sh.draws, sh.key
        if (self.hold_p > 0.0 and (sh.application is not None or sh.covered)
                and draws.u(key, HOLD) < self.hold_p):
            go += draws.variate(key, HOLD_DAYS, self.hold_days)
        if self.exports is not None:
            self.exports.record(go, sh.firm.destination, sh.material, sh.kg)
        if sh.state != TRANSIT:
            sh.firm.move(sh, TRANSIT)
        sh.firm.deliver(sh, go + draws.variate(key, TRANSIT_DAYS, self.transit))


class ControlledExporter(Supplier):
    """Unlimited capacity; a licence per shipment while the material is controlled. Every
    dispatch is recorded in `exports`."""

    controlled = True

    def __init__(self, env: simpy.Environment, name: str, cfg: SupplierConfig,
                 streams: Streams, licensing: Licensing, exports: ExportLog) -> None:
        super().__init__(env, name, cfg, streams)
        self.licensing = licensing
        self.exports = exports

    def order(self, firm: Customer, material: str, kg: float, key: int | None) -> None:
        cap = self.cfg.max_shipment_kg
        parts = 1 if cap is None else max(1, math.ceil(kg / cap - 1e-9))
        licensing = self.licensing
        for part in range(parts):
            sh = self._shipment(firm, material, kg / parts, AWAITING, key, part)
            t = now(self.env)
            sh.ready_day = t + sh.draws.variate(sh.key, PRODUCTION, self.production)
            if licensing.needs(material, sh.draws.u(sh.key, EXEMPT), t):
                licensing.apply(sh, 1, self)
            else:
                self._ship(sh, sh.ready_day)

    def licensed(self, sh: Shipment) -> None:
        """The licence came through: dispatch when production is ready."""
        self._ship(sh, max(now(self.env), sh.ready_day))


class FreeSupplier(Supplier, OrderBook):
    """No licence (unless a `foreign_content` rule covers the Chinese-origin share of its
    shipments); a capacity in kg/day that follows a ramp-up schedule (dates on
    `calendar`) and may be raised by policy events. It makes to order: while orders are
    open, the capacity made since the last dispatch is shared between them by its
    `allocation` rule every `dispatch_every_days`; capacity with no order waiting is lost."""

    def __init__(self, env: simpy.Environment, name: str, cfg: SupplierConfig,
                 streams: Streams, calendar: WorkingCalendar,
                 licensing: Licensing | None = None) -> None:
        Supplier.__init__(self, env, name, cfg, streams)
        OrderBook.__init__(self, env, cfg)
        self.licensing = licensing
        self.china_share = cfg.china_content_share
        cal = calendar
        self._t = [0.0]
        self._rate = [float(cfg.capacity_kg_per_day or 0.0)]
        for step in cfg.ramp:
            t = max(0.0, cal.day_of(step.start))
            if t == self._t[-1]:
                self._rate[-1] = step.kg_per_day
            else:
                self._t.append(t)
                self._rate.append(step.kg_per_day)
        self._pool = 0.0  # made since the last dispatch and not yet given
        self._last = 0.0
        self._idle = True
        self.closed = False  # a route a later rule closed: it carries nothing more

    def add_capacity(self, now: float, delta: float) -> None:
        """Add `delta` kg/day from `now` on."""
        i = bisect.bisect_right(self._t, now) - 1
        if self._t[i] != now:
            self._t.insert(i + 1, now)
            self._rate.insert(i + 1, self._rate[i])
            i += 1
        for j in range(i, len(self._rate)):
            self._rate[j] = max(0.0, self._rate[j] + delta)

    def made(self, start: float, end: float) -> float:
        """kg the capacity makes from `start` to `end`."""
        i = bisect.bisect_right(self._t, start) - 1
        t, kg = start, 0.0
        while t < end:
            stop = min(end, self._t[i + 1] if i + 1 < len(self._t) else math.inf)
            kg += self._rate[i] * (stop - t)
            t = stop
            i += 1
        return kg

    def close(self) -> None:
        """A later rule closes this route: no capacity from now on, and the orders on its
        book (and any placed later) are cancelled in their firms' ledgers."""
        self.add_capacity(now(self.env), -math.inf)
        self.closed = True
        self._pool, self._last = 0.0, now(self.env)
        for sh in self.book:
            sh.firm.cancel(sh)
        self.book = []
        self._open = {}

    def order(self, firm: Customer, material: str, kg: float, key: int | None) -> None:
        sh = self._shipment(firm, material, kg, AWAITING, key)
        if self.closed:
            firm.cancel(sh)
            return
        lic = self.licensing
        if (self.china_share > 0.0 and lic is not None and lic.foreign_needs(self.name, material)
                and sh.draws.u(sh.key, EXEMPT) < self.china_share):
            lic.apply(sh, 1, self)  # Chinese-origin content: a licence first
        else:
            self.open_order(sh)

    def licensed(self, sh: Shipment) -> None:
        """Its licence came through: the order joins the others (unless the route closed)."""
        if self.closed:
            sh.firm.cancel(sh)
        else:
            self.open_order(sh)

    def available(self) -> float:
        t = now(self.env)
        if self._idle:
            self._last, self._idle = t, False
        self._pool += self.made(self._last, t)
        self._last = t
        return self._pool

    def taken(self, amount: float) -> None:
        self._pool = max(0.0, self._pool - amount)

    def idle(self) -> None:
        self._pool, self._idle = 0.0, True  # making to order: no order, nothing kept

    def send(self, sh: Shipment, now: float) -> None:
        self._ship(sh, now + sh.draws.variate(sh.key, PRODUCTION, self.production))


class Stockpile:
    """A finite reserve released to listed sectors when their on-hand cover is low. A
    release's days are step TRANSIT_DAYS of its row in ``stockpile.<firm>.<material>``."""

    def __init__(self, env: simpy.Environment, cfg: StockpileConfig, streams: Streams) -> None:
        self.env = env
        self.cfg = cfg
        self.stock = dict(cfg.stock_kg)
        self.active = cfg.available_from_start
        self.released_kg = 0.0
        self.release_days = cfg.release_days
        self.keys: Keys = streams.keys

    def serves(self, firm: Customer) -> bool:
        return self.active and firm.sector in self.cfg.sectors

    def release(self, firm: Customer, material: str, kg: float, key: int) -> float:
        """Release up to `kg` at the firm's order review `key`; returns what was released."""
        kg = min(kg, self.stock.get(material, 0.0))
        if kg <= 0.0:
            return 0.0
        self.stock[material] -= kg
        self.released_kg += kg
        sh = keyed_shipment(self.keys, firm, material, kg, "stockpile", TRANSIT,
                            f"stockpile.{firm.name}.{material}", key)
        firm.deliver(sh, now(self.env) + sh.draws.variate(sh.key, TRANSIT_DAYS,
                                                            self.release_days))
        return kg

