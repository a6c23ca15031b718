"""Generate the config reference (Markdown) from the schema, so the docs cannot drift.

`python -m sim.config.reference > docs/config-reference.md`; a test checks the committed file is
what this prints.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from . import distributions, observed, policy, scenario, workload
from .base import MIN_PERIOD_DAYS
from .loading import MAX_EXTENDS

_DIST_NAMES = {c.__name__ for c in (
    distributions.Exponential, distributions.Lognormal, distributions.Triangular,
    distributions.Uniform, distributions.Gamma, distributions.Constant,
    distributions.Empirical)}


_DISTRIBUTION = "[distribution](#distributions)"


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        if set(names) <= _DIST_NAMES | {_DISTRIBUTION}:
            base = _DISTRIBUTION
        else:
            base = " \\| ".join(dict.fromkeys(names))
        return base + (" (optional)" if type(None) in args else "")
    if origin is typing.Literal:
        return " \\| ".join(f'`"{a}"`' for a in args)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"table of {_type_name(args[1])}"
    if origin is tuple:
        return f"list of {_type_name(args[0])}"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _DISTRIBUTION if tp.__name__ in _DIST_NAMES else f"[{tp.__name__}](#{_anchor(tp)})"
    return getattr(tp, "__name__", str(tp))


def _anchor(model: type[BaseModel]) -> str:
    return model.__name__.lower()


def _default(f: FieldInfo) -> str:
    if f.is_required():
        return "**required**"
    d = f.default
    if d is PydanticUndefined:
        return ""
    if isinstance(d, BaseModel):
        return "(defaults)"
    if isinstance(d, dict) and "dist" in d:
        inner = ", ".join(f"{k} = {v!r}" for k, v in d.items() if k != "dist")
        return f'`{{dist = "{d["dist"]}", {inner}}}`'
    if d is None:
        return "none"
    if isinstance(d, bool):
        return f"`{str(d).lower()}`"
    if isinstance(d, str):
        return f'`"{d}"`'
    return f"`{d!r}`"


def _describe(f: FieldInfo) -> str:
    parts = [(f.description or "").replace("\n", " ").rstrip(".")]
    for m in f.metadata:
        for attr, sym in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{sym} {v}")
    return "; ".join(p for p in parts if p)


def _table(model: type[BaseModel], path: str) -> list[str]:
    doc = (model.__doc__ or "").strip().replace("\n    ", " ").replace("\n", " ")
    lines = [f"### `{path}` <a id=\"{_anchor(model)}\"></a>", "", doc, "",
             "| key | type | default | meaning |", "|---|---|---|---|"]
    for name, f in model.model_fields.items():
        lines.append(f"| `{name}` | {_type_name(f.annotation)} | {_default(f)} | "
                     f"{_describe(f)} |")
    return lines + [""]


TOP = "(top level)"

TITLES: dict[type[BaseModel], str] = {
    observed.ObservedData: "observed (a file, e.g. configs/observed/2025.toml)",
}
"""Section titles other than the path where the walk first meets the model."""


def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _tag(model: type[BaseModel]) -> str | None:
    """`type = "x"` or `dist = "x"`: the tag that picks `model` out of its union."""
    for key in ("type", "dist"):
        f = model.model_fields.get(key)
        if f is not None:
            args = typing.get_args(f.annotation)
            return f'{key} = "{args[0] if args else f.default}"'
    return None


def _models_in(tp: Any, path: str) -> list[tuple[type[BaseModel], str]]:
    """The models a field of type `tp` at `path` holds, each with its section path."""
    tp = _strip(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        out = []
        for a in members:
            a = _strip(a)
            if isinstance(a, type) and issubclass(a, BaseModel) and len(members) > 1:
                tag = _tag(a)
                where = "(distribution)" if a.__name__ in _DIST_NAMES else path
                out.append((a, f"{where} {tag}" if tag else where))
            else:
                out += _models_in(a, path)
        return out
    if origin in (list, tuple):
        return _models_in(args[0], f"{path}[]")
    if origin is dict:
        return _models_in(args[1], f"{path}.NAME")
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [(tp, path)]
    return []


def _shared_base(model: type[BaseModel]) -> type[BaseModel] | None:
    """The documented base whose fields every event shares (`PolicyEventBase`)."""
    for base in model.__mro__[1:]:
        if base is policy.PolicyEventBase:
            return base
    return None


def sections() -> list[tuple[type[BaseModel], str]]:
    """Every model of the schema, walked from the root `Config` in field order, each with
    the path of its section (union members with their tag; distributions once)."""
    out: dict[type[BaseModel], str] = {}

    def visit(model: type[BaseModel], path: str) -> None:
        base = _shared_base(model)
        if base is not None and base not in out:
            out[base] = f"{path.split(' ')[0]} (every event)"
            for name, f in base.model_fields.items():
                for m, sub in _models_in(f.annotation, f"{path.split(' ')[0]}.{name}"):
                    if m not in out:
                        visit(m, sub)
        out[model] = TITLES.get(model, path)
        for name, f in model.model_fields.items():
            where = name if path == TOP else f"{path.split(' ')[0]}.{name}"
            for m, sub in _models_in(f.annotation, where):
                if m not in out:
                    visit(m, sub)

    visit(scenario.Config, TOP)
    return list(out.items())


DISTRIBUTIONS = """\
## Distributions

Wherever a field says *distribution*, write an inline table with a `dist` key:

| `dist` | fields | mean |
|---|---|---|
| `exponential` | `mean` > 0 | mean |
| `lognormal` | `median` > 0, `sigma` ≥ 0 | median · exp(sigma²/2) |
| `triangular` | `low` ≤ `mode` ≤ `high`, low < high | (low + mode + high) / 3 |
| `uniform` | `low` < `high` | (low + high) / 2 |
| `gamma` | `mean` > 0, `cv` > 0 (coefficient of variation) | mean |
| `constant` | `value` | value |
| `empirical` | `values` (non-empty list; drawn with replacement) | mean of values |

