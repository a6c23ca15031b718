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
from .checks import Misses, Names, check_sum, last_day, unknown_name
from .observed import ObservedData
from .policy import PolicyEvent, PolicyEventBase
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
        for f_name, f in self.firms.items():
            if f.output is not None and f.output in f.bom:
                raise PathError(f"firms.{f_name}.output", f"{f.output!r} is in its own bill "
                                "of materials")
            self._check_sources(f_name, f)
        self._check_tiers()
        for i, ev in enumerate(self.policy):
            self._check_event(i, ev, names)
        self._check_measured()
        self._check_sourcing()
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

    def _check_sourcing(self) -> None:
        """The names the sourcing sections use exist and fit: raises PathError."""
        free = [n for n, sup in self.suppliers.items() if sup.kind == "free"]
        for name, f in self.firms.items():
            r = f.ordering.resourcing
            if r is None:
                continue
            p = f"firms.{name}.ordering.resourcing.to"
            for s in r.to:
                sup = self.suppliers.get(s)
                if sup is None:
                    raise PathError(f"{p}.{s}", unknown_name("supplier", s, self.suppliers,
                                                             free))
                if sup.kind != "free":
                    raise PathError(f"{p}.{s}", f"{s!r} is controlled: re-sourcing goes to "
                                    "free suppliers or routes")
                if not set(f.bom) & set(sup.materials):
                    raise PathError(f"{p}.{s}",
                                    f"{s!r} supplies none of the bill of materials")
            movable = [m for m, g in self.sources(f).items()
                       if any(n in self.suppliers and self.suppliers[n].kind == "controlled"
                              for n in g)
                       and any(m in self.suppliers[s].materials for s in r.to)]
            if not movable:
                raise PathError(p, "no material of the firm is ordered from a controlled "
                                "supplier and sold by one of these: nothing would move")
        for s_name, sup in self.suppliers.items():
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

    def sources(self, firm: FirmConfig) -> dict[str, dict[str, float]]:
        """Per material of `firm`'s bill of materials, the suppliers (or firms) it orders it
        from and their shares: a material some named firm makes comes from those firms,
        every other material from the named suppliers."""
        shares = firm.ordering.suppliers
        firms = {n: s for n, s in shares.items() if n in self.firms}
        out = {}
        for m in firm.bom:
            makers = {n: s for n, s in firms.items() if self.firms[n].output == m}
            out[m] = makers or {n: s for n, s in shares.items() if n not in self.firms}
        return out

    def _check_sources(self, name: str, f: FirmConfig) -> None:
        p = f"firms.{name}.ordering.suppliers"
        for s_name in f.ordering.suppliers:
            maker = self.firms.get(s_name)
            if maker is not None and maker.output not in f.bom:
                what = (f"makes {maker.output!r}, which is not in the bill of materials"
                        if maker.output else "makes nothing for other firms (no output)")
                raise PathError(f"{p}.{s_name}", f"firm {s_name!r} {what}")
        groups = self.sources(f)
        if all(g.keys() <= self.suppliers.keys() for g in groups.values()):
            check_sum(f.ordering.suppliers, p)  # no firm suppliers: one set of shares
        for m, g in groups.items():
            if not g:
                raise PathError(p, f"nothing named here supplies {m!r} (in the bill of "
                                "materials)")
            if g.keys() <= self.firms.keys():
                total = sum(g.values())
                if abs(total - 1.0) > 1e-6:
                    listed = ", ".join(f"{k} {v:g}" for k, v in g.items())
                    raise PathError(p, f"the firms making {m!r} must have shares summing "
                                    f"to 1 (they sum to {total:g}: {listed})")
                continue
            for s_name, share in g.items():
                if m not in self.suppliers[s_name].materials and share > 0:
                    raise PathError(
                        f"{p}.{s_name}",
                        f"supplier {s_name!r} does not supply {m!r} (in the bill of materials)",
                    )
        suppliers_only = {n: s for n, s in f.ordering.suppliers.items() if n in self.suppliers}
        if suppliers_only and len(suppliers_only) < len(f.ordering.suppliers):
            check_sum(suppliers_only, p)

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
