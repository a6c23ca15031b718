"""A firm's responses on the supply side, as policies its `Ordering` consults at each
review: re-sourcing (`Resourcer`: when to move orders away from controlled sources, and
to whom) and front-running (`FrontRunner`: a higher target cover between the announcement
of a control and its effect). Neither draws random numbers."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from ..config.sourcing import FrontRunning, Resourcing
from .records import AWAITING, Shipment

NONE, QUALIFYING, SWITCHED = 0, 1, 2


class Resourcer:
    """Per material: watches usable cover and the age of licence files, decides to switch,
    waits out the qualification, then gives the orders' shares (`shares`). `at` is the day
    of the firm's first decision to switch (NaN if none), `to` the suppliers it moved to."""

    def __init__(self, cfg: Resourcing, base: Mapping[str, Mapping[str, float]],
                 to: Mapping[str, Mapping[str, float]],
                 controlled_source: Callable[[str], bool],
                 controlled_now: Callable[[str], bool],
                 price: Callable[[str], float] | None = None) -> None:
        """`base`: the firm's shares per material; `to`: per material, the suppliers of it
        the moved share goes to (shares summing to 1, or none: it is not moved);
        `controlled_source(name)`: whether a source may need a licence;
        `controlled_now(m)`: whether material `m` (or, for a part firms make, a material
        upstream of it) needs one now; `price(m)`: its price index now (with `[prices]`).
        The orders that move are those of the controlled sources, or of the sources in
        `cfg.away_from` if it names any."""
        self.cfg = cfg
        self.price = price
        self.base = {m: dict(g) for m, g in base.items()}
        self.controlled_now = controlled_now
        away_from = frozenset(cfg.away_from) if cfg.away_from is not None else None
        self._away = (controlled_source if away_from is None
                      else away_from.__contains__)
        # per material: what the sources it moves from hold, and where the moved share goes
        self.moved = {m: sum(s for n, s in g.items() if self._away(n)) if to.get(m)
                      else 0.0 for m, g in self.base.items()}
        self.switched = {m: self._switched(g, to.get(m, {}), self._away)
                         for m, g in self.base.items()}
        self.state = dict.fromkeys(self.base, NONE)
        self.decided = dict.fromkeys(self.base, math.nan)
        self.eased = dict.fromkeys(self.base, math.nan)  # when controls were first off
        self.at = math.nan
        self.to: list[str] = []
        self._files: list[tuple[float, Shipment]] = []  # files and owed orders, oldest first
        self._seen = 0
        self._controlled_source = controlled_source

    def _switched(self, g: Mapping[str, float], to: Mapping[str, float],
                  controlled: Callable[[str], bool]) -> dict[str, float]:
        """Shares after the switch: `move_share` of the `controlled` sources' (those it moves
        away from) goes to `to`."""
        if not to:
            return dict(g)
        share = self.cfg.move_share
        out = {n: s * (1.0 - share) if controlled(n) else s for n, s in g.items()}
        moved = share * sum(s for n, s in g.items() if controlled(n))
        for n, w in to.items():
            out[n] = out.get(n, 0.0) + moved * w
        return out

    def watch(self, shipments: list[Shipment], t: float) -> None:
        """Note the firm's new shipments from controlled sources, or sources it may move
        away from (placed at `t`)."""
        files = self._files
        for sh in shipments[self._seen:]:
            if sh.state == AWAITING and (self._controlled_source(sh.supplier)
                                         or self._away(sh.supplier)):
                files.append((t, sh))
        self._seen = len(shipments)

    def _oldest_pending(self, material: str) -> float:
        """Day the oldest licence file of `material` still pending was placed (inf: none)."""
        files = self._files
        while files and files[0][1].state != AWAITING:
            files.pop(0)
        for day, sh in files:
            if (sh.material == material and sh.state == AWAITING
                    and self._controlled_source(sh.supplier)):
                return day
        return math.inf

    def written_off(self, m: str) -> float:
        """kg of `m` in licence files, or owed by the sources it moved away from, that the
        firm no longer counts on (once it switched): its order position leaves them out,
        so it orders what it needs elsewhere."""
        if self.state[m] != SWITCHED:
            return 0.0
        self._files = files = [(d, sh) for d, sh in self._files if sh.state == AWAITING]
        return sum(sh.kg for _, sh in files if sh.material == m)

    def shares(self, m: str, t: float, stock: float, transit: float, use: float
               ) -> Mapping[str, float]:
        """The shares to order `m` by at review day `t`, given its stock on hand, in transit
        and planned use (kg/day)."""
        state = self.state[m]
        cfg = self.cfg
        if state == NONE:
            if self.moved[m] <= 0.0 or not self.controlled_now(m):
                return self.base[m]
            usable = stock + (transit if cfg.count_in_transit else 0.0)
            low = cfg.cover_below_days is not None and usable < cfg.cover_below_days * use
            late = (cfg.pending_over_days is not None
                    and t - self._oldest_pending(m) > cfg.pending_over_days)
            dear = (cfg.price_above is not None and self.price is not None
                    and self.price(m) > cfg.price_above)
            if not (low or late or dear):
                return self.base[m]
            self.state[m] = state = QUALIFYING
            self.decided[m] = t
            if math.isnan(self.at):
                self.at = t
            self.to = sorted(set(self.to) | {n for n, w in self.switched[m].items()
                                              if w > self.base[m].get(n, 0.0)})
        if state == QUALIFYING:
            if t < self.decided[m] + cfg.qualification_days:
                return self.base[m]
            self.state[m] = SWITCHED
        return self._after(m, t)

    def _after(self, m: str, t: float) -> Mapping[str, float]:
        """Switched: the new shares, or once controls are off and it drifts back, shares
        moving linearly back to the old ones."""
        if self.cfg.after == "stay":
            return self.switched[m]
        if self.controlled_now(m):
            self.eased[m] = math.nan
            return self.switched[m]
        if math.isnan(self.eased[m]):
            self.eased[m] = t
        w = max(0.0, 1.0 - (t - self.eased[m]) / self.cfg.drift_back_days)
        new, old = self.switched[m], self.base[m]
        return {n: old.get(n, 0.0) + w * (new[n] - old.get(n, 0.0)) for n in new}


class FrontRunner:
    """The target cover of each material: raised inside announced windows."""

    def __init__(self, cfg: FrontRunning, materials: list[str]) -> None:
        self.cfg = cfg
        self.materials = set(cfg.materials) if cfg.materials is not None else set(materials)
        self.windows: list[tuple[float, float, frozenset[str]]] = []

    def announce(self, start: float, end: float, materials: list[str] | None) -> None:
        """Buyers know from `start` that a control on `materials` (None: every one) applies
        at `end`."""
        if self.cfg.lead_days is not None:
            start = max(start, end - self.cfg.lead_days)
        mats = self.materials if materials is None else self.materials & set(materials)
        if end > start and mats:
            self.windows.append((start, end, frozenset(mats)))

    def target_days(self, m: str, t: float, base: float) -> float:
        """Target cover of `m` (days) at `t`, the usual one being `base`."""
        for start, end, mats in self.windows:
            if start <= t < end and m in mats:
                c = self.cfg
                return max(base * c.cover_factor, c.target_cover_days or 0.0)
        return base

