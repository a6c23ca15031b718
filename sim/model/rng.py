"""Named, order-independent random streams and fast block samplers.

No global random state is used anywhere: every draw comes from a
``numpy.random.Generator`` derived from a root ``SeedSequence``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from itertools import chain, repeat
from typing import Protocol

import numpy as np

__all__ = ["KeyedUniforms", "SampleSource", "Sampler", "Streams", "UniformSampler",
           "as_seed_sequence", "stream"]


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


class Streams:
    """The named random streams of one replication.

    ``streams("authority.review_time")`` is the generator of that name (see `stream`); a
    name asked for again gives the same generator, never a fresh one that would repeat the
    first one's numbers.
    """

    __slots__ = ("_made", "seed")

    def __init__(self, seed: int | np.random.SeedSequence) -> None:
        self.seed = as_seed_sequence(seed)
        self._made: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        rng = self._made.get(name)
        if rng is None:
            rng = self._made[name] = stream(self.seed, name)
        return rng


class Sampler:
    """Hand out variates of ``dist`` one Python float at a time.

    Draws ``block`` variates at once via ``dist.sample(rng, block)``; the
    sequence returned is identical to concatenating successive block draws.
    Units are whatever ``dist`` produces (days, working days, kg, ...).

    ``next`` is the fast way to take a variate on an event path: a C-level callable
    (the ``__next__`` of a chain over the blocks, each turned into Python floats once),
    so taking a variate costs no Python frame. A constant distribution (one with
    ``dist == "constant"``) draws nothing: ``next`` repeats its value.
    """

    __slots__ = ("_block", "_dist", "_rng", "next")

    def __init__(self, dist: SampleSource, rng: np.random.Generator, block: int = 1024) -> None:
        if block < 1:
            raise ValueError(f"block must be >= 1, got {block}")
        self._dist = dist
        self._rng = rng
        self._block = int(block)
        self.next: Callable[[], float]
        if getattr(dist, "dist", None) == "constant":
            self.next = repeat(float(dist.value)).__next__  # type: ignore[attr-defined]
        else:
            # iter(f, sentinel) calls f for each new block; no block is ever None.
            self.next = chain.from_iterable(iter(self._block_list, None)).__next__

    def _draw(self) -> np.ndarray:
        return self._dist.sample(self._rng, self._block)

    def _block_list(self) -> list[float]:
        return self._draw().tolist()

    def __call__(self) -> float:
        """Return the next variate as a Python float."""
        return self.next()

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


class KeyedUniforms:
    """Uniforms keyed to entities: entity k of a source (its k-th application, order,
    arrival) gets row k of a (k, width) table of uniforms in [0, 1), whatever happens
    around it and in whatever order entities ask. Rows come from the source's own stream
    in blocks of `block` entities, made in order of the block index and kept, so row k is
    the same whether entity k is the first to ask or the millionth.

    Each column is one random step of the entity's life (its review time, its decision,
    the first information request, ...): a step maps its uniform through the distribution
    in force when it happens (`ppf`), so a policy that changes a distribution changes the
    variate, not which uniform it uses (common random numbers that survive reordering).
    """

    __slots__ = ("_blocks", "_rng", "block", "width")

    def __init__(self, root: np.random.SeedSequence, name: str, width: int,
                 block: int = 1024) -> None:
        if width < 1 or block < 1:
            raise ValueError(f"width and block must be at least 1 (got {width}, {block})")
        self._rng = stream(root, f"keyed.{name}")
        self.width = width
        self.block = block
        self._blocks: list[np.ndarray] = []

    def row(self, k: int) -> np.ndarray:
        """Entity k's uniforms (a read-only view of `width` floats)."""
        b, i = divmod(k, self.block)
        while len(self._blocks) <= b:
            blk = self._rng.random((self.block, self.width))
            blk.flags.writeable = False
            self._blocks.append(blk)
        return self._blocks[b][i]

    def __call__(self, k: int, step: int) -> float:
        """Entity k's uniform for step `step` (a column), as a Python float."""
        if not 0 <= step < self.width:
            raise IndexError(f"step {step} outside the {self.width} columns")
        return float(self.row(k)[step])
