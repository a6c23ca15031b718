"""Dotted config paths (`authority.reviewers`, `policy.3.review_time`): reading and setting
values by path, in a validated Config or in the raw data a Config is built from.

Used by `--set` overrides, sweep parameters and uncertain parameters alike.
"""

from __future__ import annotations

import difflib
import types
import typing
from datetime import date
from typing import Any

from pydantic import BaseModel

from ..errors import ConfigError

__all__ = ["get_path", "resolve", "set_path", "unwrap", "value_kind"]


def set_path(data: dict[str, Any], keys: list[str], value: Any, source: str) -> None:
    """Set `value` at the dotted path `keys` of raw config data (tables are dicts, arrays
    are lists), creating tables a file leaves to their defaults; ConfigError naming
    `source` and the path where the path cannot be followed."""
    node: Any = data
    for i, k in enumerate(keys[:-1]):
        where = ".".join(keys[: i + 1])
        if isinstance(node, list):
            if not k.isdigit() or int(k) >= len(node):
                raise ConfigError(source, where, f"no such list item (the list has {len(node)})")
            node = node[int(k)]
            continue
        if not isinstance(node, dict):
            raise ConfigError(source, ".".join(keys[:i]), "is not a table")
        if k not in node:
            node[k] = {}  # a table the file leaves to its defaults; validation checks the key
        node = node[k]
    last = keys[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ConfigError(source, ".".join(keys),
                              f"no such list item (the list has {len(node)})")
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ConfigError(source, ".".join(keys[:-1]), "is not a table")


def get_path(data: Any, keys: list[str]) -> Any:
    """The value at the dotted path `keys` of raw config data (KeyError/IndexError if absent)."""
    for k in keys:
        data = data[int(k)] if isinstance(data, list) else data[k]
    return data


def unwrap(ann: Any) -> Any:
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


def value_kind(ann: Any) -> str:
    """What a field holds: int, float, bool, str, date, distribution, table, list, value."""
    ann = unwrap(ann)
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
        kinds = {value_kind(a) for a in args if a is not type(None)}
        words = [a for a in args if typing.get_origin(a) is typing.Literal]
        if len(kinds) == 2 and words and kinds & {"int", "float"}:
            # a number or a word that means "none" (patience_days = "never"): a lever
            # sets the number
            kinds &= {"int", "float"}
        return kinds.pop() if len(kinds) == 1 else "value"
    if origin is list or origin is tuple:
        return "list"
    if origin is dict or (isinstance(ann, type) and issubclass(ann, BaseModel)):
        return "table"
    return "value"


def _near(key: str, names: Any) -> str:
    """'; did you mean NAME?' for the nearest of `names`, or ''."""
    close = difflib.get_close_matches(key, [str(n) for n in names], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def resolve(cfg: BaseModel, path: str) -> tuple[Any, Any]:
    """(value, annotation) at `path` in the validated config `cfg`; ValueError saying what
    is wrong when the path does not lead to a value."""
    node: Any = cfg
    ann: Any = type(cfg)
    done: list[str] = []
    for key in path.split("."):
        where = ".".join(done) or "the config"
        core = unwrap(ann)
        if isinstance(node, BaseModel):
            fields = type(node).model_fields
            if key not in fields:
                known = ", ".join(fields)
                raise ValueError(f"{path!r}: {where} has no key {key!r}{_near(key, fields)} "
                                 f"(known: {known})")
            ann = fields[key].annotation
            node = getattr(node, key)
        elif isinstance(node, dict):
            if key not in node:
                known = ", ".join(map(str, node)) or "none"
                raise ValueError(f"{path!r}: no {key!r} in {where}{_near(key, node)} "
                                 f"(known: {known})")
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
