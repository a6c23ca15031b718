"""A firm's cost ledger, kept only when the config has a `[costs]` table: the kg-days of
each material on hand (the exact integral of a level that falls linearly between
events) and the premiums paid on receipts, with their values at the start and end of
the measured window. `tables` prices them (`sim/config/costs.py` says how)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["CostBook"]


class CostBook:
    """Kg-days held per material and premiums paid (USD), running and at the window's
    ends (`marks[k]`, k = 0 start: zeros until marked; 1 end: None until marked)."""

    __slots__ = ("held", "marks", "paid", "premiums")

    def __init__(self, materials: Iterable[str], premiums: Mapping[str, float]) -> None:
        self.held = dict.fromkeys(materials, 0.0)
        self.paid = 0.0
        self.premiums = premiums  # supplier -> USD per kg received (only those above 0)
        self.marks: list[tuple[dict[str, float], float] | None] = [
            (dict(self.held), 0.0), None]

    def hold(self, stock: Mapping[str, float], use: Mapping[str, float], dt: float) -> None:
        """`dt` days pass with `stock` on hand falling at `use` kg/day (a material with no
        entry is not used): the area under each level, to zero if it runs out."""
        held = self.held
        for m, s in stock.items():
            u = use.get(m, 0.0)
            if u * dt <= s:
                held[m] += dt * (s - u * dt / 2)
            else:
                held[m] += s * s / (2 * u)

    def receive(self, supplier: str, kg: float) -> None:
        """`kg` arrive from `supplier`: its premium, if any, is paid."""
        p = self.premiums.get(supplier)
        if p:
            self.paid += kg * p

    def mark(self, k: int) -> None:
        """The start (0) or end (1) of the measured window."""
        self.marks[k] = (dict(self.held), self.paid)

    def window(self) -> tuple[dict[str, float], float]:
        """Kg-days per material and premiums paid within the measured window."""
        start = self.marks[0]
        end = self.marks[1] or (self.held, self.paid)  # the window runs to the end
        assert start is not None  # zeros until the window's start is marked
        return {m: end[0][m] - start[0][m] for m in self.held}, end[1] - start[1]
