"""Draws keyed to entities (#9): inverse CDFs against scipy, and keyed uniforms that do
not depend on the order entities ask for them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.config.distributions import (
    Constant,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Triangular,
    Uniform,
)
from sim.model.rng import KeyedUniforms

U = np.array([1e-9, 0.01, 0.2, 0.5, 0.77, 0.99, 1 - 1e-9])


@pytest.mark.parametrize("dist,frozen", [
    (Exponential(mean=3.0), stats.expon(scale=3.0)),
    (Lognormal(median=30.0, sigma=0.6), stats.lognorm(0.6, scale=30.0)),
    (Triangular(low=15.0, mode=35.0, high=45.0), stats.triang(20 / 30, 15.0, 30.0)),
    (Triangular(low=0.0, mode=0.0, high=2.0), stats.triang(0.0, 0.0, 2.0)),
    (Uniform(low=5.0, high=15.0), stats.uniform(5.0, 10.0)),
    (Gamma(mean=10.0, cv=0.5), stats.gamma(4.0, scale=2.5)),
])
def test_ppf_is_scipys(dist, frozen) -> None:  # noqa: ANN001
    got = np.array([dist.ppf(float(u)) for u in U])
    np.testing.assert_allclose(got, frozen.ppf(U), rtol=1e-9, atol=1e-12)


def test_ppf_of_constant_and_empirical() -> None:
    assert Constant(value=4.0).ppf(0.3) == 4.0
    e = Empirical(values=(1.0, 5.0, 2.0, 9.0))
    # each value a quarter of [0, 1), in the order given
    assert [e.ppf(u) for u in (0.0, 0.24, 0.25, 0.6, 0.99)] == [1.0, 1.0, 5.0, 2.0, 9.0]


def test_keyed_rows_do_not_depend_on_the_order_of_asking() -> None:
    root = np.random.SeedSequence(11)
    a = KeyedUniforms(root, "firm.x", width=5, block=8)
    b = KeyedUniforms(root, "firm.x", width=5, block=8)
    forward = [a.row(k).copy() for k in range(40)]
    backward = {k: b.row(k).copy() for k in reversed(range(40))}
    for k in range(40):
        np.testing.assert_array_equal(forward[k], backward[k])
    assert a(7, 3) == forward[7][3]
    # another source, or another width, is another table
    other = KeyedUniforms(root, "firm.y", width=5, block=8)
    assert not np.array_equal(other.row(0), forward[0])
    with pytest.raises(IndexError):
        a(0, 5)


def test_keyed_uniforms_are_uniform_and_independent() -> None:
    """4,000 entities x 3 steps: each column passes Kolmogorov-Smirnov at 1%, and the
    columns' correlations are within 4 standard errors (1/sqrt(n)) of 0."""
    k = KeyedUniforms(np.random.SeedSequence(3), "background", width=3, block=512)
    x = np.array([k.row(i) for i in range(4000)])
    for j in range(3):
        assert stats.kstest(x[:, j], "uniform").pvalue > 0.01
    c = np.corrcoef(x.T)
    assert np.all(np.abs(c[np.triu_indices(3, 1)]) < 4 / np.sqrt(4000))
