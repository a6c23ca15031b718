"""Seeds of replications: one root seed, one child per replication."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def replication_seed(root: int, index: int, point: int | None = None) -> np.random.SeedSequence:
    """The seed of replication `index`: child `index` of `SeedSequence(root)` (built directly
    as spawn key (index,)), or, for a sweep point without common random numbers, spawn key
    (point, index)."""
    import numpy as np

    key = (index,) if point is None else (point, index)
    return np.random.SeedSequence(entropy=root, spawn_key=key)
