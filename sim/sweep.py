"""Sensitivity sweeps: a design of points, each a copy of the scenario with some values
replaced, run through the batch runner's chunks, executors and store.

Every point's config is built and validated before anything runs. A job is a chunk of
the (point, replication) pairs in point order; tables carry `point` and `replication`
columns. With common random numbers (the default) replication i uses the seed of
replication i of `rareshock run` (spawn key (i,)) at every point, so differences between
points are the parameters' doing; without them (`crn = false`, `--no-crn`) replication i
of point p uses spawn key (p, i).

Parameters are dotted config paths, checked against the schema (see
`sim.schema.SweepParameter`); `scale = true` turns the values into factors that multiply
a number, a distribution, the approval probabilities of `authority.decision` or the
capacity of a free supplier.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import time
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from . import __version__
from .config import _apply_override, config_from_dict
from .design import Design, build_design
from .distributions import scaled
from .errors import ConfigError
from .runner import (
    Progress,
    execute_chunks,
    make_executor,
    resolve_chunk_size,
    run_segments,
)
from .schema import Config, DecisionConfig, SupplierConfig, SweepParameter
from .store import ResultsDir, atomic_write_bytes, config_dict

log = logging.getLogger(__name__)

__all__ = ["Lever", "SweepInfo", "SweepPlan", "plan_sweep", "run_sweep"]


# --------------------------------------------------------------------------- levers


@dataclass(frozen=True)
class Lever:
    """A sweep parameter checked against the config: what each of its paths holds.

    kind: "int", "float", "bool", "str", "date" (a plain value), or with `scale = true`
    "number", "distribution", "decision", "supplier".
    """

    index: int
    spec: SweepParameter
    kind: str

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def where(self) -> str:
        return f"sweep.parameters.{self.index}"


def _unwrap(ann: Any) -> Any:
    """Strip Annotated and Optional from a type annotation."""
    while True:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            ann = typing.get_args(ann)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if len(args) != 1:
                return ann
            ann = args[0]
        else:
            return ann


def _kind(ann: Any) -> str:
    """What a field holds: int, float, bool, str, date, distribution, table, list."""
    ann = _unwrap(ann)
    origin = typing.get_origin(ann)
    if ann is bool:
        return "bool"
    if ann is int:
        return "int"
    if ann is float:
        return "float"
    if ann is str or origin is typing.Literal:
        return "str"
    if ann is date:
        return "date"
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(ann)
        if all(isinstance(a, type) and "dist" in getattr(a, "model_fields", {}) for a in args):
            return "distribution"
        kinds = {_kind(a) for a in args if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else "value"
    if origin is list or origin is tuple:
        return "list"
    if origin is dict or (isinstance(ann, type) and issubclass(ann, BaseModel)):
        return "table"
    return "value"


def _resolve(cfg: Config, path: str) -> tuple[Any, Any]:
    """(value, annotation) at `path` in `cfg`; ValueError saying what is wrong."""
    node: Any = cfg
    ann: Any = Config
    done: list[str] = []
    for key in path.split("."):
        where = ".".join(done) or "the config"
        core = _unwrap(ann)
        if isinstance(node, BaseModel):
            fields = type(node).model_fields
            if key not in fields:
                known = ", ".join(fields)
                raise ValueError(f"{path!r}: {where} has no key {key!r} (known: {known})")
            ann = fields[key].annotation
            node = getattr(node, key)
        elif isinstance(node, dict):
            if key not in node:
                known = ", ".join(map(str, node)) or "none"
                raise ValueError(f"{path!r}: no {key!r} in {where} (known: {known})")
            ann = typing.get_args(core)[1] if typing.get_args(core) else Any
            node = node[key]
        elif isinstance(node, list | tuple):
            if not key.isdigit() or int(key) >= len(node):
                raise ValueError(f"{path!r}: {where} is a list of {len(node)}; {key!r} is "
                                 "not an index of it")
            ann = typing.get_args(core)[0] if typing.get_args(core) else Any
            node = node[int(key)]
        elif node is None:
            raise ValueError(f"{path!r}: {where} is not set in this config")
        else:
            raise ValueError(f"{path!r}: {where} is a single value, not a table")
        done.append(key)
    return node, ann


def check_levers(cfg: Config, source: str) -> list[Lever]:
    """Check every sweep parameter's paths against `cfg`; ConfigError naming the parameter."""
    assert cfg.sweep is not None
    levers = []
    sampled = cfg.sweep.method in ("lhs", "sobol", "morris")
    for i, prm in enumerate(cfg.sweep.parameters):
        kinds = set()
        for path in prm.paths:
            try:
                value, ann = _resolve(cfg, path)
            except ValueError as exc:
                raise ConfigError(source, f"sweep.parameters.{i}.path", str(exc)) from None
            if path.split(".")[0] == "sweep":
                raise ConfigError(source, f"sweep.parameters.{i}.path",
                                  "a sweep cannot sweep its own settings")
            kinds.add(_lever_kind(prm, path, value, ann, source, i, sampled))
        if len(kinds) > 1:
            raise ConfigError(source, f"sweep.parameters.{i}.path", "the paths hold different "
                              f"kinds of value ({', '.join(sorted(kinds))})")
        levers.append(Lever(i, prm, kinds.pop()))
    return levers


