"""The `[prices]` table: a price index per material that moves with scarcity, and the
premiums firms pay over the price before the controls (issue #23).

For each material it lists, at any moment:

    index = min(max_index, (1 + gap / (held + cover_days x use)) ** elasticity)

- gap: the kg of it the modelled firms have ordered and are still waiting for beyond the
  normal lead time: on a licence decision, or on a supplier's back-order;
- held: the kg of it on the hands of the firms that use it (their cover);
- use: their planned use, kg/day. `cover_days` of it join what is held, so that the index
  measures the gap against the supply of a period, not only against the stock of the
  moment, and does not leap to its cap the instant a stock runs out;
- elasticity: how far the price moves with that ratio (log price against log(1 + gap /
  held)); with nothing waiting the index is 1.

Each kg (piece) a firm receives costs `price_usd_per_kg` x (index - 1) more than before
the controls, the index read when it arrives. The replications dataset gains each firm's
`cost_premium` (USD over the measured window) and `total_cost`: with a `[costs]` table its
total plus the premiums, without one `value_lost` plus the premiums.
"""

from __future__ import annotations

from pydantic import Field

from .base import Name, NonNegFloat, PosFloat, Strict
from .checks import Misses, Names


class PricesConfig(Strict):
    """Price indices that move with scarcity, and the premiums firms pay (USD)."""

    elasticity: dict[Name, PosFloat] = Field(
        min_length=1, description="Per material indexed (it needs `price_usd_per_kg`): the "
        "exponent of its index, (1 + gap / held) ** elasticity.")
    cover_days: NonNegFloat = Field(
        default=30.0, description="Days of the users' planned use counted with what they "
        "hold in the ratio (0: stock on hand alone, and an index at its cap whenever a "
        "stock runs out with something waiting). ⚠ 30: about a month, the horizon of a "
        "buyer's price (derived).")
    max_index: PosFloat = Field(
        default=10.0, ge=1.0, description="The highest an index goes (with nothing held).")

    def check_names(self, names: Names, misses: Misses) -> None:
        for m in self.elasticity:
            misses.need("material", names.materials, m, f"prices.elasticity.{m}")


__all__ = ["PricesConfig"]
