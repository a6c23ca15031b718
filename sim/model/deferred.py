"""Deferred demand of other buyers: a background file that is refused, or still undecided
after the buyer's patience, is withdrawn and then re-filed, bought elsewhere or given up.

A re-filed file is a new row (the next attempt) of the same arrival: attempt `a` of
arrival k takes row k of the keyed table ``file.background.<a>`` for its licence steps and
row k of ``fate.background.<a>`` for its fate (column FATE) and the days to its re-filing
(column REFILE_DAYS), so these draws follow the arrival whatever the queue does, and the
arrivals' own streams are untouched.
"""

from __future__ import annotations

from collections import deque

import simpy

from ..config.responses import DeferredDemand as DeferredConfig
from .authority import Authority, DecisionListener
from .clock import now, post_call
from .licensing import Licensing
from .records import APPROVED, CLOSED, REFUSED, UNDECIDED, WITHDRAWN, ExportLog
from .rng import KeyedUniforms, Keys

# Fates of a withdrawn or refused file.
REFILED, ELSEWHERE, GIVEN_UP = range(3)
FATE_NAMES = ("refiled", "elsewhere", "given_up")
# Columns of a fate's keyed row.
FATE, REFILE_DAYS = range(2)


class DeferredDemand:
    """The buyers' side of other buyers' files: the applicant of every background file.

    `fate[i]` is the fate of row i (withdrawn or refused); `waiting` counts re-filings
    not yet made, `freed` re-filings exported without a licence because the controls
    had been lifted meanwhile."""

    def __init__(self, env: simpy.Environment, cfg: DeferredConfig, keys: Keys,
                 authority: Authority, licensing: Licensing, exports: ExportLog) -> None:
        self.env = env
        self.cfg = cfg
        self.keys = keys
        self.authority = authority
        self.licensing = licensing
        self.exports = exports
        self.patience = None if cfg.patience_days == "never" else cfg.patience_days
        # who is told of a file's decision: this object, or one that passes it on here
        self.applicant: DecisionListener = self
        self.fate: dict[int, int] = {}
        self.waiting = 0
        self.freed = 0
        # (day the buyer's patience runs out, row), in filing order: with one patience
        # for all, deadlines come in order, so one timer for the first open file serves
        # them all (a file decided before its deadline costs no event).
        self._due: deque[tuple[float, int]] = deque()
        self._armed = False
        self._on_due = self._run_out
        self._on_refile = self._refile

    def shares(self, attempt: int) -> tuple[float, float]:
        """Cumulative (re-file, re-file + elsewhere) shares for a file of `attempt`: at the
        last attempt the re-file share goes to the other fates in proportion."""
        c = self.cfg
        r, e, g = c.refile_share, c.elsewhere_share, c.give_up_share
        if attempt >= c.max_attempts:
            rest = e + g
            r, e = 0.0, (e / rest if rest > 0.0 else 0.0)
        return r, r + e

    def filed(self, i: int) -> None:
        """Background row `i` was just added: its buyer waits for the decision."""
        self.authority.apps.applicant[i] = self.applicant
        if self.patience is not None:
            self._due.append((now(self.env) + self.patience, i))
            if not self._armed:
                self._arm()

    def decided(self, i: int) -> None:
        """The authority decided row `i`: a refusal sends it to its fate."""
        if self.authority.apps.outcome[i] == REFUSED:
            self._settle(i)

    def _arm(self) -> None:
        """Set the timer for the first file still open (files closed are dropped)."""
        due, state = self._due, self.authority.apps.state
        while due and state[due[0][1]] == CLOSED:
            due.popleft()
        self._armed = bool(due)
        if due:
            post_call(self.env, max(0.0, due[0][0] - now(self.env)), self._on_due, None)

    def _run_out(self, _arg: object) -> None:
        """Patience ran out now for the first files: withdraw those still open."""
        due, state = self._due, self.authority.apps.state
        when = now(self.env)
        while due and due[0][0] <= when + 1e-9:
            i = due.popleft()[1]
            if state[i] != CLOSED:
                self.authority.withdraw(i)
                self._settle(i)
        self._arm()

    def _table(self, name: str, attempt: int, width: int) -> KeyedUniforms:
        return self.keys(f"{name}.background.{attempt}", width, block=1024)

    def _settle(self, i: int) -> None:
        """Draw row `i`'s fate from its arrival's keyed row and act on it."""
        t = self.authority.apps
        attempt, k = t.attempt[i], t.key[i]
        draws = self._table("fate", attempt, 2)
        refile, elsewhere = self.shares(attempt)
        u = draws.u(k, FATE)
        if u < refile:
            self.fate[i] = REFILED
            self.waiting += 1
            days = draws.variate(k, REFILE_DAYS, self.cfg.refile_after_days)
            post_call(self.env, days, self._on_refile, i)
        else:
            self.fate[i] = ELSEWHERE if u < elsewhere else GIVEN_UP

    def _refile(self, i: int) -> None:
        """Row `i`'s buyer files again now (or, controls lifted, exports at once)."""
        self.waiting -= 1
        t = self.authority.apps
        when = now(self.env)
        m, d, kg = t.material[i], t.destination[i], t.kg[i]
        if not self.licensing.controlled[m]:
            self.freed += 1
            self.exports.record(when, d, m, kg)
            return
        attempt, k = t.attempt[i] + 1, t.key[i]
        files = self._table("file", attempt, self.authority.steps)
        j = t.add(m, d, kg, self.licensing.priority[d], when, files, k, t.end_use[i])
        t.attempt[j] = attempt
        self.filed(j)
        self.authority.receive(j)

    # ------------------------------------------------------------------ records

    def counts(self, since: float = 0.0) -> dict[str, float]:
        """Files (and kg) per fate among those filed on or after day `since`."""
        t = self.authority.apps
        out: dict[str, float] = {f"background_{n}": 0.0 for n in FATE_NAMES}
        out.update({f"background_{n}_kg": 0.0 for n in FATE_NAMES})
        for i, f in self.fate.items():
            if t.submitted[i] >= since:
                out[f"background_{FATE_NAMES[f]}"] += 1
                out[f"background_{FATE_NAMES[f]}_kg"] += t.kg[i]
        return out

    def check_conservation(self) -> list[str]:
        """Every arrival filed ends in exactly one of: approved, bought elsewhere, given
        up, still open, waiting to be re-filed, or exported after the controls lifted;
        every refused or withdrawn file has exactly one fate, and every re-filing is a
        later attempt, still waiting, or freed."""
        t = self.authority.apps
        first = approved = undecided = closed_out = later = 0
        for i in range(t.n):
            if t.firm[i] is not None or t.shipment[i] is not None:
                continue
            first += t.attempt[i] == 1
            later += t.attempt[i] > 1
            o = t.outcome[i]
            approved += o == APPROVED
            undecided += o == UNDECIDED
            closed_out += o in (REFUSED, WITHDRAWN)
        fates = [0, 0, 0]
        for f in self.fate.values():
            fates[f] += 1
        problems = []
        if closed_out != len(self.fate):
            problems.append(f"background: {closed_out} files refused or withdrawn but "
                            f"{len(self.fate)} fates")
        if fates[REFILED] != later + self.waiting + self.freed:
            problems.append(f"background: {fates[REFILED]} re-filings but {later} later "
                            f"files, {self.waiting} waiting, {self.freed} freed")
        ends = (approved + undecided + fates[ELSEWHERE] + fates[GIVEN_UP] + self.waiting
                + self.freed)
        if first != ends:
            problems.append(f"background: {first} files filed but {ends} accounted for")
        return problems
