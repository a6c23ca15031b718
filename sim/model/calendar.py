"""Working-day calendar: map working days (review effort) to calendar days.

Time ``t`` is a float number of calendar days since midnight at the start of
``start``; day index ``floor(t)`` is the date ``start + floor(t)``. A working
day contributes its elapsed fraction to working time; other days contribute 0.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from datetime import date, timedelta
from itertools import accumulate, islice
from typing import Literal

import numpy as np

__all__ = ["WorkingCalendar", "WorkingDays"]

WorkingDays = Literal["mon-fri", "all"]

_MARGIN_DAYS = 3 * 366  # precomputed beyond the horizon
_EXTEND_DAYS = 366  # minimum lazy extension beyond the precomputed range
_LIMIT_DAYS = 100 * 366  # the day table never grows beyond max(this, the precomputed range)


class WorkingCalendar:
    """Working-day calendar starting at ``start`` (t = 0 is midnight starting that date).

    ``working_days``: ``"mon-fri"`` (weekends off) or ``"all"`` (every day worked).
    ``holidays``: inclusive ``(first, last)`` date ranges not worked.
    ``extra_working_days``: dates worked even if weekend or holiday (make-up days).
    ``horizon_days``: simulated horizon in calendar days; the day table is
    precomputed to ``horizon_days`` + ~3 years and extended lazily beyond that, up to
    ``limit_days`` = max(the precomputed range, ~100 years). `add` returns ``math.inf`` for
    work that would end beyond ``limit_days``: a run never reaches that time, and the table
    does not grow without bound for absurd durations.
    """

    __slots__ = ("_cum", "_extra", "_holidays", "_identity", "_mode", "_n", "_work",
                 "limit_days", "start")

    def __init__(
        self,
        start: date,
        horizon_days: float,
        working_days: WorkingDays = "mon-fri",
        holidays: Sequence[tuple[date, date]] = (),
        extra_working_days: Sequence[date] = (),
    ) -> None:
        if working_days not in ("mon-fri", "all"):
            raise ValueError(f"working_days must be 'mon-fri' or 'all', got {working_days!r}")
        if not math.isfinite(horizon_days) or horizon_days < 0:
            raise ValueError(f"horizon_days must be finite and >= 0, got {horizon_days}")
        for first, last in holidays:
            if last < first:
                raise ValueError(f"holiday range ends ({last}) before it starts ({first})")
        self.start: date = start
        self._mode: WorkingDays = working_days
        self._holidays: tuple[tuple[date, date], ...] = tuple(sorted(holidays))
        self._extra: frozenset[date] = frozenset(extra_working_days)
        # "all" with no holidays: working time == calendar time.
        self._identity: bool = working_days == "all" and not self._holidays
        self._work: list[int] = []
        self._cum: list[int] = [0]  # _cum[i] = working days in days [0, i)
        self._n: int = 0
        self._extend(math.ceil(horizon_days) + _MARGIN_DAYS)
        self.limit_days: int = max(self._n, _LIMIT_DAYS)

    # -- day table -------------------------------------------------------------------------

    def _extend(self, n_days: int) -> None:
        """Make the day table cover day indices [0, n_days)."""
        if n_days <= self._n:
            return
        first = self._n
        count = n_days - first
        if self._mode == "all":
            new = [1] * count
        else:  # Mon-Fri by weekday arithmetic: day i is (start + i).weekday()
            wd0 = (self.start.weekday() + first) % 7
            new = [1 if (wd0 + k) % 7 < 5 else 0 for k in range(count)]
        for lo, hi in self._holidays:  # ranges of dates off, clipped to the new days
            a = max((lo - self.start).days, first)
            b = min((hi - self.start).days + 1, n_days)
            for k in range(a - first, b - first):
                new[k] = 0
        for d in self._extra:  # make-up days worked whatever their weekday or holiday
            k = (d - self.start).days - first
            if 0 <= k < count:
                new[k] = 1
        self._work.extend(new)
        self._cum.extend(islice(accumulate(new, initial=self._cum[-1]), 1, None))
        self._n = n_days

    def is_working(self, d: date) -> bool:
        """Whether date ``d`` is a working day."""
        if d in self._extra:
            return True
        for first, last in self._holidays:
            if first <= d <= last:
                return False
        return self._mode == "all" or d.weekday() < 5

    @property
    def identity(self) -> bool:
        """Whether working time equals calendar time (every day worked, no holidays)."""
        return self._identity

    # -- conversions -----------------------------------------------------------------------

    def date_of(self, t: float) -> date:
        """Calendar date containing time ``t`` (days since start)."""
        return self.start + timedelta(days=math.floor(t))

    def day_of(self, d: date) -> float:
        """Time (days since start) of midnight at the start of date ``d``."""
        return float((d - self.start).days)

    # -- working time ----------------------------------------------------------------------

    def working_time(self, t: float) -> float:
        """W(t): working days elapsed in [0, t) for ``t`` >= 0 (calendar days)."""
        if self._identity:
            if t < 0:
                raise ValueError(f"t must be >= 0, got {t}")
            return float(t)
        if not t >= 0:
            raise ValueError(f"t must be >= 0, got {t}")
        d = int(t)
        if d >= self._n:
            self._extend(max(d + 1, self._n + _EXTEND_DAYS))
        if self._work[d]:
            return float(self._cum[d] + (t - d))
        return float(self._cum[d])

    def add(self, t: float, working_days: float) -> float:
        """Earliest time t' >= t (days) by which ``working_days`` (>= 0) of work started at t
        is done, i.e. W(t') = W(t) + working_days; ``math.inf`` if that time is beyond
        ``limit_days`` (a time no run reaches) or ``working_days`` is infinite."""
        if self._identity:
            if not working_days >= 0:
                raise ValueError(f"working_days must be >= 0, got {working_days}")
            return float(t + working_days)
        if not 0.0 < working_days < math.inf:
            if working_days == 0:
                return float(t)
            if working_days == math.inf:  # never done
                return math.inf
            raise ValueError(f"working_days must be >= 0, got {working_days}")
        if not t >= 0:
            raise ValueError(f"t must be >= 0, got {t}")
        if t >= self.limit_days:
            return math.inf
        d = int(t)  # W(t), as in working_time() (inlined: this runs for every review)
        if d >= self._n:
            self._extend(max(d + 1, self._n + _EXTEND_DAYS))
        cum = self._cum
        target = (cum[d] + (t - d) if self._work[d] else cum[d]) + working_days
        while cum[-1] < target:
            # working time never outruns calendar time: the end is at least this far on
            if self._n + (target - cum[-1]) > self.limit_days or self._n >= self.limit_days:
                return math.inf
            self._extend(min(self.limit_days,
                             self._n + max(_EXTEND_DAYS, 2 * math.ceil(target - cum[-1]))))
        i = bisect_left(cum, target)  # first day boundary with cum >= target
        d = i - 1  # cum[d] < target <= cum[d + 1], so day d is a working day
        end = d + (target - cum[d])
        return float(end) if end > t else float(t)

    def working_time_array(self, t: np.ndarray) -> np.ndarray:
        """W(t) for an array of times >= 0 (NaN stays NaN), vectorised."""
        t = np.asarray(t, dtype=float)
        if self._identity:
            return t.copy()
        finite = t[np.isfinite(t)]
        if finite.size:
            self._extend(int(finite.max()) + 2)
        work = np.asarray(self._work, dtype=float)
        cum = np.asarray(self._cum[: len(self._work)], dtype=float)
        d = np.where(np.isfinite(t), np.floor(t), 0).astype(np.int64)
        out = cum[d] + (t - d) * work[d]
        return np.where(np.isfinite(t), out, np.nan)

    def working_days_between(self, t0: float, t1: float) -> float:
        """Working days elapsed between times ``t0`` and ``t1`` (W(t1) - W(t0))."""
        return self.working_time(t1) - self.working_time(t0)
