"""How a job runs, validated once: `Execution`, passed whole from the API through the
workflows to the batch runner (`sim.run.batch.execute`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..errors import ArgumentError, ConflictError

if TYPE_CHECKING:
    from .progress import Progress


def check_count(name: str, value: Any, minimum: int = 1) -> int:
    """A whole-number argument of at least `minimum`; ArgumentError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentError(name, value, "must be a whole number")
    if value < minimum:
        raise ArgumentError(name, value, f"must be at least {minimum}")
    return value


@dataclass(frozen=True)
class Execution:
    """How to run a job: `executor` ("local", a process pool, or "dask": a LocalCluster,
    or the cluster at `scheduler`), `workers` (default every core), `chunk_size`
    (replications per task; default about 32 tasks), `resume` an interrupted folder or
    `overwrite` an existing one (not both), `progress` (None: silent), `force` (accept a
    config beyond the work limits) and `quiet` (print only errors). Bad values raise
    ArgumentError on construction."""

    executor: str = "local"
    workers: int | None = None
    scheduler: str | None = None
    chunk_size: int | None = None
    resume: bool = False
    overwrite: bool = False
    progress: Progress | None = None
    force: bool = False
    quiet: bool = False

    def __post_init__(self) -> None:
        if self.workers is not None:
            check_count("workers", self.workers)
        if self.chunk_size is not None:
            check_count("chunk_size", self.chunk_size)
        for name in ("force", "resume", "overwrite"):
            if not isinstance(getattr(self, name), bool):
                raise ArgumentError(name, getattr(self, name), "must be True or False")
        if self.resume and self.overwrite:
            raise ConflictError("resume", True, "overwrite")
        if self.scheduler and self.executor != "dask":
            raise ArgumentError("scheduler", self.scheduler, "needs --executor dask")
        if self.executor == "dask":
            _check_dask()

    def but(self, **changes: Any) -> Execution:
        """This execution with some fields changed (validated again)."""
        return replace(self, **changes)

    def worker_count(self) -> int:
        """`workers`, or every core."""
        return self.workers if self.workers is not None else os.cpu_count() or 1


def _check_dask() -> None:
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        raise ArgumentError("executor", "dask", "Dask is not installed; install the "
                            "'dask' extra: pip install 'rareshock[dask]'") from None
