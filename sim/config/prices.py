"""The `[prices]` table: a price index per material that moves with scarcity, and the
premiums firms pay over the price before the controls (issue #23).

For each material it lists, at any moment:

    index = min(max_index, (1 + gap / held) ** elasticity)

- gap: the kg of it the modelled firms have ordered and are still waiting for beyond the
  normal lead time: on a licence decision, or on a supplier's back-order;
- held: the kg of it on the hands of the firms that use it (their cover);
- elasticity: how far the price moves with that ratio (log price against log(1 + gap /
  held)); with nothing waiting the index is 1, with nothing held and something waiting it
  is `max_index`.

Each kg (piece) a firm receives costs `price_usd_per_kg` x (index - 1) more than before
the controls, the index read when it arrives. The replications dataset gains each firm's
`cost_premium` (USD over the measured window) and `total_cost`: with a `[costs]` table its
total plus the premiums, without one `value_lost` plus the premiums.
"""

from __future__ import annotations

from pydantic import Field

from .base import Name, PosFloat, Strict
from .checks import Misses, Names


class PricesConfig(Strict):
    """Price indices that move with scarcity, and the premiums firms pay (USD)."""

    elasticity: dict[Name, PosFloat] = Field(
        min_length=1, description="Per material indexed (it needs `price_usd_per_kg`): the "
        "exponent of its index, (1 + gap / held) ** elasticity.")
    max_index: PosFloat = Field(
        default=10.0, ge=1.0, description="The highest an index goes (with nothing held).")

    def check_names(self, names: Names, misses: Misses) -> None:
        for m in self.elasticity:
            misses.need("material", names.materials, m, f"prices.elasticity.{m}")


__all__ = ["PricesConfig"]
