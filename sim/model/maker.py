"""A firm as a supplier of other firms: its finished goods, the open orders of its customer
firms, and the dispatches that share the goods between them (`allocation`).

The firm makes its `output` at its production rate (its inputs permitting); what it makes
goes into finished goods. While orders are open it dispatches every `dispatch_every_days`:
everything if it has enough, otherwise shares by its allocation rule, the rest staying on
back-order. A customer whose order was cut is told, for shortage gaming
(`ordering.cut_inflation`). Each dispatched piece travels `transit_days` (per arc), its
draw keyed by the arc's dispatch count (#9)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import simpy

from ..config.schema import ShippingConfig
from .orders import OrderBook
from .records import AWAITING, SHIPMENT_STEPS, TRANSIT, TRANSIT_DAYS, Shipment
from .rng import Keys

if TYPE_CHECKING:
    from .firm import Firm


class FirmSupplier(OrderBook):
    """The supplier side of `maker`: what its customer firms order reaches it through
    `order`, as a controlled or free supplier's would, and is served from its finished
    goods."""

    controlled = False

    def __init__(self, env: simpy.Environment, maker: Firm, cfg: ShippingConfig,
                 keys: Keys) -> None:
        super().__init__(env, cfg)
        self.maker = maker
        self.name = maker.name
        self.cfg = cfg
        self.keys = keys
        self.shipped = 0.0  # units dispatched
        self.ordered = 0.0  # units ordered by customers
        self.sold = 0.0  # units sold outside the model (above max_finished_days)
        cap = cfg.max_finished_days
        self.cap = cap * maker.plan if cap is not None else float("inf")
        maker.fg = cfg.initial_cover_days * maker.plan
        maker.initial_fg = maker.fg
        maker.making = True

    def order(self, firm: Firm, material: str, kg: float, key: int | None) -> None:
        """A customer firm orders `kg` (units of the maker's output) at its review `key`."""
        sh = Shipment(firm, material, kg, self.name, AWAITING)  # its draws: at dispatch
        firm.add_shipment(sh)
        self.ordered += kg
        self.maker.demand_in += kg
        self.open_order(sh)

    def available(self) -> float:
        m = self.maker
        m.advance()
        if m.fg > self.cap:
            self.sold += m.fg - self.cap
            m.fg = self.cap
        return m.fg

    def taken(self, amount: float) -> None:
        self.maker.fg = max(0.0, self.maker.fg - amount)
        self.shipped += amount

    def send(self, sh: Shipment, now: float) -> None:
        """Dispatch `sh` to its customer: in transit for the arc's transit days."""
        firm = sh.firm
        firm.move(sh, TRANSIT)
        arc = self.keys(f"{self.name}.{firm.name}.dispatch", SHIPMENT_STEPS)
        dist = self.cfg.transit_days_to.get(firm.name, self.cfg.transit_days)
        firm.deliver(sh, now + arc.variate(arc.take(), TRANSIT_DAYS, dist))

    def check_conservation(self) -> list[str]:
        """Finished goods: initial + made = shipped + sold outside + on hand (units)."""
        m = self.maker
        self.available()  # up to the end, sales outside the model included
        tol = 1e-6 * max(1.0, m.produced, m.initial_fg)
        balance = m.initial_fg + m.produced - self.shipped - self.sold - m.fg
        if abs(balance) > tol:
            return [f"{self.name}: initial + made - shipped - on hand = {balance:.6g} units, "
                    "not 0"]
        return []
