"""Monte Carlo batches: seeds, chunks, executors, and storing results as chunks finish.

Replication i always runs with the child seed `SeedSequence(runs.seed).spawn(...)[i]`
(built directly as spawn key (i,)), so results do not depend on the number of workers,
the chunk size or the executor, and a batch can be extended or resumed.

Sweeps (`sim.sweep`) use the same chunks, executors and store: a job carries a point
index and that point's config, every table gets a `point` column, and replication i of
point p uses spawn key (i,) with common random numbers (the same streams at every point)
or (p, i) without.
"""

from __future__ import annotations

import functools
import gc
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import ConfigError
from .schema import Config
from .store import TABLES, ResultsDir, parquet_bytes

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# numpy and pandas are imported in the functions that workers run, not here: the parent of
# a batch only schedules chunks and writes bytes, and without them it holds about 25 MB
# instead of 75 MB while the workers run (the forkserver preloads pandas for the workers).

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


class ReplicationError(RuntimeError):
    """A replication raised; the message carries its seed so it can be re-run alone."""


def replication_seed(root: int, index: int, point: int | None = None) -> np.random.SeedSequence:
    """The seed of replication `index`: child `index` of `SeedSequence(root)`, or, for a
    sweep point without common random numbers, spawn key (point, index)."""
    import numpy as np

    key = (index,) if point is None else (point, index)
    return np.random.SeedSequence(entropy=root, spawn_key=key)


def run_chunk(cfg: Config, root: int, start: int, stop: int, point: int | None = None,
              crn: bool = True, tables: tuple[str, ...] = TABLES,
              ) -> tuple[dict[str, bytes], int]:
    """Run replications [start, stop) and return their tables, each with a `replication`
    column and encoded as a parquet file (bytes, see `sim.store.parquet_bytes`), and the
    number of SimPy events processed.

    The tables are encoded here, in the worker: the parent then only writes bytes, and
    what crosses the process boundary is compressed parquet rather than pickled
    DataFrames.

    With `point` (a sweep point), every table also gets a `point` column in front, and
    without common random numbers (`crn=False`) replication i uses spawn key (point, i).
    Only `tables` are returned.
    """
    got, events = chunk_frames(cfg, root, start, stop, point=point, crn=crn, tables=tables)
    encoded = {k: parquet_bytes(df) for k, df in got.items()}
    del got
    release_unused_memory()
    return encoded, events


def chunk_frames(cfg: Config, root: int, start: int, stop: int, point: int | None = None,
                 crn: bool = True, tables: tuple[str, ...] = TABLES,
                 ) -> tuple[dict[str, pd.DataFrame], int]:
    """`run_chunk`'s tables as DataFrames (not encoded)."""
    import numpy as np
    import pandas as pd

    from .model import simulate

    parts: dict[str, list[pd.DataFrame]] = {t: [] for t in tables}
    index: list[int] = []
    sizes: dict[str, list[int]] = {t: [] for t in tables}
    events = 0
    for i in range(start, stop):
        seed = replication_seed(root, i, None if crn else point)
        try:
            rep = simulate(cfg, seed)
        except Exception as exc:  # re-raised with what is needed to reproduce it
            where, cfg_is = f"replication {i}", "cfg"
            if point is not None:
                where = f"point {point}, replication {i}"
                cfg_is = f"cfg = sim.sweep.plan_sweep(config).configs[{point}]; cfg"
            raise ReplicationError(
                f"{where} failed: {type(exc).__name__}: {exc} — reproduce with "
                f"sim.simulate({cfg_is}, numpy.random.SeedSequence(entropy={root}, "
                f"spawn_key={tuple(seed.spawn_key)!r}))"
            ) from exc
        events += rep.events
        index.append(i)
        for name, attr in (("replications", "firms"), ("applications", "applications"),
                           ("exports", "exports"), ("timeseries", "timeseries"),
                           ("authority", "authority"), ("policy", "policy")):
            if name not in parts:
                continue
            df = getattr(rep, attr)
            parts[name].append(df)
            sizes[name].append(len(df))
    # The id columns are added once, after the concatenation (which copies anyway), so
    # the replication's own frames are neither copied nor modified.
    reps = np.asarray(index, dtype=np.int64)
    out: dict[str, pd.DataFrame] = {}
    for name, frames in parts.items():
        df = pd.concat(frames, ignore_index=True)
        df.insert(0, "replication", np.repeat(reps, sizes[name]))
        if point is not None:
            df.insert(0, "point", np.full(len(df), point, dtype=np.int64))
        out[name] = df
    return out, events


