"""The policy timeline: dated events, each with an uncertain date and a probability of
happening, drawn per replication and applied to the parts of the world they change."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import simpy

from ..config.schema import (
    AddCapacity,
    CloseRoute,
    ControlsLift,
    ControlsStart,
    ForeignContent,
    GeneralLicence,
    MaterialConfig,
    PolicyEvent,
    ResumeApprovals,
    SetDecision,
    SetReviewers,
    SetReviewTime,
    StockpileRelease,
    SuspendApprovals,
)
from .authority import Authority
from .calendar import WorkingCalendar
from .clock import now, post_call
from .licensing import Licensing
from .rng import Streams
from .supply import Stockpile, Supplier


class Policy:
    """Draws when (and whether) each event happens and applies those that do.

    `log` holds one row per event: index, type, label, day drawn and whether it happened
    within the horizon.
    """

    def __init__(self, env: simpy.Environment, events: Sequence[PolicyEvent],
                 calendar: WorkingCalendar, horizon: float, streams: Streams,
                 authority: Authority, licensing: Licensing,
                 suppliers: Mapping[str, Supplier], stockpile: Stockpile | None,
                 materials: Mapping[str, MaterialConfig],
                 content_makers: Callable[[ForeignContent], list[str]],
                 branch: str = "") -> None:
        self.env = env
        self.branch = branch
        self.events = events
        self.calendar = calendar
        self.horizon = horizon
        self.keys = streams.keys
        self.authority = authority
        self.licensing = licensing
        self.suppliers = suppliers
        self.stockpile = stockpile
        self.materials = materials
        self.content_makers = content_makers
        self.log: list[dict[str, Any]] = []

    def schedule(self) -> None:
        """Draw each event's fate and date and schedule those that happen.

        An event's two uniforms (whether it happens, its delay) are keyed to its name --
        its label, or its type -- and how many events of that name came before it, so
        adding, removing or moving another event leaves its draws alone."""
        seen: dict[str, int] = {}
        for i, ev in enumerate(self.events):
            if ev.branch is not None and ev.branch != self.branch:
                self.log.append({"index": i, "type": ev.type, "label": ev.label or ev.type,
                                 "day": float("nan"), "happened": False})
                continue  # another branch's event: never happens here, draws nothing
            name = ev.label or ev.type
            n = seen[name] = seen.get(name, -1) + 1
            draws = self.keys(f"policy.{name}.{n}", 2, block=1)
            u = draws.u(0, 0)
            delay = (draws.variate(0, 1, ev.delay_days) if ev.delay_days is not None
                     else 0.0)
            day = self.calendar.day_of(ev.date) + delay
            happens = u < ev.probability
            self.log.append({
                "index": i, "type": ev.type, "label": ev.label or ev.type,
                "day": day, "happened": bool(happens and day < self.horizon),
            })
            if happens and day < self.horizon:
                post_call(self.env, max(0.0, day), self.apply, ev)

    def apply(self, ev: PolicyEvent) -> None:
        """The event happens now."""
        a = self.authority
        if isinstance(ev, ControlsStart):
            self.licensing.control(ev.covered(self.materials), ev.exempt_share, ev.transition_days)
        elif isinstance(ev, ControlsLift):
            self.licensing.lift(ev.covered(self.materials))
        elif isinstance(ev, SuspendApprovals):
            a.suspend(True)
        elif isinstance(ev, ResumeApprovals):
            a.suspend(False)
        elif isinstance(ev, SetReviewers):
            a.set_reviewers(ev.count)
        elif isinstance(ev, SetDecision):
            a.set_decision(ev.approve_factor, ev.destinations, ev.rules, ev.end_use)
            if ev.pending_approval_rate_per_day is not None:
                a.set_pending_rate(ev.pending_approval_rate_per_day)
        elif isinstance(ev, SetReviewTime):
            a.set_review_time(ev.review_time, ev.information_request_probability)
        elif isinstance(ev, GeneralLicence):
            a.grant_general_licence(ev)
        elif isinstance(ev, StockpileRelease):
            if self.stockpile is not None:
                self.stockpile.active = True
        elif isinstance(ev, ForeignContent):
            free = [n for n, s in self.suppliers.items() if not s.controlled
                    and (ev.suppliers is None or n in ev.suppliers)]
            self.licensing.foreign_rule(free, ev.materials, not ev.lift)
            if ev.threshold is not None:
                self.licensing.content_rule(self.content_makers(ev), ev.materials,
                                            ev.threshold, not ev.lift)
        elif isinstance(ev, AddCapacity):
            self.suppliers[ev.supplier].add_capacity(now(self.env), ev.add_kg_per_day)
        elif isinstance(ev, CloseRoute):
            self.suppliers[ev.supplier].close()  # type: ignore[attr-defined] - a route
        else:  # pragma: no cover - the schema admits no other type
            raise TypeError(f"unknown policy event {ev!r}")