def _lever_kind(prm: SweepParameter, path: str, value: Any, ann: Any, source: str, i: int,
                sampled: bool) -> str:
    where = f"sweep.parameters.{i}"
    kind = _kind(ann)
    if prm.scale and value is None:
        raise ConfigError(source, f"{where}.path", f"{path!r} is not set in this config: "
                          "there is nothing to scale")
    if prm.scale:
        if prm.integer:
            raise ConfigError(source, f"{where}.integer", "does not go with scale = true (the "
                              "factor need not be whole; a scaled whole number is rounded)")
        if isinstance(value, DecisionConfig):
            return "decision"
        if isinstance(value, SupplierConfig):
            if value.kind != "free":
                raise ConfigError(source, f"{where}.path", f"{path!r}: scale = true on a "
                                  "supplier scales the capacity of a free supplier; this one "
                                  "is controlled")
            return "supplier"
        if kind == "distribution":
            return "distribution"
        if kind in ("int", "float") and isinstance(value, int | float):
            return "number" if kind == "float" else "int-number"
        raise ConfigError(source, f"{where}.path", f"{path!r}: scale = true needs a number, a "
                          "distribution, authority.decision or a free supplier here")
    if kind in ("table", "list", "distribution", "value"):
        what = {"table": "a table", "list": "a list", "distribution": "a distribution"}.get(
            kind, "not a single value")
        hint = " (use scale = true to multiply it)" if kind == "distribution" else ""
        raise ConfigError(source, f"{where}.path", f"{path!r} is {what}; a sweep sets single "
                          f"values{hint}")
    if prm.integer and kind != "int":
        raise ConfigError(source, f"{where}.integer", f"{path!r} holds a {kind}, not a whole "
                          "number: integer = true does not apply")
    if sampled:
        if kind == "int" and not prm.integer:
            raise ConfigError(source, f"{where}.integer", f"{path!r} holds a whole number: "
                              "add integer = true")
        if kind not in ("int", "float"):
            raise ConfigError(source, f"{where}.path", f"{path!r} holds a {kind}; sampled "
                              "designs need a number")
    return kind


def scenario_value(cfg: Config, spec: SweepParameter) -> Any:
    """The value the scenario itself has for a parameter: 1.0 for a scale factor, the
    value at its path(s) when they all agree, else None."""
    if spec.scale:
        return 1.0
    try:
        values = [_resolve(cfg, q)[0] for q in spec.paths]
    except ValueError:
        return None
    return values[0] if all(v == values[0] for v in values) else None


# --------------------------------------------------------------------------- point configs


def _get(data: Any, keys: list[str]) -> Any:
    for k in keys:
        data = data[int(k)] if isinstance(data, list) else data[k]
    return data


