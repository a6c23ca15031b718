"""rareshock: rare-earth export-licence queues and the manufacturers they feed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Config", "ConfigError", "Replication", "Results", "load_config", "run_batch",
           "simulate", "__version__"]

if TYPE_CHECKING:
    from .api import run_batch
    from .config import Config, load_config
    from .errors import ConfigError
    from .model import Replication, simulate
    from .results import Results


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
    if name == "Results":
        from .results import Results

        return Results
    if name == "run_batch":
        from .api import run_batch

        return run_batch
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
