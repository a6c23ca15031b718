"""Load a scenario: TOML files with `extends`, dotted-path overrides, schema validation."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import ConfigError
from .schema import Config, PathError

__all__ = ["Config", "load_config", "config_from_dict", "parse_override", "read_toml_tree"]


def _read_toml(path: Path, source: str) -> dict[str, Any]:
    if path.is_dir():
        raise ConfigError(source, "", "is a folder, not a config file")
    if not path.exists():
        raise ConfigError(source, "", "no such file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(source, "", f"cannot read: {exc.strerror}") from None
    if not raw.strip():
        raise ConfigError(source, "", "file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(source, "", "not a text file (not UTF-8)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "", f"invalid TOML: {exc}") from None


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge `over` into a copy of `base`: tables merge key by key, anything else
    (values, arrays, arrays of tables) is replaced whole."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) and "dist" not in v:
            out[k] = _merge(dict(out[k]), v)
        else:
            out[k] = v
    return out


def read_toml_tree(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a config file and everything it `extends`, merged into one raw dict."""
    p = Path(path)
    source = str(path)
    resolved = p.resolve()
    if resolved in _chain:
        cycle = " -> ".join(str(c.name) for c in (*_chain, resolved))
        raise ConfigError(source, "extends", f"cyclic extends ({cycle})")
    data = _read_toml(p, source)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent:
        raise ConfigError(source, "extends", "must be a file name (a string)")
    parent_path = p.parent / parent
    if not parent_path.is_file():
        raise ConfigError(source, "extends", f"no such file {parent!r} (relative to {p.parent})")
    base = read_toml_tree(parent_path, (*_chain, resolved))
    return _merge(base, data)


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``path=value``; the value is read as TOML, a bare word as a string."""
    if "=" not in text:
        raise ConfigError("--set", text, "expected path=value")
    path, _, value = text.partition("=")
    path = path.strip()
    keys = path.split(".")
    if not path or any(not k for k in keys):
        raise ConfigError("--set", text, "empty path")
    value = value.strip()
    if value == "":
        raise ConfigError("--set", path, "empty value")
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        if any(c in value for c in "[]{}\"'=,"):
            raise ConfigError("--set", path, f"cannot read value {value!r} as TOML") from None
        parsed = value
    return keys, parsed


def _apply_override(data: dict[str, Any], keys: list[str], value: Any, source: str) -> None:
    node: Any = data
    for i, k in enumerate(keys[:-1]):
        where = ".".join(keys[: i + 1])
        if isinstance(node, list):
            if not k.isdigit() or int(k) >= len(node):
                raise ConfigError(source, where, "no such list item")
            node = node[int(k)]
            continue
        if not isinstance(node, dict):
            raise ConfigError(source, where, "is not a table")
        if k not in node:
            raise ConfigError(source, where, "no such table in the config")
        node = node[k]
    last = keys[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ConfigError(source, ".".join(keys), "no such list item")
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ConfigError(source, ".".join(keys[:-1]), "is not a table")


_DIST_TAGS = {"exponential", "lognormal", "triangular", "uniform", "gamma", "constant",
              "empirical"}


def _loc_path(loc: Iterable[Any]) -> str:
    """Pydantic's error location as a dotted path, without the tags of tagged unions."""
    parts: list[str] = []
    items = list(loc)
    for i, item in enumerate(items):
        s = str(item)
        policy_tag = i >= 2 and items[i - 2] == "policy" and isinstance(items[i - 1], int)
        if s in _DIST_TAGS or s.startswith("function-") or policy_tag:
            continue
        parts.append(s)
    return ".".join(parts)


def _first_error(exc: ValidationError, source: str) -> ConfigError:
    err = exc.errors(include_url=False)[0]
    path = _loc_path(err["loc"])
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, PathError):
        path = cause.path
        msg = cause.message
    else:
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif "input" in err and err["type"] not in {"value_error"} and not isinstance(
            err["input"], dict | list
        ):
            msg = f"{msg} (got {err['input']!r})"
    extra = len(exc.errors()) - 1
    if extra:
        msg += f" (and {extra} more error{'s' if extra > 1 else ''})"
    return ConfigError(source, path, msg)


def config_from_dict(data: Mapping[str, Any], source: str = "<config>") -> Config:
    """Validate a raw dict into a frozen Config, raising ConfigError on the first problem."""
    try:
        return Config.model_validate(dict(data))
    except ValidationError as exc:
        raise _first_error(exc, source) from None


def load_config(path: str | Path, overrides: Iterable[str] = ()) -> Config:
    """Read, merge (`extends`), override (``path=value``) and validate a config file.

    Raises ConfigError naming the file, the field path and what is wrong.
    """
    data = read_toml_tree(path)
    for text in overrides:
        keys, value = parse_override(text)
        _apply_override(data, keys, value, f"--set {text}")
    return config_from_dict(data, str(path))
