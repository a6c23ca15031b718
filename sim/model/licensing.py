"""Export licences for the modelled firms' shipments: which materials need one now,
filing a shipment's application, and what follows the decision -- dispatch, a new
attempt after a refusal, or, after the last refusal, the quantity redirected or dropped.
"""

from __future__ import annotations

import math
from typing import Protocol

import simpy

from ..config.schema import Config
from .authority import Authority
from .clock import now, post_call
from .cover import LicenceCovers
from .records import APPROVED, REFUSED, RESUBMIT, Shipment
from .rng import Keys, Streams


class LicenceHolder(Protocol):
    """A supplier whose shipments need licences: it files them (`Licensing.apply`), is
    the applicant told of each decision, and dispatches a shipment once licensed."""

    def decided(self, i: int) -> None:
        """Application row `i` of one of its shipments was decided now."""

    def licensed(self, sh: Shipment) -> None:
        """The licence of `sh` came through (or is no longer needed)."""

    def refused(self, sh: Shipment) -> None:
        """`sh` was refused for good (before its firm redirects or drops it)."""


class Licensing:
    """The licence requirement and the shipments' side of the authority's decisions.

    `controlled[m]` says whether material `m` needs a licence now; `shock_onset` is the
    first time any material did (NaN if none ever does). The supplier that files a
    shipment's application is its applicant: the authority tells it of the decision, and
    it hands the row back to `decided`. A shipment's attempt `a` is row `shipment.key` of
    the keyed table `file.<shipment source>.<a>`, so its random steps follow the
    shipment, not the order in which files reach the authority.
    """

    def __init__(self, env: simpy.Environment, cfg: Config, authority: Authority,
                 streams: Streams) -> None:
        self.env = env
        self.authority = authority
        self.controlled = {m: mc.controlled_at_start for m, mc in cfg.materials.items()}
        self.shock_onset = 0.0 if any(self.controlled.values()) else math.nan
        self.priority = {d: dc.priority for d, dc in cfg.destinations.items()}
        refusal = cfg.authority.refusal
        self.max_attempts = refusal.max_attempts
        self.redirect_refused = refusal.then == "redirect"
        self.resubmit_after = refusal.resubmit_after_days
        self.keys: Keys = streams.keys
        # The transition when controls begin: material -> (start, end, exempt share)
        self.transition: dict[str, tuple[float, float, float]] = {}
        # (free supplier, material) whose Chinese-origin content needs a licence now
        self.foreign: set[tuple[str, str]] = set()
        # kg of each material the modelled firms' files wait for a decision on
        self.waiting: dict[str, float] = {}
        # (firm, material) -> the Chinese-origin value share at or above which its
        # shipments need a licence now (tracked content: a rule with a threshold)
        self.content: dict[tuple[str, str], float] = {}
        # Licences that cover further shipments of their exporter and firm, if configured
        lc = cfg.authority.licence_cover if cfg.responses.licence_cover else None
        self.cover = (LicenceCovers(lc, authority.cal) if lc is not None
                      else None)

    def control(self, materials: list[str], exempt_share: float = 0.0,
                transition_days: float = 0.0) -> None:
        """Licences are required from now on for `materials` -- but for a share of
        shipments falling linearly from `exempt_share` to 0 over `transition_days`."""
        t = now(self.env)
        for m in materials:
            self.controlled[m] = True
            if exempt_share > 0.0 and transition_days > 0.0:
                self.transition[m] = (t, t + transition_days, exempt_share)
        if math.isnan(self.shock_onset):
            self.shock_onset = t

    def needs(self, material: str, u: float, t: float) -> bool:
        """Whether a shipment of `material` leaving now (`t`, the caller's reading of the
        clock) needs a licence; `u` is the shipment's own uniform, which decides whether it
        is exempt during a transition."""
        if not self.controlled[material]:
            return False
        tr = self.transition.get(material)
        if tr is None:
            return True
        start, end, share = tr
        if t >= end:
            return True
        return u >= share * (end - t) / (end - start)

    def foreign_rule(self, suppliers: list[str], materials: list[str], on: bool) -> None:
        """From now on, the Chinese-origin share of these free suppliers' shipments of
        these materials needs a licence (`on`), or no longer does."""
        pairs = {(s, m) for s in suppliers for m in materials}
        self.foreign = self.foreign | pairs if on else self.foreign - pairs
        if on and math.isnan(self.shock_onset):
            self.shock_onset = now(self.env)

    def content_rule(self, firms: list[str], materials: list[str], threshold: float,
                     on: bool) -> None:
        """From now on, these firms' shipments of these materials need a licence when the
        Chinese-origin share of their value is at least `threshold` (`on`), or no longer
        do."""
        for f in firms:
            for m in materials:
                if on:
                    self.content[(f, m)] = threshold
                else:
                    self.content.pop((f, m), None)
        if on and firms and math.isnan(self.shock_onset):
            self.shock_onset = now(self.env)

    def content_threshold(self, firm: str, material: str) -> float | None:
        """The value share at or above which the firm's shipments need a licence now."""
        return self.content.get((firm, material))

    def foreign_needs(self, supplier: str, material: str) -> bool:
        return (supplier, material) in self.foreign or (supplier, material) in self.content

    def lift(self, materials: list[str]) -> None:
        """Licences are no longer required: files still open are released as approved."""
        for m in materials:
            self.controlled[m] = False
            self.authority.release_material(m)

    def apply(self, sh: Shipment, attempt: int, holder: LicenceHolder) -> None:
        """File the licence application of a modelled firm's shipment now, `holder` (its
        supplier) the applicant -- unless a licence its exporter holds for the firm covers
        it, when it is licensed at once."""
        f = sh.firm
        if self.cover is not None and self.cover.covers(sh.supplier, f.name, sh.material,
                                                        sh.kg, now(self.env)):
            sh.covered = True
            holder.licensed(sh)
            return
        t = self.authority.apps
        draws = self.keys(f"file.{sh.source}.{attempt}", self.authority.steps)
        i = t.add(sh.material, f.destination, sh.kg, self.priority[f.destination],
                  now(self.env), draws, sh.key, f.end_use)
        t.firm[i] = f
        t.sector[i] = f.sector
        t.attempt[i] = attempt
        t.shipment[i] = sh
        t.applicant[i] = holder
        sh.application = i
        self.waiting[sh.material] = self.waiting.get(sh.material, 0.0) + sh.kg
        self.authority.receive(i)

    def decided(self, i: int, holder: LicenceHolder) -> None:
        """Application row `i` of a shipment of `holder` was decided now."""
        t = self.authority.apps
        sh: Shipment = t.shipment[i]
        outcome, attempt = t.outcome[i], t.attempt[i]
        self.waiting[sh.material] -= sh.kg
        if outcome == APPROVED:
            if self.cover is not None:
                self.cover.grant(sh.supplier, sh.firm.name, sh.material, sh.firm.sector,
                                 now(self.env))
            holder.licensed(sh)
        elif outcome == REFUSED:
            if attempt < self.max_attempts:
                days = t.draws[i].variate(t.key[i], RESUBMIT, self.resubmit_after)
                post_call(self.env, days, self._resubmit, (sh, attempt + 1, holder))
                return
            holder.refused(sh)
            if self.redirect_refused:
                sh.firm.redirect(sh)
            else:
                sh.firm.cancel(sh)

    def _resubmit(self, arg: tuple[Shipment, int, LicenceHolder]) -> None:
        sh, attempt, holder = arg
        if self.controlled[sh.material] or self.foreign_needs(sh.supplier, sh.material):
            self.apply(sh, attempt, holder)
        else:
            holder.licensed(sh)
