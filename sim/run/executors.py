"""Executors: where chunks run. In this process or a local process pool (the default),
or on Dask distributed (a LocalCluster, or an existing scheduler).

Both hand out at most two chunks per worker at a time, so memory stays flat however many
chunks a batch has, and yield each chunk's result as soon as it is done.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import queue as queue_mod
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from ..errors import ArgumentError
from .chunks import set_reporter
from .pool import WORKER_PRELOAD, ignoring_sigint, start_forkserver
from .progress import Progress, Running

STOP_GRACE_S = 3.0
"""How long stopped workers get to exit before they are killed."""


def init_worker(main_pid: int, reports: Any) -> None:
    """A local pool worker's set-up: Ctrl-C is the parent's to handle (the worker ignores
    SIGINT, and is stopped by its parent); report progress to `reports`; exit if the
    parent is gone (killed outright), instead of running on orphaned; and `gc.freeze`, so
    the collector never walks (and so never copies, page by page) the objects inherited
    from the fork server, and a worker's memory stays flat however many chunks it runs."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if reports is not None:
        set_reporter(reports.put_nowait)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(main_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # a new process has the parent's id: the parent is gone
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    gc.freeze()


class LocalExecutor:
    """In-process (1 worker) or a process pool.

    `progress.running` hears where the workers' replications have got to (simulated
    days); `close(abort=True)` stops the workers at once (their chunks are lost, and
    resuming recomputes them)."""

    def __init__(self, workers: int, progress: Progress | None = None) -> None:
        self.workers = workers
        self.progress = progress or Progress()
        self.pool: ProcessPoolExecutor | None = None
        self.reports: Any = None
        self._where: dict[int, Running] = {}
        if workers > 1:
            import multiprocessing as mp

            # The model and pyarrow are loaded once, in the fork server, and shared by the
            # workers (it may already be running: see sim.run.pool).
            ctx = mp.get_context("forkserver" if start_forkserver() else "spawn")
            self.reports = ctx.Queue()
            with ignoring_sigint():  # workers inherit it: Ctrl-C reaches only the parent
                self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                                initializer=init_worker,
                                                initargs=(os.getpid(), self.reports))

    def _report(self, rec: tuple) -> None:
        pid, point, index, day, horizon = rec
        self._where[pid] = Running(point, index, day, horizon)
        self.progress.running(dict(self._where))

    def _drain(self) -> None:
        got = False
        while True:
            try:
                rec = self.reports.get_nowait()
            except (queue_mod.Empty, OSError, ValueError, EOFError):
                break
            pid, point, index, day, horizon = rec
            self._where[pid] = Running(point, index, day, horizon)
            got = True
        if got:
            self.progress.running(dict(self._where))

    def map_unordered(self, fn: Callable[..., Any],
                      jobs: Iterable[tuple[Any, tuple]]) -> Iterator[tuple[Any, Any]]:
        """`(key, fn(*args))` for each `(key, args)` of `jobs`, in the order they finish;
        jobs are taken from the iterable only as workers free up."""
        if self.pool is None:
            set_reporter(self._report)
            try:
                for key, args in jobs:
                    yield key, fn(*args)
            finally:
                set_reporter(None)
            return
        pending: dict[Any, Any] = {}
        queue = iter(jobs)
        limit = 2 * self.workers  # bounded in flight: memory stays flat
        try:
            yield from self._pool_loop(fn, queue, pending, limit)
        finally:  # closed early: the jobs not started are not run
            for fut in pending:
                fut.cancel()

    def _pool_loop(self, fn: Callable[..., Any], queue: Iterator[tuple[Any, tuple]],
                   pending: dict[Any, Any], limit: int) -> Iterator[tuple[Any, Any]]:
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
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            self._drain()
            for fut in done:
                key = pending.pop(fut)
                yield key, fut.result()

    def close(self, abort: bool = False) -> None:
        """Shut the pool down: after the chunks under way (default), or at once (`abort`:
        the workers are terminated, and killed if they do not exit within
        `STOP_GRACE_S`)."""
        if self.pool is None:
            return
        if not abort:
            self.pool.shutdown(cancel_futures=True)
        else:
            # ProcessPoolExecutor has no public way to stop its workers before Python 3.14
            # (`terminate_workers`); its `_processes` are the worker Process objects.
            stop = getattr(self.pool, "terminate_workers", None)
            procs = list(getattr(self.pool, "_processes", {}).values())
            if stop is not None:
                stop()
            else:
                for p in procs:
                    with contextlib.suppress(OSError, ValueError):
                        p.terminate()
            deadline = time.monotonic() + STOP_GRACE_S
            for p in procs:
                p.join(max(0.0, deadline - time.monotonic()))
                if p.is_alive():
                    p.kill()
            self.pool.shutdown(wait=False, cancel_futures=True)
        if self.reports is not None:
            self.reports.close()
            self.reports.cancel_join_thread()
        self.pool = None


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

    def __init__(self, workers: int, scheduler: str | None,
                 progress: Progress | None = None) -> None:
        self.progress = progress or Progress()
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ArgumentError("executor", "dask", "Dask is not installed; install the "
                                "'dask' extra: pip install 'rareshock[dask]'") from None
        self.cluster = None
        self.client = None
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
            # SIGINT ignored while the nannies and workers start: they inherit it, so a
            # Ctrl-C reaches only this process (which closes the cluster), not each of them
            with dask.config.set(_local_cluster_config()), ignoring_sigint(), \
                    _worker_logging(), warnings.catch_warnings():
                # no dashboard; distributed still binds an HTTP port, and says so when its
                # default is taken (another cluster on this machine): any port will do
                warnings.filterwarnings("ignore", message="Port .* is already in use")
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
        try:
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
        finally:  # closed early: the tasks still queued or running are cancelled
            if futures and self.client is not None:
                with contextlib.suppress(Exception):
                    self.client.cancel(list(futures))

    def close(self, abort: bool = False) -> None:
        """Close the client, and the LocalCluster started here (a user's scheduler and its
        workers are left as they are). With `abort` (a stop), running tasks are cancelled
        and nothing waits for them."""
        if self.client is None:
            return
        client, self.client = self.client, None
        if self.cluster is None:
            if abort:
                with contextlib.suppress(Exception):
                    client.cancel(list(client.futures.values()), force=True)
            client.close()
            return
        # Closing a LocalCluster races its own heartbeats (dask/distributed#7105): a worker
        # or nanny may log an ERROR about a closed connection after the batch is done.
        # Nothing can fail any more, so the workers' and this process's distributed
        # loggers are quietened for the shutdown (this process's levels are restored).
        if not abort:
            try:
                client.run(_quiet_worker_logs)
            except Exception:  # noqa: BLE001 - a worker already gone: nothing left to quieten
                pass
        levels = _quiet_distributed_logs()
        try:
            client.close(timeout=STOP_GRACE_S if abort else "10s")
            self.cluster.close(timeout=STOP_GRACE_S if abort else None)
        finally:
            for logger, level in levels.items():
                logger.setLevel(level)


@contextlib.contextmanager
def _worker_logging() -> Iterator[None]:
    """While the cluster's processes start: their loggers, as each configures them from
    its environment when it imports distributed. A stopped batch cancels the tasks under
    way, which each worker would otherwise report as a WARNING."""
    old = os.environ.get("DASK_LOGGING")
    os.environ["DASK_LOGGING"] = repr({"distributed.worker.state_machine": "error"})
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("DASK_LOGGING", None)
        else:
            os.environ["DASK_LOGGING"] = old


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


def make_executor(kind: str, workers: int, scheduler: str | None = None,
                  progress: Progress | None = None) -> Executor:
    """A LocalExecutor (`kind` "local") or a DaskExecutor ("dask"; on `scheduler` if given,
    else a LocalCluster of `workers`)."""
    if kind == "local":
        return LocalExecutor(workers, progress)
    if kind == "dask":
        return DaskExecutor(workers, scheduler, progress)
    raise ArgumentError("executor", kind, "expected 'local' or 'dask'")
