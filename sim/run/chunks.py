"""What a worker does: run a chunk of replications and encode its tables.

A chunk is a list of segments, each replications [start, stop) of one config (a sweep
point, or the run's only config). Every table gets a `replication` column (and a `point`
column for sweep points) and is encoded as parquet in the worker, so what crosses the
process boundary is compressed bytes, and the parent only writes them.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config.schema import Config
from ..errors import BadInput
from .seeds import replication_seed

if TYPE_CHECKING:
    import pyarrow as pa

# The stored datasets and the Replication table each is made from.
DATASETS = {"replications": "firms", "applications": "applications", "exports": "exports",
            "timeseries": "timeseries", "authority": "authority", "policy": "policy",
            "arcs": "arcs"}
TABLES = tuple(DATASETS)
PARAMETERS = "parameters"
"""The dataset of the uncertain parameters' values, one row per replication (configs with
`[[uncertain]]` only)."""
ALL_TABLES = (*TABLES, PARAMETERS)

# Where this process reports the replication it is on: set by `set_reporter` (the local
# pool's worker initializer, or the parent itself when it runs chunks in-process).
_report: list[Callable[[tuple], None] | None] = [None]
REPORT_EVERY_S = 1.0


def set_reporter(report: Callable[[tuple], None] | None) -> None:
    """Send `(pid, point, replication, day, horizon)` tuples to `report` while replications
    run (at most one a second), or nothing (None)."""
    _report[0] = report


def _progress(point: int | None, index: int, horizon: float) -> Callable[[float], None] | None:
    """The `progress` callback of one replication, if this process reports."""
    report = _report[0]
    if report is None:
        return None
    pid = os.getpid()
    last = [time.monotonic()]

    def progress(day: float) -> None:
        now = time.monotonic()
        if now - last[0] >= REPORT_EVERY_S:
            last[0] = now
            report((pid, point, index, day, horizon))

    return progress


class ReplicationError(RuntimeError):
    """A replication raised; the message carries its seed so it can be re-run alone."""


@dataclass(frozen=True)
class Segment:
    """Replications [start, stop) of `cfg`; `point` is the sweep point (None for a run)."""

    point: int | None
    cfg: Config
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


def chunk_tables(root: int, segments: Sequence[Segment], crn: bool = True,
                 tables: Sequence[str] = TABLES) -> tuple[dict[str, pa.Table], int]:
    """Run every segment's replications and return the `tables` (Arrow, concatenated in
    segment order, with `point` and `replication` columns in front) and the number of
    SimPy events processed. Without common random numbers (`crn=False`) replication i of
    point p uses spawn key (p, i)."""
    import numpy as np
    import pyarrow as pa

    from .. import model
    from ..model.tables import arrow_array

    parts: dict[str, list[pa.Table]] = {t: [] for t in tables}
    reps: list[int] = []
    points: list[int] = []
    sizes: dict[str, list[int]] = {t: [] for t in tables}
    drawn: list[dict[str, Any]] = []
    events = 0
    for seg in segments:
        for i in range(seg.start, seg.stop):
            seed = replication_seed(root, i, None if crn else seg.point)
            try:
                rep = model.simulate(seg.cfg, seed,
                                     _progress(seg.point, i, seg.cfg.horizon_days))
            except BadInput:  # a user's error met in a draw (priors that clash): as it is
                raise
            except Exception as exc:  # re-raised with what is needed to reproduce it
                where, cfg_is = f"replication {i}", "cfg"
                if seg.point is not None:
                    where = f"point {seg.point}, replication {i}"
                    cfg_is = f"cfg = sim.sweep.plan_sweep(config).configs[{seg.point}]; cfg"
                raise ReplicationError(
                    f"{where} failed: {type(exc).__name__}: {exc} — reproduce with "
                    f"sim.simulate({cfg_is}, numpy.random.SeedSequence(entropy={root}, "
                    f"spawn_key={tuple(seed.spawn_key)!r}))"
                ) from exc
            events += rep.events
            drawn.append(rep.parameters)
            reps.append(i)
            points.append(-1 if seg.point is None else seg.point)
            for name in tables:
                t = rep.arrow(DATASETS[name])
                parts[name].append(t)
                sizes[name].append(t.num_rows)
    with_point = any(seg.point is not None for seg in segments)
    out: dict[str, pa.Table] = {}
    for name, got in parts.items():
        table = pa.concat_tables(got) if len(got) > 1 else got[0]
        table = table.add_column(0, "replication",
                                 arrow_array(np.repeat(np.asarray(reps, np.int64), sizes[name])))
        if with_point:
            table = table.add_column(0, "point",
                                     arrow_array(np.repeat(np.asarray(points, np.int64),
                                                           sizes[name])))
        out[name] = table.combine_chunks()
    names = list(dict.fromkeys(k for d in drawn for k in d))
    if names:
        cols: dict[str, Any] = {}
        if with_point:
            cols["point"] = np.asarray(points, np.int64)
        cols["replication"] = np.asarray(reps, np.int64)
        for k in names:
            col = [d.get(k) for d in drawn]
            numeric = all(isinstance(v, int | float) and not isinstance(v, bool) or v is None
                          for v in col)
            cols[k] = (np.array([np.nan if v is None else float(v) for v in col])
                       if numeric else ["" if v is None else str(v) for v in col])
        out[PARAMETERS] = pa.Table.from_arrays([arrow_array(v) for v in cols.values()],
                                               names=list(cols))
    return out, events


def run_chunk(root: int, segments: Sequence[Segment], crn: bool = True,
              tables: Sequence[str] = TABLES) -> tuple[dict[str, bytes], int]:
    """`chunk_tables`, each table encoded as a parquet file (bytes): what a worker returns."""
    got, events = chunk_tables(root, segments, crn, tables)
    encoded = {k: parquet_bytes(t) for k, t in got.items()}
    del got
    release_unused_memory()
    return encoded, events


def warm(modules: Sequence[str]) -> None:
    """Import `modules` (what the step after the replications will need in this process:
    a worker run out of chunks loads them while the others finish theirs)."""
    import importlib

    for name in modules:
        importlib.import_module(name)


def call(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)`: how the batch hands a worker either a chunk or a warm-up."""
    return fn(*args)


def parquet_bytes(table: pa.Table) -> bytes:
    """An Arrow table as the bytes of a parquet file (zstd), as every part is stored.

    Only string columns are dictionary-encoded: tried on columns of distinct floats (times,
    kg), the dictionary is abandoned after costing most of the encoding time (the M/M/5
    applications table: 0.19 s with it, 0.05 s and a fifth smaller without)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    strings = [f.name for f in table.schema
               if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", use_dictionary=strings)
    return sink.getvalue().to_pybytes()


def release_unused_memory() -> None:
    """Give the memory freed by a finished chunk back to the system. Arrow's allocator and
    glibc's malloc otherwise keep it cached, so a worker's size would follow the largest
    chunk it has encoded."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None on other C libraries."""
    import ctypes

    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
