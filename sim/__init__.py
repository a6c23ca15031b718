"""rareshock: rare-earth export-licence queues and the manufacturers they feed.

The package is built in layers, each importing only those below it (a contract in
pyproject.toml, checked by the tests): `config` (the schema and loading) <- `model` (one
replication) <- `run` (batches, executors, the results store) <- `sweep` and
`calibration` <- `analysis` (stored results, statistics) <- `optimize` (decisions:
bisection, ranking and selection) <- `report` (text, plots, documents) <- `workflows`
(each user job as named steps) <- `api` <- `cli` (which imports only `api` and
`errors`). The names below are the notebook entry points (`sim.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .version import __version__

__all__ = ["Calibration", "Comparison", "Config", "ConfigError", "Replication", "Results",
           "SweepResults", "calibrate", "compare", "load_config", "open_results", "optimize",
           "run_batch", "run_sweep", "simulate", "__version__"]

if TYPE_CHECKING:
    from .api import (
        Calibration,
        Comparison,
        Config,
        Replication,
        Results,
        SweepResults,
        calibrate,
        compare,
        load_config,
        open_results,
        optimize,
        run_batch,
        run_sweep,
        simulate,
    )
    from .errors import ConfigError


def __getattr__(name: str) -> Any:
    """Import heavy modules only when used, so the command line starts fast."""
    if name == "ConfigError":
        from .errors import ConfigError

        return ConfigError
    if name in {"Config", "load_config"}:
        from . import config

        return getattr(config, name)
    if name in {"Replication", "simulate"}:
        from . import model

        return getattr(model, name)
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
