"""Monte Carlo batches, and the one execution path every kind of batch goes through.

A `BatchPlan` says what a batch runs: replications [0, n) of one config (a run) or of each
of several (the points of a sweep), cut into chunks of `chunk_size` replications in
(point, replication) order. `execute` runs the chunks a results folder does not hold yet
on an executor, writes each chunk's tables and the manifest as soon as it returns, and
so resumes an interrupted batch exactly where it stopped. `run_batch` (a run),
`sim.sweep.run_sweep` (a sweep) and calibration all go through `execute`.

Replication i always runs with the seed `SeedSequence(runs.seed, spawn_key=(i,))` (or
(point, i) for a sweep point without common random numbers), so results do not depend on
the number of workers, the chunk size or the executor, and a batch can be extended.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..config.schema import Config
from ..errors import FolderError
from ..version import __version__
from .chunks import TABLES, Segment, call, run_chunk, warm
from .execution import Execution, check_count
from .executors import Executor, make_executor
from .progress import Progress
from .store import ResultsDir

log = logging.getLogger(__name__)

GrowRule = Callable[[ResultsDir, int], int | None]
"""Called after the chunks of n replications are done: the new n, or None to stop."""
Finished = Callable[[ResultsDir, Executor], None]
"""Called once the chunks are done and recorded, with the batch's executor still open."""


def default_chunk_size(replications: int) -> int:
    """About 32 chunks per batch for load balance, between 1 and 20 replications each."""
    return max(1, min(20, math.ceil(replications / 32)))


@dataclass(frozen=True)
class BatchPlan:
    """Replications [0, replications) of each config in `configs`.

    `config` is what the results folder stores as the config that ran (a sweep's, with its
    [sweep] table; a run's own). `points` says whether the configs are sweep points (tables
    get a `point` column); `crn` whether every point uses the run's streams (else point p
    uses spawn keys (p, i)). `meta` is what the manifest records about the batch besides
    the common fields.
    """

    config: Config
    configs: tuple[Config, ...]
    replications: int
    seed: int
    chunk_size: int
    points: bool = False
    crn: bool = True
    tables: tuple[str, ...] = TABLES
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Replications in all, over every point."""
        return self.replications * len(self.configs)

    @property
    def chunks(self) -> int:
        return math.ceil(self.total / self.chunk_size)

    def chunk_size_of(self, chunk: int) -> int:
        return min(self.total, (chunk + 1) * self.chunk_size) - chunk * self.chunk_size

    def segments(self, chunk: int) -> tuple[Segment, ...]:
        """Chunk `chunk`: pairs [c * size, (c + 1) * size) of the (point, replication) pairs
        in point order, as segments of consecutive replications of one point."""
        reps = self.replications
        k = chunk * self.chunk_size
        end = min(self.total, k + self.chunk_size)
        segs = []
        while k < end:
            p, i = divmod(k, reps)
            stop = min(reps, i + end - k)
            segs.append(Segment(p if self.points else None, self.configs[p], i, stop))
            k += stop - i
        return tuple(segs)

    def manifest_meta(self) -> dict[str, Any]:
        return {"version": __version__, "name": self.config.name, "seed": self.seed,
                "replications": self.replications, "chunk_size": self.chunk_size, **self.meta}


@dataclass
class BatchInfo:
    """What a finished batch did."""

    path: Path
    replications: int
    chunks_run: int
    events: int
    wall_seconds: float
    executor: str = "local"
    workers: int = 1


def resolve_chunk_size(store: ResultsDir, chunk_size: int | None, total: int,
                       resume: bool) -> int:
    """The chunk size asked for; else, when resuming, the stored batch's; else the default."""
    if chunk_size is None:
        try:
            stored = store.manifest() if resume else None
        except FolderError:
            stored = None  # damaged: resuming will say so
        return int(stored["chunk_size"]) if stored and "chunk_size" in stored \
            else default_chunk_size(total)
    return check_count("chunk_size", chunk_size)


