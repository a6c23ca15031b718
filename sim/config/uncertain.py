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

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .levers import Lever, apply_levers, check_lever
from .priors import U_MIN, ChoicePrior, PosteriorPrior
from .scenario import Config
from .study import UncertainParameter
from .validation import config_dict

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Uncertainty", "check_overlaps", "check_samples", "check_uncertain", "prepare",
           "sample_key"]


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


def _canonical(path: str) -> str:
    """A dotted path spelled one way (list indices without leading zeros)."""
    return ".".join(str(int(k)) if k.isdigit() else k for k in path.split("."))


def _overlap(p: str, q: str) -> bool:
    return p == q or p.startswith(q + ".") or q.startswith(p + ".")


def check_overlaps(cfg: Config, source: str = "<config>") -> None:
    """ConfigError if two uncertain entries (or one entry's list of paths) set one config
    value, or one sets a value inside another's: the later would replace the earlier's
    draw while the parameters table still records both."""
    seen: list[tuple[str, int, str]] = []  # (canonical path, entry, path as written)
    for i, u in enumerate(cfg.uncertain):
        own: list[str] = []
        for q in u.paths:
            cq = _canonical(q)
            for c in own:
                if _overlap(c, cq):
                    raise ConfigError(source, f"uncertain.{i}.path", f"entry {u.name!r} "
                                      f"lists {q!r}, which overlaps {c!r} in the same list")
            for c, j, p in seen:
                if _overlap(c, cq):
                    other = cfg.uncertain[j].name
                    same = "sets the same value as" if c == cq else "overlaps"
                    raise ConfigError(source, f"uncertain.{i}.path", f"entry {u.name!r} "
                                      f"path {q!r} {same} entry {other!r} (uncertain.{j}) "
                                      f"path {p!r}: one would replace the other's draws; "
                                      "give each config value one entry")
            own.append(cq)
        seen += [(c, i, q) for c, q in zip(own, u.paths, strict=True)]


def sample_key(prior: PosteriorPrior) -> str:
    """The sample a posterior prior reads, whatever the spelling of its file name
    (`s.parquet`, `./s.parquet`): entries with one key draw one row together."""
    return os.path.normpath(prior.file)


def check_samples(cfg: Config, source: str = "<config>") -> None:
    """ConfigError if two posterior entries name one sample but hold different ones (the
    file read relative to two folders, e.g. one given by --set from the working folder):
    they would draw one row index of two samples."""
    first: dict[str, int] = {}
    for i, u in enumerate(cfg.uncertain):
        if not isinstance(u.prior, PosteriorPrior):
            continue
        key = sample_key(u.prior)
        j = first.setdefault(key, i)
        other = cfg.uncertain[j].prior
        assert isinstance(other, PosteriorPrior)
        if j != i and other.weights != u.prior.weights:
            raise ConfigError(source, f"uncertain.{i}.prior.file", f"entry {u.name!r} reads "
                              f"{u.prior.file!r} ({len(u.prior.weights)} rows), named as "
                              f"entry {cfg.uncertain[j].name!r} (uncertain.{j}) names its "
                              f"sample ({len(other.weights)} rows), but the two samples "
                              "differ: entries naming one file draw one row of it together; "
                              "give the two samples different file names")


def _candidates(u: UncertainParameter) -> list[Any]:
    """The values checked for an entry: every choice, or its prior's extremes."""
    if isinstance(u.prior, ChoicePrior):
        return list(u.prior.values)
    lo, hi = u.prior.support
    return [lo, hi]


def check_uncertain(cfg: Config, source: str = "<config>") -> list[Lever]:
    """Check every uncertain parameter against `cfg`: its paths (no two entries on one
    value), and that every value its prior can draw is one the config takes there (the
    prior's lowest and highest values, or every choice, are applied and validated), alone
    and together with the entries it shares a table with. ConfigError naming the
    entries."""
    check_overlaps(cfg, source)
    check_samples(cfg, source)
    levers = []
    for i, u in enumerate(cfg.uncertain):
        lv = _lever(cfg, source, i, u)
        levers.append(lv)
        for v in _candidates(u):
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
    for group in _groups(cfg):
        _check_together(cfg, source, [levers[i] for i in group], group)
    return levers


