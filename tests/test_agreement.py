"""Two fits with different seeds: the agreement of their marginals within Monte Carlo
error (`rareshock calibrate --agree-with`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration.agreement import Z_AGREE, agreement, read_other
from sim.errors import ArgumentError


def _sample(seed: int, n: int = 4000, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(shift, 1.0, n), "b": rng.uniform(0, 1, n),
                         "weight": np.full(n, 1.0 / n)})


def test_two_samples_of_one_posterior_agree() -> None:
    t = agreement(_sample(1), _sample(2), ["a", "b"]).set_index("parameter")
    assert t["agree"].all()
    # MC error of a difference of two means of 4,000 independent N(0, 1): sqrt(2 / 4000)
    assert t.loc["a", "mc_error"] == pytest.approx(math.sqrt(2 / 4000), rel=0.05)
    assert t.loc["a", "ks_distance"] < 0.05


def test_a_shift_of_a_fifth_of_an_sd_is_caught() -> None:
    """0.2 sd apart with 4,000 draws each: z = 0.2 / sqrt(2 / 4000) = 8.9 > 3."""
    t = agreement(_sample(1), _sample(2, shift=0.2), ["a", "b"]).set_index("parameter")
    assert not t.loc["a", "agree"] and t.loc["b", "agree"]
    assert t.loc["a", "z"] == pytest.approx(0.2 / math.sqrt(2 / 4000), rel=0.25)
    assert abs(t.loc["a", "z"]) > Z_AGREE


def test_weights_count_by_their_effective_size() -> None:
    """Weights 1, 1, 2: ESS = 1 / (1/16 + 1/16 + 1/4) = 8/3 (Kish)."""
    a = pd.DataFrame({"a": [0.0, 1.0, 2.0], "weight": [1.0, 1.0, 2.0]})
    t = agreement(a, a, ["a"])
    assert t.attrs["ess_a"] == pytest.approx(8 / 3)
    assert t.loc[0, "difference"] == 0.0 and t.loc[0, "ks_distance"] == 0.0


def _folder(tmp: Path, seed: int, state: str = "complete") -> Path:
    tmp.mkdir()
    (tmp / "manifest.json").write_text(json.dumps({"kind": "calibration", "state": state,
                                                   "seed": seed}))
    _sample(seed).to_parquet(tmp / "posterior.parquet")
    return tmp


def test_the_other_fit_must_be_another_seed_of_the_same_parameters(tmp_path: Path) -> None:
    ok = _folder(tmp_path / "ok", 7)
    assert len(read_other(ok, ["a", "b"], 8)) == 4000
    with pytest.raises(ArgumentError, match="same seed"):
        read_other(ok, ["a", "b"], 7)
    with pytest.raises(ArgumentError, match="did not calibrate c"):
        read_other(ok, ["a", "c"], 8)
    with pytest.raises(ArgumentError, match="not a complete calibration"):
        read_other(_folder(tmp_path / "run", 7, "running"), ["a"], 8)
    with pytest.raises(ArgumentError, match="no readable manifest"):
        read_other(tmp_path / "none", ["a"], 8)