def execute(plan: BatchPlan, out: str | Path, ex: Execution | None = None, *,
            prepared: Callable[[ResultsDir], None] | None = None,
            grow: GrowRule | None = None, finished: Finished | None = None,
            tail: tuple[str, ...] = ()) -> BatchInfo:
    """Run `plan` into the results folder `out` as `ex` says (default: `Execution()`): the
    folder is created (or, with `ex.resume`, reopened; with `ex.overwrite`, replaced),
    `prepared(store)` writes what the kind of batch adds to it, then every chunk not yet
    done runs on the executor and is written as soon as it returns. With `grow` (runs
    only), after the chunks of n replications are done `grow(store, n)` may ask for more,
    and the batch goes on until it returns None. Then `finished(store, executor)` writes
    what is computed from the tables (the summary...), on the batch's executor where it
    shares work out; the modules it imports (`tail`) are loaded ahead, with several
    workers: by this process while the chunks run, and by each worker once the chunks
    run out.

    The folder's lock is held throughout; a chunk recorded with fewer replications than
    the plan gives it (the last chunk of a smaller batch) is run again, whole."""
    ex = ex or Execution()
    resume, overwrite = ex.resume, ex.overwrite
    store = ResultsDir(out)
    store.precheck(resume, overwrite, plan.manifest_meta().get("kind", "run"))
    progress = ex.progress or Progress()
    # The executor first: a scheduler that cannot be reached is bad input, and then
    # nothing may have been written yet.
    pool = make_executor(ex.executor, ex.worker_count(), ex.scheduler, progress)
    tail = tail if finished is not None and pool.workers > 1 else ()
    if tail:  # this process mostly waits while the workers run
        threading.Thread(target=warm, args=(tail,), name="warm", daemon=True).start()
    t0 = time.perf_counter()
    wall_before, ran = 0.0, 0
    aborted = True  # until the batch ends by itself: a stop (Ctrl-C, SIGTERM) or an error
    try:
        with store.locked():
            store.prepare(plan.config, plan.manifest_meta(), resume=resume,
                          overwrite=overwrite)
            wall_before = float((store.manifest() or {}).get("wall_seconds", 0.0))
            if prepared is not None:
                prepared(store)
            try:
                while True:
                    ran += _run_chunks(plan, store, pool, progress, tail)
                    n = grow(store, plan.replications) if grow is not None else None
                    if n is None or n <= plan.replications:
                        break
                    plan = replace(plan, replications=n)
                    log.info("extending to %d replications", n)
                aborted = False
            finally:
                progress.close()
                if aborted:
                    pool.close(abort=True)
                wall = wall_before + time.perf_counter() - t0
                chunks = store.chunks()
                events = sum(ch.events for ch in chunks.values())
                complete = len(chunks) == plan.chunks and all(
                    ch.replications == plan.chunk_size_of(c) for c, ch in chunks.items())
                with contextlib.suppress(FolderError):  # a full disk: the log still holds
                    store.update_manifest(
                        replications=plan.replications, wall_seconds=round(wall, 3),
                        events_processed=events, executor=ex.executor, workers=pool.workers,
                        replications_done=sum(ch.replications for ch in chunks.values()),
                        state="complete" if complete else "interrupted")
            if finished is not None:
                aborted = True  # until the tables are summarised
                finished(store, pool)
                aborted = False
    finally:
        pool.close(abort=aborted)
    return BatchInfo(store.path, plan.replications, ran, events, wall, ex.executor,
                     pool.workers)


def _jobs(plan: BatchPlan, done: set[int], tail: tuple[str, ...], workers: int
          ) -> Iterator[tuple[int, tuple]]:
    """(chunk, arguments of `call`) for each chunk not done, planned as they are taken;
    then, with `tail`, a warm-up for each worker (negative keys)."""
    for c in range(plan.chunks):
        if c not in done:
            yield c, (run_chunk, plan.seed, plan.segments(c), plan.crn, plan.tables)
    for k in range(workers if tail else 0):
        yield -1 - k, (warm, tail)


def _run_chunks(plan: BatchPlan, store: ResultsDir, pool: Executor,
                progress: Progress, tail: tuple[str, ...] = ()) -> int:
    """Run every chunk of `plan` the folder does not hold whole, writing each chunk's tables
    as soon as it returns. Returns the number of chunks run."""
    recorded = store.chunks()
    done = {c for c, ch in recorded.items()
            if c < plan.chunks and ch.replications == plan.chunk_size_of(c)}
    progress.start(plan.total, sum(plan.chunk_size_of(c) for c in done))
    todo = plan.chunks - len(done)
    ran = 0
    if todo == 0:
        return 0
    for c, got in pool.map_unordered(call, _jobs(plan, done, tail, pool.workers)):
        if c < 0:  # a warm-up
            continue
        tables, events = got
        if c in recorded:  # a shorter chunk of a smaller batch: no longer done
            store.drop_chunk(c)
        store.write_chunk(c, tables, plan.chunk_size_of(c), events)
        ran += 1
        progress.advance(plan.chunk_size_of(c))
        if ran == todo:  # the warm-ups still running go on beside what follows; those
            break  # not started are dropped (the next step imports what it needs)
    return ran


def run_batch(cfg: Config, out: str | Path, ex: Execution | None = None, *,
              replications: int | None = None, grow: GrowRule | None = None,
              finished: Finished | None = None, tail: tuple[str, ...] = ()) -> BatchInfo:
    """Run `replications` (default `cfg.runs.replications`) of `cfg` and store them under
    `out`, as `ex` says. `grow` may extend the batch (see `execute`; `sim.api.run_batch`
    builds one from a precision target); `finished` and `tail` as in `execute`."""
    ex = ex or Execution()
    n = check_count("replications", replications if replications is not None
                    else cfg.runs.replications)
    if n != cfg.runs.replications:
        cfg = cfg.model_copy(update={"runs": cfg.runs.model_copy(update={"replications": n})})
    store = ResultsDir(out)
    size = resolve_chunk_size(store, ex.chunk_size, n, ex.resume)
    plan = BatchPlan(cfg, (cfg,), n, cfg.runs.seed, size)
    return execute(plan, out, ex, grow=grow, finished=finished, tail=tail)
