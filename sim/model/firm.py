"""A manufacturer, composed of parts with their own state: its `Production` (inputs, output,
stock-outs; sim.model.production), its `Ledger` of shipments, and its `Ordering` (order
reviews as a customer). A firm that makes parts for other firms also has finished goods,
sold through a `FirmSupplier` (sim.model.maker).

Suppliers see a firm as a `records.Customer`: who it is, its ledger and delivery.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

import simpy
from simpy.events import Timeout

from ..config.schema import FirmConfig, OrderingConfig, StockpileConfig
from .clock import now, post_call
from .prices import Prices
from .production import Production
from .records import AWAITING, CANCELLED, RECEIVED, TRANSIT, Customer, Shipment
from .sourcing import FrontRunner, Resourcer

EPS_KG = 1e-9


class Source(Protocol):
    """Where a firm orders a material: a supplier, or a firm that makes it."""

    @property
    def controlled(self) -> bool:
        """Whether its shipments may need an export licence."""

    def order(self, firm: Customer, material: str, kg: float, key: int | None) -> None:
        """Order `kg` of `material` for `firm` at its review `key` (None: redirected)."""


class Reserve(Protocol):
    """A stockpile that may release material to a firm whose cover is low."""

    @property
    def cfg(self) -> StockpileConfig: ...

    def serves(self, firm: Customer) -> bool: ...

    def release(self, firm: Customer, material: str, kg: float, key: int) -> float: ...


class Ledger:
    """A firm's shipments and, per material, the kg ordered and the kg in each shipment
    state (records.AWAITING ... CANCELLED)."""

    def __init__(self, materials: Mapping[str, float]) -> None:
        self.shipments: list[Shipment] = []
        self.ordered = dict.fromkeys(materials, 0.0)
        self.by_state = {m: [0.0, 0.0, 0.0, 0.0] for m in materials}

    def add(self, sh: Shipment) -> None:
        self.shipments.append(sh)
        self.ordered[sh.material] += sh.kg
        self.by_state[sh.material][sh.state] += sh.kg

    def move(self, sh: Shipment, state: int) -> None:
        """Record a shipment changing state (and its kg moving between ledger columns)."""
        col = self.by_state[sh.material]
        col[sh.state] -= sh.kg
        col[state] += sh.kg
        sh.state = state

    def split(self, sh: Shipment, kg: float) -> Shipment:
        """Part of an order a firm supplier dispatches: `kg` of `sh` becomes a shipment of
        its own (the same order: nothing more is ordered)."""
        part = Shipment(sh.firm, sh.material, kg, sh.supplier, sh.state, sh.draws, sh.key,
                        sh.source)
        sh.kg -= kg
        self.shipments.append(part)
        return part

    def outstanding(self, material: str) -> float:
        col = self.by_state[material]
        return col[AWAITING] + col[TRANSIT]

    def check(self, name: str, states: dict[str, list[float]],
              tol: dict[str, float]) -> list[str]:
        """Violations of: ordered = received + in transit + awaiting + cancelled, and the
        running columns = the shipments' `states` (per material, kg)."""
        problems = []
        for m, cols in states.items():
            ordered = sum(cols)
            if abs(ordered - self.ordered[m]) > tol[m]:
                problems.append(f"{name}/{m}: ordered {self.ordered[m]:.6g} kg but "
                                f"shipments hold {ordered:.6g} kg")
            if any(abs(a - b) > tol[m] for a, b in zip(cols, self.by_state[m], strict=True)):
                problems.append(f"{name}/{m}: ledger {self.by_state[m]} != shipments {cols}")
            if min(cols) < -tol[m]:
                problems.append(f"{name}/{m}: negative quantity")
        return problems

    def states(self) -> dict[str, list[float]]:
        """Per material, the kg in each state summed over the shipments."""
        out = {m: [0.0, 0.0, 0.0, 0.0] for m in self.by_state}
        for sh in self.shipments:
            out[sh.material][sh.state] += sh.kg
        return out


