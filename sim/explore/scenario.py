"""Building a scenario without writing TOML: the levers of a base config, read from the
schema (each with its type, bounds or choices and description), and the file that holds a
set of changes -- a config that `extends` the base and holds only what changed, checked
before anything is written.

This module has no user interface: the app (`sim.explore.app`) draws a widget per lever,
and the tests drive it directly.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from ..api import Config, load_config
from ..errors import ConfigError

Kind = Literal["date", "float", "int", "bool", "choice"]

SKIPPED = frozenset({"type", "label", "branch", "description", "name", "outside_window",
                     "announced", "lift", "end_use", "sector", "destination", "output",
                     "kind", "unit", "controlled_at_start", "count_in_transit"})
"""Fields that name or classify rather than set a level: not levers."""


@dataclass(frozen=True)
class Lever:
    """One value a scenario may change: its dotted path (as `--set` takes it), a label,
    its kind, current value, bounds (`low`, `high`: None where open), choices for a
    `choice`, and the schema's description."""

    path: str
    label: str
    kind: Kind
    value: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    help: str = ""

    @property
    def group(self) -> str:
        """The table it belongs to: `policy.3`, `suppliers.row`, `runs`..."""
        return self.path.rsplit(".", 1)[0]


def _scalar(annotation: Any) -> tuple[Kind, tuple[Any, ...], list[Any]] | None:
    """The kind of a scalar field's annotation, its choices and its constraints (None if
    the field is not a scalar, or is optional)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    meta: list[Any] = []
    if origin is typing.Annotated:
        inner, *extra = args
        for e in extra:
            meta += list(getattr(e, "metadata", [])) or [e]
        found = _scalar(inner)
        return (found[0], found[1], found[2] + meta) if found else None
    if origin is typing.Literal:
        return "choice", tuple(args), []
    if origin in (typing.Union, types.UnionType):  # optional: a lever where it is set
        inner = [a for a in args if a is not type(None)]
        return _scalar(inner[0]) if len(inner) == 1 else None
    if annotation is bool:
        return "bool", (), []
    if annotation is int:
        return "int", (), []
    if annotation is float:
        return "float", (), []
    if annotation is dt.date:
        return "date", (), []
    return None


def _bounds(meta: list[Any]) -> tuple[float | None, float | None]:
    low = high = None
    for m in meta:
        for attr in ("ge", "gt"):
            if getattr(m, attr, None) is not None:
                low = float(getattr(m, attr))
        for attr in ("le", "lt"):
            if getattr(m, attr, None) is not None:
                high = float(getattr(m, attr))
    return low, high


def _fields(model: BaseModel, prefix: str, label: str) -> Iterator[Lever]:
    for name, f in type(model).model_fields.items():
        if name in SKIPPED:
            continue
        found = _scalar(f.annotation)
        if found is None:
            continue
        kind, choices, meta = found
        if getattr(model, name) is None:
            continue  # not set in this config: nothing to start the widget from
        low, high = _bounds([*meta, *f.metadata])
        yield Lever(f"{prefix}.{name}", f"{label}: {name.replace('_', ' ')}", kind,
                    getattr(model, name), low, high, choices, f.description or "")


def levers(cfg: Config) -> list[Lever]:
    """Every lever of `cfg`: the policy events (date, probability and each event's own
    levels), the authority and its decisions, each supplier, each firm and its ordering,
    the stockpile and the runs -- the scalar fields the config reference documents."""
    out: list[Lever] = []
    for i, ev in enumerate(cfg.policy):
        out += _fields(ev, f"policy.{i}", f"{ev.label or ev.type} ({ev.date})")
    out += _fields(cfg.authority, "authority", "authority")
    out += _fields(cfg.authority.decision, "authority.decision", "decisions")
    for n, s in cfg.suppliers.items():
        out += _fields(s, f"suppliers.{n}", f"supplier {n}")
    for n, f in cfg.firms.items():
        out += _fields(f, f"firms.{n}", f"firm {n}")
        out += _fields(f.ordering, f"firms.{n}.ordering", f"firm {n} ordering")
    if cfg.stockpile is not None:
        out += _fields(cfg.stockpile, "stockpile", "stockpile")
        for m, kg in cfg.stockpile.stock_kg.items():
            out.append(Lever(f"stockpile.stock_kg.{m}", f"stockpile: {m} held (kg)", "float",
                             kg, 0.0, None, (), "kg the reserve holds at the start"))
    out += _fields(cfg.runs, "runs", "runs")
    return out


def _nested(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted paths to nested tables (the policy list aside)."""
    out: dict[str, Any] = {}
    for path, v in changes.items():
        *head, last = path.split(".")
        node = out
        for k in head:
            node = node.setdefault(k, {})
        node[last] = v
    return out


