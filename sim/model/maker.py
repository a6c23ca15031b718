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
from .allocation import allocate, levels_of
from .clock import post_call
from .records import AWAITING, SHIPMENT_STEPS, TRANSIT, TRANSIT_DAYS, Shipment
from .rng import Keys

if TYPE_CHECKING:
    from .firm import Firm

EPS_UNITS = 1e-9


class FirmSupplier:
    """The supplier side of `maker`: what its customer firms order reaches it through
    `order`, as a controlled or free supplier's would."""

    controlled = False

    def __init__(self, env: simpy.Environment, maker: Firm, cfg: ShippingConfig,
                 keys: Keys) -> None:
        self.env = env
        self.maker = maker
        self.name = maker.name
        self.cfg = cfg
        self.keys = keys
        self.book: list[Shipment] = []  # open orders, oldest first
        self.shipped = 0.0  # units dispatched
        self.ordered = 0.0  # units ordered by customers
        self._scheduled = False
        maker.fg = cfg.initial_cover_days * maker.plan
        maker.initial_fg = maker.fg
        maker.making = True

    def order(self, firm: Firm, material: str, kg: float, key: int | None) -> None:
        """A customer firm orders `kg` (units of the maker's output) at its review `key`."""
        sh = Shipment(firm, material, kg, self.name, AWAITING)  # its draws: at dispatch
        firm.add_shipment(sh)
        self.book.append(sh)
        self.ordered += kg
        self.maker.demand_in += kg
        if not self._scheduled:
            self._scheduled = True
            post_call(self.env, 0.0, self._dispatch, None)

    def _dispatch(self, _arg: object) -> None:
        maker = self.maker
        maker.advance()
        book = self.book
        asks = [sh.kg for sh in book]
        levels = (levels_of(self.cfg.priority, [sh.firm.name for sh in book],
                            [sh.firm.sector for sh in book])
                  if self.cfg.allocation == "priority" else None)
        give = allocate(maker.fg, asks, self.cfg.allocation, levels)
        now = self.env._now
        still = []
        for sh, x in zip(book, give, strict=True):
            if x < sh.kg - EPS_UNITS * max(1.0, sh.kg):
                sh.firm.cut[self.name] = True
                if x > EPS_UNITS:
                    self._send(sh.firm.split(sh, x), now)
                still.append(sh)
            else:
                self._send(sh, now)
            maker.fg -= x
            self.shipped += x
        if maker.fg < 0.0:  # rounding of a full dispatch
            maker.fg = 0.0
        self.book = still
        if still:
            post_call(self.env, self.cfg.dispatch_every_days, self._dispatch, None)
        else:
            self._scheduled = False

    def _send(self, sh: Shipment, now: float) -> None:
        """Dispatch `sh` to its customer: in transit for the arc's transit days."""
        firm = sh.firm
        firm.move(sh, TRANSIT)
        arc = self.keys(f"{self.name}.{firm.name}.dispatch", SHIPMENT_STEPS)
        dist = self.cfg.transit_days_to.get(firm.name, self.cfg.transit_days)
        firm.deliver(sh, now + arc.variate(arc.take(), TRANSIT_DAYS, dist))

    def check_conservation(self) -> list[str]:
        """Finished goods: initial + made = shipped + on hand (units)."""
        m = self.maker
        tol = 1e-6 * max(1.0, m.produced, m.initial_fg)
        balance = m.initial_fg + m.produced - self.shipped - m.fg
        if abs(balance) > tol:
            return [f"{self.name}: initial + made - shipped - on hand = {balance:.6g} units, "
                    "not 0"]
        return []
