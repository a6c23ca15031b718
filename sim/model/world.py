"""One replication: the world that ties authority, suppliers, firms and policy together.

The World builds the parts in dependency order, each given in its constructor only what
it uses (the event environment, the calendar, its named random streams and its
collaborators, which exist before it: nothing is wired in afterwards), starts them, runs
to the horizon, checks conservation and keeps the records that `tables` turns into output.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import simpy
from simpy.events import Timeout

from ..config.schema import Config, CoversMaterials, FirmConfig
from ..errors import ConservationError
from .authority import Authority
from .background import LeadTimeWatch, start_background
from .calendar import WorkingCalendar
from .clock import events_processed, now, post_call
from .costs import CostBook
from .deferred import DeferredDemand
from .firm import Firm
from .licensing import Licensing
from .maker import FirmSupplier, finished_goods
from .orders import OrderBook
from .origin import OriginBook
from .policy import Policy
from .prices import Prices
from .production import Production
from .records import ExportLog
from .rng import Streams
from .sourcing import FrontRunner, Resourcer
from .supply import ControlledExporter, FreeSupplier, Stockpile, Supplier

PROGRESS_SLICES = 50


class World:
    """Builds and runs one replication of a Config."""

    def __init__(self, cfg: Config, seed: int | np.random.SeedSequence) -> None:
        self.cfg = cfg
        self.streams = Streams(seed)
        self.seed = self.streams.seed
        self.env = env = simpy.Environment()
        c = cfg.calendar
        self.calendar = WorkingCalendar(
            c.start, cfg.horizon_days, c.working_days,
            [(h.start, h.end) for h in c.holidays], c.extra_working_days,
        )
        self.horizon = cfg.horizon_days
        self.exports = ExportLog()
        self.authority = Authority(env, self.calendar, cfg.authority, self.streams)
        self.licensing = Licensing(env, cfg, self.authority, self.streams)
        self.suppliers: dict[str, Supplier] = {}
        for n, s in cfg.suppliers.items():
            if s.kind == "controlled":
                self.suppliers[n] = ControlledExporter(env, n, s, self.streams, self.licensing,
                                                       self.exports)
            else:
                self.suppliers[n] = FreeSupplier(env, n, s, self.streams, self.calendar,
                                                 self.licensing)
        self.stockpile = (Stockpile(env, cfg.stockpile, self.streams)
                          if cfg.stockpile is not None else None)
        # Firms order from suppliers and from firms that make their parts: each firm's
        # production first (into finished goods if other firms buy from it), then the
        # supplier side of the makers, then the firms that order from all of them.
        bought = {s for f in cfg.firms.values() for s in f.ordering.suppliers
                  if s in cfg.firms}
        counted = self._downtime_windows()
        ration = cfg.responses.rationing
        production = {
            n: Production(env, f if ration or f.rationing is None else
                          f.model_copy(update={"rationing": None}),
                          cfg.output.recovery_window_days,
                          finished_goods(f.shipping, f.units_per_day) if n in bought else None,
                          counted.get(n, (math.inf, -math.inf)))
            for n, f in cfg.firms.items()}
        if cfg.costs is not None:
            premiums = cfg.premiums()
            for p in production.values():
                p.book = CostBook(p.bom, premiums)
        track = cfg.tracks_origin()
        price = {m: mc.price_usd_per_kg or 0.0 for m, mc in cfg.materials.items()}
        if track:
            self._track_origin(production, price)
        self.makers = {n: FirmSupplier(env, n, p, p.goods, cfg.firms[n].shipping,
                                       self.streams.keys, self.licensing if track else None,
                                       price[cfg.firms[n].output or ""] if track else 0.0)
                       for n, p in production.items() if p.goods is not None}
        self.sources: dict[str, Supplier | FirmSupplier] = {**self.suppliers, **self.makers}
        self._made = cfg.made_materials()
        self.prices = (Prices(cfg.prices, price, list(cfg.firms), production, self.licensing,
                              [s for s in self.sources.values() if isinstance(s, OrderBook)])
                       if cfg.prices is not None else None)
        self.firms = [Firm(env, n, f, self.horizon, production[n], self.sources,
                           self.stockpile, cfg.sources(f, self._made), *self._responses(f),
                           self.prices)
                      for n, f in cfg.firms.items()]
        self.tiers = cfg.tiers()
        self.policy = Policy(env, cfg.policy, self.calendar, self.horizon, self.streams,
                             self.authority, self.licensing, self.suppliers, self.stockpile,
                             cfg.materials, cfg.content_makers, cfg.branch)
        self.series: tuple[list[float], list[str], list[str], list[str], list[float]] = (
            [], [], [], [], []
        )
        self.events_processed = 0
        self.deferred: DeferredDemand | None = None  # other buyers' responses, if on
        self.ordering_ahead: LeadTimeWatch | None = None  # how far ahead they file, if on

    def _track_origin(self, production: dict[str, Production],
                      price: dict[str, float]) -> None:
        """Give each firm that makes for others a book of the Chinese-origin value of its
        stocks and goods (a `foreign_content` rule with a threshold may reach it), valued
        at `price` per kg."""
        cfg = self.cfg
        controlled = frozenset(n for n, s in cfg.suppliers.items() if s.kind == "controlled")
        made = cfg.made_materials()
        for n, p in production.items():
            if p.goods is None:
                continue
            shares = cfg.sources(cfg.firms[n], made)
            start = {m: sum(w for s, w in shares[m].items() if s in controlled)
                     for m in p.bom}
            p.origin = OriginBook(p.stock, p.goods, {m: price[m] for m in p.bom},
                                  controlled, start, p.bom)

    def _responses(self, f: FirmConfig) -> tuple[Resourcer | None, FrontRunner | None]:
        """The firm's re-sourcing and front-running policies (None where off)."""
        on = self.cfg.responses
        r = f.ordering.resourcing if on.resourcing else None
        resourcer = None
        if r is not None:
            to = {}
            for m in f.bom:
                g = {n: w for n, w in r.to.items() if m in self.cfg.sells(n)}
                total = sum(g.values())
                to[m] = {n: w / total for n, w in g.items()} if total > 0 else {}
            sources = self.sources
            controlled = self.licensing.controlled
            upstream = {m: self._upstream(m) for m in f.bom}
            prices = self.prices
            resourcer = Resourcer(r, self.cfg.sources(f, self._made), to,
                                  lambda n: sources[n].controlled,
                                  lambda m: any(controlled.get(x, False) for x in upstream[m]),
                                  prices.index_of if prices is not None else None)
        fr = (f.ordering.front_running or self.cfg.front_running) if on.front_running else None
        return resourcer, FrontRunner(fr, list(f.bom)) if fr is not None else None

    def _upstream(self, m: str) -> tuple[str, ...]:
        """`m` and the materials upstream of it: those in the bills of materials of the
        firms that make it, and so on (a control on any of them makes `m` scarce)."""
        out = [m]
        for f in self.cfg.firms.values():
            if f.output == m:
                out += [x for b in f.bom for x in self._upstream(b) if x not in out]
        return tuple(dict.fromkeys(out))

    def _announce(self) -> None:
        """Tell the front-running firms of each announced event that happens: from its
        announcement to the day it takes effect (and, for controls, which materials)."""
        covered = {i: ev.covered(self.cfg.materials) for i, ev in enumerate(self.cfg.policy)
                   if isinstance(ev, CoversMaterials)}
        for row in self.policy.log:
            ev = self.cfg.policy[row["index"]]
            if ev.announced is None or not row["happened"]:
                continue
            start = max(0.0, self.calendar.day_of(ev.announced))
            for f in self.firms:
                if f.ordering.front_running is not None:
                    f.ordering.front_running.announce(start, row["day"],
                                                      covered.get(row["index"],
                                                                  getattr(ev, "materials", None)))

    @property
    def shock_onset(self) -> float:
        """Day the first control started (NaN if none did)."""
        return self.licensing.shock_onset

    # ------------------------------------------------------------------ sampling

    def _sampler(self):  # noqa: ANN202 - a SimPy process
        every = self.cfg.output.sample_every_days
        day, series, firm, material, value = self.series
        a = self.authority
        k = 0
        while True:
            t = k * every
            if t > self.horizon:
                return
            if t > now(self.env):
                yield Timeout(self.env, t - now(self.env))
            for name, v in (("backlog", a.open), ("queue", a.queued)):
                day.append(t)
                series.append(name)
                firm.append("")
                material.append("")
                value.append(float(v))
            for f in self.firms:
                p = f.production
                p.advance()
                for m, s in p.stock.items():
                    day.append(t)
                    series.append("inventory_kg")
                    firm.append(f.name)
                    material.append(m)
                    value.append(s)
                day.append(t)
                series.append("cumulative_units")
                firm.append(f.name)
                material.append("")
                value.append(p.produced)
            for m in self.prices.elasticity if self.prices is not None else ():
                day.append(t)
                series.append("price_index")
                firm.append("")
                material.append(m)
                value.append(self.prices.index(m))
            k += 1

    # ------------------------------------------------------------------ run

    def run(self, progress: Callable[[float], None] | None = None) -> None:
        """Run to the horizon; raises ConservationError if material was created or lost.

        With `progress`, `progress(day)` is called `PROGRESS_SLICES - 1` times at even steps
        of simulated time, by calls of its own on the event queue: they read nothing and
        change nothing, so every result is the same (and they are left out of the event
        count)."""
        env = self.env
        self.policy.schedule()
        if self.cfg.responses.front_running and (self.cfg.front_running is not None or any(
                f.ordering.front_running is not None for f in self.firms)):
            self._announce()
        bg = self.cfg.authority.background
        if bg.deferred is not None and not self.cfg.responses.deferred_demand:
            bg = bg.model_copy(update={"deferred": None})
        if bg.ordering_ahead is not None and not self.cfg.responses.ordering_ahead:
            bg = bg.model_copy(update={"ordering_ahead": None})
        if bg.rate_per_day > 0:
            self.deferred, self.ordering_ahead = start_background(
                env, bg, self.streams, self.authority, self.licensing, self.exports)
        for f in self.firms:
            f.start()
        env.process(self._sampler())
        o = self.cfg.output
        self.window = (self.calendar.day_of(o.measure_from) if o.measure_from else 0.0,
                       min(self.horizon, self.calendar.day_of(o.measure_until))
                       if o.measure_until else self.horizon)
        for k, day in enumerate(self.window):
            if 0.0 < day < self.horizon:
                post_call(env, day, self._measure, k)
        warm = self.cfg.runs.warmup_days
        self.warm_areas = (0.0, 0.0, 0.0, 0.0)
        if warm > 0:
            post_call(env, min(warm, self.horizon), self._end_warmup, None)
        ticks = [0]
        if progress is not None:
            def tick(day: float) -> None:
                ticks[0] += 1
                progress(day)

            for k in range(1, PROGRESS_SLICES):
                day = self.horizon * k / PROGRESS_SLICES
                post_call(env, day, tick, day)
        env.run(until=self.horizon)
        self.authority.finish()
        for f in self.firms:
            f.finish()
        problems = [p for f in self.firms for p in f.check_conservation()]
        problems += [p for m in self.makers.values() for p in m.check_conservation()]
        if self.deferred is not None:
            problems += self.deferred.check_conservation()
        if problems:
            raise ConservationError("; ".join(problems))
        self.events_processed = events_processed(env) - ticks[0]

    def _downtime_windows(self) -> dict[str, tuple[float, float]]:
        """Per firm with an observed downtime (`observed.downtimes`), the window its days
        below plan are counted in: [since, until + 1 day), days since start."""
        obs = self.cfg.observed
        cal = self.calendar
        return {d.firm: (cal.day_of(d.since) if d.since else 0.0, cal.day_of(d.until) + 1.0)
                for d in (obs.downtimes if obs is not None else [])}

    def _measure(self, k: int) -> None:
        """The start (k = 0) or end (k = 1) of the measured window: each firm's output so
        far."""
        for f in self.firms:
            f.production.measure(k)
        if self.prices is not None:
            self.prices.mark(k)

    def _end_warmup(self, _arg: object) -> None:
        self.warm_areas = self.authority.areas()
