"""The config layer: the schema (one frozen, typed object), distributions, loading TOML
files with `extends` and `--set` overrides, dotted paths, and the generated reference.

Its modules form layers (the second import-linter contract in pyproject.toml), from the top:
the public face of the models (`schema`) and the reference; the work estimate (`workload`)
and the loader (`loading`); `uncertain`; `levers`; `validation` (raw data to a Config, and
the wording of its errors); the root model (`scenario`); its parts by subject (`policy`,
`study`, then `world`, `observed`, `priors`); the responses' and sourcing's settings; and
the building blocks (`checks`, `distributions`, `paths`, then `base`).

Nothing here runs a simulation; every other layer builds on it.
"""

from .loading import config_from_dict, load_config, parse_override, read_toml_tree
from .scenario import Config

__all__ = ["Config", "config_from_dict", "load_config", "parse_override", "read_toml_tree"]
