"""Uncertain parameters (`[[uncertain]]`): checking them against the config, and drawing a
replication's values.

Each entry is a lever (`sim.config.levers`) with a prior. A replication draws entry
`name` from the stream `uncertain.<name>` of its own seed -- one uniform, mapped through
the prior's inverse CDF -- so adding or removing an entry leaves the others' draws alone,
and replication i draws the same values in every scenario that shares the entry. Entries
with a `posterior` prior naming the same sample draw one row of it together, from the
stream `uncertain.posterior.<file>`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .levers import Lever, apply_levers, check_lever
from .loading import config_dict
from .priors import U_MIN, ChoicePrior, PosteriorPrior
from .schema import Config, UncertainParameter

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Uncertainty", "check_uncertain", "prepare"]


def _lever(cfg: Config, source: str, i: int, u: UncertainParameter) -> Lever:
    choice = isinstance(u.prior, ChoicePrior)
    numbers = u.prior.numeric and not (choice and u.scale)
    try:
        return check_lever(cfg, source, f"uncertain.{i}", u.name, u.paths, u.scale,
                           u.integer, numbers_only=numbers and not choice,
                           what="an uncertain parameter")
    except ConfigError as exc:
        if exc.path != f"uncertain.{i}.path" or not any(p.startswith("policy.")
                                                         for p in u.paths):
            raise
        raise ConfigError(exc.source, exc.path, f"{exc.message} (entry {u.name!r}: a config "
                          "that replaces the policy list gives its own [[uncertain]] list)",
                          exc.remedies) from None


def check_uncertain(cfg: Config, source: str = "<config>") -> list[Lever]:
    """Check every uncertain parameter against `cfg`: its paths, and that every value its
    prior can draw is one the config takes there (the prior's lowest and highest values,
    or every choice, are applied and validated). ConfigError naming the entry."""
    levers = []
    for i, u in enumerate(cfg.uncertain):
        lv = _lever(cfg, source, i, u)
        levers.append(lv)
        if isinstance(u.prior, ChoicePrior):
            candidates = list(u.prior.values)
        else:
            lo, hi = u.prior.support
            candidates = [lo, hi]
        for v in candidates:
            data = _base(cfg)

            def error(lever: Lever, value: Any, message: str, _i: int = i,
                      _u: UncertainParameter = u) -> ConfigError:
                return ConfigError(source, f"uncertain.{_i}.prior ({_u.name})",
                                   f"the prior reaches {value!r}, which the config does not "
                                   f"take there: {message}")

            try:
                apply_levers(cfg, data, [lv], {u.name: v}, source, error)
            except ConfigError as exc:
                if exc.path.startswith("uncertain."):
                    raise
                raise ConfigError(source, f"uncertain.{i}.prior ({u.name})",
                                  f"the prior reaches {v!r}, which the config does not take: "
                                  f"{exc.path}: {exc.message}") from None
    return levers


def _base(cfg: Config) -> dict[str, Any]:
    data = config_dict(cfg)
    data.pop("uncertain", None)
    data.pop("sweep", None)
    return data


@dataclass(frozen=True)
class Uncertainty:
    """A config's uncertain parameters, checked, ready to draw replications' values."""

    cfg: Config
    levers: list[Lever]
    base: dict[str, Any]

    @property
    def names(self) -> list[str]:
        return [u.name for u in self.cfg.uncertain]

    def draw(self, streams: Callable[[str], np.random.Generator]) -> dict[str, Any]:
        """One replication's values, from its named streams."""
        rows: dict[str, int] = {}
        values: dict[str, Any] = {}
        for u in self.cfg.uncertain:
            prior = u.prior
            if isinstance(prior, PosteriorPrior):
                if prior.file not in rows:
                    uniform = float(streams(f"uncertain.posterior.{prior.file}").random())
                    rows[prior.file] = prior.row(uniform)
                values[u.name] = prior.values[rows[prior.file]]
            else:
                uniform = float(streams(f"uncertain.{u.name}").random())
                values[u.name] = prior.ppf(min(max(uniform, U_MIN), 1.0 - U_MIN))
            if u.integer and isinstance(values[u.name], float):
                values[u.name] = int(round(values[u.name]))
        return values

    def config(self, values: dict[str, Any], source: str = "<config>") -> Config:
        """The config with `values` applied (and no uncertain parameters left)."""
        import copy

        def error(lever: Lever, value: Any, message: str) -> ConfigError:
            return ConfigError(source, lever.where, f"value {value!r}: {message}")

        return apply_levers(self.cfg, copy.deepcopy(self.base), self.levers, values, source,
                            error)


def prepare(cfg: Config, source: str = "<config>") -> Uncertainty | None:
    """The uncertainty of `cfg` ready to draw, or None if it has no uncertain parameters.
    (Loading the config checked the priors' ranges; only the levers are built here.)"""
    if not cfg.uncertain:
        return None
    levers = [_lever(cfg, source, i, u) for i, u in enumerate(cfg.uncertain)]
    return Uncertainty(cfg, levers, _base(cfg))