def run_segments(root: int, segments: tuple[tuple[int, Config, int, int], ...], crn: bool,
                 tables: tuple[str, ...]) -> tuple[dict[str, bytes], int]:
    """One sweep chunk: replications [start, stop) of each (point, config, start, stop)
    segment, tables concatenated in segment order and encoded as parquet (bytes)."""
    import pandas as pd

    parts: dict[str, list[pd.DataFrame]] = {t: [] for t in tables}
    events = 0
    for point, cfg, start, stop in segments:
        got, ev = chunk_frames(cfg, root, start, stop, point=point, crn=crn, tables=tables)
        events += ev
        for k, df in got.items():
            parts[k].append(df)
    encoded = {k: parquet_bytes(pd.concat(v, ignore_index=True)) for k, v in parts.items()}
    del parts
    release_unused_memory()
    return encoded, events


# What a worker's forkserver imports once, for every worker it forks (either executor).
_WORKER_PRELOAD = ("sim.model", "sim.runner", "pandas")


def release_unused_memory() -> None:
    """Give the memory freed by a finished chunk back to the system. Arrow's allocator
    (which holds the pandas string columns and the encoder's buffers) and glibc's malloc
    otherwise keep it cached, so a worker's size would follow the largest chunk it has
    encoded (about 25 MB more with 20 replications a chunk than with 2)."""
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


def default_chunk_size(replications: int) -> int:
    """About 32 chunks per batch for load balance, between 1 and 20 replications each."""
    return max(1, min(20, math.ceil(replications / 32)))


def resolve_chunk_size(store: ResultsDir, chunk_size: int | None, total: int,
                       resume: bool) -> int:
    """The chunk size asked for; else, when resuming, the stored run's; else the default."""
    if chunk_size is None:
        stored = store.manifest() if resume else None
        chunk_size = int(stored["chunk_size"]) if stored and "chunk_size" in stored \
            else default_chunk_size(total)
    if chunk_size < 1:
        raise ConfigError("--chunk-size", str(chunk_size), "must be at least 1")
    return chunk_size


# --------------------------------------------------------------------------- executors


