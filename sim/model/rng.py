"""Named, order-independent random streams, fast block samplers, and uniforms keyed to
entities.

No global random state is used anywhere: every draw comes from a
``numpy.random.Generator`` derived from a root ``SeedSequence``. The model's random steps
take their numbers from `KeyedUniforms` (row k of a source's table belongs to the source's
k-th entity), so what an entity draws does not depend on the order of events; plain
streams remain for what happens in a fixed order whatever the model does (other buyers'
arrivals, uncertain parameters).
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Callable
from itertools import chain, repeat
from typing import Protocol

import numpy as np

__all__ = ["KeyedUniforms", "Keys", "Ppf", "SampleSource", "Sampler", "Streams", "UniformSampler",
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
    first one's numbers. ``streams.keys`` holds the tables of uniforms keyed to entities.
    """

    __slots__ = ("_made", "keys", "seed")

    def __init__(self, seed: int | np.random.SeedSequence) -> None:
        self.seed = as_seed_sequence(seed)
        self._made: dict[str, np.random.Generator] = {}
        self.keys = Keys(self.seed)

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
    """Uniforms keyed to entities: entity k of a source (its k-th order, arrival, file)
    gets row k of a (k, width) table of uniforms in [0, 1), whatever happens around it and
    in whatever order entities ask. Rows come from the source's own stream in blocks of
    `block` entities, made in order of the block index and kept, so row k is the same
    whether entity k is the first to ask or the millionth.

    Each column is one random step of the entity's life (its review time, its decision,
    the first information request, ...). `variate(k, step, dist)` maps the uniform through
    the distribution in force when the step happens (its inverse CDF), so a policy that
    changes a distribution changes the variate, not which uniform it uses: common random
    numbers that survive reordering. A column is mapped a block at a time and kept as a
    flat typed array, so taking a variate is one index. `take()` numbers the source's
    entities 0, 1, 2, ... as they appear.
    """

    __slots__ = ("_arrays", "_old", "_rng", "_u", "_v", "block", "count", "width")

    def __init__(self, root: np.random.SeedSequence, name: str, width: int,
                 block: int = 128) -> None:
        if width < 1 or block < 1:
            raise ValueError(f"width and block must be at least 1 (got {width}, {block})")
        self._rng = stream(root, f"keyed.{name}")
        self.width = width
        self.block = block
        self.count = 0
        self._arrays: list[np.ndarray] = []
        # Per step: its uniforms so far (a flat list), and [dist, its variates so far] for
        # the distribution last used (`_old` keeps earlier ones, by id).
        self._u: list[array[float]] = [array("d") for _ in range(width)]
        self._v: list[list] = [[None, array("d")] for _ in range(width)]
        self._old: dict[tuple[int, int], list] = {}

    def take(self) -> int:
        """The key of the source's next entity (0, 1, 2, ...)."""
        k = self.count
        self.count = k + 1
        return k

    def _block(self, b: int) -> np.ndarray:
        """Block b, made (with every block before it) on first use: (width, block)."""
        while len(self._arrays) <= b:
            # stored by step (a step's column is contiguous); the stream's numbers fill
            # the block row by row, so row k is the same whatever its layout in memory
            blk = np.ascontiguousarray(self._rng.random((self.block, self.width)).T)
            blk.flags.writeable = False
            self._arrays.append(blk)
        return self._arrays[b]

    def row(self, k: int) -> np.ndarray:
        """Entity k's uniforms, one per step (a read-only array of `width` floats)."""
        b, i = divmod(k, self.block)
        return self._block(b)[:, i]

    def u(self, k: int, step: int) -> float:
        """Entity k's uniform for step `step` (a column)."""
        try:
            return self._u[step][k]
        except IndexError:
            return self._extend(k, step, None, self._u[self._step(step)])

    def variate(self, k: int, step: int, dist: Ppf) -> float:
        """Entity k's variate of `dist` for step `step`: ``dist.ppf`` of its uniform."""
        slot = self._v[step]
        if slot[0] is dist:
            try:
                return slot[1][k]
            except IndexError:
                return self._extend(k, step, dist, slot[1])
        # another distribution than last time: keep that one's variates, use this one's
        self._old[step, id(slot[0])] = slot
        slot = self._v[step] = self._old.pop((step, id(dist)), None) or [dist, array("d")]
        return self.variate(k, step, dist)

    def _step(self, step: int) -> int:
        if not 0 <= step < self.width:
            raise IndexError(f"step {step} outside the {self.width} columns")
        return step

    def _extend(self, k: int, step: int, dist: Ppf | None, done: array[float]) -> float:
        """Map whole blocks of column `step` until row k is in `done` (a typed array: its
        cells are copied in as one buffer, with no Python float made per cell)."""
        if k < 0:
            raise IndexError(f"entity {k} is not a key")
        while len(done) <= k:
            col = self._block(len(done) // self.block)[step]
            if dist is not None:
                with np.errstate(over="ignore"):  # a huge mean maps to inf, as drawn
                    col = np.ascontiguousarray(dist.ppf(col), dtype=np.float64)
            done.frombytes(col.tobytes())
        return done[k]


class Ppf(Protocol):
    """Anything with an inverse CDF over an array of uniforms (a distribution spec)."""

    def ppf(self, u: np.ndarray) -> np.ndarray: ...


class Keys:
    """The keyed uniform tables of one replication, by source name (see KeyedUniforms):
    ``keys("china.us_auto_ev.ndfeb_magnet", 5)`` is that source's table, made once."""

    __slots__ = ("_made", "seed")

    def __init__(self, seed: np.random.SeedSequence) -> None:
        self.seed = seed
        self._made: dict[str, KeyedUniforms] = {}

    def __call__(self, name: str, width: int, block: int = 128) -> KeyedUniforms:
        table = self._made.get(name)
        if table is None:
            table = self._made[name] = KeyedUniforms(self.seed, name, width, block)
        elif table.width != width:
            raise ValueError(f"keyed source {name!r} has {table.width} steps, not {width}")
        return table
