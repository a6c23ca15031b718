"""The `[costs]` table: what holding stock, paying premiums, keeping a reserve and losing
output cost (USD), so that a run reports each firm's and sector's total cost per
replication (its mean and CVaR in the summary) and `rareshock optimize` can minimise
its expectation under chance constraints (issue #25).

Per firm and replication, over the measured window (`output.measure_from` to
`measure_until`, the whole run by default):

- holding: Σ over its materials of the kg-days on hand (stock it can use, the exact
  integral of its level) times `holding_usd_per_kg_day`;
- premium: Σ over what it received of the kg times its supplier's
  `premium_usd_per_kg` (a route's own `premium_per_kg` when not given);
- shortfall: units not made times `shortfall_usd_per_unit` (without it, the value lost:
  the firm's unit value, or its lines' values when it rations);
- stockpile: Σ over the reserve's materials of `stockpile_usd_per_kg` times the kg it
  holds at the start, shared among the firms it serves by their planned use of the
  material (a reserve costs the same whether it is drawn on or not);
- total: the sum.
"""

from __future__ import annotations

from pydantic import Field

from .base import Name, NonNegFloat, PathError, Strict
from .checks import Misses, Names

COST_METRICS = ("holding_cost", "premium_cost", "shortfall_cost", "stockpile_cost",
                "cost_premium", "total_cost")
"""The per-replication columns a `[costs]` table (all but `cost_premium`) and a `[prices]`
table (`cost_premium` and `total_cost`) add to the replications dataset (USD)."""
PRICE_METRICS = ("cost_premium", "total_cost")
"""The cost columns a `[prices]` table gives without a `[costs]` table."""


class CostsConfig(Strict):
    """What things cost (USD): the replications dataset then holds each firm's holding,
    premium, shortfall and stockpile cost and their total per replication."""

    holding_usd_per_kg_day: dict[Name, NonNegFloat] = Field(
        default={}, description="Per material: the cost of a kg on a firm's hands for a day "
        "(a piece-day for a material counted in pieces); materials not listed cost nothing "
        "to hold.")
    shortfall_usd_per_unit: dict[Name, NonNegFloat] = Field(
        default={}, description="Per firm: the cost of a unit not made (default: the "
        "firm's `value_lost`, its unit value or its lines' values).")
    premium_usd_per_kg: dict[Name, NonNegFloat] = Field(
        default={}, description="Per supplier: paid on each kg (piece) a firm receives "
        "from it over the usual price, e.g. a non-China magnet maker's (default: a "
        "route's `premium_per_kg`, else 0).")
    stockpile_usd_per_kg: dict[Name, NonNegFloat] = Field(
        default={}, description="Per material the `[stockpile]` holds: the cost of each kg "
        "it holds at the start, over the run (buying and keeping it), shared among the "
        "firms it serves by their planned use of the material.")

    def check_names(self, names: Names, misses: Misses) -> None:
        """Every material, firm and supplier named exists."""
        for m in self.holding_usd_per_kg_day:
            misses.need("material", names.materials, m, f"costs.holding_usd_per_kg_day.{m}")
        for f in self.shortfall_usd_per_unit:
            misses.need("firm", names.firms, f, f"costs.shortfall_usd_per_unit.{f}")
        for s in self.premium_usd_per_kg:
            misses.need("supplier", names.suppliers, s, f"costs.premium_usd_per_kg.{s}")
        for m in self.stockpile_usd_per_kg:
            misses.need("material", names.materials, m, f"costs.stockpile_usd_per_kg.{m}")

    def check_stockpile(self, stock_kg: dict[str, float] | None,
                        users: dict[str, float]) -> None:
        """A reserve cost needs a reserve holding the material and a firm it serves that
        uses it (`users`: material -> planned kg/day of the firms it serves)."""
        for m in self.stockpile_usd_per_kg:
            at = f"costs.stockpile_usd_per_kg.{m}"
            if stock_kg is None:
                raise PathError(at, "there is no [stockpile] table to cost")
            if m not in stock_kg:
                raise PathError(at, f"the stockpile holds no {m} (stockpile.stock_kg has "
                                f"{', '.join(sorted(stock_kg)) or 'nothing'})")
            if users.get(m, 0.0) <= 0:
                raise PathError(at, f"no firm the stockpile serves uses {m}, so its cost "
                                "would fall on no one")


__all__ = ["COST_METRICS", "PRICE_METRICS", "CostsConfig"]