def _scaled_value(lever: Lever, cfg: Config, path: str, current: Any, factor: float) -> Any:
    if not isinstance(factor, int | float) or isinstance(factor, bool):
        raise ValueError(f"a scale factor must be a number (got {factor!r})")
    f = float(factor)
    if lever.kind == "number":
        return current * f
    if lever.kind == "int-number":
        return int(round(current * f))
    if lever.kind == "distribution":
        dist, _ = _resolve(cfg, path)
        if f < 0:
            raise ValueError(f"a distribution's scale factor must not be negative (got {f:g})")
        return scaled(dist, f).model_dump()
    if lever.kind == "decision":
        out = copy.deepcopy(current)

        def scale_rule(r: dict) -> None:
            r["approve"] = min(r.get("approve", 1.0) * f, 1.0 - r.get("refuse", 0.0))

        scale_rule(out)
        for r in out.get("rules", []):
            scale_rule(r)
        return out
    if lever.kind == "supplier":
        out = copy.deepcopy(current)
        out["capacity_kg_per_day"] = out.get("capacity_kg_per_day", 0.0) * f
        for step in out.get("ramp", []):
            step["kg_per_day"] = step["kg_per_day"] * f
        return out
    raise AssertionError(lever.kind)


def _plain(v: Any) -> Any:
    """numpy scalars (from pandas) as Python values, so strict validation accepts them."""
    return v.item() if hasattr(v, "item") and not isinstance(v, date) else v


def point_config(cfg: Config, levers: list[Lever], values: dict[str, Any],
                 base: dict[str, Any] | None = None, source: str = "<config>",
                 point: int | None = None) -> Config:
    """The scenario with each lever at `values[label]`, without its [sweep] table,
    validated; ConfigError naming the parameter and the point."""
    data = copy.deepcopy(base) if base is not None else _base_data(cfg)
    for lv in levers:
        v = _plain(values[lv.label])
        for path in lv.spec.paths:
            keys = path.split(".")
            if lv.spec.scale:
                try:
                    v_set = _scaled_value(lv, cfg, path, _get(data, keys), v)
                except (ValueError, TypeError) as exc:
                    raise _point_error(source, lv, point, v, str(exc)) from None
            else:
                v_set = v
            _apply_override(data, keys, v_set, source)
    try:
        return config_from_dict(data, source)
    except ConfigError as exc:
        hits = [lv for lv in levers if any(
            exc.path == p or exc.path.startswith(p + ".") or p.startswith(exc.path + ".")
            for p in lv.spec.paths)]
        if hits:
            lv = hits[0]
            msg = exc.message if exc.path in lv.spec.paths else f"{exc.path}: {exc.message}"
            raise _point_error(source, lv, point, _plain(values[lv.label]), msg) from None
        at = ", ".join(f"{lv.label} = {_plain(values[lv.label])!r}" for lv in levers)
        where = f"point {point} ({at})" if point is not None else f"({at})"
        raise ConfigError(source, "sweep", f"{where}: {exc.path}: {exc.message}") from None


def _point_error(source: str, lv: Lever, point: int | None, value: Any,
                 message: str) -> ConfigError:
    at = f"point {point}" if point is not None else "a point"
    shown = "true" if value is True else "false" if value is False else f"{value!r}"
    return ConfigError(source, f"{lv.where} ({lv.label})", f"{at}, value {shown}: {message}")


def _base_data(cfg: Config) -> dict[str, Any]:
    data = config_dict(cfg)
    data.pop("sweep", None)
    return data


@dataclass(frozen=True)
class SweepPlan:
    """A sweep ready to run: the design and every point's validated config."""

    design: Design
    levers: list[Lever]
    configs: list[Config]

    @property
    def points(self) -> pd.DataFrame:
        return self.design.points


def plan_sweep(cfg: Config, source: str = "<config>") -> SweepPlan:
    """Check the sweep's parameters, build its design and validate every point's config
    (nothing runs). Raises ConfigError naming the parameter and the point."""
    if cfg.sweep is None:
        raise ConfigError(source, "sweep", "this config has no [sweep] table "
                          "(see the README, Sensitivity sweeps)")
    levers = check_levers(cfg, source)
    design = build_design(cfg.sweep, cfg.runs.seed)
    base = _base_data(cfg)
    configs = []
    for p, row in enumerate(design.points.to_dict("records")):
        configs.append(point_config(cfg, levers, row, base, source, p))
    return SweepPlan(design, levers, configs)


# --------------------------------------------------------------------------- running


@dataclass
class SweepInfo:
    """What a finished sweep did."""

    path: Path
    points: int
    replications: int
    crn: bool
    chunks_run: int
    events: int
    wall_seconds: float


