"""What a batch reports as it goes: replications finished, and how far the replications
still running have got in simulated time.

`execute` calls a `Progress`'s methods; the command line draws them (a bar on a terminal,
a plain line at most every 10 s otherwise). Workers of the local pool report the
simulated day of the replication they are on through a queue, at most once a second
each; the Dask executor reports finished chunks only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Running:
    """A replication under way: its sweep point (None for a run), its index, and the
    simulated day it has reached of its horizon (days)."""

    point: int | None
    replication: int
    day: float
    horizon: float


class Progress:
    """Does nothing; subclasses override what they show."""

    def start(self, total: int, done: int) -> None:
        """The batch holds `total` replications, `done` of them already stored."""

    def advance(self, finished: int) -> None:
        """`finished` more replications were stored."""

    def running(self, where: Mapping[int, Running]) -> None:
        """Where each worker (by process id) has got to."""

    def close(self) -> None:
        """The batch is over (finished, or stopped)."""
