"""Executors: where chunks run. In this process or a local process pool (the default),
or on Dask distributed (a LocalCluster, or an existing scheduler).

Both hand out at most two chunks per worker at a time, so memory stays flat however many
chunks a batch has, and yield each chunk's result as soon as it is done.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from ..errors import ArgumentError
from .pool import WORKER_PRELOAD, start_forkserver


class LocalExecutor:
    """In-process (1 worker) or a process pool."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        if workers > 1:
            import multiprocessing as mp

            # The model and pyarrow are loaded once, in the fork server, and shared by the
            # workers (it may already be running: see sim.run.pool).
            ctx = mp.get_context("forkserver" if start_forkserver() else "spawn")
            # gc.freeze in each worker: the collector then never walks (and so never
            # copies, page by page) the objects inherited from the forkserver, so a
            # worker's memory stays flat however many chunks it runs.
            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                            initializer=gc.freeze)

    def map_unordered(self, fn: Callable[..., Any],
                      jobs: Iterable[tuple[Any, tuple]]) -> Iterator[tuple[Any, Any]]:
        """`(key, fn(*args))` for each `(key, args)` of `jobs`, in the order they finish;
        jobs are taken from the iterable only as workers free up."""
        if self.pool is None:
            for key, args in jobs:
                yield key, fn(*args)
            return
        pending: dict[Any, Any] = {}
        queue = iter(jobs)
        limit = 2 * self.workers  # bounded in flight: memory stays flat
        more = True
        while more or pending:
            while more and len(pending) < limit:
                job = next(queue, None)
                if job is None:
                    more = False
                    break
                pending[self.pool.submit(fn, *job[1])] = job[0]
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                key = pending.pop(fut)
                yield key, fut.result()

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
            ["distributed", *WORKER_PRELOAD])
    return conf


class DaskExecutor:
    """A Dask distributed client: a LocalCluster, or an existing scheduler."""

    def __init__(self, workers: int, scheduler: str | None) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ArgumentError("executor", "dask", "Dask is not installed; install the "
                                "'dask' extra: pip install 'rareshock[dask]'") from None
        self.cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="10s")
            except (OSError, ValueError, TypeError) as exc:  # unreachable or malformed
                raise ArgumentError("scheduler", scheduler,
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

    def map_unordered(self, fn: Callable[..., Any],
                      jobs: Iterable[tuple[Any, tuple]]) -> Iterator[tuple[Any, Any]]:
        """As `LocalExecutor.map_unordered`, on the cluster."""
        from dask.distributed import as_completed

        queue = iter(jobs)
        limit = 2 * self.workers
        futures = {}
        for key, args in queue:
            futures[self.client.submit(fn, *args, pure=False)] = key
            if len(futures) >= limit:
                break
        if not futures:
            return
        ac = as_completed(list(futures))
        for fut in ac:
            key = futures.pop(fut)
            result = fut.result()
            fut.release()
            nxt = next(queue, None)
            if nxt is not None:
                f2 = self.client.submit(fn, *nxt[1], pure=False)
                futures[f2] = nxt[0]
                ac.add(f2)
            yield key, result

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


Executor = LocalExecutor | DaskExecutor


def make_executor(kind: str, workers: int, scheduler: str | None = None) -> Executor:
    """A LocalExecutor (`kind` "local") or a DaskExecutor ("dask"; on `scheduler` if given,
    else a LocalCluster of `workers`)."""
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "dask":
        return DaskExecutor(workers, scheduler)
    raise ArgumentError("executor", kind, "expected 'local' or 'dask'")