def _chunks(points: int, reps: int, size: int) -> dict[int, list[tuple[int, int, int]]]:
    """Chunk c covers pairs [c*size, (c+1)*size) of the (point, replication) pairs in point
    order, as (point, start, stop) segments."""
    total = points * reps
    out: dict[int, list[tuple[int, int, int]]] = {}
    for c in range(math.ceil(total / size)):
        k, end = c * size, min(total, (c + 1) * size)
        segs = []
        while k < end:
            p, i = divmod(k, reps)
            stop = min(reps, i + end - k)
            segs.append((p, i, stop))
            k += stop - i
        out[c] = segs
    return out


def with_options(cfg: Config, replications: int | None = None,
                 crn: bool | None = None) -> Config:
    """`cfg` with `sweep.replications` and `sweep.crn` replaced (when given)."""
    if cfg.sweep is None:
        return cfg
    upd: dict[str, Any] = {}
    if replications is not None:
        upd["replications"] = replications
    if crn is not None:
        upd["crn"] = crn
    if not upd:
        return cfg
    return cfg.model_copy(update={"sweep": cfg.sweep.model_copy(update=upd)})


def run_sweep(
    cfg: Config,
    out: str | Path,
    *,
    replications: int | None = None,
    crn: bool | None = None,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    chunk_size: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[int, int], Progress] | None = None,
    source: str = "<config>",
) -> SweepInfo:
    """Run every point of `cfg.sweep` (`replications` per point, default
    `sweep.replications`) and store the tables under `out`, with `points.csv`.

    The summary, sensitivity and discovery tables are written by
    `sim.results.SweepResults.write_outputs` (`sim.run_sweep` does both).
    """
    if replications is not None and replications < 1:
        raise ConfigError("--replications", str(replications), "must be at least 1")
    cfg = with_options(cfg, replications, crn)
    plan = plan_sweep(cfg, source)
    sweep = cfg.sweep
    assert sweep is not None
    reps, n_points = sweep.replications, plan.design.size
    total = reps * n_points
    workers = workers or os.cpu_count() or 1
    store = ResultsDir(out)
    chunk_size = resolve_chunk_size(store, chunk_size, total, resume)
    seed = cfg.runs.seed
    meta = {"kind": "sweep", "version": __version__, "name": cfg.name, "seed": seed,
            "method": sweep.method, "points": n_points, "replications": reps,
            "crn": sweep.crn, "chunk_size": chunk_size,
            "parameters": [lv.label for lv in plan.levers]}
    ex = make_executor(executor, workers, scheduler)
    try:
        done = store.prepare(cfg, meta, resume=resume, overwrite=overwrite)
        write_points(store.path, plan.points, sweep.crn)
    except BaseException:
        ex.close()
        raise
    man = store.manifest() or {}
    chunk_events: dict[str, int] = dict(man.get("chunk_events", {}))
    wall_before = float(man.get("wall_seconds", 0.0))
    chunks = _chunks(n_points, reps, chunk_size)
    sizes = {c: sum(stop - start for _, start, stop in segs) for c, segs in chunks.items()}
    tables = tuple(sweep.tables)
    jobs = [(c, seed, tuple((p, plan.configs[p], start, stop) for p, start, stop in segs),
             sweep.crn, tables) for c, segs in chunks.items() if c not in done]
    t0 = time.perf_counter()
    try:
        ran = execute_chunks(run_segments, jobs, sizes, store, done, chunk_events, ex,
                             progress, t0, wall_before)
    finally:
        ex.close()
    wall = wall_before + time.perf_counter() - t0
    events = int(sum(chunk_events.values()))
    man = store.manifest() or {}
    man.update({"wall_seconds": round(wall, 3), "events_processed": events,
                "executor": executor, "workers": ex.workers})
    store.write_manifest(man)
    return SweepInfo(store.path, n_points, reps, sweep.crn, ran, events, wall)


def write_points(folder: Path, points: pd.DataFrame, crn: bool) -> None:
    """points.csv: `point`, one column per parameter (named by its path or name), `crn`."""
    df = points.copy()
    df.insert(0, "point", range(len(df)))
    df["crn"] = crn
    atomic_write_bytes(folder / "points.csv", df.to_csv(index=False).encode())
