"""rareshock: rare-earth export-licence queues and the manufacturers they feed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Config", "ConfigError", "Replication", "Results", "SweepResults", "load_config",
           "run_batch", "run_sweep", "simulate", "__version__"]

if TYPE_CHECKING:
    from .api import run_batch, run_sweep
    from .config import Config, load_config
    from .errors import ConfigError
    from .model import Replication, simulate
    from .results import Results, SweepResults


def __getattr__(name: str) -> Any:
    """Import heavy modules only when used, so the CLI starts fast."""
    if name in {"Config", "load_config"}:
        from . import config

        return getattr(config, name)
    if name == "ConfigError":
        from .errors import ConfigError

        return ConfigError
    if name in {"Replication", "simulate"}:
        from . import model

        return getattr(model, name)
    if name in {"Results", "SweepResults"}:
        from . import results

        return getattr(results, name)
    if name in {"run_batch", "run_sweep"}:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