Durations and quantities must not take negative values (e.g. a uniform with `low` < 0 is
refused for a review time).

## Priors

An `[[uncertain]]` entry's `prior` is an inline table with a `dist` key. Each replication
draws one uniform from its own stream (`uncertain.NAME`) and maps it through the inverse
CDF, so replication *i* draws the same value in every scenario sharing the entry. The
prior's lowest and highest values (its 1e-12 and 1 - 1e-12 quantiles where unbounded) are
checked against what the path accepts when the config is loaded.

| `dist` | fields |
|---|---|
| `uniform` | `low` < `high` |
| `loguniform` | 0 < `low` < `high` |
| `normal` | `mean`, `sd` > 0; optional `low`, `high` (truncated) |
| `lognormal` | `median` > 0, `sigma` > 0 |
| `triangular` | `low` ≤ `mode` ≤ `high`, low < high |
| `beta` | `a` > 0, `b` > 0, on [`low`, `high`] (default [0, 1]) |
| `choice` | `values` (numbers, strings, booleans or dates), optional `weights` |
| `posterior` | `file`: a parquet sample (a `weight` column, a column per parameter) \
relative to the config; `column` (default: the entry's name). Entries naming the same file \
draw the same row |
"""


_LIMIT_ROWS = "\n".join(f"| {what} | {limit} | {why} |" for what, limit, why in [
    ("what", "limit", "why"), ("---", "---", "---"),
    ("`horizon_days`", f"{workload.MAX_HORIZON_DAYS:.0e} days (~2,700 years)",
     "100,000 years is not a scenario; the working-day calendar holds a row per day"),
    ("mean of any duration distribution (review, pre-acceptance, transit, delays...)",
     f"{workload.MAX_MEAN_DAYS:.0e} days",
     "a delay longer than the longest horizon never ends within a run"),
    ("SimPy events per replication (estimated)", f"{workload.MAX_EVENTS:.0e}",
     "~1,000 times the baseline's ~40,000: minutes to hours per replication at 0.1-0.4 "
     "million events/s, and gigabytes of applications"),
    ("time-series rows per replication", f"{workload.MAX_ROWS:.0e}",
     "the baseline writes ~1,300 (a sample every 7 days); millions fill a worker's memory"),
])

LIMITS = f"""\
## Work limits

A config can be valid and still describe a run that would never finish. `validate`, `run`
and `sweep` (every point) estimate the work of one replication (`sim.config.workload`;
`validate` prints it) and refuse, with exit status 2 and the field that dominates, a config
beyond these limits, unless `--force` is given (`force=True` from Python):

{_LIMIT_ROWS}

The estimate counts background applications (`rate_per_day` x horizon), each firm's
order reviews (horizon / `review_period_days`) and licence applications (an order of about
`units_per_day` x `bom` x `review_period_days` kg split at the controlled supplier's
`max_shipment_kg`), the dispatch cycle of every free supplier and firm that makes parts
(horizon / `dispatch_every_days`), information-request rounds, resubmissions and the
time-series sampler; it is an order of magnitude (the baseline: ~67,000 estimated, ~39,000
counted). A period (`dispatch_every_days`, `review_period_days`, `sample_every_days`) is at
least {MIN_PERIOD_DAYS:.3g} days (one minute).

With `[[uncertain]]` parameters the limits hold for every replication: each parameter that
feeds the estimate is set to the end of its prior that makes the most work -- the bounds of
a bounded prior, the {1 - workload.HIGH_QUANTILE:g} or {workload.HIGH_QUANTILE:g} quantile of a
normal or lognormal one -- all at once, and a config past a limit there is refused, naming
the parameter.

They also warn (one line each; `-q` silences warnings) when a policy event is dated at or
after the end of the window (it never happens; `outside_window = true` says that is meant),
and when the licence queue is unstable for as long as controls are on: applications
arriving faster than reviewers / mean review time (in calendar days, information-request
rounds included) clear them in every period between `reviewers` and `review_time` events.

A chain of `extends` may be at most {MAX_EXTENDS} configs long. A child config's tables
merge with its parent's key by key, except `observed` (data read from a file), any table
with a `dist` or `file` key (distributions, priors) and tables of shares (a firm's
`suppliers` of a material, re-sourcing's `to`, the background's `materials`: shares merged
from two files would not sum to 1), which the child replaces whole.
"""


def render() -> str:
    lines = ["# Config reference", "",
             "Generated from the schema by `python -m sim.config.reference`; do not edit by hand.",
             "Times are calendar days unless a field says working days; quantities are kg;",
             "production is units per calendar day. Unknown keys are refused.", ""]
    secs = sections()
    dists = [(m, p) for m, p in secs if m.__name__ in _DIST_NAMES]
    for model, path in [sec for sec in secs if sec not in dists]:
        fields = dict(model.model_fields)
        if model is not policy.PolicyEventBase and issubclass(model, policy.PolicyEventBase):
            base = set(policy.PolicyEventBase.model_fields)
            shown = {k: v for k, v in fields.items() if k not in base}
            sub = type(model.__name__, (BaseModel,), {})  # for a table of the own fields only
            sub.__doc__ = model.__doc__
            sub.model_fields = shown  # type: ignore[misc]
            lines += _table(sub, path)  # type: ignore[arg-type]
        else:
            lines += _table(model, path)
    lines.append(DISTRIBUTIONS)
    for model, path in dists:
        lines += _table(model, path)
    lines.append(LIMITS)
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
