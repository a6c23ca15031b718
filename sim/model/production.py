"""A firm's production: event-driven flow of its inputs into its output, stock-outs,
substitution, restarts and recovery.

Consumption is a flow at the current production rate. Stock levels are brought up to date
only when something happens (a receipt, an order review, a predicted stock-out, a restart),
and the next stock-out is predicted and scheduled rather than polled for.

A firm with `rationing` has several lines sharing one bill of materials. It runs the k
highest-value lines, k the most whose planned use its stock on hand covers for
`min_cover_days` (at least the top line while there is stock): the day the cover of the
lines running falls to that many days is predicted and scheduled like a stock-out, and
the lowest-value line then stops; a receipt that lifts the cover restarts lines after
`restart_delay_days`. Without it a firm is one line (k = 1 of 1).
"""

from __future__ import annotations

import math

import simpy

from ..config.schema import FirmConfig
from .clock import now, post_call
from .costs import CostBook
from .origin import OriginBook

RUN, DOWN, SUB = 0, 1, 2


class FinishedGoods:
    """The output of a firm that makes parts for other firms (units): on hand, on hand at
    the start, and ordered by its customer firms so far."""

    __slots__ = ("on_hand", "initial", "ordered", "china_usd")

    def __init__(self, initial: float) -> None:
        self.on_hand = initial
        self.initial = initial
        self.ordered = 0.0
        self.china_usd = 0.0  # Chinese-origin value on hand (USD), if tracked (origin)


