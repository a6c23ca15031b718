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

from . import distributions, observed, schema, work
from .loading import MAX_EXTENDS

_DIST_NAMES = {c.__name__ for c in (
    distributions.Exponential, distributions.Lognormal, distributions.Triangular,
    distributions.Uniform, distributions.Gamma, distributions.Constant,
    distributions.Empirical)}


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        if set(names) <= _DIST_NAMES | {"distribution"}:
            base = "distribution"
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
        return "distribution" if tp.__name__ in _DIST_NAMES else f"[{tp.__name__}](#{_anchor(tp)})"
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


SECTIONS: list[tuple[type[BaseModel], str]] = [
    (schema.Config, "(top level)"),
    (schema.CalendarConfig, "calendar"),
    (schema.Holiday, "calendar.holidays[]"),
    (schema.RunsConfig, "runs"),
    (schema.OutputConfig, "output"),
    (schema.MaterialConfig, "materials.NAME"),
    (schema.DestinationConfig, "destinations.NAME"),
    (schema.AuthorityConfig, "authority"),
    (schema.InformationRequests, "authority.information_requests"),
    (schema.DecisionConfig, "authority.decision"),
    (schema.DecisionRule, "authority.decision.rules[]"),
    (schema.RefusalConfig, "authority.refusal"),
    (schema.BackgroundConfig, "authority.background"),
    (schema.SupplierConfig, "suppliers.NAME"),
    (schema.CustomsHold, "suppliers.NAME.customs_hold"),
    (schema.CapacityStep, "suppliers.NAME.ramp[]"),
    (schema.StockpileConfig, "stockpile"),
    (schema.FirmConfig, "firms.NAME"),
    (schema.OrderingConfig, "firms.NAME.ordering"),
    (schema.Substitution, "firms.NAME.substitution"),
    (schema.PolicyEventBase, "policy[] (every event)"),
    (schema.ControlsStart, 'policy[] type = "controls_start"'),
    (schema.ControlsLift, 'policy[] type = "controls_lift"'),
    (schema.SuspendApprovals, 'policy[] type = "suspend_approvals"'),
    (schema.ResumeApprovals, 'policy[] type = "resume_approvals"'),
    (schema.SetReviewers, 'policy[] type = "reviewers"'),
    (schema.SetDecision, 'policy[] type = "decision"'),
    (schema.SetReviewTime, 'policy[] type = "review_time"'),
    (schema.GeneralLicence, 'policy[] type = "general_licence"'),
    (schema.StockpileRelease, 'policy[] type = "stockpile_release"'),
    (schema.AddCapacity, 'policy[] type = "capacity"'),
    (schema.SweepConfig, "sweep"),
    (schema.SweepParameter, "sweep.parameters[]"),
    (schema.SweepDiscovery, "sweep.discovery"),
    (schema.UncertainParameter, "uncertain[]"),
    (schema.CalibrationConfig, "calibration"),
    (observed.ObservedData, "observed (a file, e.g. configs/observed/2025.toml)"),
    (observed.ObservedExports, "observed.exports"),
    (observed.ObservedSeries, "observed.exports.series[]"),
    (observed.ObservedStoppage, "observed.stoppages[]"),
    (observed.ObservedApproval, "observed.approvals[]"),
]

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
    ("`horizon_days`", f"{work.MAX_HORIZON_DAYS:.0e} days (~2,700 years)",
     "100,000 years is not a scenario; the working-day calendar holds a row per day"),
    ("mean of any duration distribution (review, pre-acceptance, transit, delays...)",
     f"{work.MAX_MEAN_DAYS:.0e} days",
     "a delay longer than the longest horizon never ends within a run"),
    ("SimPy events per replication (estimated)", f"{work.MAX_EVENTS:.0e}",
     "~1,000 times the baseline's ~40,000: minutes to hours per replication at 0.1-0.4 "
     "million events/s, and gigabytes of applications"),
    ("time-series rows per replication", f"{work.MAX_ROWS:.0e}",
     "the baseline writes ~1,300 (a sample every 7 days); millions fill a worker's memory"),
])

LIMITS = f"""\
## Work limits

A config can be valid and still describe a run that would never finish. `validate`, `run`
and `sweep` (every point) estimate the work of one replication (`sim.config.work`;
`validate` prints it) and refuse, with exit status 2 and the field that dominates, a config
beyond these limits, unless `--force` is given (`force=True` from Python):

{_LIMIT_ROWS}

The estimate counts background applications (`rate_per_day` x horizon), each firm's
order reviews (horizon / `review_period_days`) and licence applications (an order of about
`units_per_day` x `bom` x `review_period_days` kg split at the controlled supplier's
`max_shipment_kg`), information-request rounds, resubmissions and the time-series sampler;
it is an order of magnitude (the baseline: ~59,000 estimated, ~39,000 counted).

They also warn (one line each; `-q` silences warnings) when a policy event is dated at or
after the end of the window (it never happens; `outside_window = true` says that is meant),
and when the licence queue is unstable for as long as controls are on: applications
arriving faster than reviewers / mean review time (in calendar days, information-request
rounds included) clear them in every period between `reviewers` and `review_time` events.

A chain of `extends` may be at most {MAX_EXTENDS} configs long.
"""


def render() -> str:
    lines = ["# Config reference", "",
             "Generated from the schema by `python -m sim.config.reference`; do not edit by hand.",
             "Times are calendar days unless a field says working days; quantities are kg;",
             "production is units per calendar day. Unknown keys are refused.", ""]
    for model, path in SECTIONS:
        fields = dict(model.model_fields)
        if model is not schema.PolicyEventBase and issubclass(model, schema.PolicyEventBase):
            base = set(schema.PolicyEventBase.model_fields)
            shown = {k: v for k, v in fields.items() if k not in base}
            sub = type(model.__name__, (BaseModel,), {})  # for a table of the own fields only
            sub.__doc__ = model.__doc__
            sub.model_fields = shown  # type: ignore[misc]
            lines += _table(sub, path)  # type: ignore[arg-type]
        else:
            lines += _table(model, path)
    lines.append(DISTRIBUTIONS)
    lines.append(LIMITS)
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
