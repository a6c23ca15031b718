"""Validation of raw config data and the wording of its errors: pydantic's errors as
ConfigErrors in short words, each with its path, its source and a did-you-mean."""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError
from .base import PathError
from .checks import PathErrors
from .scenario import Config

__all__ = ["SET", "TOO_DEEP", "config_dict", "show", "validate"]

SET = "--set"
"""The source named in errors caused by a ``path=value`` override."""

TOO_DEEP = "nested too deep (arrays or tables inside one another)"

_DIST_TAGS = {"exponential", "lognormal", "triangular", "uniform", "gamma", "constant", "empirical"}
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_NAME_PATTERN = r"^[A-Za-z0-9_\-]+$"

# Pydantic error types and the short message that replaces pydantic's wording.
_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required field is missing",
    "int_type": "should be a whole number",
    "int_parsing": "should be a whole number",
    "int_from_float": "should be a whole number",
    "float_type": "should be a number",
    "float_parsing": "should be a number",
    "finite_number": "should be a finite number",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
    "string_type": "should be a string",
    "list_type": "should be an array",
    "tuple_type": "should be an array",
    "dict_type": "should be a table",
    "model_type": "should be a table",
    "model_attributes_type": "should be a table",
    "date_type": "should be a date like 2025-01-31",
    "date_parsing": "should be a date like 2025-01-31",
    "date_from_datetime_parsing": "should be a date like 2025-01-31",
    "date_from_datetime_inexact": "should be a date like 2025-01-31 (no time of day)",
}


def show(v: Any) -> str:
    """A value as it would be written in TOML (roughly), for messages."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, date | datetime | time):
        return v.isoformat()
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list | tuple):
        return "an array"
    return repr(v)


def _key(item: Any) -> str:
    s = str(item)
    return s if isinstance(item, int) or _BARE_KEY.match(s) else json.dumps(s)


def _loc_path(loc: Iterable[Any]) -> str:
    """Pydantic's error location as a dotted path, without the tags of tagged unions or
    union members (and without the `[key]` marker of dict-key errors)."""
    parts: list[str] = []
    items = list(loc)
    for i, item in enumerate(items):
        s = str(item)
        last = i == len(items) - 1
        policy_tag = i >= 2 and items[i - 2] == "policy" and isinstance(items[i - 1], int)
        if (
            (s in _DIST_TAGS and not last)
            or s.startswith(("function-", "literal[", "nullable["))
            or s == "[key]"
            or policy_tag
        ):
            continue
        parts.append(_key(item))
    return ".".join(parts)


def _message(err: Mapping[str, Any], errors: list[Mapping[str, Any]], path: str) -> tuple[str, str]:
    """(path, message) for one pydantic error, in short human words."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    has_input = "input" in err
    value = err.get("input")
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        field = str(ctx.get("discriminator", "")).strip("'\"") or "type"
        path = f"{path}.{field}" if path else field
        if kind == "union_tag_not_found":
            return path, "required field is missing"
        tags = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",")]
        return path, (f"unknown {field} {ctx.get('tag')!r}{_nearest(ctx.get('tag'), tags)} "
                      f"(expected one of: {', '.join(tags)})")
    if list(err["loc"])[-1:] == ["[key]"]:
        if kind == "string_pattern_mismatch" and ctx.get("pattern") == _NAME_PATTERN:
            return path, f"invalid name {value!r} (use letters, digits, _ . -)"
        return path, f"invalid key {value!r}: {err['msg']}"
    if kind == "literal_error":
        # A union of literals (e.g. a sector or "none") gives one error per member.
        expected = [
            str((e.get("ctx") or {}).get("expected", ""))
            for e in errors
            if e["type"] == "literal_error" and _loc_path(e["loc"]) == _loc_path(err["loc"])
        ]
        options = ", ".join(x.replace(" or ", ", ") for x in expected if x)
        hint = _nearest(value, [o.strip().strip("'") for o in options.split(",")])
        return path, f"should be one of {options} (got {show(value)}{hint})"
    if kind == "too_short" and ctx.get("min_length") == 1:
        return path, "must not be empty"
    msg = _MESSAGES.get(kind)
    if msg is None:
        msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        msg = msg.replace("Input should be", "should be", 1)
        if msg[:1].isupper() and not msg[1:2].isupper():
            msg = msg[0].lower() + msg[1:]
        # "authority.review_time: review_time must ..." -> "authority.review_time: must ..."
        leaf = path.rsplit(".", 1)[-1]
        rest = msg[len(leaf) + 1 :]
        if leaf and msg.startswith(leaf + " ") and rest.startswith(("must ", "is ", "are ")):
            msg = rest
    if (
        has_input
        and kind not in {"value_error", "missing", "extra_forbidden", "assertion_error"}
        and not isinstance(value, dict | list | tuple)
        and "got " not in msg
    ):
        msg = f"{msg} (got {show(value)})"
    return path, msg


