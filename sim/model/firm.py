"""A manufacturer: event-driven production, inventory, ordering, stock-outs and recovery.

Consumption is a flow at the current production rate. Stock levels are brought up to date
only when something happens (a receipt, an order review, a predicted stock-out, a restart),
and the next stock-out is predicted and scheduled rather than polled for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import simpy
from simpy.events import Timeout

from ..config.schema import FirmConfig
from .clock import now, post_call
from .records import AWAITING, CANCELLED, RECEIVED, TRANSIT, Shipment

if TYPE_CHECKING:
    from .supply import Stockpile, Supplier

RUN, DOWN, SUB = 0, 1, 2
EPS_KG = 1e-9


class Firm:
    """One product line. Quantities in kg, rates in units per calendar day.

    It orders from `suppliers` (by name, as its ordering shares name them) and may draw
    on the `stockpile`; shipments reach it through `deliver`, and only before `horizon`.
    Production counts as recovered after `recovery_window` days back at plan.
    """

    def __init__(self, env: simpy.Environment, name: str, cfg: FirmConfig, horizon: float,
                 recovery_window: float, suppliers: Mapping[str, Supplier],
                 stockpile: Stockpile | None = None,
                 sources: Mapping[str, Mapping[str, float]] | None = None) -> None:
        self.env = env
        self.name = name
        self.cfg = cfg
        self.horizon = horizon
        self.recovery_window = recovery_window
        self.suppliers = suppliers
        self.stockpile = stockpile
        self.sector = cfg.sector
        self.destination = cfg.destination
        self.end_use = cfg.end_use
        self.plan = cfg.units_per_day
        self.bom = dict(cfg.bom)
        self.use = {m: self.plan * k for m, k in self.bom.items()}  # kg/day at plan
        self.stock = {m: cfg.initial_cover_days * u for m, u in self.use.items()}
        self.initial_stock = dict(self.stock)
        # Ledger per material (kg): shipments by state, receipts, consumption.
        self.shipments: list[Shipment] = []
        self.ordered = dict.fromkeys(self.bom, 0.0)
        self.by_state = {m: [0.0, 0.0, 0.0, 0.0] for m in self.bom}
        self.consumed = dict.fromkeys(self.bom, 0.0)
        # Production state.
        self.reviews = 0  # order reviews so far
        self.mode = RUN
        self.rate = self.plan
        self.last = 0.0
        self.produced = 0.0
        self.produced_std = 0.0  # units made with the standard bill of materials
        self.measured = [0.0, math.nan]  # output at the start and end of the measured window
        self.downtime = 0.0
        self.stockouts = 0
        self.first_stockout = math.nan
        self.recovered_at = math.nan
        self.run_since = 0.0
        self._version = 0  # invalidates stale stock-out predictions
        self._restart_version = 0
        self._restart_pending = False
        self._short_since = math.nan
        # Where each material comes from (supplier or firm -> share; Config.sources).
        self.sources = ({m: dict(v) for m, v in sources.items()} if sources is not None
                        else dict.fromkeys(self.bom, dict(cfg.ordering.suppliers)))
        # As a supplier of other firms (a FirmSupplier sets `making`): finished goods
        # (units) and the units its customers ordered.
        self.making = False
        self.fg = 0.0
        self.initial_fg = 0.0
        self.demand_in = 0.0
        # As a customer: firm suppliers that cut an order since its last order to them
        # (shortage gaming), and per review the orders placed per (source, material) and
        # the demand seen per material (for the bullwhip ratio).
        self.cut: dict[str, bool] = {}
        self.placed: dict[tuple[str, str], list[float]] = {
            (n, m): [] for m, g in self.sources.items() for n in g}
        self.seen: dict[str, list[float]] = {m: [] for m in self.bom}
        self._seen_at = (0.0, dict.fromkeys(self.bom, 0.0))

    # ------------------------------------------------------------------ ledger

    def add_shipment(self, sh: Shipment) -> None:
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
        part = Shipment(self, sh.material, kg, sh.supplier, sh.state, sh.draws, sh.key,
                        sh.source)
        sh.kg -= kg
        self.shipments.append(part)
        return part

    def outstanding(self, material: str) -> float:
        col = self.by_state[material]
        return col[AWAITING] + col[TRANSIT]

    # ------------------------------------------------------------------ flow

    def advance(self) -> None:
        """Bring production and stocks up to now."""
        t = now(self.env)
        dt = t - self.last
        if dt <= 0.0:
            return
        self.last = t
        if self.rate < self.plan:
            self.downtime += dt
        self.produced += self.rate * dt
        if self.making:
            self.fg += self.rate * dt
        if self.mode == RUN:
            self.produced_std += self.rate * dt
            for m, u in self.use.items():
                used = min(u * dt, self.stock[m])
                self.stock[m] -= used
                self.consumed[m] += used

    def _predict_stockout(self) -> None:
        self._version += 1
        if self.mode != RUN:
            return
        horizon = min(s / u for m, s in self.stock.items() if (u := self.use[m]) > 0)
        post_call(self.env, horizon, self._stockout, self._version)

    def _stockout(self, version: int) -> None:
        if version != self._version or self.mode != RUN:
            return
        self.advance()
        t = now(self.env)
        # Fix rounding: the material that ran out is exactly zero.
        short = min(self.stock, key=lambda m: self.stock[m] / self.use[m])
        self.consumed[short] += self.stock[short]
        self.stock[short] = 0.0
        if t - self.run_since >= self.recovery_window and (
            self.stockouts > 0 and math.isnan(self.recovered_at)
        ):
            self.recovered_at = self.run_since
        self.mode = DOWN
        self.rate = 0.0
        self.stockouts += 1
        if math.isnan(self.first_stockout):
            self.first_stockout = t
        self._short_since = t
        sub = self.cfg.substitution
        if sub is not None:
            post_call(self.env, sub.after_days, self._substitute, self._restart_version)

    def _substitute(self, version: int) -> None:
        if version != self._restart_version or self.mode != DOWN:
            return
        self.advance()
        self.mode = SUB
        self.rate = self.plan * self.cfg.substitution.fraction  # type: ignore[union-attr]

    def deliver(self, sh: Shipment, day: float) -> None:
        """The shipment reaches the firm on `day`; usable after its pipeline days."""
        day += self.cfg.pipeline_days
        if day < self.horizon:
            post_call(self.env, day - now(self.env), self.receive, sh)

    def receive(self, sh: Shipment) -> None:
        """A shipment arrives and becomes usable stock."""
        self.advance()
        self.move(sh, RECEIVED)
        self.stock[sh.material] += sh.kg
        if self.mode == RUN:
            self._predict_stockout()
        elif not self._restart_pending and all(s > 0.0 for s in self.stock.values()):
            self._restart_pending = True
            self._restart_version += 1
            post_call(self.env, self.cfg.restart_delay_days, self._restart, self._restart_version)

    def _restart(self, version: int) -> None:
        if version != self._restart_version:
            return
        self._restart_pending = False
        self.advance()
        if all(s > 0.0 for s in self.stock.values()):
            self._restart_version += 1  # cancels a pending switch to substitution
            self.mode = RUN
            self.rate = self.plan
            self.run_since = now(self.env)
            self._predict_stockout()

    # ------------------------------------------------------------------ ordering

    def start(self) -> None:
        """Seed the pipeline (orders already in flight) and start reviewing orders."""
        o = self.cfg.ordering
        if o.in_transit_days > 0:
            period = o.review_period_days
            n = max(1, math.ceil(o.in_transit_days / period))
            for m, u in self.use.items():
                for k in range(n):
                    span = min(period, o.in_transit_days - k * period)
                    sh = Shipment(self, m, u * span, "initial", TRANSIT)
                    self.add_shipment(sh)
                    post_call(self.env, k * period + span, self.receive, sh)
        self._predict_stockout()
        self.env.process(self._review_loop())

    def _review_loop(self):  # noqa: ANN202 - a SimPy process
        period = self.cfg.ordering.review_period_days
        while True:
            self.review_orders()
            yield Timeout(self.env, period)

    def review_orders(self) -> None:
        """Order up to the target cover of inventory position, split across suppliers.

        The review's number keys the random steps of what it orders (#9): a variant in
        which this review orders nothing, or more, leaves later reviews' draws alone."""
        self.advance()
        key = self.reviews
        self.reviews = key + 1
        o = self.cfg.ordering
        stockpile = self.stockpile
        suppliers = self.suppliers
        self._see()
        for m, u in self.use.items():
            target = o.target_cover_days * u
            position = self.stock[m] + self.outstanding(m)
            if stockpile is not None and stockpile.serves(self):
                cover = self.stock[m] / u
                if cover < stockpile.cfg.trigger_cover_days:
                    need = target - self.stock[m] - self.by_state[m][TRANSIT]
                    position += stockpile.release(self, m, need, key) if need > 0 else 0.0
            q = target - position
            placed = self.placed
            if q <= EPS_KG * target:
                for s_name in self.sources[m]:
                    placed[s_name, m].append(0.0)
                continue
            for s_name, share in self.sources[m].items():
                kg = q * share
                if self.cut.get(s_name):  # cut last time: ask for more (shortage gaming)
                    kg *= o.cut_inflation
                    self.cut[s_name] = False
                placed[s_name, m].append(kg if share > 0.0 else 0.0)
                if share > 0.0:
                    suppliers[s_name].order(self, m, kg, key)

    def _see(self) -> None:
        """The demand for each material since the last review: what the firm's customers
        ordered (through its bill of materials) if it makes for firms, else what it
        used."""
        then, used = self._seen_at
        seen = {m: (self.demand_in * k if self.making else self.consumed[m])
               for m, k in self.bom.items()}
        for m in self.bom:
            self.seen[m].append(seen[m] - used[m])
        self._seen_at = (now(self.env), seen)

    def cancel(self, sh: Shipment) -> None:
        """Refused for good: the shipment is dropped."""
        self.move(sh, CANCELLED)

    def redirect(self, sh: Shipment) -> None:
        """Refused for good: cancel the shipment and order the quantity from the firm's
        unlicensed suppliers by their relative shares."""
        self.move(sh, CANCELLED)
        suppliers = self.suppliers
        others = [
            (suppliers[n], s) for n, s in self.sources[sh.material].items()
            if s > 0 and not suppliers[n].controlled
        ]
        total = sum(s for _, s in others)
        for sup, s in others:
            sup.order(self, sh.material, sh.kg * s / total, None)

    # ------------------------------------------------------------------ end of run

    def finish(self) -> None:
        """Close the books at the end of the horizon."""
        self.advance()
        if math.isnan(self.measured[1]):  # the measured window runs to the end
            self.measured[1] = self.produced
        horizon = now(self.env)
        if (self.stockouts > 0 and math.isnan(self.recovered_at) and self.mode == RUN
                and horizon - self.run_since >= self.recovery_window):
            self.recovered_at = self.run_since

    def check_conservation(self) -> list[str]:
        """Return violations of: ordered = received + in transit + awaiting + cancelled, and
        initial + received = consumed + on hand (per material, kg)."""
        problems = []
        for m in self.bom:
            col = [0.0, 0.0, 0.0, 0.0]
            for sh in self.shipments:
                if sh.material == m:
                    col[sh.state] += sh.kg
            ordered = sum(col)
            tol = 1e-6 * max(1.0, ordered, self.initial_stock[m])
            if abs(ordered - self.ordered[m]) > tol:
                problems.append(f"{self.name}/{m}: ordered {self.ordered[m]:.6g} kg but "
                                f"shipments hold {ordered:.6g} kg")
            if any(abs(a - b) > tol for a, b in zip(col, self.by_state[m], strict=True)):
                problems.append(f"{self.name}/{m}: ledger {self.by_state[m]} != shipments {col}")
            if min(col) < -tol or self.stock[m] < 0:
                problems.append(f"{self.name}/{m}: negative quantity")
            if abs(self.consumed[m] - self.produced_std * self.bom[m]) > tol:
                problems.append(f"{self.name}/{m}: consumed {self.consumed[m]:.6g} kg but made "
                                f"{self.produced_std:.6g} units needing "
                                f"{self.produced_std * self.bom[m]:.6g} kg")
            balance = self.initial_stock[m] + col[RECEIVED] - self.consumed[m] - self.stock[m]
            if abs(balance) > tol:
                problems.append(f"{self.name}/{m}: initial + received - consumed - on hand = "
                                f"{balance:.6g} kg, not 0")
        return problems
