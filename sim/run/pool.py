"""The local process pool's fork server, which can be started before anything else.

Workers are forked from a server process that has imported the model and pyarrow once
(`WORKER_PRELOAD`), so each worker starts warm and shares those pages. Importing them
takes the server about half a second; `start_forkserver` starts it at once and returns,
so a caller that starts it first (the command line does, before it reads the config)
overlaps that with its own start-up instead of waiting for it at the first chunk.
This module imports nothing heavy, so calling it early costs nothing.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

# What a worker process imports once, before its first chunk (either executor).
WORKER_PRELOAD = ("sim.model", "sim.run.chunks", "pyarrow.parquet")


@contextlib.contextmanager
def ignoring_sigint() -> Iterator[None]:
    """Ignore SIGINT while processes are started: they inherit it, so a Ctrl-C (sent to the
    whole process group) reaches only this process, which stops them itself, instead of
    each printing a traceback. (Only the main thread can change it; elsewhere, nothing.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def start_forkserver() -> bool:
    """Start the fork server with the workers' preload, if the platform has one and it is
    not running yet; returns whether the forkserver start method is available. The server
    (and every worker it forks) ignores SIGINT."""
    import multiprocessing as mp

    if "forkserver" not in mp.get_all_start_methods():
        return False
    from multiprocessing import forkserver

    mp.get_context("forkserver").set_forkserver_preload(list(WORKER_PRELOAD))
    with ignoring_sigint():
        forkserver.ensure_running()
    return True