class _Local:
    """In-process (1 worker) or a process pool."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        if workers > 1:
            import multiprocessing as mp

            ctx = mp.get_context("forkserver")
            # pandas (and with it pyarrow) is loaded once, in the forkserver, and shared
            # by the workers; the parent does not load it (see the imports above).
            ctx.set_forkserver_preload(list(_WORKER_PRELOAD))
            # gc.freeze in each worker: the collector then never walks (and so never
            # copies, page by page) the objects inherited from the forkserver, so a
            # worker's memory stays flat however many chunks it runs.
            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                            initializer=gc.freeze)

    def map_unordered(self, fn: Callable, jobs: list[tuple]) -> Iterator[tuple[tuple, Any]]:
        if self.pool is None:
            for job in jobs:
                yield job, fn(*job[1:])
            return
        pending: dict[Any, tuple] = {}
        queue = list(jobs)
        limit = 2 * self.workers  # bounded in flight: memory stays flat
        while queue or pending:
            while queue and len(pending) < limit:
                job = queue.pop(0)
                pending[self.pool.submit(fn, *job[1:])] = job
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                job = pending.pop(fut)
                yield job, fut.result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


# A LocalCluster's defaults cost a batch of long CPU-bound chunks time that buys it
# nothing (2 cores, 160 baseline replications: Dask took 0.76x the local pool's rate):
# - the spawn start method: each worker process imports dask, distributed, pandas and the
#   model again, both at once, before its first chunk; a forkserver (as the local pool's)
#   imports them once and forks the workers, which also exit faster at close;
# - the statistical profiler: a thread in each worker taking the GIL every 10 ms to walk
#   the running chunk's stack, for a dashboard that is off;
# - event-loop housekeeping of the scheduler and the nannies, in the parent process,
#   competing with the workers for the cores: the loop-health tick every 20 ms, the
#   system monitor every 0.5 s, work stealing (chunks are queued at most two per worker:
#   nothing is worth stealing).
# Memory limits and their checks (spill, pause, terminate) are left as they are.
_LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.scheduler.work-stealing": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "5s",
}


def _local_cluster_config() -> dict[str, Any]:
    """`_LOCAL_CLUSTER_CONFIG`, and the forkserver start method where the platform has
    one, its server preloaded with dask, distributed and the model. If the forkserver is
    already running (the local pool started it), the workers import what it lacks."""
    import multiprocessing as mp

    import dask

    conf = dict(_LOCAL_CLUSTER_CONFIG)
    if "forkserver" in mp.get_all_start_methods():
        from distributed.utils import get_mp_context

        conf["distributed.worker.multiprocessing-method"] = "forkserver"
        with dask.config.set(conf):
            get_mp_context()  # distributed sets its own preload list, once per process
        mp.get_context("forkserver").set_forkserver_preload(
            ["distributed", *_WORKER_PRELOAD])
    return conf


class _Dask:
    """A Dask distributed client: a LocalCluster, or an existing scheduler."""

    def __init__(self, workers: int, scheduler: str | None) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("--executor", "dask", "Dask is not installed; install the "
                              "'dask' extra: pip install 'rareshock[dask]'") from None
        self.cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="10s")
            except (OSError, ValueError, TypeError) as exc:  # unreachable or malformed
                raise ConfigError("--scheduler", scheduler,
                                  f"cannot connect to the Dask scheduler ({exc})") from None
        else:
            import dask

            # Settings for the cluster started here only (an existing scheduler is left
            # as it is); the nannies pass them on to their worker processes.
            with dask.config.set(_local_cluster_config()):
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                            processes=True, dashboard_address=None)
                self.client = Client(self.cluster)
            # As the local pool's workers: the collector then never walks the objects
            # imported before the first chunk.
            self.client.run(gc.freeze)
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})) or workers)

    def map_unordered(self, fn: Callable, jobs: list[tuple]) -> Iterator[tuple[tuple, Any]]:
        from dask.distributed import as_completed

        queue = list(jobs)
        limit = 2 * self.workers
        futures = {}
        for job in queue[:limit]:
            futures[self.client.submit(fn, *job[1:], pure=False)] = job
        queue = queue[limit:]
        ac = as_completed(list(futures))
        for fut in ac:
            job = futures.pop(fut)
            result = fut.result()
            fut.release()
            if queue:
                nxt = queue.pop(0)
                f2 = self.client.submit(fn, *nxt[1:], pure=False)
                futures[f2] = nxt
                ac.add(f2)
            yield job, result

    def close(self) -> None:
        if self.cluster is None:  # a user's scheduler: leave it and its workers as they are
            self.client.close()
            return
        # Closing a LocalCluster races its own heartbeats (dask/distributed#7105): a worker
        # or nanny may log an ERROR about a closed connection after the batch is done.
        # Nothing can fail any more, so the workers' and this process's distributed
        # loggers are quietened for the shutdown (this process's levels are restored).
        try:
            self.client.run(_quiet_worker_logs)
        except Exception:  # noqa: BLE001 - a worker already gone: nothing left to quieten
            pass
        levels = _quiet_distributed_logs()
        try:
            self.client.close()
            self.cluster.close()
        finally:
            for logger, level in levels.items():
                logger.setLevel(level)


def _quiet_worker_logs() -> None:
    """`_quiet_distributed_logs`, run in a worker (returns nothing to send back)."""
    _quiet_distributed_logs()


def _quiet_distributed_logs() -> dict[logging.Logger, int]:
    """Set every `distributed` logger of this process to CRITICAL; returns the old levels."""
    manager = logging.Logger.manager
    names = ["distributed", *(n for n in list(manager.loggerDict)
                              if n.startswith("distributed."))]
    old = {}
    for name in names:
        logger = logging.getLogger(name)
        old[logger] = logger.level
        logger.setLevel(logging.CRITICAL)
    return old


def make_executor(kind: str, workers: int, scheduler: str | None = None) -> _Local | _Dask:
    if kind == "local":
        return _Local(workers)
    if kind == "dask":
        return _Dask(workers, scheduler)
    raise ConfigError("--executor", kind, "expected 'local' or 'dask'")


# --------------------------------------------------------------------------- batch


@dataclass
class BatchInfo:
    """What a finished batch did."""

    path: Path
    replications: int
    chunks_run: int
    events: int
    wall_seconds: float
    precision_met: bool | None = None


def run_batch(
    cfg: Config,
    out: str | Path,
    *,
    replications: int | None = None,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    chunk_size: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    precision: float | None = None,
    max_replications: int | None = None,
    progress: Callable[[int, int], Progress] | None = None,
) -> BatchInfo:
    """Run `replications` (default `cfg.runs.replications`) and store them under `out`.

    With `precision`, keep adding replications until every sector's 95% half-width of
    mean `shortfall_frac` is below it (or `max_replications` is reached).
    `progress(total, done)` returns a callback taking the number of replications just
    finished.
    """
    n = replications if replications is not None else cfg.runs.replications
    if n < 1:
        raise ConfigError("--replications", str(n), "must be at least 1")
    if replications is not None and replications != cfg.runs.replications:
        cfg = cfg.model_copy(update={"runs": cfg.runs.model_copy(update={"replications": n})})
    workers = workers or os.cpu_count() or 1
    store = ResultsDir(out)
    stored = store.manifest() if resume else None
    chunk_size = resolve_chunk_size(store, chunk_size, n, resume)
    seed = cfg.runs.seed
    meta = {"version": __version__, "name": cfg.name, "seed": seed, "replications": n,
            "chunk_size": chunk_size}
    # The executor first: a scheduler that cannot be reached is bad input, and then
    # nothing may have been written yet.
    ex = make_executor(executor, workers, scheduler)
    try:
        done = store.prepare(cfg, meta, resume=resume, overwrite=overwrite)
    except BaseException:
        ex.close()
        raise
    if stored and int(stored.get("replications", n)) < n:
        _drop_partial(done, int(stored["replications"]), chunk_size)
    man = store.manifest() or {}
    chunk_events: dict[str, int] = dict(man.get("chunk_events", {}))
    wall_before = float(man.get("wall_seconds", 0.0))
    t0 = time.perf_counter()
    ran = 0
    met: bool | None = None
    try:
        target = n
        cap = max_replications or max(10 * n, 1000)
        while True:
            ran += _run_chunks(cfg, store, target, chunk_size, done, chunk_events, ex,
                               progress, t0, wall_before)
            if precision is None:
                break
            from .stats import sector_halfwidths

            hw = sector_halfwidths(store.read("replications"))
            worst = max(hw.values()) if hw else 0.0
            met = worst < precision
            if met or target >= cap:
                break
            # one replication has no interval (infinite half-width): double instead
            grow = (math.ceil(target * (worst / precision) ** 2 * 1.1)
                    if math.isfinite(worst) else 2 * target)
            _drop_partial(done, target, chunk_size)
            target = min(cap, max(target + chunk_size, grow))
            log.info("half-width %.4g > %.4g: extending to %d replications",
                     worst, precision, target)
        n = target
    finally:
        ex.close()
    wall = wall_before + time.perf_counter() - t0
    man = store.manifest() or {}
    man.update({"replications": n, "wall_seconds": round(wall, 3),
                "events_processed": int(sum(chunk_events.values())),
                "executor": executor, "workers": ex.workers})
    if precision is not None:
        man["precision"] = {"target_halfwidth": precision, "met": bool(met)}
    store.write_manifest(man)
    return BatchInfo(store.path, n, ran, int(sum(chunk_events.values())), wall, met)


def _drop_partial(done: set[int], have: int, chunk_size: int) -> None:
    """A last chunk cut short at `have` replications must run again (whole) when the batch
    grows beyond `have`, or the replications after `have` in that chunk are never run."""
    if have % chunk_size:
        done.discard(have // chunk_size)


def _run_chunks(cfg: Config, store: ResultsDir, n: int, chunk_size: int, done: set[int],
                chunk_events: dict[str, int], ex: _Local | _Dask,
                progress: Callable[[int, int], Progress] | None, t0: float,
                wall_before: float) -> int:
    """Run every chunk of replications [0, n) not yet done; returns chunks run."""
    sizes = {c: min(n, (c + 1) * chunk_size) - c * chunk_size
             for c in range(math.ceil(n / chunk_size))}
    jobs = [(c, cfg, cfg.runs.seed, c * chunk_size, c * chunk_size + sizes[c])
            for c in sizes if c not in done]
    return execute_chunks(run_chunk, jobs, sizes, store, done, chunk_events, ex, progress,
                          t0, wall_before)


def execute_chunks(fn: Callable[..., tuple[dict[str, bytes], int]], jobs: list[tuple],
                   sizes: dict[int, int], store: ResultsDir, done: set[int],
                   chunk_events: dict[str, int], ex: _Local | _Dask,
                   progress: Callable[[int, int], Progress] | None, t0: float,
                   wall_before: float) -> int:
    """Run `jobs` ((chunk id, *arguments of `fn`)) on the executor, writing each chunk's
    tables and the manifest as soon as it returns; `sizes` gives the replications in
    every chunk of the batch. Returns the number of chunks run."""
    total = sum(sizes.values())
    already = sum(v for c, v in sizes.items() if c in done)
    tick = progress(total, already) if progress else None
    for job, (tables, events) in ex.map_unordered(fn, jobs):
        c = job[0]
        store.write_chunk(c, tables)
        done.add(c)
        chunk_events[str(c)] = events
        man = store.manifest() or {}
        man.update({"chunks_done": sorted(done), "chunk_events": chunk_events,
                    "replications_done": sum(v for d, v in sizes.items() if d in done),
                    "wall_seconds": round(wall_before + time.perf_counter() - t0, 3)})
        store.write_manifest(man)
        if tick:
            tick(sizes[c])
    return len(jobs)
