"""Saying what a long step after (or around) the replications is doing: a line when it
starts, and how far its loop has got, as the batch's own progress does (a tqdm bar on a
terminal, a plain line at most every few seconds otherwise).

Lines go to the `sim.progress` logger at INFO level, so a library caller hears nothing
unless it asks (`show_phases()`); the command line turns them on unless --quiet.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

log = logging.getLogger("sim.progress")
T = TypeVar("T")
EVERY = 5.0
"""Seconds between two plain progress lines of a loop."""


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever `sys.stderr` is when it writes (a test harness or a
    caller may swap it, and close the one it swapped out)."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def show_phases(enabled: bool = True, stream: TextIO | None = None,
                prefix: str = "rareshock: ") -> None:
    """Print phase and loop lines to `stream` (default stderr), each after `prefix`; with
    `enabled` False, stop printing them."""
    for h in list(log.handlers):
        log.removeHandler(h)
    log.setLevel(logging.INFO if enabled else logging.NOTSET)
    log.propagate = not enabled
    if not enabled:
        return
    handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    handler.setFormatter(logging.Formatter(prefix + "%(message)s"))
    log.addHandler(handler)


def showing() -> bool:
    """Whether phase lines are shown."""
    return log.isEnabledFor(logging.INFO)


def phase(text: str) -> None:
    """Say that a step starts (`text`, e.g. "drawing plots...")."""
    log.info(text)


def steps(items: Iterable[T], what: str, total: int | None = None,
          every: float = EVERY) -> Iterator[T]:
    """`items`, saying how many of them (`what`, e.g. "sectors") are done: a bar on a
    terminal, otherwise a line at most every `every` seconds."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    if not showing():
        yield from items
        return
    handler = next(iter(log.handlers), None)
    stream = getattr(handler, "stream", sys.stderr)
    if stream.isatty():
        from tqdm import tqdm

        yield from tqdm(items, total=total, desc=what, unit="", leave=False, file=stream,
                        dynamic_ncols=True)
        return
    last = time.monotonic()
    for k, item in enumerate(items):
        yield item
        now = time.monotonic()
        if now - last >= every:
            last = now
            of = f" of {total}" if total is not None else ""
            log.info(f"  {what}: {k + 1}{of} done")
