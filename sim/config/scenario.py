"""The whole scenario, `Config`: the world, the policy events and the study settings,
and the checks that they fit together."""

from __future__ import annotations

import math
from datetime import date

from pydantic import Field, model_validator

from .base import (
    Name,
    PathError,
    PosFloat,
    Strict,
)
from .checks import RARE_EARTHS, Misses, Names, check_sum, last_day, unknown_name
from .costs import CostsConfig
from .observed import ObservedData
from .optimize import OptimizeConfig
from .policy import AddCapacity, CoversMaterials, ForeignContent, PolicyEvent, PolicyEventBase
from .prices import PricesConfig
from .responses import ResponseSwitches
from .sourcing import FrontRunning
from .study import CalibrationConfig, OutputConfig, RunsConfig, SweepConfig, UncertainParameter
from .world import (
    AuthorityConfig,
    CalendarConfig,
    DestinationConfig,
    FirmConfig,
    MaterialConfig,
    StockpileConfig,
    SupplierConfig,
)

# --------------------------------------------------------------------------- root


class Config(Strict):
    """A whole scenario."""

    name: str = Field(default="", description="Shown in titles and the manifest.")
    description: str = ""
    horizon_days: PosFloat = Field(description="Calendar days simulated.")
    branch: str = Field(
        default="", description="Which branch of the future this scenario follows: policy "
        "events with another `branch` do not happen (a `choice` uncertain parameter on "
        "`branch` draws it per replication)."
    )
    calendar: CalendarConfig
    runs: RunsConfig = RunsConfig()
    output: OutputConfig = OutputConfig()
    materials: dict[Name, MaterialConfig] = Field(min_length=1)
    destinations: dict[Name, DestinationConfig] = Field(min_length=1)
    authority: AuthorityConfig
    suppliers: dict[Name, SupplierConfig] = {}
    stockpile: StockpileConfig | None = None
    firms: dict[Name, FirmConfig] = {}
    policy: list[PolicyEvent] = []
    front_running: FrontRunning | None = Field(
        default=None, description="Front-running for every firm without its own (off).")
    responses: ResponseSwitches = Field(
        default=ResponseSwitches(), description="Switch a response mechanism off without "
        "removing its settings (all on).")
    sweep: SweepConfig | None = Field(
        default=None, description="Sensitivity sweep (`rareshock sweep`); `run` ignores it."
    )
    calibration: CalibrationConfig | None = Field(
        default=None, description="Settings of `rareshock calibrate` (defaults without it)."
    )
    optimize: OptimizeConfig | None = Field(
        default=None, description="Decision levers, objective and constraints of "
        "`rareshock optimize`; `run` ignores it."
    )
    costs: CostsConfig | None = Field(
        default=None, description="What holding, premiums, the reserve and lost output "
        "cost (USD): the replications dataset then holds each firm's costs per replication "
        "(`[costs]`)."
    )
    prices: PricesConfig | None = Field(
        default=None, description="Price indices that move with scarcity: firms pay the "
        "premium over the price before the controls (`[prices]`)."
    )
    uncertain: list[UncertainParameter] = Field(
        default=[], description="Values we do not know, drawn per replication from priors "
        "(`[[uncertain]]`); the `parameters` dataset records each replication's draws."
    )
    observed: ObservedData | None = Field(
        default=None, description="What was observed in the world this scenario stands for "
        "(the targets of `backtest` and calibration): in a file, a path relative to the config "
        "naming it (`observed = \"observed/2025.toml\"`), or a table."
    )

    @model_validator(mode="after")
    def _references(self) -> Config:
        """Every name used somewhere is defined (every miss reported at once, each with the
        path of the use and the nearest known name), then what the names make fits
        together (shares, tiers, windows). Set and dict lookups only: linear in the size
        of the config."""
        names = self.names()
        misses = Misses()
        self.authority.check_names(names, misses)
        for s_name, s in self.suppliers.items():
            s.check_names(s_name, names, misses)
        if self.stockpile is not None:
            self.stockpile.check_names(names, misses)
        for f_name, f in self.firms.items():
            f.check_names(f_name, names, misses)
        for i, ev in enumerate(self.policy):
            ev.check_names(f"policy.{i}", names, misses)
        self._check_branch(misses)
        self.calendar.check_extra_days(misses)
        if self.observed is not None:
            self.observed.check_names(names, misses)
        if self.calibration is not None:
            self.calibration.check_names(names, misses)
        if self.costs is not None:
            self.costs.check_names(names, misses)
        if self.prices is not None:
            self.prices.check_names(names, misses)
        if self.optimize is not None:
            self.optimize.check_names(names, frozenset(f.sector for f in self.firms.values()),
                                      misses)
        misses.raise_any()
        self._check_structure(names)
        return self

    def names(self) -> Names:
        """The index of the names this config defines."""
        customers: dict[str, set[str]] = {}
        for n, f in self.firms.items():
            for s in f.ordering.suppliers:
                customers.setdefault(s, set()).add(n)
        return Names(
            materials=frozenset(self.materials), destinations=frozenset(self.destinations),
            suppliers=frozenset(self.suppliers), firms=frozenset(self.firms),
            makers=tuple(sorted(n for n, f in self.firms.items() if f.output is not None)),
            customers={k: frozenset(v) for k, v in customers.items()},
            free_suppliers=frozenset(n for n, s in self.suppliers.items() if s.kind == "free"),
            routes=frozenset(n for n, s in self.suppliers.items() if s.route is not None),
            uncertain=frozenset(u.name for u in self.uncertain),
            has_stockpile=self.stockpile is not None,
            has_costs=self.costs is not None,
            has_prices=self.prices is not None,
            elements=RARE_EARTHS | {e for m in self.materials.values() for e in m.elements},
            information_response_days=(
                self.authority.information_requests.response_days is not None),
        )

    def _check_branch(self, misses: Misses) -> None:
        branches = {ev.branch for ev in self.policy if ev.branch is not None}
        if self.branch and self.branch not in branches:
            misses.fail("branch", unknown_name("branch", self.branch, branches).replace(
                "unknown branch", "no policy event has branch", 1).replace("known:",
                                                                           "branches:"))

    def _check_structure(self, names: Names) -> None:
        a = self.authority
        if a.background.materials:
            check_sum(a.background.materials, "authority.background.materials")
        if a.background.destinations:
            check_sum(a.background.destinations, "authority.background.destinations")
        for name in self.firms:
            if name in self.suppliers:
                raise PathError(f"firms.{name}", f"{name!r} names a supplier too: a name is a "
                                "supplier's or a firm's")
        self._check_units()
        made = self.made_materials()
        for f_name, f in self.firms.items():
            if f.output is not None and f.output in f.bom:
                raise PathError(f"firms.{f_name}.output", f"{f.output!r} is in its own bill "
                                "of materials")
            self._check_sources(f_name, f, made)
            self._check_rationing(f_name, f)
        self._check_tiers()
        for i, ev in enumerate(self.policy):
            self._check_event(i, ev, names)
        self._check_measured()
        self._check_downtime_windows()
        self._check_sourcing()
        if self.costs is not None:
            self.costs.check_stockpile(
                self.stockpile.stock_kg if self.stockpile is not None else None,
                self.reserve_users())
        indexed = self.prices.elasticity if self.prices is not None else {}
        for i, pr in enumerate(self.observed.prices if self.observed is not None else []):
            if self.prices is None:
                break  # no index at all: the reported prices are not compared
            if pr.material not in indexed:
                raise PathError(f"observed.prices.{i}.material", f"{pr.material!r} has no "
                                "price index to compare with (give [prices] an elasticity "
                                "for it)")
            if (pr.until - self.calendar.start).days + 1 > self.horizon_days:
                raise PathError(f"observed.prices.{i}.until", f"{pr.until} is past the "
                                f"run's last day (horizon_days = {self.horizon_days:g})")
        for m in self.prices.elasticity if self.prices is not None else ():
            if self.materials[m].price_usd_per_kg is None:
                raise PathError(f"materials.{m}.price_usd_per_kg", "is needed: "
                                f"prices.elasticity indexes {m}'s price")
            if not any(m in f.bom for f in self.firms.values()):
                raise PathError(f"prices.elasticity.{m}", f"no firm uses {m}: its index "
                                "would have no cover to measure scarcity against")
        names: dict[str, int] = {}
        for i, u in enumerate(self.uncertain):
            if u.name in names:
                raise PathError(f"uncertain.{i}.name", f"{u.name!r} is already "
                                f"uncertain.{names[u.name]}")
            names[u.name] = i

    def _check_event(self, i: int, ev: PolicyEventBase, names: Names) -> None:
        if not ev.outside_window:
            self._check_window(ev.date, f"policy.{i}.date")
        ev.check_fits(f"policy.{i}", names)
        if isinstance(ev, ForeignContent):
            self._check_content_rule(i, ev)
        if isinstance(ev, CoversMaterials) and ev.elements and not ev.materials and not (
                ev.covered(self.materials)):
            raise PathError(f"policy.{i}.elements", f"no material holds more than "
                            f"{ev.min_content:g} of {', '.join(ev.elements)}: the event "
                            "covers nothing (see `min_content`)")

    def _check_content_rule(self, i: int, ev: ForeignContent) -> None:
        """A firm the rule lists makes a listed material, and each firm it reaches has a
        price for its output and its inputs (they value its Chinese-origin content)."""
        for k, n in enumerate(ev.suppliers or []):
            out = self.firms[n].output if n in self.firms else None
            if out is not None and out not in ev.materials:
                raise PathError(f"policy.{i}.suppliers.{k}", f"firm {n!r} makes {out!r}, "
                                "which the rule's `materials` do not list")
        for n in self.content_makers(ev):
            f = self.firms[n]
            for m in (f.output, *f.bom):
                if self.materials[m].price_usd_per_kg is None:
                    raise PathError(f"materials.{m}.price_usd_per_kg", f"is needed: the "
                                    f"rule at policy.{i} values firm {n!r}'s Chinese-origin "
                                    "content, and it makes or uses this material")

    def _check_sourcing(self) -> None:
        """The names the sourcing sections use exist and fit: raises PathError."""
        free = [n for n, sup in self.suppliers.items() if sup.kind == "free"]
        made = self.made_materials()
        for name, f in self.firms.items():
            r = f.ordering.resourcing
            if r is None:
                continue
            p = f"firms.{name}.ordering.resourcing.to"
            for s in r.to:
                sup = self.suppliers.get(s)
                if s in self.firms:  # a firm making one of its materials, e.g. magnets
                    self._check_maker_target(name, f, s, f"{p}.{s}")
                    continue
                if sup is None:
                    raise PathError(f"{p}.{s}", unknown_name("supplier", s, self.suppliers,
                                                             free))
                if sup.kind != "free":
                    raise PathError(f"{p}.{s}", f"{s!r} is controlled: re-sourcing goes to "
                                    "free suppliers or routes")
                if not set(f.bom) & set(sup.materials):
                    raise PathError(f"{p}.{s}",
                                    f"{s!r} supplies none of the bill of materials")
                if not self._ever_supplies(s):
                    raise PathError(f"{p}.{s}", f"{s!r} has no capacity now or later (0 kg/day, "
                                    "no ramp step or capacity event adds any): orders moved "
                                    "there would never arrive")
            if r.price_above is not None and not (
                    self.prices is not None and set(f.bom) & self.prices.elasticity.keys()):
                raise PathError(f"firms.{name}.ordering.resourcing.price_above", "no price "
                                "index covers the firm's materials (give `[prices]` an "
                                f"elasticity for one of {', '.join(f.bom)})")
            away = self._check_away(name, f)
            movable = [m for m, g in self.sources(f, made).items()
                       if any(n in away if away is not None else
                              n in self.suppliers and self.suppliers[n].kind == "controlled"
                              for n in g)
                       and any(m in self.sells(s) for s in r.to)]
            if not movable:
                raise PathError(p, "no material of the firm is ordered from a controlled "
                                "supplier (or a source in `away_from`) and sold by one of "
                                "these: nothing would move")
        for s_name, sup in self.suppliers.items():
            for k, st in enumerate(sup.ramp):
                if st.start < self.calendar.start:
                    raise PathError(f"suppliers.{s_name}.ramp.{k}.start", f"{st.start} is "
                                    f"before the start, {self.calendar.start}: the capacity at "
                                    "the start is capacity_kg_per_day")
            if sup.route is not None and sup.kind != "free":
                raise PathError(f"suppliers.{s_name}.route", "a route is a free supplier (it "
                                "needs no licence until a rule closes it)")
        fronts = [("front_running", self.front_running)] + [
            (f"firms.{n}.ordering.front_running", f.ordering.front_running)
            for n, f in self.firms.items()]
        for path, fr in fronts:
            for k, m in enumerate(fr.materials or [] if fr is not None else []):
                if m not in self.materials:
                    raise PathError(f"{path}.materials.{k}", unknown_name("material", m,
                                                                          self.materials))
                firm = self.firms.get(path.split(".")[1]) if path != "front_running" else None
                if firm is not None and m not in firm.bom:
                    raise PathError(f"{path}.materials.{k}", f"the firm uses no {m} (its bill "
                                    f"of materials: {', '.join(firm.bom)}): nothing would be "
                                    "ordered ahead")

    def _ever_supplies(self, name: str) -> bool:
        """Whether a free supplier has capacity at some time: at the start, at a ramp step
        or after a `capacity` policy event that adds some."""
        sup = self.suppliers[name]
        return bool(sup.capacity_kg_per_day or any(st.kg_per_day > 0 for st in sup.ramp)
                    or any(isinstance(ev, AddCapacity) and ev.supplier == name
                           and ev.add_kg_per_day > 0 for ev in self.policy))

    def _check_away(self, name: str, f: FirmConfig) -> frozenset[str] | None:
        """The sources a firm's re-sourcing moves orders away from (None: its controlled
        suppliers): each named in its ordering and none a target."""
        r = f.ordering.resourcing
        if r is None or r.away_from is None:
            return None
        p = f"firms.{name}.ordering.resourcing.away_from"
        if not r.away_from:
            raise PathError(p, "names no source (leave it out to move away from the "
                            "controlled suppliers)")
        for k, n in enumerate(r.away_from):
            if n not in f.ordering.suppliers:
                raise PathError(f"{p}.{k}", unknown_name(
                    "source", n, f.ordering.suppliers,
                    also="; away_from names the firm's own suppliers or firms"))
            if n in r.to:
                raise PathError(f"{p}.{k}", f"{n!r} is also in `to`: orders would move "
                                "to where they came from")
        return frozenset(r.away_from)

    def _check_maker_target(self, name: str, f: FirmConfig, maker: str, at: str) -> None:
        """A firm that re-sourcing moves orders to makes one of the firm's materials and is
        one of its sources already (a share of 0 will do), so its arc and tier exist."""
        out = self.firms[maker].output
        if out is None or out not in f.bom:
            raise PathError(at, f"firm {maker!r} makes "
                            f"{repr(out) if out else 'nothing for other firms'}, which is "
                            f"not in {name!r}'s bill of materials")
        if maker not in f.ordering.suppliers:
            raise PathError(at, f"firm {maker!r} is not one of {name!r}'s sources: list it "
                            f"in ordering.suppliers (a share of 0 will do) to move orders "
                            "to it")

    def sells(self, source: str) -> list[str]:
        """The materials a supplier sells, or the output of a firm that makes one."""
        if source in self.firms:
            out = self.firms[source].output
            return [out] if out is not None else []
        return list(self.suppliers[source].materials)

    def _check_measured(self) -> None:
        """The measured window (`output.measure_from` to `measure_until`) holds some of the
        simulated window."""
        o, start, h = self.output, self.calendar.start, self.horizon_days
        window = f"the simulated window is {start} to {last_day(start, h)} (horizon_days = {h:g})"
        lo = (o.measure_from - start).days if o.measure_from else 0
        hi = (o.measure_until - start).days if o.measure_until else math.inf
        if o.measure_from and o.measure_until and hi <= lo:
            raise PathError("output.measure_until", f"{o.measure_until} is not after "
                            f"measure_from {o.measure_from}: nothing would be measured")
        if o.measure_from and lo < 0:
            raise PathError("output.measure_from", f"{o.measure_from} is before the start; "
                            f"{window}")
        if o.measure_from and lo >= h:
            raise PathError("output.measure_from", f"{o.measure_from} is not before the end: "
                            f"nothing would be measured; {window}")
        if o.measure_until and hi <= 0:
            raise PathError("output.measure_until", f"{o.measure_until} is not after the "
                            f"start: nothing would be measured; {window}")

    def _check_downtime_windows(self) -> None:
        """Each observed downtime's window holds some of the simulated window, and the
        fewest days reported fit in it (from the start when `since` is not given)."""
        if self.observed is None:
            return
        start, h = self.calendar.start, self.horizon_days
        window = f"the simulated window is {start} to {last_day(start, h)}"
        for i, d in enumerate(self.observed.downtimes):
            at = f"observed.downtimes.{i}"
            since = d.since or start
            if d.until < start:
                raise PathError(f"{at}.until", f"{d.until} is before the start: nothing "
                                f"would be counted; {window}")
            if (since - start).days >= h:
                raise PathError(f"{at}.since", f"{since} is after the end: nothing would be "
                                f"counted; {window}")
            n = (d.until - since).days + 1
            if d.since is None and d.days.low > n:
                raise PathError(f"{at}.days.low", f"{d.days.low:g} days is more than the "
                                f"window from the start, {start}, to {d.until} holds ({n})")

    def reserve_users(self) -> dict[str, float]:
        """Per material, the planned use (kg/day) of the firms the stockpile serves."""
        if self.stockpile is None:
            return {}
        served = set(self.stockpile.sectors)
        use: dict[str, float] = {}
        for f in self.firms.values():
            if f.sector in served:
                for m, k in f.bom.items():
                    use[m] = use.get(m, 0.0) + f.units_per_day * k
        return use

    def premiums(self) -> dict[str, float]:
        """Per supplier with one, the premium (USD per kg received): `costs`' own, else a
        route's `premium_per_kg`."""
        given = self.costs.premium_usd_per_kg if self.costs is not None else {}
        out = {}
        for n, s in self.suppliers.items():
            p = given.get(n, s.route.premium_per_kg if s.route is not None else 0.0)
            if p > 0:
                out[n] = p
        return out

    def content_makers(self, ev: ForeignContent) -> list[str]:
        """The firms whose shipments a `foreign_content` rule with a threshold reaches
        through their tracked content: those it lists (or every firm) making a listed
        material."""
        if ev.threshold is None:
            return []
        names = ev.suppliers if ev.suppliers is not None else list(self.firms)
        return [n for n in names
                if n in self.firms and self.firms[n].output in ev.materials]

    def tracks_origin(self) -> bool:
        """Whether some firm's Chinese-origin content must be tracked: a `foreign_content`
        rule with a threshold reaches it."""
        return any(isinstance(ev, ForeignContent) and self.content_makers(ev)
                   for ev in self.policy)

    def made_materials(self) -> frozenset[str]:
        """The materials some firm makes (its `output`)."""
        return frozenset(f.output for f in self.firms.values() if f.output is not None)

    def assembly_sellers(self, firm: FirmConfig,
                         made: frozenset[str] | None = None) -> frozenset[str]:
        """The suppliers named in `firm`'s ordering that sell a material of its bill of
        materials which firms make (a motor set assembled outside the model): they
        supply that material only, beside the firms that make it. `made`: the
        `made_materials()`, if known (a loop over the firms passes them)."""
        made = (self.made_materials() if made is None else made) & firm.bom.keys()
        return frozenset(n for n in firm.ordering.suppliers
                         if n in self.suppliers and made & set(self.suppliers[n].materials))

    def sources(self, firm: FirmConfig,
                made: frozenset[str] | None = None) -> dict[str, dict[str, float]]:
        """Per material of `firm`'s bill of materials, the suppliers (or firms) it orders it
        from and their shares: a material that firms make comes from the named firms that
        make it and the named suppliers that sell it (`assembly_sellers`), every other
        material from the other named suppliers. `made`: as for `assembly_sellers`."""
        shares = firm.ordering.suppliers
        firms = {n: s for n, s in shares.items() if n in self.firms}
        sellers = self.assembly_sellers(firm, made)
        out = {}
        for m in firm.bom:
            g = {n: s for n, s in firms.items() if self.firms[n].output == m}
            g.update((n, shares[n]) for n in sellers if m in self.suppliers[n].materials)
            out[m] = g or {n: s for n, s in shares.items()
                           if n not in self.firms and n not in sellers}
        return out

    def _check_sources(self, name: str, f: FirmConfig, made: frozenset[str]) -> None:
        p = f"firms.{name}.ordering.suppliers"
        for s_name in f.ordering.suppliers:
            maker = self.firms.get(s_name)
            if maker is not None and maker.output not in f.bom:
                what = (f"makes {maker.output!r}, which is not in the bill of materials"
                        if maker.output else "makes nothing for other firms (no output)")
                raise PathError(f"{p}.{s_name}", f"firm {s_name!r} {what}")
        groups = self.sources(f, made)
        sellers = self.assembly_sellers(f, made)
        if not sellers and all(g.keys() <= self.suppliers.keys() for g in groups.values()):
            check_sum(f.ordering.suppliers, p)  # no firm suppliers: one set of shares
        for m, g in groups.items():
            if not g:
                raise PathError(p, f"nothing named here supplies {m!r} (in the bill of "
                                "materials)")
            if g.keys() & (self.firms.keys() | sellers):
                total = sum(g.values())
                if abs(total - 1.0) > 1e-6:
                    listed = ", ".join(f"{k} {v:g}" for k, v in g.items())
                    who = ("the firms making" if g.keys() <= self.firms.keys()
                           else "the firms making and suppliers selling")
                    raise PathError(p, f"{who} {m!r} must have shares summing "
                                    f"to 1 (they sum to {total:g}: {listed})")
                continue
            for s_name, share in g.items():
                if m not in self.suppliers[s_name].materials and share > 0:
                    raise PathError(
                        f"{p}.{s_name}",
                        f"supplier {s_name!r} does not supply {m!r} (in the bill of materials)",
                    )
        suppliers_only = {n: s for n, s in f.ordering.suppliers.items()
                          if n in self.suppliers and n not in sellers}
        if suppliers_only and len(suppliers_only) < len(f.ordering.suppliers):
            check_sum(suppliers_only, p)

    def _check_units(self) -> None:
        """A supplier sells materials of one unit (its capacity adds them up), and parts
        counted in pieces only from a free supplier (a controlled exporter's shipments
        are licensed exports in kg)."""
        for s_name, sup in self.suppliers.items():
            units = {m: self.materials[m].unit for m in sup.materials}
            pieces = [m for m, u in units.items() if u == "pieces"]
            if not pieces:
                continue
            p = f"suppliers.{s_name}.materials"
            kg = [m for m, u in units.items() if u == "kg"]
            if kg:
                raise PathError(p, f"mixes materials in kg ({', '.join(kg)}) and in pieces "
                                f"({', '.join(pieces)}): its capacity per day counts them "
                                "together; sell them through two suppliers")
            if sup.china_content_share > 0:
                raise PathError(f"suppliers.{s_name}.china_content_share",
                                f"sells parts counted in pieces ({', '.join(pieces)}): "
                                "licences under a foreign-content rule are for kg of "
                                "material; close the route with a close_route event instead")
            if sup.kind == "controlled":
                raise PathError(f"{p}.{sup.materials.index(pieces[0])}",
                                f"{pieces[0]!r} is counted in pieces; a controlled "
                                "supplier's shipments are licensed exports in kg: sell "
                                "parts through a free supplier (a route)")

    @staticmethod
    def _check_rationing(name: str, f: FirmConfig) -> None:
        """A rationing firm's unit value is the plan-weighted mean of its lines' values."""
        r = f.rationing
        if r is not None and abs(r.mean_value() - f.unit_value) > 1e-9 * max(
                1.0, abs(f.unit_value)):
            listed = " + ".join(f"{x.share:g} x {x.value:g}" for x in r.lines)
            raise PathError(f"firms.{name}.unit_value", f"is {f.unit_value:g} but must be "
                            "the plan-weighted mean of the rationing lines' values "
                            f"({listed} = {r.mean_value():g})")

    def _check_tiers(self) -> None:
        """No firm buys, through any chain of firms, from itself; the loop is named."""
        buys = {n: [s for s in f.ordering.suppliers if s in self.firms]
                for n, f in self.firms.items()}
        state: dict[str, int] = {}

        def visit(n: str, path: list[str]) -> None:
            state[n] = 1
            for s in buys[n]:
                if state.get(s) == 1:
                    loop = " -> ".join([*path[path.index(s):], s])
                    raise PathError(f"firms.{n}.ordering.suppliers.{s}",
                                    f"firms buy from each other in a loop: {loop}")
                if s not in state:
                    visit(s, [*path, s])
            state[n] = 2

        for n in self.firms:
            if n not in state:
                visit(n, [n])

    def tiers(self) -> dict[str, int]:
        """Each firm's tier: 0 for a firm no firm buys from (it makes the end product), and
        one more than its nearest customer's for a firm that supplies firms."""
        customers: dict[str, list[str]] = {n: [] for n in self.firms}
        for n, f in self.firms.items():
            for s in f.ordering.suppliers:
                if s in customers:
                    customers[s].append(n)
        tier: dict[str, int] = {}

        def of(n: str) -> int:
            if n not in tier:
                tier[n] = 1 + min(of(c) for c in customers[n]) if customers[n] else 0
            return tier[n]

        return {n: of(n) for n in self.firms}

    def _check_window(self, when: date, path: str) -> None:
        """A policy date before the start would silently apply at t = 0: refused. (One at or
        after the end never happens; `sim.config.workload` warns about those.)"""
        start = self.calendar.start
        if when >= start:
            return
        window = f"{start} to {last_day(start, self.horizon_days)}"
        raise PathError(path, f"{when} is before the simulated window ({window}): it would "
                        "apply at t = 0; set outside_window = true if that is meant")
