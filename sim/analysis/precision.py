"""Sequential stopping: add replications until every sector's mean shortfall is known to a
given 95% half-width (a `grow` rule for `sim.run.execute`)."""

from __future__ import annotations

import logging
import math

from ..errors import ArgumentError
from ..run.store import ResultsDir
from .stats import sector_halfwidths

log = logging.getLogger(__name__)


class PrecisionTarget:
    """After each round, the half-width of every sector's mean `shortfall_frac` is compared
    with `halfwidth`; while one is wider, the batch grows (by the squared ratio of the
    widths, 10% more, at least one chunk) up to `max_replications` (default 10x the first
    round, at least 1,000). `met` says how it ended."""

    def __init__(self, halfwidth: float, first: int, max_replications: int | None = None) -> None:
        if isinstance(halfwidth, bool) or not isinstance(halfwidth, int | float) \
                or not math.isfinite(halfwidth) or halfwidth <= 0:
            raise ArgumentError("precision", halfwidth, "must be a number above 0")
        if max_replications is not None and (
                isinstance(max_replications, bool) or not isinstance(max_replications, int)
                or max_replications < 1):
            raise ArgumentError("max_replications", max_replications,
                                "must be a whole number of at least 1")
        self.halfwidth = float(halfwidth)
        self.cap = max_replications or max(10 * first, 1000)
        self.met = False
        self.worst = math.inf

    def __call__(self, store: ResultsDir, n: int) -> int | None:
        hw = sector_halfwidths(store.read("replications"))
        self.worst = max(hw.values()) if hw else 0.0
        self.met = self.worst < self.halfwidth
        if self.met or n >= self.cap:
            return None
        chunk = int((store.manifest() or {}).get("chunk_size", 1))
        if math.isfinite(self.worst):
            # n (w / h)^2 x 1.1, capped before rounding: with a tiny target the product
            # overflows to inf (float multiplication does not raise; ** and ceil would)
            ratio = self.worst / self.halfwidth
            want = n * (ratio * ratio) * 1.1
            grow = self.cap if not want < self.cap else math.ceil(want)
        else:  # one replication has no interval (infinite half-width): double instead
            grow = 2 * n
        target = min(self.cap, max(n + chunk, grow))
        log.info("half-width %.4g > %.4g: extending to %d replications", self.worst,
                 self.halfwidth, target)
        return target
