from __future__ import annotations

import numpy as np
import pytest

from sim.config.distributions import Exponential, Lognormal, Triangular
from sim.model.rng import Sampler, UniformSampler, as_seed_sequence, stream


def test_as_seed_sequence() -> None:
    ss = as_seed_sequence(42)
    assert isinstance(ss, np.random.SeedSequence) and ss.entropy == 42
    assert as_seed_sequence(ss) is ss
    with pytest.raises(ValueError):
        as_seed_sequence(-1)


def test_same_root_and_name_identical() -> None:
    a = stream(as_seed_sequence(7), "arrivals").random(100)
    b = stream(as_seed_sequence(7), "arrivals").random(100)
    np.testing.assert_array_equal(a, b)


def test_different_names_or_seeds_differ() -> None:
    root = as_seed_sequence(7)
    a = stream(root, "arrivals").random(100)
    assert not np.array_equal(a, stream(root, "review").random(100))
    assert not np.array_equal(a, stream(as_seed_sequence(8), "arrivals").random(100))


def test_stream_independent_of_other_streams() -> None:
    root = as_seed_sequence(123)
    alone = stream(root, "a").random(50)
    root2 = as_seed_sequence(123)
    other = stream(root2, "b")
    other.random(1000)
    root2.spawn(3)  # spawning children of the root does not shift named streams either
    np.testing.assert_array_equal(stream(root2, "a").random(50), alone)


def test_stream_from_spawned_root_differs() -> None:
    root = as_seed_sequence(5)
    (child,) = root.spawn(1)
    assert not np.array_equal(stream(root, "a").random(10), stream(child, "a").random(10))


@pytest.mark.parametrize(
    "dist",
    [Exponential(mean=2.0), Lognormal(median=3.0, sigma=0.5), Triangular(low=1, mode=2, high=5)],
)
def test_sampler_matches_blockwise_draws(dist: Exponential | Lognormal | Triangular) -> None:
    s = Sampler(dist, stream(as_seed_sequence(9), "x"), block=7)
    got = [s() for _ in range(50)]
    assert all(type(v) is float for v in got)
    ref_rng = stream(as_seed_sequence(9), "x")
    ref = np.concatenate([dist.sample(ref_rng, 7) for _ in range(8)])[:50]
    assert got == ref.tolist()


def test_uniform_sampler_matches_blockwise_draws() -> None:
    s = UniformSampler(stream(as_seed_sequence(1), "u"), block=7)
    got = [s() for _ in range(50)]
    ref_rng = stream(as_seed_sequence(1), "u")
    ref = np.concatenate([ref_rng.random(7) for _ in range(8)])[:50]
    assert got == ref.tolist()
    assert all(0.0 <= v < 1.0 for v in got)
    s2 = Sampler.uniform(stream(as_seed_sequence(1), "u"), block=7)
    assert isinstance(s2, UniformSampler)
    assert [s2() for _ in range(50)] == got


def test_sampler_rejects_bad_block() -> None:
    with pytest.raises(ValueError):
        Sampler(Exponential(mean=1.0), np.random.default_rng(0), block=0)


def test_streams_give_the_same_generator_for_a_name() -> None:
    """A second request for a stream continues it; it does not start a copy that would
    repeat the first one's numbers."""
    from sim.model.rng import Streams

    s = Streams(7)
    first = s("authority.review_time").random(3)
    again = s("authority.review_time").random(3)
    assert s("authority.review_time") is s("authority.review_time")
    assert not np.array_equal(first, again)
    fresh = stream(np.random.SeedSequence(7), "authority.review_time").random(6)
    assert np.array_equal(np.concatenate([first, again]), fresh)
