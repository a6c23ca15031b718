"""Sweep parameters: levers (`sim.config.levers`) checked against the config, and the
config of each point -- the scenario with the levers' values applied, validated. A point
fixes its levers' paths; uncertain parameters on other paths stay uncertain."""

from __future__ import annotations

import copy
from typing import Any

from ..config.levers import Lever, apply_levers, check_lever, plain
from ..config.loading import config_dict, config_from_dict
from ..config.paths import resolve
from ..config.schema import Config, SweepParameter
from ..errors import ConfigError

__all__ = ["Lever", "base_data", "check_levers", "point_config", "scenario_value"]


def check_levers(cfg: Config, source: str) -> list[Lever]:
    """Check every sweep parameter's paths against `cfg`; ConfigError naming the parameter."""
    assert cfg.sweep is not None
    sampled = cfg.sweep.method in ("lhs", "sobol", "morris")
    return [check_lever(cfg, source, f"sweep.parameters.{i}", prm.label, prm.paths, prm.scale,
                        prm.integer, sampled, "a sweep")
            for i, prm in enumerate(cfg.sweep.parameters)]


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


def point_config(cfg: Config, levers: list[Lever], values: dict[str, Any],
                 base: dict[str, Any] | None = None, source: str = "<config>",
                 point: int | None = None) -> Config:
    """The scenario with each lever at `values[label]`, without its [sweep] table and
    without the uncertain parameters the levers fix, validated; ConfigError naming the
    parameter and the point."""
    data = copy.deepcopy(base) if base is not None else base_data(cfg)
    fixed = {p for lv in levers for p in lv.paths}
    if data.get("uncertain"):
        data["uncertain"] = [u for u in data["uncertain"]
                             if not _overlaps(u["path"], fixed)]

    def error(lv: Lever, value: Any, message: str) -> ConfigError:
        at = f"point {point}" if point is not None else "a point"
        shown = "true" if value is True else "false" if value is False else f"{value!r}"
        return ConfigError(source, f"{lv.where} ({lv.label})", f"{at}, value {shown}: "
                           f"{message}")

    try:
        return apply_levers(cfg, data, levers, values, source, error,
                            build=config_from_dict)  # the priors left are checked too
    except ConfigError as exc:
        if exc.path.startswith("sweep.parameters."):
            raise
        at = ", ".join(f"{lv.label} = {plain(values[lv.label])!r}" for lv in levers)
        where = f"point {point} ({at})" if point is not None else f"({at})"
        raise ConfigError(source, "sweep", f"{where}: {exc.path}: {exc.message}") from None


def fixed_uncertain(cfg: Config, levers: list[Lever]) -> list[str]:
    """The names of the uncertain parameters whose paths the levers set (a sweep point
    fixes them instead of drawing them)."""
    fixed = {p for lv in levers for p in lv.paths}
    return [u.name for u in cfg.uncertain if _overlaps(u.path, fixed)]


def _overlaps(paths: str | list[str], fixed: set[str]) -> bool:
    """Whether an uncertain parameter's paths touch a path a sweep point fixes."""
    for p in [paths] if isinstance(paths, str) else paths:
        for q in fixed:
            if p == q or p.startswith(q + ".") or q.startswith(p + "."):
                return True
    return False


def base_data(cfg: Config) -> dict[str, Any]:
    data = config_dict(cfg)
    data.pop("sweep", None)
    return data
