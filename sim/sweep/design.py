"""Sweep designs: which parameter values each point takes.

`grid` and `oat` come from the values listed in the config; `lhs`, `sobol` and `morris`
are SALib samples (Latin hypercube; Saltelli's extension of the Sobol sequence, without
second-order terms, N(D+2) points; Morris trajectories, N(D+1) points), drawn in the
unit hypercube-scaled problem and seeded from `runs.seed` through a named stream, so the
same config and seed give the same points.

A design is a table: one row per point, one column per parameter (named by its label),
in point order. Sampled designs also keep the raw SALib sample (before rounding and
before undoing the log scale), which is what the analysis functions expect.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config.schema import SweepConfig, SweepParameter
from ..model.rng import stream

__all__ = ["Design", "build_design", "design_size"]


@dataclass(frozen=True)
class Design:
    """The points of a sweep.

    points: one row per point, a column per parameter label (values as applied);
    sample: the SALib sample in the problem's space (log for `log = true`), or None;
    problem: the SALib problem dict (sampled designs), or None;
    base: oat only, the point holding every base value;
    oat: oat only, {label: [(value, point), ...]} of the points varying that parameter.
    """

    method: str
    points: pd.DataFrame
    sample: np.ndarray | None = None
    problem: dict | None = None
    base: int | None = None
    oat: dict[str, list[tuple[object, int]]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.points)


def design_size(sweep: SweepConfig) -> int:
    """Number of points the design has (without building it)."""
    d = len(sweep.parameters)
    match sweep.method:
        case "grid":
            return int(np.prod([len(p.values or []) for p in sweep.parameters]))
        case "oat":
            return 1 + sum(len(_others(p)) for p in sweep.parameters)
        case "lhs":
            return sweep.N
        case "sobol":
            return sweep.N * (d + 2)
        case _:
            return sweep.N * (d + 1)


def _base(p: SweepParameter) -> object:
    assert p.values is not None
    return p.values[0] if p.base is None else p.base


def _others(p: SweepParameter) -> list[object]:
    """oat: the non-base values, in the order given (a value equal to the base is skipped)."""
    base = _base(p)
    vals = list(p.values or [])
    if p.base is None:
        vals = vals[1:]
    return [v for v in vals if not (v == base and type(v) is type(base))]


def problem(sweep: SweepConfig) -> dict:
    """The SALib problem: names and bounds (in log space for `log = true`)."""
    bounds = []
    for p in sweep.parameters:
        assert p.low is not None and p.high is not None
        bounds.append([np.log(p.low), np.log(p.high)] if p.log else [p.low, p.high])
    return {"num_vars": len(sweep.parameters), "names": [p.label for p in sweep.parameters],
            "bounds": bounds}


def to_values(sweep: SweepConfig, sample: np.ndarray) -> pd.DataFrame:
    """A SALib sample as the values applied: exp() for log parameters, whole numbers for
    integer ones (rounded, then kept inside [low, high])."""
    cols: dict[str, np.ndarray | list] = {}
    for j, p in enumerate(sweep.parameters):
        x = np.exp(sample[:, j]) if p.log else sample[:, j].astype(float)
        if p.integer:
            lo, hi = int(np.ceil(p.low)), int(np.floor(p.high))  # type: ignore[arg-type]
            cols[p.label] = np.clip(np.rint(x), lo, hi).astype(np.int64)
        else:
            cols[p.label] = x
    return pd.DataFrame(cols)


def build_design(sweep: SweepConfig, seed: int) -> Design:
    """The points of `sweep`; sampled designs draw from the stream "sweep-design" of
    `SeedSequence(seed)`."""
    labels = [p.label for p in sweep.parameters]
    if sweep.method == "grid":
        rows = list(itertools.product(*[p.values or [] for p in sweep.parameters]))
        return Design("grid", _frame(rows, labels))
    if sweep.method == "oat":
        base = [_base(p) for p in sweep.parameters]
        rows = [tuple(base)]
        oat: dict[str, list[tuple[object, int]]] = {}
        for j, p in enumerate(sweep.parameters):
            oat[p.label] = [(base[j], 0)]
            for v in _others(p):
                row = list(base)
                row[j] = v
                oat[p.label].append((v, len(rows)))
                rows.append(tuple(row))
        return Design("oat", _frame(rows, labels), base=0, oat=oat)

    rng = stream(np.random.SeedSequence(seed), "sweep-design")
    prob = problem(sweep)
    if sweep.method == "lhs":
        from SALib.sample import latin

        sample = latin.sample(prob, sweep.N, seed=rng)
    elif sweep.method == "sobol":
        from SALib.sample import sobol

        sample = sobol.sample(prob, sweep.N, calc_second_order=False, seed=rng)
    else:
        from SALib.sample import morris

        sample = morris.sample(prob, sweep.N, num_levels=sweep.levels, seed=rng)
    return Design(sweep.method, to_values(sweep, sample), sample=sample, problem=prob)


def _frame(rows: list[tuple], labels: list[str]) -> pd.DataFrame:
    """The points as a table; a column whose values mix types (e.g. 4 and 5.5) keeps each
    value as given (object dtype), so a whole number stays whole for validation."""
    df = pd.DataFrame.from_records(rows, columns=labels)
    for j, label in enumerate(labels):
        if len({type(r[j]) for r in rows}) > 1:
            df[label] = pd.Series([r[j] for r in rows], dtype=object)
    return df
