"""A firm as a supplier of other firms: its finished goods, the open orders of its customer
firms, and the dispatches that share the goods between them (`allocation`).

The firm makes its `output` at its production rate (its inputs permitting); what it makes
goes into finished goods. While orders are open it dispatches every `dispatch_every_days`:
everything if it has enough, otherwise shares by its allocation rule, the rest staying on
back-order. A customer whose order was cut is told, for shortage gaming
(`ordering.cut_inflation`). Each dispatched piece travels `transit_days` (per arc), its
draw keyed by the arc's dispatch count."""

from __future__ import annotations

import simpy

from ..config.schema import ShippingConfig
from .clock import now
from .licensing import Licensing
from .orders import OrderBook
from .production import FinishedGoods, Production
from .records import AWAITING, SHIPMENT_STEPS, TRANSIT, TRANSIT_DAYS, Customer, Shipment
from .rng import Keys


def finished_goods(cfg: ShippingConfig, plan: float) -> FinishedGoods:
    """The finished goods a maker starts with: `initial_cover_days` of its plan."""
    return FinishedGoods(cfg.initial_cover_days * plan)


class FirmSupplier(OrderBook):
    """The supplier side of a firm that makes parts for others (its `production`, which
    makes into `goods`): what its customer firms order reaches it through `order`, as a
    controlled or free supplier's would, and is served from its finished goods."""

    controlled = False

    def __init__(self, env: simpy.Environment, name: str, production: Production,
                 goods: FinishedGoods, cfg: ShippingConfig, keys: Keys,
                 licensing: Licensing | None = None, price: float = 0.0) -> None:
        super().__init__(env, cfg)
        self.name = name
        self.production = production
        self.goods = goods
        self.cfg = cfg
        self.keys = keys
        # Where its shipments' licences are filed under a `foreign_content` rule with a
        # threshold, and its output's price, which the Chinese-origin value is a share of
        # (its production's `origin` tracks that value).
        self.licensing = licensing
        self.price = price
        self.shipped = 0.0  # units dispatched
        self.sold = 0.0  # units sold outside the model (above max_finished_days)
        cap = cfg.max_finished_days
        self.cap = cap * production.plan if cap is not None else float("inf")

    def order(self, firm: Customer, material: str, kg: float, key: int | None) -> None:
        """A customer firm orders `kg` (units of the maker's output) at its review `key`."""
        sh = Shipment(firm, material, kg, self.name, AWAITING)  # its draws: at dispatch
        firm.add_shipment(sh)
        self.goods.ordered += kg
        self.open_order(sh)

    def available(self) -> float:
        self.production.advance()
        g = self.goods
        if g.on_hand > self.cap:
            origin = self.production.origin
            if origin is not None:
                origin.removed(g.on_hand - self.cap, g.on_hand, sold=True)
            self.sold += g.on_hand - self.cap
            g.on_hand = self.cap
        return g.on_hand

    def taken(self, amount: float) -> None:
        origin = self.production.origin
        if origin is not None:
            origin.removed(amount, self.goods.on_hand, sold=False)
        self.goods.on_hand = max(0.0, self.goods.on_hand - amount)
        self.shipped += amount

    def send(self, sh: Shipment, now: float) -> None:
        """Dispatch `sh` to its customer: in transit for the arc's transit days -- after
        a licence if a `foreign_content` rule reaches its Chinese-origin content."""
        source = f"{self.name}.{sh.firm.name}.dispatch"
        arc = self.keys(source, SHIPMENT_STEPS)
        sh.draws, sh.key, sh.source = arc, arc.take(), source
        origin = self.production.origin
        if origin is not None:
            sh.china_usd = origin.per_unit()
            lic = self.licensing
            threshold = (lic.content_threshold(self.name, sh.material) if lic is not None
                         else None)
            if threshold is not None and sh.china_usd >= threshold * self.price:
                lic.apply(sh, 1, self)  # type: ignore[union-attr] - threshold: it has one
                return
        self._transit(sh, now)

    def _transit(self, sh: Shipment, now: float) -> None:
        firm = sh.firm
        firm.move(sh, TRANSIT)
        dist = self.cfg.transit_days_to.get(firm.name, self.cfg.transit_days)
        firm.deliver(sh, now + sh.draws.variate(sh.key, TRANSIT_DAYS, dist))  # type: ignore[union-attr]

    # Its side of a licence (licensing.LicenceHolder), under a `foreign_content` rule.
    def decided(self, i: int) -> None:
        self.licensing.decided(i, self)  # type: ignore[union-attr] - it filed, so it has one

    def licensed(self, sh: Shipment) -> None:
        self._transit(sh, now(self.env))

    def refused(self, sh: Shipment) -> None:
        """Refused for good: the goods stay with the firm, which sells them outside the
        model (its customer redirects or drops the order)."""
        self.shipped -= sh.kg
        self.sold += sh.kg
        origin = self.production.origin
        if origin is not None:
            origin.shipped -= sh.kg * sh.china_usd
            origin.sold += sh.kg * sh.china_usd

    def check_conservation(self) -> list[str]:
        """Finished goods: initial + made = shipped + sold outside + on hand (units)."""
        g = self.goods
        self.available()  # up to the end, sales outside the model included
        made = self.production.produced
        tol = 1e-6 * max(1.0, made, g.initial)
        balance = g.initial + made - self.shipped - self.sold - g.on_hand
        if abs(balance) > tol:
            return [f"{self.name}: initial + made - shipped - on hand = {balance:.6g} units, "
                    "not 0"]
        origin = self.production.origin
        return origin.check(self.name) if origin is not None else []
