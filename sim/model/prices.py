"""Price indices that move with scarcity, and the premiums firms pay over the price before
the controls (the `[prices]` table; `sim/config/prices.py` gives the formula).

An index is read when it is needed -- when a shipment arrives, when the series is sampled
-- from what the model already keeps: the kg waiting on licence decisions (the
licensing's running sum), the back-orders on the suppliers' order books and the stock of
the firms that use the material. It adds no event of its own."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ..config.schema import PricesConfig
from .licensing import Licensing
from .orders import OrderBook
from .production import Production


class Prices:
    """The index of each material `[prices]` lists, and what each firm paid over the
    base price (USD), running and at the measured window's ends."""

    def __init__(self, cfg: PricesConfig, base: Mapping[str, float], firms: Sequence[str],
                 production: Mapping[str, Production], licensing: Licensing,
                 books: Iterable[OrderBook]) -> None:
        self.elasticity = dict(cfg.elasticity)
        self.max_index = cfg.max_index
        self.base = {m: base[m] for m in self.elasticity}
        self.users = {m: [p for p in production.values() if m in p.bom]
                      for m in self.elasticity}
        # kg: `cover_days` of the users' planned use, counted with what they hold
        self.cover = {m: cfg.cover_days * sum(p.use[m] for p in ps)
                      for m, ps in self.users.items()}
        self.licensing = licensing
        self.books = list(books)
        self.firms = list(firms)
        self.paid = dict.fromkeys(self.firms, 0.0)
        self.marks: list[dict[str, float] | None] = [dict(self.paid), None]

    def gap(self, material: str) -> float:
        """kg of `material` the firms wait for beyond the normal lead time: on licence
        decisions and on back-order."""
        kg = self.licensing.waiting.get(material, 0.0)
        for b in self.books:
            kg += sum(sh.kg for sh in b.book if sh.material == material)
        return kg

    def held(self, material: str) -> float:
        """kg of `material` on the hands of the firms that use it, up to now."""
        total = 0.0
        for p in self.users[material]:
            p.advance()
            total += p.stock[material]
        return total

    def index(self, material: str) -> float:
        """(1 + gap / (held + cover_days x use)) ** elasticity, at most `max_index`."""
        gap = self.gap(material)
        if gap <= 0.0:
            return 1.0
        base = self.held(material) + self.cover[material]
        if base <= 0.0:
            return self.max_index
        return min(self.max_index, (1.0 + gap / base) ** self.elasticity[material])

    def index_of(self, material: str) -> float:
        """The index of `material`, 1 for a material without one."""
        return self.index(material) if material in self.elasticity else 1.0

    def receive(self, firm: str, material: str, kg: float) -> None:
        """`kg` of `material` reach `firm` now: it pays the premium at today's index."""
        if material in self.elasticity:
            self.paid[firm] += kg * self.base[material] * (self.index(material) - 1.0)

    def mark(self, k: int) -> None:
        """The start (0) or end (1) of the measured window."""
        self.marks[k] = dict(self.paid)

    def window(self) -> list[float]:
        """Per firm (in order), the premiums paid within the measured window (USD)."""
        start = self.marks[0]
        end = self.marks[1] or self.paid
        assert start is not None
        return [end[f] - start[f] for f in self.firms]