MAX_CORNERS = 64
"""Most combinations of extremes checked for one group of entries set together."""


def _groups(cfg: Config) -> list[list[int]]:
    """Entries whose paths share a table (e.g. a distribution's `low` and `high`, or the
    shares of one firm's suppliers), in groups of two or more: values valid alone may
    clash together there."""
    parent: dict[int, int] = {i: i for i in range(len(cfg.uncertain))}

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    tables: dict[str, int] = {}
    for i, u in enumerate(cfg.uncertain):
        for q in u.paths:
            table = _canonical(q).rpartition(".")[0]
            if table in tables:
                parent[root(i)] = root(tables[table])
            tables.setdefault(table, i)
    out: dict[int, list[int]] = {}
    for i in parent:
        out.setdefault(root(i), []).append(i)
    return [g for g in out.values() if len(g) > 1]


def _check_together(cfg: Config, source: str, levers: list[Lever], group: list[int]) -> None:
    """ConfigError naming the entries if a combination of their extremes (every one, up to
    MAX_CORNERS; else each pair's) is a config the schema refuses."""
    import functools
    import itertools

    entries = [cfg.uncertain[i] for i in group]
    combos: list[tuple[int, ...]] = [tuple(range(len(group)))]
    if math.prod(len(_candidates(u)) for u in entries) > MAX_CORNERS:
        combos = list(itertools.combinations(range(len(group)), 2))
    for combo in combos:
        sub = [entries[k] for k in combo]
        where = [group[k] for k in combo]
        for values in itertools.product(*(_candidates(u) for u in sub)):
            named = dict(zip((u.name for u in sub), values, strict=True))
            clash = functools.partial(_together, source, where, sub, named)
            try:
                apply_levers(cfg, _base(cfg), [levers[k] for k in combo], named, source,
                             lambda _lv, _v, message, c=clash: c(message))
            except ConfigError as exc:
                if exc.path.startswith("uncertain."):
                    raise
                raise clash(f"{exc.path}: {exc.message}") from None


def _together(source: str, where: list[int], entries: list[UncertainParameter],
              values: dict[str, Any], message: str) -> ConfigError:
    """The error of entries whose values clash only together."""
    places = ", ".join(f"uncertain.{i} ({u.name})" for i, u in zip(where, entries,
                                                                  strict=True))
    shown = ", ".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v:g}"
                      if isinstance(v, float) else f"{k} = {v}" for k, v in values.items())
    return ConfigError(source, places, f"the priors together reach {shown}, which the "
                       f"config does not take: {message}; narrow the priors so that every "
                       "combination is valid")


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
                key = sample_key(prior)  # the stream is named as the first entry names it
                if key not in rows:
                    uniform = float(streams(f"uncertain.posterior.{prior.file}").random())
                    rows[key] = prior.row(uniform)
                values[u.name] = prior.values[rows[key]]
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

        try:
            return apply_levers(self.cfg, copy.deepcopy(self.base), self.levers, values,
                                source, error)
        except ConfigError as exc:  # name every entry of a table the values clash in
            for group in _groups(self.cfg):
                wheres = [self.levers[i].where for i in group]
                tables = {_canonical(q).rpartition(".")[0] for i in group
                          for q in self.cfg.uncertain[i].paths}
                if exc.path in wheres or any(_overlap(exc.path, t) for t in tables):
                    entries = [self.cfg.uncertain[i] for i in group]
                    raise _together(source, [int(w.split(".")[1]) for w in wheres], entries,
                                    {u.name: values[u.name] for u in entries},
                                    exc.message) from None
            raise


def prepare(cfg: Config, source: str = "<config>") -> Uncertainty | None:
    """The uncertainty of `cfg` ready to draw, or None if it has no uncertain parameters.
    (Loading the config checked the priors' ranges; only the levers are built here.)"""
    if not cfg.uncertain:
        return None
    levers = [_lever(cfg, source, i, u) for i, u in enumerate(cfg.uncertain)]
    return Uncertainty(cfg, levers, _base(cfg))
