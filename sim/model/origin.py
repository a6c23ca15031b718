"""The Chinese-origin rare-earth value a firm that makes an `output` holds, tracked through
its stocks into what it makes (for a `foreign_content` rule with a threshold).

Value, not mass, is what MOFCOM's rule counts (items with at least 0.1% of their value in
Chinese-origin rare earths). Each kg a firm receives carries a Chinese-origin value per kg:
the material's `price_usd_per_kg` from a controlled supplier; what the shipment carries
from a firm that makes it; none from a free supplier or the stockpile, whose feedstock is
not modelled; and, for the stock and pipeline it starts with, the price times the share
it orders from controlled suppliers. A stock is well mixed: what is used takes the
stock's average value per kg. What is made carries the value of what it used into the
finished goods, which are mixed too, and each dispatch takes their average per unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from .records import Shipment


class Goods(Protocol):
    """A firm's finished goods, as the book sees them (`production.FinishedGoods`)."""

    on_hand: float
    china_usd: float


class OriginBook:
    """Chinese-origin value (USD) in one firm's input stocks (`usd`, per material) and
    finished goods (`goods.china_usd`), and where it went: shipped in its dispatches
    (`shipped`) or sold outside the model (`sold`)."""

    __slots__ = ("usd", "initial", "goods", "price", "controlled", "start", "received_usd",
                 "shipped", "sold")

    def __init__(self, stock: Mapping[str, float], goods: Goods,
                 price: Mapping[str, float], controlled: frozenset[str],
                 start_share: Mapping[str, float], bom: Mapping[str, float]) -> None:
        self.price = dict(price)  # Chinese-origin value per kg from a controlled supplier
        self.controlled = controlled  # the names of the controlled suppliers
        # per kg of the stock and pipeline a firm starts with
        self.start = {m: self.price[m] * start_share.get(m, 0.0) for m in stock}
        self.usd = {m: kg * self.start[m] for m, kg in stock.items()}
        self.goods = goods
        goods.china_usd = goods.on_hand * sum(k * self.start[m] for m, k in bom.items())
        self.initial = sum(self.usd.values()) + goods.china_usd
        self.received_usd = 0.0
        self.shipped = 0.0
        self.sold = 0.0

    def per_kg(self, sh: Shipment) -> float:
        """The Chinese-origin value per kg (or piece) a received shipment carries."""
        if sh.supplier in self.controlled:
            return self.price[sh.material]
        if sh.supplier == "initial":
            return self.start[sh.material]
        return sh.china_usd

    def received(self, sh: Shipment) -> None:
        usd = sh.kg * self.per_kg(sh)
        self.usd[sh.material] += usd
        self.received_usd += usd

    def used(self, material: str, kg: float, stock: float) -> None:
        """`kg` of a stock of `stock` kg went into what was made."""
        if kg > 0.0 and stock > 0.0:
            usd = self.usd[material] * min(1.0, kg / stock)
            self.usd[material] -= usd
            self.goods.china_usd += usd

    def per_unit(self) -> float:
        """The finished goods' Chinese-origin value per unit now."""
        g = self.goods
        return g.china_usd / g.on_hand if g.on_hand > 0.0 else 0.0

    def removed(self, units: float, before: float, sold: bool) -> None:
        """`units` of finished goods (of `before` on hand) left: shipped or sold outside."""
        if units <= 0.0 or before <= 0.0:
            return
        usd = self.goods.china_usd * min(1.0, units / before)
        self.goods.china_usd -= usd
        if sold:
            self.sold += usd
        else:
            self.shipped += usd

    def check(self, name: str) -> list[str]:
        """Chinese-origin value: initial + received = in stock + in goods + shipped + sold."""
        held = sum(self.usd.values()) + self.goods.china_usd
        balance = self.initial + self.received_usd - held - self.shipped - self.sold
        scale = max(1.0, self.initial + self.received_usd)
        if abs(balance) > 1e-6 * scale:
            return [f"{name}: Chinese-origin value initial + received - held - shipped - "
                    f"sold = {balance:.6g} USD, not 0"]
        return []