def scenario_data(base: Config, base_path: Path, target: Path, name: str,
                  changes: Mapping[str, Any], *, absolute: bool = False) -> dict[str, Any]:
    """The TOML data of a scenario saved at `target`: it `extends` the base (by a path
    relative to `target`; `absolute`: by its absolute path), is named `name`, and holds
    only the changed values. An array of tables is replaced whole when a config extends
    another, so a change to a policy event writes the base's policy list with that change
    made."""
    parent = base_path.resolve()
    rel = parent if absolute else Path(os.path.relpath(parent, target.resolve().parent))
    data: dict[str, Any] = {"extends": rel.as_posix(), "name": name}
    plain = {p: v for p, v in changes.items() if not p.startswith("policy.")}
    data.update(_nested(plain))
    events = {p: v for p, v in changes.items() if p.startswith("policy.")}
    if events:
        from ..config.validation import config_dict

        policy = config_dict(base)["policy"]
        for path, v in events.items():
            _, i, field = path.split(".", 2)
            policy[int(i)][field] = v
        data["policy"] = policy
    return data


def check_and_save(base: Config, base_path: Path, target: Path, name: str,
                   changes: Mapping[str, Any], *, write: bool = True) -> Config:
    """The scenario checked as the CLI checks a config file (raises its ConfigError, one
    line per problem, naming `target`) and, if `write`, saved at `target`. The check reads
    a draft in a temporary folder, so bad input writes nothing; the file is then written
    beside `target` and renamed into place."""
    import tomli_w

    if not name.strip():
        raise ConfigError(str(target), "name", "is empty: give the scenario a name")
    with tempfile.TemporaryDirectory(prefix="rareshock-explore-") as tmp:
        draft = Path(tmp) / target.name
        draft.write_text(tomli_w.dumps(scenario_data(base, base_path, target, name, changes,
                                                     absolute=True)))
        try:
            cfg = load_config(draft)
        except ConfigError as exc:  # name the file the user asked for, not the draft
            raise ConfigError(str(target), exc.path, exc.message, exc.remedies, tuple(
                ConfigError(str(target), m.path, m.message) for m in exc.more)) from None
    if write:
        from ..run.store import atomic_write_bytes

        target.parent.mkdir(parents=True, exist_ok=True)
        text = tomli_w.dumps(scenario_data(base, base_path, target, name, changes))
        atomic_write_bytes(target, text.encode())
        cfg = load_config(target)
    return cfg


def changed(levers_: list[Lever], values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that differ from the levers' own (as a widget reports them)."""
    return {lv.path: values[lv.path] for lv in levers_
            if lv.path in values and values[lv.path] != lv.value}


def base_of(path: Path) -> Path | None:
    """The config a scenario file `extends` (None if it extends none)."""
    import tomllib

    try:
        parent = tomllib.loads(Path(path).read_text()).get("extends")
    except (OSError, ValueError):
        return None
    return (Path(path).parent / parent).resolve() if isinstance(parent, str) else None
