"""Proper scores (sim/calibration/scores.py) against hand calculations, a closed form and
a well-kept implementation (scoringrules)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.calibration.scores import (
    crps_ensemble,
    crps_interval,
    interval_score,
    score_table,
    skill,
)


def test_crps_of_three_members_by_hand() -> None:
    """Sample {1, 2, 4}, y = 3: E|X - y| = (2 + 1 + 1) / 3 = 4/3; the pairs' |differences|
    over all 9 ordered pairs sum to 2 (1 + 3 + 2) = 12, so E|X - X'| / 2 = 12 / 9 / 2 =
    2/3. CRPS = 4/3 - 2/3 = 2/3."""
    assert crps_ensemble([4.0, 1.0, 2.0], 3.0) == pytest.approx(2.0 / 3.0)
    # the same integral directly: F = 0, 1/3, 2/3, 1 on (-inf,1), [1,2), [2,4), [4,inf):
    # int_1^2 (1/3)^2 + int_2^3 (2/3)^2 + int_3^4 (1/3)^2 = 1/9 + 4/9 + 1/9 = 2/3
    # a point forecast scores its absolute error
    assert crps_ensemble([2.5], 3.0) == pytest.approx(0.5)
    assert crps_ensemble([3.0, 3.0], 3.0) == 0.0


def test_crps_of_a_normal_sample_against_the_closed_form() -> None:
    """CRPS(N(0,1), y) = y (2 Phi(y) - 1) + 2 phi(y) - 1/sqrt(pi) (Gneiting & Raftery
    2007); the empirical CRPS of 200,000 standard normal draws is within 0.005 of it."""
    from scipy.stats import norm

    x = np.random.default_rng(np.random.SeedSequence(20250404)).standard_normal(200_000)
    for y in (-1.5, 0.0, 0.7, 3.0):
        exact = y * (2 * norm.cdf(y) - 1) + 2 * norm.pdf(y) - 1 / math.sqrt(math.pi)
        assert crps_ensemble(x, y) == pytest.approx(exact, abs=5e-3)
    assert crps_ensemble(x, 0.0) == pytest.approx((math.sqrt(2) - 1) / math.sqrt(math.pi),
                                                  abs=5e-3)


def test_crps_agrees_with_scoringrules() -> None:
    sr = pytest.importorskip("scoringrules")
    x = np.random.default_rng(np.random.SeedSequence(7)).lognormal(0.0, 0.5, 57)
    for y in (0.2, 1.0, 1.3, 4.0):
        assert crps_ensemble(x, y) == pytest.approx(float(sr.crps_ensemble(y, x)), rel=1e-12)


def test_crps_against_a_reported_range_by_hand() -> None:
    """Sample {1, 2, 4}, range [1.5, 3]: F^2 below 1.5 is (1/3)^2 x 0.5 = 1/18; (1 - F)^2
    above 3 is (1/3)^2 x 1 = 1/9 (F = 2/3 on [2, 4)): 1/18 + 2/18 = 1/6. A sample inside
    the range scores 0; a point range is the ordinary CRPS."""
    assert crps_interval([1.0, 2.0, 4.0], 1.5, 3.0) == pytest.approx(1.0 / 6.0)
    assert crps_interval([7.0, 10.0, 21.0], 7.0, 21.0) == 0.0
    assert crps_interval([1.0, 2.0, 4.0], 3.0, 3.0) == pytest.approx(2.0 / 3.0)
    # all of it above the range: the distances past the top, as for a point at the top
    assert crps_interval([30.0, 40.0], 7.0, 21.0) == pytest.approx(crps_ensemble([30.0, 40.0],
                                                                                 21.0))


def test_interval_score_by_hand() -> None:
    """[2, 5] at 90%: width 3; y = 6 adds (2 / 0.1) x 1 = 20; y = 1.5 adds 20 x 0.5 = 10."""
    assert interval_score(2.0, 5.0, 3.0) == 3.0
    assert interval_score(2.0, 5.0, 6.0) == pytest.approx(23.0)
    assert interval_score(2.0, 5.0, 1.5) == pytest.approx(13.0)
    assert interval_score(2.0, 5.0, 6.0, alpha=0.5) == pytest.approx(7.0)


def _table(sim_of: dict[str, float], observed: dict[str, float]) -> pd.DataFrame:
    """One series; a point forecast per month (a sample of one)."""
    rows = []
    for m, o in observed.items():
        x = sim_of[m]
        rows.append({"series": "total", "month": m, "observed": o, "sim_p5": x,
                     "sim_p50": x, "sim_p95": x, "crps": crps_ensemble([x], o),
                     "interval_score": interval_score(x, x, o)})
    return pd.DataFrame(rows)


OBSERVED = {"2025-07": 1.1, "2025-08": 1.2, "2025-09": 1.3, "2025-10": 1.1}
FIT = ["2025-07", "2025-08"]


def test_skill_of_a_perfect_forecast_is_one_and_of_persistence_zero() -> None:
    perfect = score_table(_table(OBSERVED, OBSERVED), FIT).set_index(["sample", "series"])
    out = perfect.loc[("out", "total")]
    assert out["crps"] == 0.0
    assert out["skill_vs_persistence"] == 1.0 and out["skill_vs_2024_level"] == 1.0
    # persistence of August (1.2) for September and October: CRPS |1.2 - 1.3| and
    # |1.2 - 1.1|, mean 0.1; the 2024 level (1.0): 0.3 and 0.1, mean 0.2
    assert out["crps_persistence"] == pytest.approx(0.1)
    assert out["crps_2024_level"] == pytest.approx(0.2)
    persist = score_table(_table({m: 1.2 for m in OBSERVED}, OBSERVED), FIT).set_index(
        ["sample", "series"]).loc[("out", "total")]
    assert persist["skill_vs_persistence"] == pytest.approx(0.0)
    assert persist["skill_vs_2024_level"] == pytest.approx(0.5)  # 1 - 0.1 / 0.2
    # in sample: no persistence forecast; the level's CRPS |1.1 - 1| and |1.2 - 1|
    inside = perfect.loc[("in", "total")]
    assert math.isnan(inside["skill_vs_persistence"])
    assert inside["crps_2024_level"] == pytest.approx(0.15)
    assert skill(0.3, 0.0) != skill(0.3, 0.0)  # NaN: no reference to beat


def test_above_median_and_band_width_by_hand() -> None:
    """Medians 1.0 everywhere: July (1.1), August (1.2), September (1.3) and October (1.1)
    lie above it, 2 of 2 in each sample. Bands [0.9, 1.1]: width 0.2 over the observed
    value, medians of 0.2/1.1, 0.2/1.2 = 0.1742 in sample."""
    t = _table({m: 1.0 for m in OBSERVED}, OBSERVED)
    t["sim_p5"], t["sim_p95"] = 0.9, 1.1
    s = score_table(t, FIT).set_index(["sample", "series"])
    assert s.loc[("in", "total"), "above_median"] == "2 of 2"
    assert s.loc[("all", "both"), "above_median"] == "4 of 4"
    assert s.loc[("in", "total"), "band_over_observed"] == pytest.approx(
        (0.2 / 1.1 + 0.2 / 1.2) / 2)
