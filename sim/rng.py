"""Named, order-independent random streams and fast block samplers.

No global random state is used anywhere: every draw comes from a
``numpy.random.Generator`` derived from a root ``SeedSequence``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Protocol

import numpy as np

__all__ = ["SampleSource", "Sampler", "UniformSampler", "as_seed_sequence", "stream"]


class SampleSource(Protocol):
    """Anything with ``sample(rng, size) -> float64 array`` (e.g. a distribution spec)."""

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray: ...


def as_seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """Return ``seed`` as a ``SeedSequence`` (ints must be non-negative)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int or SeedSequence, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return np.random.SeedSequence(int(seed))


def stream(root: np.random.SeedSequence, name: str) -> np.random.Generator:
    """Return the generator for the child stream ``name`` of ``root``.

    The child is keyed by ``crc32(name)`` appended to ``root.spawn_key``, so it
    is the same regardless of which other streams exist or were created first.
    """
    child = np.random.SeedSequence(
        entropy=root.entropy,
        spawn_key=tuple(root.spawn_key) + (zlib.crc32(name.encode()),),
        pool_size=root.pool_size,
    )
    return np.random.Generator(np.random.PCG64(child))


class Sampler:
    """Hand out variates of ``dist`` one Python float at a time.

    Draws ``block`` variates at once via ``dist.sample(rng, block)``; the
    sequence returned is identical to concatenating successive block draws.
    Units are whatever ``dist`` produces (days, working days, kg, ...).
    """

    __slots__ = ("_block", "_dist", "_it", "_rng")

    def __init__(self, dist: SampleSource, rng: np.random.Generator, block: int = 1024) -> None:
        if block < 1:
            raise ValueError(f"block must be >= 1, got {block}")
        self._dist = dist
        self._rng = rng
        self._block = int(block)
        self._it: Iterator[float] = iter(())

    def _draw(self) -> np.ndarray:
        return self._dist.sample(self._rng, self._block)

    def __call__(self) -> float:
        """Return the next variate as a Python float."""
        try:
            return next(self._it)
        except StopIteration:
            self._it = iter(self._draw().tolist())
            return next(self._it)

    @classmethod
    def uniform(cls, rng: np.random.Generator, block: int = 1024) -> UniformSampler:
        """Return a sampler of U(0, 1) draws (see :class:`UniformSampler`)."""
        return UniformSampler(rng, block)


class UniformSampler(Sampler):
    """Hand out U[0, 1) variates (``rng.random(block)``) one Python float at a time."""

    __slots__ = ()

    def __init__(self, rng: np.random.Generator, block: int = 1024) -> None:
        super().__init__(_UNIFORM, rng, block)

    def _draw(self) -> np.ndarray:
        return self._rng.random(self._block)


class _Uniform01:
    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.random(size)


_UNIFORM = _Uniform01()