class Ordering:
    """A firm as a customer: every review period it orders each material up to the target
    cover of its inventory position, split across its sources by their shares, and may
    draw on the stockpile. Its policies may change both: `resourcing` the shares (moving
    orders away from controlled sources), `front_running` the target cover (before an
    announced control). It keeps, per review, the orders placed per (source, material)
    and the demand seen per material (for the bullwhip ratio), and the sources that cut
    its last order (shortage gaming)."""

    def __init__(self, env: simpy.Environment, customer: Customer, cfg: OrderingConfig,
                 production: Production, ledger: Ledger, sources: Mapping[str, Source],
                 shares: Mapping[str, Mapping[str, float]],
                 stockpile: Reserve | None = None, resourcing: Resourcer | None = None,
                 front_running: FrontRunner | None = None) -> None:
        self.env = env
        self.customer = customer
        self.cfg = cfg
        self.production = production
        self.ledger = ledger
        self.suppliers = sources
        self.shares = {m: dict(v) for m, v in shares.items()}
        self.stockpile = stockpile
        self.resourcing = resourcing
        self.front_running = front_running
        if resourcing is not None:  # the sources it may move to get arcs of their own
            for m, g in self.shares.items():
                for n in resourcing.switched[m]:
                    g.setdefault(n, 0.0)
        self.now_shares = self.shares  # the shares its last review used, per material
        if resourcing is not None:
            self.now_shares = dict(self.shares)
        self.reviews = 0  # order reviews so far
        self.cut: dict[str, bool] = {}
        self.placed: dict[tuple[str, str], list[float]] = {
            (n, m): [] for m, g in self.shares.items() for n in g}
        bom = production.bom
        self.seen: dict[str, list[float]] = {m: [] for m in bom}
        self._seen_at = (0.0, dict.fromkeys(bom, 0.0))

    def seed_pipeline(self) -> None:
        """The orders already in flight at the start, arriving one review period apart."""
        o = self.cfg
        if o.in_transit_days > 0:
            period = o.review_period_days
            n = max(1, math.ceil(o.in_transit_days / period))
            for m, u in self.production.use.items():
                for k in range(n):
                    span = min(period, o.in_transit_days - k * period)
                    sh = Shipment(self.customer, m, u * span, "initial", TRANSIT)
                    self.ledger.add(sh)
                    post_call(self.env, k * period + span, self.customer.receive, sh)

    def start(self) -> None:
        """Start reviewing orders."""
        self.env.process(self._review_loop())

    def _review_loop(self):  # noqa: ANN202 - a SimPy process
        period = self.cfg.review_period_days
        while True:
            self.review()
            yield Timeout(self.env, period)

    def review(self) -> None:
        """Order up to the target cover of inventory position, split across sources.

        The review's number keys the random steps of what it orders: a variant in which
        this review orders nothing, or more, leaves later reviews' draws alone."""
        prod = self.production
        prod.advance()
        key = self.reviews
        self.reviews = key + 1
        o = self.cfg
        stock = prod.stock
        by_state = self.ledger.by_state
        outstanding = self.ledger.outstanding
        customer = self.customer
        stockpile = self.stockpile
        suppliers = self.suppliers
        placed = self.placed
        resourcing = self.resourcing
        front = self.front_running
        t = now(self.env) if resourcing is not None or front is not None else 0.0
        self._see()
        for m, u in prod.use.items():
            target = (o.target_cover_days if front is None
                      else front.target_days(m, t, o.target_cover_days)) * u
            shares = (self.shares[m] if resourcing is None
                      else resourcing.shares(m, t, stock[m], by_state[m][TRANSIT], u))
            position = stock[m] + outstanding(m)
            if resourcing is not None:
                position -= resourcing.written_off(m)
            if stockpile is not None and stockpile.serves(customer):
                cover = stock[m] / u
                if cover < stockpile.cfg.trigger_cover_days:
                    need = target - stock[m] - by_state[m][TRANSIT]
                    position += stockpile.release(customer, m, need, key) if need > 0 else 0.0
            q = target - position
            if q <= EPS_KG * target:
                for s_name in self.shares[m]:
                    placed[s_name, m].append(0.0)
                continue
            if shares is not self.shares[m]:
                shares = self.now_shares[m] = {n: shares.get(n, 0.0) for n in self.shares[m]}
            for s_name, share in shares.items():
                kg = q * share
                if self.cut.get(s_name):  # cut last time: ask for more (shortage gaming)
                    kg *= o.cut_inflation
                    self.cut[s_name] = False
                placed[s_name, m].append(kg if share > 0.0 else 0.0)
                if share > 0.0:
                    suppliers[s_name].order(customer, m, kg, key)
        if resourcing is not None:
            resourcing.watch(self.ledger.shipments, t)

    def _see(self) -> None:
        """The demand for each material since the last review: what the firm's customers
        ordered (through its bill of materials) if it makes for firms, else what it
        used."""
        then, used = self._seen_at
        prod = self.production
        goods = prod.goods
        seen = {m: (goods.ordered * k if goods is not None else prod.consumed[m])
                for m, k in prod.bom.items()}
        for m in prod.bom:
            self.seen[m].append(seen[m] - used[m])
        self._seen_at = (now(self.env), seen)

    def reorder(self, sh: Shipment) -> None:
        """Order the quantity of a shipment refused for good from the unlicensed sources of
        its material, by their relative shares."""
        suppliers = self.suppliers
        others = [
            (suppliers[n], s) for n, s in self.now_shares[sh.material].items()
            if s > 0 and not suppliers[n].controlled
        ]
        total = sum(s for _, s in others)
        for sup, s in others:
            sup.order(self.customer, sh.material, sh.kg * s / total, None)


