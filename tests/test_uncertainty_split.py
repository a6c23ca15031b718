"""The spread analysis shared out among workers gives SALib's numbers to the last bit:
each sector's parameters computed in parts (`sim.analysis.uncertainty._delta_part`) against
the sector analysed whole in one process, as SALib's `delta.analyze` does it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.analysis import uncertainty
from sim.analysis.uncertainty import explain


class Here:
    """An executor of `workers` that runs every task in this process, and counts them."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.keys: list[Any] = []

    def map_unordered(self, fn: Callable[..., Any], jobs: Iterable[tuple[Any, tuple]]
                      ) -> Iterator[tuple[Any, Any]]:
        done = [(key, fn(*args)) for key, args in jobs]
        self.keys += [key for key, _ in done]
        return iter(done[::-1])  # in another order than asked


def _sample(n: int, flat: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four parameters: `a` uniform; `d` 0 in a sixth of the cases and 1 otherwise (SALib
    gives up on its balanced delta, a single bin, after drawing nothing); `row` repeating
    as the rows of a posterior do; `c` a two-label choice. One sector driven by them, or
    (`flat`) a second, almost constant one beside it."""
    rng = np.random.default_rng(11)
    row = rng.integers(0, 8, n)
    a, c = rng.random(n), rng.choice(["x", "y"], n)
    d = (np.arange(n) >= n // 6).astype(float)
    params = pd.DataFrame({"replication": range(n), "a": a, "d": d, "row": row * 0.5,
                           "c": c})
    y = a + 0.3 * row + rng.random(n)
    if not flat:
        return params, pd.DataFrame({"replication": range(n), "sector": "auto",
                                     "shortfall_frac": y})
    other = np.zeros(n)
    other[:3] = [0.01, 0.02, 0.01]  # SALib's density estimate is singular here
    return params, pd.DataFrame({"replication": np.tile(range(n), 2),
                                 "sector": ["auto"] * n + ["defence"] * n,
                                 "shortfall_frac": np.concatenate([y, other])})


@pytest.fixture(scope="module")
def whole() -> pd.DataFrame:
    params, sectors = _sample(30)
    return explain(params, sectors, seed=7)


@pytest.mark.parametrize("workers", [2, pytest.param(4, marks=pytest.mark.slow)])
def test_parts_give_the_numbers_of_the_whole(whole: pd.DataFrame, workers: int) -> None:
    params, sectors = _sample(30)
    ex = Here(workers)
    split = explain(params, sectors, seed=7, executor=ex)
    # 6 columns (a, d, row, c and two floors) in `workers` parts
    assert sorted(ex.keys) == [(0, lo) for lo, _ in uncertainty._ranges(6, workers)]
    assert len(ex.keys) == workers
    est = whole.set_index("parameter")["delta"]
    assert np.isnan(est["d"]) and np.isfinite(est.drop("d")).all()
    assert split.to_csv(index=False) == whole.to_csv(index=False)


@pytest.mark.slow  # the failing sector is analysed twice, column by column the second
def test_a_failing_density_estimate_falls_back_to_the_whole_sector() -> None:
    params, sectors = _sample(30, flat=True)
    whole = explain(params, sectors, seed=7)
    split = explain(params, sectors, seed=7, executor=Here(2))
    assert split.to_csv(index=False) == whole.to_csv(index=False)
    defence = whole[whole["sector"] == "defence"]
    assert defence["delta"].isna().any()  # the singular estimates, left out (NaN)


def test_a_part_says_when_a_density_estimate_failed() -> None:
    """The part after a column whose estimate fails cannot know its draws: None."""
    y = np.zeros(30)
    y[:3] = [0.01, 0.02, 0.01]
    x = np.random.default_rng(2).random((30, 2))
    assert uncertainty._delta_part(["p", "q"], x, y, 7, 1, 2) is None
    assert uncertainty._splittable()  # SALib's delta is the one the parts follow


def test_an_estimate_that_might_fail_is_made() -> None:
    """A resample whose spread underflows (variance 0 in doubles) makes SALib's density
    estimate singular: it is not taken as one that cannot fail."""
    from SALib.analyze.delta import calc_delta

    m, grid = np.linspace(0, 30, 4), np.linspace(0.0, 1.0, 100)
    x = np.arange(30.0)
    tiny = np.zeros(30)
    tiny[-1] = 1e-200
    assert not uncertainty._estimable(tiny, x, m)
    with pytest.raises(np.linalg.LinAlgError):
        calc_delta(tiny, grid, x, m)
    fine = np.random.default_rng(1).random(30)
    assert uncertainty._estimable(fine, x, m)
    assert calc_delta(fine, grid, x, m) > 0
