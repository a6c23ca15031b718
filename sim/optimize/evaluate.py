"""Running candidates: replications [start, stop) of a candidate's config on the batch
executors, reduced in the worker to the outputs the problem names (one value per
replication), and kept per candidate so that a later stage only runs the replications it
adds.

Replication i of every candidate runs with the seed of replication i of `rareshock run`
(`SeedSequence(runs.seed, spawn_key=(i,))`): common random numbers, so candidates differ
by their levers only, and each candidate's figures are those `rareshock run` gives its
config."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..analysis.stats import sector_columns
from ..config.schema import COST_METRICS, Config, Output
from ..run.chunks import Segment, chunk_tables
from ..run.executors import Executor

__all__ = ["Evaluator", "evaluate_chunk", "outputs_of"]


def outputs_of(firms: dict[str, np.ndarray], outputs: Sequence[Output],
               start: int, stop: int) -> dict[str, np.ndarray]:
    """Per output (by label), its value in each replication of [start, stop), from the
    replications dataset's columns."""
    rep = np.asarray(firms["replication"], dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    sec = None
    for o in outputs:
        if o.firm is not None:
            mask = np.asarray(firms["firm"], dtype=object) == o.firm
            order = np.argsort(rep[mask], kind="stable")
            vals = np.asarray(firms[o.metric], dtype=float)[mask][order]
        else:
            if sec is None:
                sec = sector_columns(firms)
            mask = sec["sector"] == o.sector
            order = np.argsort(sec["replication"][mask], kind="stable")
            vals = np.asarray(sec[o.metric], dtype=float)[mask][order]
        if len(vals) != stop - start:
            raise RuntimeError(f"{o.label}: {len(vals)} values for {stop - start} "
                               "replications")
        out[o.label] = vals
    return out


def evaluate_chunk(root: int, cfg: Config, start: int, stop: int,
                   outputs: tuple[Output, ...]) -> dict[str, np.ndarray]:
    """What a worker does: run replications [start, stop) of `cfg` and return the
    outputs (a few numbers per replication cross the process boundary, not tables)."""
    tables, _ = chunk_tables(root, [Segment(None, cfg, start, stop)], True,
                             ("replications",))
    t = tables["replications"]
    cols = {c: t.column(c).to_numpy(zero_copy_only=False) for c in
            ("replication", "firm", "sector", "value_lost", "planned_value",
             "shortfall_frac", "shortfall_units", "downtime_days",
             *(m for m in COST_METRICS if m in t.column_names))}
    return outputs_of(cols, outputs, start, stop)


class Evaluator:
    """Candidates' outputs on replications 0, 1, ..., computed once each."""

    def __init__(self, root: int, outputs: Sequence[Output], executor: Executor,
                 workers: int, chunk_size: int | None = None) -> None:
        self.root = root
        self.outputs = tuple({o.label: o for o in outputs}.values())
        self.executor = executor
        self.workers = max(1, workers)
        self.chunk_size = chunk_size
        self.done: dict[Any, dict[str, np.ndarray]] = {}
        self.configs: dict[Any, Config] = {}
        self.simulations = 0

    def add(self, key: Any, cfg: Config) -> None:
        """Register a candidate (its key: any hashable, e.g. its lever values)."""
        if key not in self.configs:
            self.configs[key] = cfg
            self.done[key] = {o.label: np.empty(0) for o in self.outputs}

    def count(self, key: Any) -> int:
        return len(next(iter(self.done[key].values()))) if self.outputs else 0

    def run(self, keys: Sequence[Any], n: int) -> None:
        """Make sure each of `keys` has replications [0, n), running those it lacks, in
        chunks spread over the workers."""
        need = [(k, self.count(k)) for k in keys if self.count(k) < n]
        if not need:
            return
        total = sum(n - have for _, have in need)
        size = self.chunk_size or max(1, math.ceil(total / (2 * self.workers)))
        jobs = []
        for k, have in need:
            for a in range(have, n, size):
                b = min(n, a + size)
                jobs.append(((k, a, b), (self.root, self.configs[k], a, b, self.outputs)))
        got: dict[tuple, dict[str, np.ndarray]] = {}
        for tag, res in self.executor.map_unordered(evaluate_chunk, jobs):
            got[tag] = res
        for k, _ in need:
            parts = sorted(((a, v) for (kk, a, _), v in got.items() if kk == k),
                           key=lambda p: p[0])
            for label in self.done[k]:
                self.done[k][label] = np.concatenate(
                    [self.done[k][label], *(v[label] for _, v in parts)])
        self.simulations += total

    def values(self, key: Any, label: str, n: int) -> np.ndarray:
        """Output `label` of candidate `key` on replications [0, n) (run if need be)."""
        self.run([key], n)
        return self.done[key][label][:n]
