"""The model layer: one replication of the licence queue and the manufacturers it feeds.

`simulate(cfg, seed)` runs a World and returns its tables. The parts: `calendar` (working
days), `rng` (named streams, block samplers, uniforms keyed to entities), `clock`
(scheduled calls and the time: the contract with SimPy), `records` (shipments, the
applications table, the export log), `authority`, `licensing`, `supply`, `orders` and
`allocation` (order books sharing short supply), `production` (a firm's line and finished
goods), `maker` (a firm as a supplier of firms), `firm` (a firm's parts: production,
ledger, ordering), `background` (other buyers), `policy` (the timeline), `world` (builds
the parts in dependency order and runs them) and `tables` (the output of a finished
replication). No module imports one that imports it back: where two parts talk both ways,
one names the other through a small Protocol (records.Customer, firm.Source,
licensing.LicenceHolder, authority.DecisionListener).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..config.schema import Config
from ..config.uncertain import prepare
from ..errors import ArgumentError
from .rng import Streams
from .tables import Replication, build_tables
from .world import World

__all__ = ["Replication", "World", "simulate"]


def simulate(cfg: Config, seed: int | np.random.SeedSequence,
             progress: Callable[[float], None] | None = None) -> Replication:
    """Run one replication of `cfg` and return its tables.

    `seed` is an int or a `numpy.random.SeedSequence` (a replication's child sequence);
    every random stream of the run is derived from it by name; the config's uncertain
    parameters are drawn from the streams `uncertain.*` of that seed first (their values
    are the Replication's `parameters`). `progress(day)`, if given,
    is called as simulated time goes by (50 times a run). Raises ArgumentError for a
    `cfg` that is not a Config or a bad `seed`, and `sim.errors.ConservationError` if
    material is created or lost.
    """
    if not isinstance(cfg, Config):
        raise ArgumentError("cfg", None, "must be a Config (from sim.load_config), got "
                            f"{type(cfg).__name__}")
    if not isinstance(seed, np.random.SeedSequence):
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise ArgumentError("seed", seed, "must be a whole number or a "
                                "numpy.random.SeedSequence")
        if seed < 0:
            raise ArgumentError("seed", seed, "must be at least 0")
    values: dict[str, Any] = {}
    unc = prepare(cfg)
    if unc is not None:
        values = unc.draw(Streams(seed))
        cfg = unc.config(values)
    world = World(cfg, seed)
    world.run(progress)
    rep = build_tables(world)
    rep.parameters = values
    return rep
