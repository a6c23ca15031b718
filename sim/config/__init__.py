"""The config layer: the schema (one frozen, typed object), distributions, loading TOML
files with `extends` and `--set` overrides, dotted paths, and the generated reference.

Nothing here runs a simulation; every other layer builds on it.
"""

from .loading import config_from_dict, load_config, parse_override, read_toml_tree
from .schema import Config

__all__ = ["Config", "config_from_dict", "load_config", "parse_override", "read_toml_tree"]