def _all_errors(exc: ValidationError, source: str, overridden: Iterable[str] = ()
                ) -> ConfigError:
    """Every error of a failed validation, one per path: the first is the error raised, the
    others its `more`. An unknown key comes first where a required field is missing beside
    it (the typo explains the missing field)."""
    errors = exc.errors(include_url=False)
    found: dict[str, tuple[str, str]] = {}  # path -> (path, message), first per path
    unreported = 0
    for err in errors:
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, PathErrors):
            pairs = [(e.path, e.message) for e in cause.errors]
            unreported += cause.unreported
        elif isinstance(cause, PathError):
            pairs = [(cause.path, cause.message)]
        else:
            pairs = [_message(err, errors, _loc_path(err["loc"]))]
            if err["type"] == "extra_forbidden":
                pairs = [(pairs[0][0], pairs[0][1] + _did_you_mean(err["loc"]))]
        for path, msg in pairs:
            found.setdefault(path, (path, msg))
    missing = [tuple(e["loc"]) for e in errors if e["type"] == "missing"]
    first = [_loc_path(e["loc"]) for e in errors if e["type"] == "extra_forbidden"
             and any(m[:len(e["loc"]) - 1] == tuple(e["loc"][:-1]) for m in missing)]
    order = list(dict.fromkeys([*first, *found]))
    made = [ConfigError(_source_of(p, source, overridden), p, m)
            for p, m in (found[k] for k in order)]
    if unreported:
        made.append(ConfigError(source, "", f"and {unreported} more unknown names"))
    head = made[0]
    return ConfigError(head.source, head.path, head.message, more=tuple(made[1:]))


def _nearest(value: Any, options: list[str]) -> str:
    """'; did you mean X?' for the option nearest a misspelt string `value`, or ''."""
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, options, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _did_you_mean(loc: Iterable[Any]) -> str:
    """' (did you mean KEY?)' for an unknown key at `loc`, naming the nearest key the table
    takes; '' if none is near."""
    *parent, key = list(loc)
    fields = _fields_at(parent)
    close = difflib.get_close_matches(str(key), fields, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _fields_at(loc: Iterable[Any]) -> list[str]:
    """The keys of the model at pydantic location `loc` below the root Config (union members
    found by their tag), or [] where it cannot be followed."""
    tp: Any = Config
    for item in loc:
        tp = _model_part(tp, item)
        if tp is None:
            return []
    tp = _strip(tp)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _strip(tp: Any) -> Any:
    """`tp` without Annotated and without None in a union."""
    while True:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Annotated:
            tp = args[0]
        elif origin in (typing.Union, types.UnionType) and type(None) in args:
            rest = [a for a in args if a is not type(None)]
            tp = rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007
        else:
            return tp


def _model_part(tp: Any, item: Any) -> Any:
    """The type found at `item` (a field, list index, table key or union tag) of `tp`."""
    tp = _strip(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        f = tp.model_fields.get(str(item))
        return None if f is None else f.annotation
    if origin in (list, tuple):
        return args[0]
    if origin is dict:
        return args[1]
    if origin in (typing.Union, types.UnionType):
        for member in args:
            m = _strip(member)
            if not (isinstance(m, type) and issubclass(m, BaseModel)):
                continue
            for tag in ("type", "dist"):
                f = m.model_fields.get(tag)
                if f is not None and item in (typing.get_args(f.annotation) or (f.default,)):
                    return m
            if m.__name__ == item:
                return m
    return None


def _source_of(path: str, source: str, overridden: Iterable[str]) -> str:
    """`--set` if the value at `path` came from an override, else the file."""
    for o in overridden:
        if path == o or path.startswith(o + ".") or o.startswith(path + "."):
            return SET
    return source


def _coerced_bool(raw: Any, done: Any, path: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    """The location of a TOML boolean that validation turned into a number, if any.

    Pydantic reads `true` as 1 wherever a number is expected; a config never means that.
    """
    if isinstance(raw, bool):
        return None if isinstance(done, bool) else path
    if isinstance(raw, Mapping) and isinstance(done, Mapping):
        for k, v in raw.items():
            if k in done and (hit := _coerced_bool(v, done[k], (*path, k))) is not None:
                return hit
    elif isinstance(raw, list | tuple) and isinstance(done, list | tuple):
        for i, (v, d) in enumerate(zip(raw, done, strict=False)):
            if (hit := _coerced_bool(v, d, (*path, i))) is not None:
                return hit
    return None


def validate(data: Mapping[str, Any], source: str, overridden: Iterable[str] = (),
             bools: bool = True) -> Config:
    """Validate raw config data into a frozen Config, raising ConfigError with every error
    of the data (each naming `source`, or `--set` where a value came from `overridden`).
    The uncertain parameters' priors are not checked here (`sim.config.uncertain` does).
    `bools=False` skips the search for a TOML boolean read as a number: for data dumped
    from a Config already validated, with numbers set in it."""
    overridden = list(overridden)
    try:
        cfg = Config.model_validate(dict(data))
        loc = _coerced_bool(data, cfg.model_dump(warnings=False)) if bools else None
    except ValidationError as exc:
        raise _all_errors(exc, source, overridden) from None
    except RecursionError:
        raise ConfigError(SET if overridden else source, "", TOO_DEEP) from None
    if loc is not None:
        path = _loc_path(loc)
        raise ConfigError(
            _source_of(path, source, overridden), path, "should be a number, not true or false"
        )
    return cfg


def config_dict(cfg: Config) -> dict[str, Any]:
    """The config as plain TOML-ready data (dates kept, no nulls): what a results folder
    stores, and what sweep points and overrides are built from."""
    return cfg.model_dump(mode="python", exclude_none=True)
