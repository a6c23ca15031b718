"""Load a scenario: TOML files with `extends`, dotted-path overrides, schema validation."""

from __future__ import annotations

import copy
import difflib
import json
import math
import os
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ArgumentError, ConfigError
from .base import PathError
from .paths import set_path
from .schema import Config, PathErrors

__all__ = ["config_dict", "config_from_dict", "load_config", "parse_override", "read_toml_tree"]

SET = "--set"
"""The source named in errors caused by a ``path=value`` override."""

MAX_EXTENDS = 32
"""Longest chain of `extends` (a config extending one that extends another...)."""

TOO_DEEP = "nested too deep (arrays or tables inside one another)"


def _read_toml(path: Path, source: str) -> dict[str, Any]:
    if path.is_dir():
        raise ConfigError(source, "", "is a folder, not a config file")
    if not path.exists():
        raise ConfigError(source, "", "no such file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(source, "", f"cannot read: {exc.strerror or exc}") from None
    if not raw.strip():
        raise ConfigError(source, "", "file is empty")
    try:
        text = raw.decode("utf-8-sig")  # tolerate a byte-order mark
    except UnicodeDecodeError:
        raise ConfigError(source, "", "not a text file (not UTF-8)") from None
    if "\x00" in text:
        raise ConfigError(source, "", "not a text file (contains NUL bytes)")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "", f"invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(source, "", TOO_DEEP) from None


REPLACED_WHOLE = frozenset({"observed"})
"""Top-level tables a child config replaces whole instead of merging key by key: data read
from a file (a child naming its own `observed` file must not keep its parent's series).
Tables with a `dist` key (distributions, priors) and tables naming a `file` are replaced
whole wherever they are."""


def _whole(key: str, value: Mapping[str, Any], depth: int) -> bool:
    """Whether a child's table `value` at `key` replaces the parent's whole."""
    return (depth == 0 and key in REPLACED_WHOLE) or "dist" in value or "file" in value


def _merge(base: dict[str, Any], over: Mapping[str, Any], _depth: int = 0) -> dict[str, Any]:
    """Deep-merge `over` into a copy of `base`: tables merge key by key (except those
    `_whole` says are replaced whole), anything else (values, arrays, arrays of tables) is
    replaced whole."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) and \
                not _whole(k, v, _depth):
            out[k] = _merge(dict(out[k]), v, _depth + 1)
        else:
            out[k] = v
    return out


def read_toml_tree(path: str | Path) -> dict[str, Any]:
    """Read a config file and everything it `extends` (at most `MAX_EXTENDS` deep), merged
    into one raw dict."""
    return _read_tree_and_samples(path)[0]


def _read_tree_and_samples(path: str | Path) -> tuple[dict[str, Any], dict[int, Path]]:
    """`read_toml_tree`, and the folder each uncertain entry's posterior file was read
    relative to (by entry index)."""
    try:
        data = _read_tree(path, ())
    except RecursionError:  # merging tables nested thousands deep
        raise ConfigError(str(path), "", TOO_DEEP) from None
    return data, _inline_posteriors(data)


def _read_tree(path: str | Path, _chain: tuple[Path, ...]) -> dict[str, Any]:
    p = Path(path)
    source = str(path)
    resolved = p.resolve()
    if resolved in _chain:
        cycle = " -> ".join(str(c.name) for c in (*_chain, resolved))
        raise ConfigError(source, "extends", f"cyclic extends ({cycle})")
    data = _read_toml(p, source)
    _inline_observed(data, p.parent, source)
    _mark_posteriors(data, p.parent, source)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent.strip():
        raise ConfigError(source, "extends", f"must be a file name (got {_show(parent)})")
    if len(_chain) >= MAX_EXTENDS:
        raise ConfigError(source, "extends", f"more than {MAX_EXTENDS} configs extending one "
                          f"another (the chain starts at {_chain[0].name})")
    parent_path = p.parent / parent
    if parent_path.is_dir():
        raise ConfigError(source, "extends", f"{parent!r} is a folder, not a config file")
    if not parent_path.is_file():
        raise ConfigError(source, "extends", f"no such file {parent!r} (relative to {p.parent})")
    base = _read_tree(parent_path, (*_chain, resolved))
    return _merge(base, data)


def _inline_observed(data: dict[str, Any], folder: Path, source: str) -> None:
    """`observed = "FILE"` (relative to `folder`) becomes the table that file holds, so the
    resolved config (and a results folder's copy of it) carries its observations."""
    name = data.get("observed")
    if not isinstance(name, str):
        return
    if not name.strip():
        raise ConfigError(source, "observed", "must be a file name or a table (got '')")
    path = folder / name
    if not path.is_file():
        raise ConfigError(source, "observed", f"no such file {name!r} (relative to {folder})")
    data["observed"] = _read_toml(path, str(path))


_FROM = "__declared_in__"  # (folder, source) of a posterior prior, until it is inlined


def _mark_posteriors(data: dict[str, Any], folder: Path, source: str) -> None:
    """Note, on each `posterior` prior of this file, the folder its `file` is relative to;
    the sample is read only if the entry survives the merge of `extends` (a config that
    replaces the uncertain list does not need its parent's samples)."""
    entries = data.get("uncertain")
    if isinstance(entries, list):
        for i, u in enumerate(entries):
            prior = u.get("prior") if isinstance(u, dict) else None
            if isinstance(prior, dict) and prior.get("dist") == "posterior":
                prior[_FROM] = (folder, source, i)


def _inline_posteriors(data: dict[str, Any]) -> dict[int, Path]:
    """An uncertain parameter whose prior is `posterior` with a `file` (relative to the
    config that declared it) and no values yet gets the file's column and weights, so the
    resolved config (and a results folder's copy of it) carries its sample."""
    entries = data.get("uncertain")
    folders: dict[int, Path] = {}
    if not isinstance(entries, list):
        return folders
    cache: dict[Path, dict[str, list[float]]] = {}
    for k, u in enumerate(entries):
        prior = u.get("prior") if isinstance(u, dict) else None
        if not isinstance(prior, dict) or _FROM not in prior:
            continue
        folder, source, i = prior.pop(_FROM)
        folders[k] = folder
        if prior.get("values") or not isinstance(prior.get("file"), str):
            continue
        path = folder / prior["file"]
        where = f"uncertain.{i}.prior.file"
        if path not in cache:
            if not path.is_file():
                raise ConfigError(source, where, f"no such file {prior['file']!r} "
                                  f"(relative to {folder})")
            try:
                import pyarrow.parquet as pq

                table = pq.ParquetFile(path).read()
            except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
                raise ConfigError(source, where, f"cannot read {prior['file']!r} as a "
                                  f"parquet sample ({type(exc).__name__})") from None
            cache[path] = {c: table.column(c).to_pylist() for c in table.column_names}
        columns = cache[path]
        column = prior.get("column") or u.get("name")
        if "weight" not in columns:
            raise ConfigError(source, where, f"{prior['file']!r} has no 'weight' column")
        if column not in columns:
            raise ConfigError(source, where, f"{prior['file']!r} has no column {column!r} "
                              f"(it has: {', '.join(c for c in columns if c != 'weight')})")
        if not columns["weight"]:
            raise ConfigError(source, where, f"{prior['file']!r} holds no rows")
        prior["values"] = _numbers(columns[column], column, prior["file"], source, where)
        prior["weights"] = _numbers(columns["weight"], "weight", prior["file"], source, where)
    return folders


def _numbers(col: list[Any], name: str, file: str, source: str, where: str) -> list[float]:
    """A sample column as finite floats; ConfigError naming the first row that is not."""
    out = []
    for k, v in enumerate(col):
        try:
            x = float(v)
        except (TypeError, ValueError):
            x = math.nan
        if isinstance(v, bool) or not math.isfinite(x):
            raise ConfigError(source, where, f"{file!r} column {name!r}, row {k}: not a "
                              f"finite number (got {v!r})")
        out.append(x)
    return out


def _reinline_overridden(data: dict[str, Any], overridden: list[str],
                         folders: dict[int, Path]) -> None:
    """A posterior prior that an override gave, or whose `file` it changed, reads its sample
    from the override's file, relative to the working folder; one whose `column` alone
    changed reads it again from its own file."""
    entries = data.get("uncertain")
    if not isinstance(entries, list):
        return
    for i, u in enumerate(entries):
        prior = u.get("prior") if isinstance(u, dict) else None
        if not isinstance(prior, dict) or prior.get("dist") != "posterior" or \
                not isinstance(prior.get("file"), str):
            continue
        given = any(p in ("uncertain", f"uncertain.{i}", f"uncertain.{i}.prior",
                          f"uncertain.{i}.prior.file") for p in overridden)
        if given or f"uncertain.{i}.prior.column" in overridden:
            prior.pop("values", None)
            prior.pop("weights", None)
            folder = folders.get(i, Path.cwd()) if not given else Path.cwd()
            prior[_FROM] = (folder, SET, i)
    _inline_posteriors(data)


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``path=value``; the value is read as TOML, a bare word as a string."""
    if "=" not in text:
        raise ConfigError(SET, text, "expected path=value")
    path, _, value = text.partition("=")
    path = path.strip()
    keys = [k.strip() for k in path.split(".")]
    if not path or any(not k for k in keys):
        raise ConfigError(SET, text, "empty path")
    path = ".".join(keys)
    value = value.strip()
    if value == "":
        raise ConfigError(SET, path, "empty value")
    try:
        doc = tomllib.loads(f"v = {value}")
    except tomllib.TOMLDecodeError:
        doc = None
    except RecursionError:
        raise ConfigError(SET, path, f"value {TOO_DEEP}") from None
    if doc is not None and set(doc) == {"v"}:
        parsed = doc["v"]
    elif any(c in value for c in "[]{}\"'=,\n"):
        raise ConfigError(SET, path, f"cannot read value {value!r} as TOML")
    else:
        parsed = value
    return keys, parsed


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


def _show(v: Any) -> str:
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
        return path, f"should be one of {options} (got {_show(value)}{hint})"
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
        msg = f"{msg} (got {_show(value)})"
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


def _validate(data: Mapping[str, Any], source: str, overridden: Iterable[str] = ()) -> Config:
    overridden = list(overridden)
    try:
        cfg = Config.model_validate(dict(data))
        loc = _coerced_bool(data, cfg.model_dump(warnings=False))
    except ValidationError as exc:
        raise _all_errors(exc, source, overridden) from None
    except RecursionError:
        raise ConfigError(SET if overridden else source, "", TOO_DEEP) from None
    if loc is not None:
        path = _loc_path(loc)
        raise ConfigError(
            _source_of(path, source, overridden), path, "should be a number, not true or false"
        )
    if cfg.uncertain:
        from .uncertain import check_uncertain  # it builds configs with this module

        check_uncertain(cfg, source)
    return cfg


def config_dict(cfg: Config) -> dict[str, Any]:
    """The config as plain TOML-ready data (dates kept, no nulls): what a results folder
    stores, and what sweep points and overrides are built from."""
    return cfg.model_dump(mode="python", exclude_none=True)


def config_from_dict(data: Mapping[str, Any], source: str = "<config>") -> Config:
    """Validate a raw dict into a frozen Config, raising ConfigError on the first problem."""
    return _validate(data, source)


def load_config(path: str | Path, overrides: Iterable[str] | None = ()) -> Config:
    """Read, merge (`extends`), override (``path=value``) and validate a config file.

    Raises ConfigError naming the file (or `--set` for a bad override, or for an error that
    only the overrides bring about), the field path and what is wrong; ArgumentError if
    `path` is not a path or `overrides` not a list of strings.
    """
    if not isinstance(path, str | os.PathLike):
        raise ArgumentError("path", path, f"must be a file name or a Path, got "
                            f"{type(path).__name__}")
    if overrides is None:
        overrides = ()
    if isinstance(overrides, str | bytes) or not isinstance(overrides, Iterable):
        raise ArgumentError("overrides", overrides, "must be a list of 'path=value' strings "
                            "(a single one in a list too)")
    overrides = list(overrides)
    for text in overrides:
        if not isinstance(text, str):
            raise ArgumentError("overrides", text, "each override must be a 'path=value' "
                                f"string, not {type(text).__name__}")
    data, folders = _read_tree_and_samples(path)
    own = copy.deepcopy(data) if overrides else data
    overridden: list[str] = []
    for text in overrides:
        keys, value = parse_override(text)
        set_path(data, keys, value, SET)
        overridden.append(".".join(keys))
    _inline_observed(data, Path.cwd(), SET)
    _reinline_overridden(data, overridden, folders)
    try:
        return _validate(data, str(path), overridden)
    except ConfigError as exc:
        if exc.source != SET and overridden and not _same_error(own, str(path), exc):
            raise ConfigError(SET, exc.path, exc.message, more=exc.more) from None
        raise


def _same_error(data: dict[str, Any], source: str, exc: ConfigError) -> bool:
    """Whether the file without its overrides fails the same way (else the overrides made
    the error, e.g. a cross-reference or a sibling field they no longer agree with)."""
    try:
        _validate(data, source)
    except ConfigError as own:
        return (own.path, own.message) == (exc.path, exc.message)
    return False
