"""Load a scenario: TOML files with `extends`, dotted-path overrides, schema validation."""

from __future__ import annotations

import copy
import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ArgumentError, ConfigError
from .paths import set_path
from .scenario import Config
from .uncertain import check_uncertain
from .validation import SET, TOO_DEEP, config_dict, show, validate

__all__ = ["config_dict", "config_from_dict", "load_config", "parse_override", "read_toml_tree"]

MAX_EXTENDS = 32
"""Longest chain of `extends` (a config extending one that extends another...)."""


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


SHARE_TABLES = frozenset({"suppliers", "to", "materials"})
"""Keys of tables of shares that sum to 1 (a firm's `suppliers` of a material,
re-sourcing's `to`, the background's `materials`): a child's table of shares replaces
its parent's whole, since shares merged from two files would not sum to 1."""


def _whole(key: str, value: Mapping[str, Any], depth: int) -> bool:
    """Whether a child's table `value` at `key` replaces the parent's whole."""
    shares = depth > 0 and key in SHARE_TABLES and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value.values())
    return (depth == 0 and key in REPLACED_WHOLE) or shares or "dist" in value or \
        "file" in value


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
    data.pop(_OBSERVED_FROM, None)
    return data, _inline_posteriors(data)


def _observed_file(path: str | Path) -> str | None:
    """The file the config's `observed` table was read from (None: a table, or none)."""
    try:
        return _read_tree(path, ()).get(_OBSERVED_FROM)
    except (ConfigError, RecursionError):
        return None


def _in_observed_file(exc: ConfigError, path: str | Path) -> ConfigError:
    """An error inside a file `observed` names, naming that file and the path inside it
    (the others as they were)."""
    if exc.source != str(path) or not (exc.path == "observed"
                                       or exc.path.startswith("observed.")):
        return exc
    where = _observed_file(path)
    if where is None:
        return exc
    return ConfigError(where, exc.path.removeprefix("observed").lstrip(".") or "",
                       exc.message, more=exc.more)


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
        raise ConfigError(source, "extends", f"must be a file name (got {show(parent)})")
    if len(_chain) >= MAX_EXTENDS:
        raise ConfigError(source, "extends", f"more than {MAX_EXTENDS} configs extending one "
                          f"another (the chain starts at {_chain[0].name})")
    parent_path = p.parent / parent
    if parent_path.is_dir():
        raise ConfigError(source, "extends", f"{parent!r} is a folder, not a config file")
    if not parent_path.is_file():
        raise ConfigError(source, "extends", f"no such file {parent!r} (relative to {p.parent})")
    base = _read_tree(parent_path, (*_chain, resolved))
    merged = _merge(base, data)
    if "observed" in data and _OBSERVED_FROM not in data:  # its own table, not a file
        merged.pop(_OBSERVED_FROM, None)
    return merged


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
    data[_OBSERVED_FROM] = str(path)


_OBSERVED_FROM = "__observed_from__"  # the file `observed` names, until validation
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


def _validate(data: Mapping[str, Any], source: str, overridden: Iterable[str] = ()) -> Config:
    """`validate`, then the uncertain parameters' priors against the config."""
    cfg = validate(data, source, overridden)
    if cfg.uncertain:
        check_uncertain(cfg, source)
    return cfg


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
    created: dict[str, list[str]] = {}
    for text in overrides:
        keys, value = parse_override(text)
        created |= _new_entry(data, keys)
        set_path(data, keys, value, SET)
        overridden.append(".".join(keys))
    _inline_observed(data, Path.cwd(), SET)
    data.pop(_OBSERVED_FROM, None)
    _reinline_overridden(data, overridden, folders)
    try:
        return _validate(data, str(path), overridden)
    except ConfigError as exc:
        for where, known in created.items():
            if exc.path == where or exc.path.startswith(where + "."):
                from .checks import unknown_name

                top, name = where.split(".", 1)
                raise ConfigError(SET, where, unknown_name(
                    NAMED[top], name, known, also=f"; a new one made by --set needs every "
                    f"required field: {exc.path}: {exc.message}")) from None
        if exc.source != SET and overridden and not _same_error(own, str(path), exc):
            raise ConfigError(SET, exc.path, exc.message, more=exc.more) from None
        raise _in_observed_file(exc, path) from None


NAMED = {"firms": "firm", "suppliers": "supplier", "materials": "material",
         "destinations": "destination"}
"""Top-level tables of named entries: a `--set` path into one that the config does not
define adds an entry, which fails unless every required field is given."""


def _new_entry(data: dict[str, Any], keys: list[str]) -> dict[str, list[str]]:
    """{"firms.NAME": the names the table holds} if `keys` reach into an entry of a
    NAMED table that the config does not define (an override may add one, e.g. a
    destination, whose fields all have defaults; if it fails, the error names it)."""
    table = data.get(keys[0])
    if keys[0] not in NAMED or len(keys) < 3 or not isinstance(table, Mapping) or \
            keys[1] in table:
        return {}
    return {".".join(keys[:2]): [str(k) for k in table]}


def _same_error(data: dict[str, Any], source: str, exc: ConfigError) -> bool:
    """Whether the file without its overrides fails the same way (else the overrides made
    the error, e.g. a cross-reference or a sibling field they no longer agree with)."""
    try:
        _validate(data, source)
    except ConfigError as own:
        return (own.path, own.message) == (exc.path, exc.message)
    return False
