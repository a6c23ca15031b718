"""A firm's production: event-driven flow of its inputs into its output, stock-outs,
substitution, restarts and recovery.

Consumption is a flow at the current production rate. Stock levels are brought up to date
only when something happens (a receipt, an order review, a predicted stock-out, a restart),
and the next stock-out is predicted and scheduled rather than polled for.
"""

from __future__ import annotations

import math

import simpy

from ..config.schema import FirmConfig
from .clock import now, post_call

RUN, DOWN, SUB = 0, 1, 2


class FinishedGoods:
    """The output of a firm that makes parts for other firms (units): on hand, on hand at
    the start, and ordered by its customer firms so far."""

    __slots__ = ("on_hand", "initial", "ordered")

    def __init__(self, initial: float) -> None:
        self.on_hand = initial
        self.initial = initial
        self.ordered = 0.0


class Outages:
    """A line's stock-outs: how many, the first, the days below plan (over the run, and
    within the counted window [`count_from`, `count_until`), days since start), and
    recovery -- the start of the first run of `window` days back at plan after a
    stock-out."""

    __slots__ = ("window", "downtime", "stockouts", "first_stockout", "recovered_at",
                 "run_since", "count_from", "count_until", "counted")

    def __init__(self, window: float,
                 counted: tuple[float, float] = (math.inf, -math.inf)) -> None:
        self.window = window
        self.downtime = 0.0
        self.count_from, self.count_until = counted
        self.counted = 0.0  # days below plan within [count_from, count_until)
        self.stockouts = 0
        self.first_stockout = math.nan
        self.recovered_at = math.nan
        self.run_since = 0.0  # start of the current run at plan

    def below_plan(self, t0: float, t1: float) -> None:
        """The line ran below plan from `t0` to `t1`."""
        self.downtime += t1 - t0
        lo = t0 if t0 > self.count_from else self.count_from
        hi = t1 if t1 < self.count_until else self.count_until
        if hi > lo:
            self.counted += hi - lo

    @property
    def counted_days(self) -> float:
        """Days below plan within the counted window (NaN without one)."""
        return self.counted if self.count_until >= self.count_from else math.nan

    def stopped(self, t: float) -> None:
        """A stock-out at `t` (the run before it may have been the recovery)."""
        self.recovered_if_run(t)
        self.stockouts += 1
        if math.isnan(self.first_stockout):
            self.first_stockout = t

    def recovered_if_run(self, t: float) -> None:
        """If the run at plan since `run_since` lasted the window by `t`, after a stock-out
        and before any earlier recovery, it was the recovery."""
        if t - self.run_since >= self.window and (
            self.stockouts > 0 and math.isnan(self.recovered_at)
        ):
            self.recovered_at = self.run_since


