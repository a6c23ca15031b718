"""Levers: a value set at one or several dotted config paths -- a sweep parameter, or an
uncertain parameter. Checking what each path holds, and building the config with the
levers' values applied (validated, errors naming the lever).

With `scale`, a lever's value is a factor that multiplies what the path holds: a number, a
distribution (every draw), `authority.decision` (every approval probability, the default
and each rule, capped at 1 - refuse) or a free supplier (its capacity and every ramp step).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..errors import ConfigError
from .distributions import scaled
from .paths import get_path, resolve, set_path, value_kind
from .scenario import Config
from .validation import validate
from .world import DecisionConfig, SupplierConfig

__all__ = ["Lever", "apply_levers", "check_lever", "plain"]


@dataclass(frozen=True)
class Lever:
    """A lever checked against the config. `where` is its own place in the config
    (`sweep.parameters.0`, `uncertain.2`); `kind` what its paths hold: "int", "float",
    "bool", "str", "date" (a plain value), or with `scale` "number", "int-number",
    "distribution", "decision", "supplier"."""

    where: str
    label: str
    paths: tuple[str, ...]
    scale: bool
    integer: bool
    kind: str


def check_lever(cfg: Config, source: str, where: str, label: str, paths: Sequence[str],
                scale: bool, integer: bool, numbers_only: bool, what: str) -> Lever:
    """Check a lever's paths against `cfg` (`what` names its kind in messages: "a sweep",
    "an uncertain parameter"); ConfigError naming `where`."""
    kinds = set()
    for path in paths:
        try:
            value, ann = resolve(cfg, path)
        except ValueError as exc:
            raise ConfigError(source, f"{where}.path", str(exc)) from None
        if path.split(".")[0] in ("sweep", "uncertain", "calibration", "observed",
                                     "optimize"):
            raise ConfigError(source, f"{where}.path",
                              f"{what} cannot set {path.split('.')[0]} settings")
        kinds.add(_kind(path, value, ann, scale, integer, numbers_only, source, where, what))
    if len(kinds) > 1:
        raise ConfigError(source, f"{where}.path", "the paths hold different kinds of value "
                          f"({', '.join(sorted(kinds))})")
    return Lever(where, label, tuple(paths), scale, integer, kinds.pop())


def _kind(path: str, value: Any, ann: Any, scale: bool, integer: bool, numbers_only: bool,
          source: str, where: str, what: str) -> str:
    kind = value_kind(ann)
    if scale and value is None:
        raise ConfigError(source, f"{where}.path", f"{path!r} is not set in this config: "
                          "there is nothing to scale")
    if scale:
        if integer:
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
        shown = {"table": "a table", "list": "a list", "distribution": "a distribution"}.get(
            kind, "not a single value")
        hint = " (use scale = true to multiply it)" if kind == "distribution" else ""
        raise ConfigError(source, f"{where}.path", f"{path!r} is {shown}; {what} sets single "
                          f"values{hint}")
    if integer and kind != "int":
        raise ConfigError(source, f"{where}.integer", f"{path!r} holds a {kind}, not a whole "
                          "number: integer = true does not apply")
    if numbers_only:
        if kind == "int" and not integer:
            raise ConfigError(source, f"{where}.integer", f"{path!r} holds a whole number: "
                              "add integer = true")
        if kind not in ("int", "float"):
            raise ConfigError(source, f"{where}.path", f"{path!r} holds a {kind}; {what} "
                              "drawn from a range needs a number")
    return kind


def _scaled_value(lever: Lever, cfg: Config, path: str, current: Any, factor: float) -> Any:
    if not isinstance(factor, int | float) or isinstance(factor, bool):
        raise ValueError(f"a scale factor must be a number (got {factor!r})")
    f = float(factor)
    if lever.kind == "number":
        return current * f
    if lever.kind == "int-number":
        return int(round(current * f))
    if lever.kind == "distribution":
        dist, _ = resolve(cfg, path)
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


def plain(v: Any) -> Any:
    """numpy scalars (from pandas) as Python values, so strict validation accepts them."""
    return v.item() if hasattr(v, "item") and not isinstance(v, date) else v


def _validated_data(data: dict[str, Any], source: str) -> Config:
    """`validate` for data dumped from a validated Config with numbers set in it."""
    return validate(data, source, bools=False)


def apply_levers(cfg: Config, data: dict[str, Any], levers: Sequence[Lever],
                 values: Mapping[str, Any], source: str,
                 error: Callable[[Lever, Any, str], ConfigError],
                 build: Callable[[dict[str, Any], str], Config] = validate) -> Config:
    """`data` (raw config data of `cfg`, changed in place) with each lever at
    `values[label]`, validated by `build(data, source)` (default: the fields alone, not the
    uncertain parameters' priors). `error(lever, value, message)` makes the ConfigError for
    a value a lever cannot take; errors of the whole config name the lever whose paths they
    concern, or all the levers' values."""
    if build is validate and not any(isinstance(plain(values[lv.label]), bool)
                                     for lv in levers):
        build = _validated_data  # nothing new could be a boolean read as a number
    for lv in levers:
        v = plain(values[lv.label])
        if lv.integer and isinstance(v, float):
            v = int(round(v))
        for path in lv.paths:
            keys = path.split(".")
            if lv.scale:
                try:
                    v_set = _scaled_value(lv, cfg, path, get_path(data, keys), v)
                except (ValueError, TypeError) as exc:
                    raise error(lv, v, str(exc)) from None
            else:
                v_set = v
            set_path(data, keys, v_set, source)
    try:
        return build(data, source)
    except ConfigError as exc:
        hits = [lv for lv in levers if any(
            exc.path == p or exc.path.startswith(p + ".") or p.startswith(exc.path + ".")
            for p in lv.paths)]
        if hits:
            lv = hits[0]
            msg = exc.message if exc.path in lv.paths else f"{exc.path}: {exc.message}"
            raise error(lv, plain(values[lv.label]), msg) from None
        raise