class Firm:
    """One product line: its production, its ledger of shipments and its ordering.

    It orders from `sources` (by name, as its shares name them) and may draw on the
    `stockpile`; shipments reach it through `deliver`, and only before `horizon`."""

    def __init__(self, env: simpy.Environment, name: str, cfg: FirmConfig, horizon: float,
                 production: Production, sources: Mapping[str, Source],
                 stockpile: Reserve | None = None,
                 shares: Mapping[str, Mapping[str, float]] | None = None,
                 resourcing: Resourcer | None = None,
                 front_running: FrontRunner | None = None,
                 prices: Prices | None = None) -> None:
        self.env = env
        self.prices = prices  # the price indices it pays premiums by, if any
        self.name = name
        self.cfg = cfg
        self.horizon = horizon
        self.sector = cfg.sector
        self.destination = cfg.destination
        self.end_use = cfg.end_use
        self.production = production
        self.ledger = ledger = Ledger(production.bom)
        self.ordering = Ordering(
            env, self, cfg.ordering, production, ledger, sources,
            shares if shares is not None
            else dict.fromkeys(production.bom, cfg.ordering.suppliers), stockpile,
            resourcing, front_running)
        # What its suppliers use (records.Customer), bound once.
        self.add_shipment = ledger.add
        self.move = ledger.move
        self.split = ledger.split
        self.cut = self.ordering.cut

    def start(self) -> None:
        """Seed the pipeline (orders already in flight) and start production and reviews."""
        self.ordering.seed_pipeline()
        self.production.start()
        self.ordering.start()

    def deliver(self, sh: Shipment, day: float) -> None:
        """The shipment reaches the firm on `day`; usable after its pipeline days."""
        day += self.cfg.pipeline_days
        if day < self.horizon:
            post_call(self.env, day - now(self.env), self.receive, sh)

    def receive(self, sh: Shipment) -> None:
        """A shipment arrives and becomes usable stock."""
        self.ledger.move(sh, RECEIVED)
        book = self.production.book
        if book is not None:
            book.receive(sh.supplier, sh.kg)
        if self.prices is not None:
            self.prices.receive(self.name, sh.material, sh.kg)
        self.production.receive(sh.material, sh.kg)  # brings its use up to now first
        origin = self.production.origin
        if origin is not None:
            origin.received(sh)

    def cancel(self, sh: Shipment) -> None:
        """Refused for good: the shipment is dropped."""
        self.ledger.move(sh, CANCELLED)

    def redirect(self, sh: Shipment) -> None:
        """Refused for good: cancel the shipment and order the quantity from the firm's
        unlicensed sources by their relative shares."""
        self.ledger.move(sh, CANCELLED)
        self.ordering.reorder(sh)

    def finish(self) -> None:
        """Close the books at the end of the horizon."""
        self.production.finish()

    def check_conservation(self) -> list[str]:
        """Return violations of: ordered = received + in transit + awaiting + cancelled, and
        initial + received = consumed + on hand (per material, kg)."""
        states = self.ledger.states()
        prod = self.production
        tol = {m: 1e-6 * max(1.0, sum(states[m]), prod.initial_stock[m]) for m in prod.bom}
        received = {m: states[m][RECEIVED] for m in prod.bom}
        return (self.ledger.check(self.name, states, tol)
                + prod.check(self.name, received, tol))