class Production:
    """One product line's inputs (kg), output (units) and production state; rates in units
    per calendar day. What it makes goes into `goods` if it makes for other firms.
    Production counts as recovered after `recovery_window` days back at plan; days below
    plan are also counted within `counted` = (from, until), days since start."""

    def __init__(self, env: simpy.Environment, cfg: FirmConfig, recovery_window: float,
                 goods: FinishedGoods | None = None,
                 counted: tuple[float, float] = (math.inf, -math.inf)) -> None:
        self.env = env
        self.cfg = cfg
        self.goods = goods
        self.plan = cfg.units_per_day
        self.bom = dict(cfg.bom)
        self.use = {m: self.plan * k for m, k in self.bom.items()}  # kg/day at plan
        self.stock = {m: cfg.initial_cover_days * u for m, u in self.use.items()}
        self.initial_stock = dict(self.stock)
        self.consumed = dict.fromkeys(self.bom, 0.0)
        self.mode = RUN
        self.rate = self.plan
        self.last = 0.0
        self.produced = 0.0
        self.produced_std = 0.0  # units made with the standard bill of materials
        self.measured = [0.0, math.nan]  # output at the start and end of the measured window
        self.outages = Outages(recovery_window, counted)
        self._version = 0  # invalidates stale stock-out predictions
        self._restart_version = 0
        self._restart_pending = False

    def advance(self) -> None:
        """Bring production and stocks up to now."""
        t = now(self.env)
        t0 = self.last
        dt = t - t0
        if dt <= 0.0:
            return
        self.last = t
        if self.rate < self.plan:
            self.outages.below_plan(t0, t)
        self.produced += self.rate * dt
        if self.goods is not None:
            self.goods.on_hand += self.rate * dt
        if self.mode == RUN:
            self.produced_std += self.rate * dt
            for m, u in self.use.items():
                used = min(u * dt, self.stock[m])
                self.stock[m] -= used
                self.consumed[m] += used

    def start(self) -> None:
        """Predict the first stock-out."""
        self._predict_stockout()

    def _predict_stockout(self) -> None:
        self._version += 1
        if self.mode != RUN:
            return
        horizon = min(s / u for m, s in self.stock.items() if (u := self.use[m]) > 0)
        post_call(self.env, horizon, self._stockout, self._version)

    def _stockout(self, version: int) -> None:
        if version != self._version or self.mode != RUN:
            return
        self.advance()
        t = now(self.env)
        # Fix rounding: the material that ran out is exactly zero.
        short = min(self.stock, key=lambda m: self.stock[m] / self.use[m])
        self.consumed[short] += self.stock[short]
        self.stock[short] = 0.0
        self.mode = DOWN
        self.rate = 0.0
        self.outages.stopped(t)
        sub = self.cfg.substitution
        if sub is not None:
            post_call(self.env, sub.after_days, self._substitute, self._restart_version)

    def _substitute(self, version: int) -> None:
        if version != self._restart_version or self.mode != DOWN:
            return
        self.advance()
        self.mode = SUB
        self.rate = self.plan * self.cfg.substitution.fraction  # type: ignore[union-attr]

    def receive(self, material: str, kg: float) -> None:
        """`kg` of `material` arrive now and become usable stock."""
        self.advance()
        self.stock[material] += kg
        if self.mode == RUN:
            self._predict_stockout()
        elif not self._restart_pending and all(s > 0.0 for s in self.stock.values()):
            self._restart_pending = True
            self._restart_version += 1
            post_call(self.env, self.cfg.restart_delay_days, self._restart,
                      self._restart_version)

    def _restart(self, version: int) -> None:
        if version != self._restart_version:
            return
        self._restart_pending = False
        self.advance()
        if all(s > 0.0 for s in self.stock.values()):
            self._restart_version += 1  # cancels a pending switch to substitution
            self.mode = RUN
            self.rate = self.plan
            self.outages.run_since = now(self.env)
            self._predict_stockout()

    def measure(self, k: int) -> None:
        """The start (k = 0) or end (k = 1) of the measured window: the output so far."""
        self.advance()
        self.measured[k] = self.produced

    def finish(self) -> None:
        """Close the books at the end of the horizon."""
        self.advance()
        if math.isnan(self.measured[1]):  # the measured window runs to the end
            self.measured[1] = self.produced
        if self.mode == RUN:  # the run under way at the end may be the recovery
            self.outages.recovered_if_run(now(self.env))

    def check(self, name: str, received: dict[str, float], tol: dict[str, float]) -> list[str]:
        """Violations of, per material (kg): consumed = made with the standard bill of
        materials x its quantity, and initial + `received` = consumed + on hand."""
        problems = []
        for m, k in self.bom.items():
            if self.stock[m] < 0:
                problems.append(f"{name}/{m}: negative quantity")
            if abs(self.consumed[m] - self.produced_std * k) > tol[m]:
                problems.append(f"{name}/{m}: consumed {self.consumed[m]:.6g} kg but made "
                                f"{self.produced_std:.6g} units needing "
                                f"{self.produced_std * k:.6g} kg")
            balance = self.initial_stock[m] + received[m] - self.consumed[m] - self.stock[m]
            if abs(balance) > tol[m]:
                problems.append(f"{name}/{m}: initial + received - consumed - on hand = "
                                f"{balance:.6g} kg, not 0")
        return problems
