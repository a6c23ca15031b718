"""Showing a batch's progress: a bar on a terminal, plain lines otherwise (a log file, a
CI job). Both say how far the replications under way have got in simulated days, so a
long replication is not mistaken for a stuck one."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import TextIO

from ..run.progress import Progress, Running


def _under_way(where: Mapping[int, Running], width: int = 3) -> str:
    items = sorted(where.values(), key=lambda r: (r.point or 0, r.replication))[:width]
    return ", ".join(
        (f"point {r.point} " if r.point is not None else "")
        + f"replication {r.replication} at day {r.day:,.0f} of {r.horizon:,.0f}"
        for r in items)


class BarProgress(Progress):
    """A tqdm bar of replications (named `label`, e.g. a compared scenario's), with the
    replications under way after it."""

    def __init__(self, stream: TextIO | None = None, label: str | None = None) -> None:
        self.stream = stream or sys.stderr
        self.label = label
        self.bar = None

    def start(self, total: int, done: int) -> None:
        from tqdm import tqdm

        self.close()
        self.bar = tqdm(total=total, initial=done, unit="rep", dynamic_ncols=True,
                        desc=self.label or "replications", file=self.stream)

    def advance(self, finished: int) -> None:
        if self.bar is not None:
            self.bar.update(finished)

    def running(self, where: Mapping[int, Running]) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(_under_way(where, 2), refresh=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class LineProgress(Progress):
    """A plain line at most every `every` seconds (none in the first `every` seconds),
    after `label` if given (e.g. a compared scenario's)."""

    def __init__(self, every: float = 10.0, stream: TextIO | None = None,
                 label: str | None = None) -> None:
        self.every = every
        self.stream = stream or sys.stderr
        self.label = label
        self.total = self.done = 0
        self.where: dict[int, Running] = {}
        self.t0 = self.last = time.monotonic()

    def start(self, total: int, done: int) -> None:
        self.total, self.done = total, done
        self.t0 = self.last = time.monotonic()

    def advance(self, finished: int) -> None:
        self.done += finished
        self._maybe_print()

    def running(self, where: Mapping[int, Running]) -> None:
        self.where = dict(where)
        self._maybe_print()

    def _maybe_print(self) -> None:
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        share = self.done / self.total if self.total else 1.0
        named = f"{self.label}: " if self.label else ""
        line = (f"rareshock: {named}{self.done:,} of {self.total:,} replications "
                f"({share:.0%}) after {now - self.t0:,.0f} s")
        if self.where and self.done < self.total:
            line += f"; under way: {_under_way(self.where)}"
        print(line, file=self.stream, flush=True)


def shown_progress(label: str | None = None) -> Progress | None:
    """The batch's progress as the command line shows it (a bar on a terminal, plain lines
    otherwise; named `label` if given) when phase lines are shown (`sim.run.phases`: the
    command line without --quiet), else None: for batches run inside a longer command."""
    from ..run.phases import showing

    if not showing():
        return None
    return terminal_progress(label)


def terminal_progress(label: str | None = None) -> Progress:
    """A bar on a terminal, else a plain line every 10 s (every RARESHOCK_PROGRESS_EVERY
    seconds if set: the explore app follows a run by its lines)."""
    if sys.stderr.isatty():
        return BarProgress(label=label)
    every = os.environ.get("RARESHOCK_PROGRESS_EVERY")
    return LineProgress(float(every), label=label) if every else LineProgress(label=label)
