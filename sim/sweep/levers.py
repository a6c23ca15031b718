"""Sweep parameters ("levers"): dotted config paths checked against the schema, and the
config of each point -- the scenario with the levers' values applied, validated.

`scale = true` turns a lever's values into factors that multiply a number, a
distribution, the approval probabilities of `authority.decision` or the capacity of a
free supplier.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..config.distributions import scaled
from ..config.loading import config_dict, config_from_dict
from ..config.paths import get_path, resolve, set_path, value_kind
from ..config.schema import Config, DecisionConfig, SupplierConfig, SweepParameter
from ..errors import ConfigError

__all__ = ["Lever", "base_data", "check_levers", "point_config", "scenario_value"]


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


def check_levers(cfg: Config, source: str) -> list[Lever]:
    """Check every sweep parameter's paths against `cfg`; ConfigError naming the parameter."""
    assert cfg.sweep is not None
    levers = []
    sampled = cfg.sweep.method in ("lhs", "sobol", "morris")
    for i, prm in enumerate(cfg.sweep.parameters):
        kinds = set()
        for path in prm.paths:
            try:
                value, ann = resolve(cfg, path)
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
    kind = value_kind(ann)
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
        values = [resolve(cfg, q)[0] for q in spec.paths]
    except ValueError:
        return None
    return values[0] if all(v == values[0] for v in values) else None


# --------------------------------------------------------------------------- point configs


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


def _plain(v: Any) -> Any:
    """numpy scalars (from pandas) as Python values, so strict validation accepts them."""
    return v.item() if hasattr(v, "item") and not isinstance(v, date) else v


def point_config(cfg: Config, levers: list[Lever], values: dict[str, Any],
                 base: dict[str, Any] | None = None, source: str = "<config>",
                 point: int | None = None) -> Config:
    """The scenario with each lever at `values[label]`, without its [sweep] table,
    validated; ConfigError naming the parameter and the point."""
    data = copy.deepcopy(base) if base is not None else base_data(cfg)
    for lv in levers:
        v = _plain(values[lv.label])
        for path in lv.spec.paths:
            keys = path.split(".")
            if lv.spec.scale:
                try:
                    v_set = _scaled_value(lv, cfg, path, get_path(data, keys), v)
                except (ValueError, TypeError) as exc:
                    raise _point_error(source, lv, point, v, str(exc)) from None
            else:
                v_set = v
            set_path(data, keys, v_set, source)
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


def base_data(cfg: Config) -> dict[str, Any]:
    data = config_dict(cfg)
    data.pop("sweep", None)
    return data