class Outages:
    """A line's stock-outs: how many, the first, the days below plan (over the run, and
    within the counted window [`count_from`, `count_until`), days since start), and
    recovery -- the start of the first run of `window` days back at plan after a
    stock-out."""

    __slots__ = ("window", "downtime", "stopped_days", "stockouts", "first_stockout",
                 "recovered_at", "run_since", "count_from", "count_until", "counted")

    def __init__(self, window: float,
                 counted: tuple[float, float] = (math.inf, -math.inf)) -> None:
        self.window = window
        self.downtime = 0.0  # days below plan (a rationed or substitute run included)
        self.stopped_days = 0.0  # days making nothing
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
        """A stock-out at `t`: production falls below plan (the run before it may have
        been the recovery)."""
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
    """A firm's inputs (kg), output (units) and production state; rates in units per
    calendar day. What it makes goes into `goods` if it makes for other firms. Production
    counts as recovered after `recovery_window` days back at plan; days below plan are
    also counted within `counted` = (from, until), days since start. With rationing, the
    value made (USD) is kept too (`produced_value`, `line_made` per line by value, highest
    first, and `sub_made`, the units made with a substitute design)."""

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
        self.book: CostBook | None = None  # kg-days held, premiums paid ([costs] only)
        self.origin: OriginBook | None = None  # Chinese-origin value, if a rule needs it
        self._version = 0  # invalidates stale stock-out predictions
        self._restart_version = 0
        self._restart_pending = False
        # Lines, highest value first: k of n run, at plan x cum[k - 1] (n = k = 1 without
        # rationing); `cur` is the use at the current rate (kg/day), `use` at plan.
        r = cfg.rationing
        self.rationing = r
        self.cur = self.use
        if r is None:
            self.n = self.k = 1
            return
        lines = sorted(r.lines, key=lambda x: -x.value)  # stable: ties keep config order
        self.n = self.k = len(lines)
        self.min_cover = r.min_cover_days
        self.shares = [x.share for x in lines]
        self.values = [x.value for x in lines]
        acc, cum = 0.0, []
        for x in lines:
            acc += x.share
            cum.append(acc)
        cum[-1] = 1.0  # the shares sum to 1 within 1e-6: all lines are the plan
        self.cum = cum
        self.value_rate = self.plan * cfg.unit_value  # USD/day
        self.produced_value = 0.0
        self.measured_value = [0.0, math.nan]
        self.line_made = [0.0] * len(lines)
        self.sub_made = 0.0

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
            if self.rate == 0.0:
                self.outages.stopped_days += dt
        if self.book is not None:
            self.book.hold(self.stock, self.cur if self.mode == RUN else {}, dt)
        self.produced += self.rate * dt
        if self.goods is not None:
            self.goods.on_hand += self.rate * dt
        if self.rationing is not None:
            self._made(dt)
        if self.mode == RUN:
            self.produced_std += self.rate * dt
            origin = self.origin
            for m, u in self.cur.items():
                used = min(u * dt, self.stock[m])
                if origin is not None:
                    origin.used(m, used, self.stock[m])
                self.stock[m] -= used
                self.consumed[m] += used

    def _made(self, dt: float) -> None:
        """Rationing: the units and value each line made over the last `dt` days."""
        if self.mode == RUN:
            made = self.line_made
            for i in range(self.k):
                made[i] += self.plan * self.shares[i] * dt
        elif self.mode == SUB:
            self.sub_made += self.rate * dt
        self.produced_value += self.value_rate * dt

    def start(self) -> None:
        """Choose the lines that run (rationing) and predict the first stock-out."""
        if self.rationing is not None:
            self._set_lines(self._lines_covered(self.n))
        self._predict_stockout()

    def _lines_covered(self, limit: int) -> int:
        """Rationing: the most lines, up to `limit` and at least 1, whose planned use the
        stock on hand covers for `min_cover_days`."""
        need = self.min_cover * (1.0 - 1e-9)
        stock = self.stock
        k = limit
        while k > 1 and any(stock[m] < need * u * self.cum[k - 1]
                            for m, u in self.use.items()):
            k -= 1
        return k

    def _set_lines(self, k: int) -> None:
        """Run the `k` highest-value lines (a fall below plan is a stock-out)."""
        t = now(self.env)
        full = self.k == self.n
        self.k = k
        if k == self.n:
            self.rate, self.cur = self.plan, self.use
            if not full:
                self.outages.run_since = t
        else:
            c = self.cum[k - 1]
            self.rate = self.plan * c
            self.cur = {m: u * c for m, u in self.use.items()}
            if full:
                self.outages.stopped(t)
        if self.rationing is not None:
            self.value_rate = self.plan * sum(
                s * v for s, v in zip(self.shares[:k], self.values[:k], strict=True))

    def _predict_stockout(self) -> None:
        self._version += 1
        if self.mode != RUN:
            return
        if self.k > 1:  # rationing: when the lines running are down to `min_cover` days
            c = self.min_cover
            horizon = max(0.0, min(s / u - c for m, s in self.stock.items()
                                   if (u := self.cur[m]) > 0))
            post_call(self.env, horizon, self._drop, self._version)
            return
        horizon = min(s / u for m, s in self.stock.items() if (u := self.cur[m]) > 0)
        post_call(self.env, horizon, self._stockout, self._version)

    def _drop(self, version: int) -> None:
        """Rationing: the cover of the lines running fell to `min_cover` days; the lowest
        running line stops (more, if the cover of the rest is short too)."""
        if version != self._version or self.mode != RUN:
            return
        self.advance()
        self._set_lines(self._lines_covered(self.k - 1))
        self._predict_stockout()

    def _stockout(self, version: int) -> None:
        if version != self._version or self.mode != RUN:
            return
        self.advance()
        t = now(self.env)
        # Fix rounding: the material that ran out is exactly zero.
        short = min(self.stock, key=lambda m: self.stock[m] / self.use[m])
        if self.origin is not None:
            self.origin.used(short, self.stock[short], self.stock[short])
        self.consumed[short] += self.stock[short]
        self.stock[short] = 0.0
        self.mode = DOWN
        self.rate = 0.0
        if self.k == self.n:  # a rationing firm fell below plan when its first line stopped
            self.outages.stopped(t)
        self.k = 0
        self.cur = self.use
        if self.rationing is not None:
            self.value_rate = 0.0
        sub = self.cfg.substitution
        if sub is not None:
            post_call(self.env, sub.after_days, self._substitute, self._restart_version)

    def _substitute(self, version: int) -> None:
        if version != self._restart_version or self.mode != DOWN:
            return
        self.advance()
        self.mode = SUB
        self.rate = self.plan * self.cfg.substitution.fraction  # type: ignore[union-attr]
        if self.rationing is not None:  # substitute units count at the mean unit value
            self.value_rate = self.rate * self.cfg.unit_value

    def receive(self, material: str, kg: float) -> None:
        """`kg` of `material` arrive now and become usable stock."""
        self.advance()
        self.stock[material] += kg
        if self.mode == RUN:
            if (self.k < self.n and not self._restart_pending
                    and self._lines_covered(self.n) > self.k):
                self._schedule_restart()  # rationed: lines stopped may start again
            self._predict_stockout()
        elif not self._restart_pending and all(s > 0.0 for s in self.stock.values()):
            self._schedule_restart()

    def _schedule_restart(self) -> None:
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
            self._set_lines(self._lines_covered(self.n) if self.rationing is not None
                            else 1)
            self._predict_stockout()

    def measure(self, k: int) -> None:
        """The start (k = 0) or end (k = 1) of the measured window: the output so far."""
        self.advance()
        self.measured[k] = self.produced
        if self.book is not None:
            self.book.mark(k)
        if self.rationing is not None:
            self.measured_value[k] = self.produced_value

    def finish(self) -> None:
        """Close the books at the end of the horizon."""
        self.advance()
        if math.isnan(self.measured[1]):  # the measured window runs to the end
            self.measured[1] = self.produced
            if self.rationing is not None:
                self.measured_value[1] = self.produced_value
        if self.mode == RUN and self.k == self.n:  # the run at plan under way at the end
            # may be the recovery
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
        if self.rationing is not None:
            problems += self._check_lines(name)
        return problems

    def _check_lines(self, name: str) -> list[str]:
        """Rationing: the lines' units and the substitute's add up to the units made, and
        their values to the value made."""
        made = sum(self.line_made) + self.sub_made
        value = (sum(q * v for q, v in zip(self.line_made, self.values, strict=True))
                 + self.sub_made * self.cfg.unit_value)
        problems = []
        if abs(made - self.produced) > 1e-6 * max(1.0, self.produced):
            problems.append(f"{name}: the lines made {made:.6g} units but the firm "
                            f"{self.produced:.6g}")
        if abs(value - self.produced_value) > 1e-6 * max(1.0, self.produced_value):
            problems.append(f"{name}: the lines made {value:.6g} USD of value but the firm "
                            f"{self.produced_value:.6g}")
        return problems
