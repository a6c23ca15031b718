from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from sim.config.distributions import (
    Constant,
    Distribution,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Triangular,
    Uniform,
    nonnegative,
    scaled,
)

TA: TypeAdapter[Any] = TypeAdapter(Distribution)
N = 200_000

SPECS: list[dict[str, Any]] = [
    {"dist": "exponential", "mean": 4.0},
    {"dist": "lognormal", "median": 20.0, "sigma": 0.6},
    {"dist": "triangular", "low": 10.0, "mode": 15.0, "high": 40.0},
    {"dist": "uniform", "low": -2.0, "high": 8.0},
    {"dist": "gamma", "mean": 30.0, "cv": 0.4},
    {"dist": "constant", "value": 3.5},
    {"dist": "empirical", "values": [1.0, 2.0, 2.0, 10.0]},
]

EXPECTED = [
    4.0,
    20.0 * math.exp(0.6**2 / 2),
    (10.0 + 15.0 + 40.0) / 3,
    3.0,
    30.0,
    3.5,
    15.0 / 4,
]


@pytest.mark.parametrize(("spec", "expected"), list(zip(SPECS, EXPECTED, strict=True)))
def test_sample_mean_matches_expected(spec: dict[str, Any], expected: float) -> None:
    d = TA.validate_python(spec)
    assert d.expected == pytest.approx(expected, rel=1e-12)
    x = d.sample(np.random.default_rng(2025), N)
    assert x.dtype == np.float64 and x.shape == (N,)
    se = x.std(ddof=1) / math.sqrt(N)
    if se == 0:
        assert np.all(x == expected)
    else:
        assert abs(x.mean() - expected) < 4 * se


def test_gamma_cv_and_lognormal_median() -> None:
    rng = np.random.default_rng(1)
    g = Gamma(mean=30.0, cv=0.4).sample(rng, N)
    assert g.std() / g.mean() == pytest.approx(0.4, rel=0.02)
    ln = Lognormal(median=20.0, sigma=0.6).sample(rng, N)
    assert np.median(ln) == pytest.approx(20.0, rel=0.02)


def test_toml_inline_table_roundtrip() -> None:
    import tomllib

    doc = tomllib.loads('review = {dist = "exponential", mean = 1.0}')
    d = TA.validate_python(doc["review"])
    assert d == Exponential(mean=1.0)
    assert TA.validate_python(d.model_dump()) == d


def test_frozen_and_hashable() -> None:
    d = TA.validate_python(SPECS[-1])
    with pytest.raises(ValidationError):
        d.values = (1.0,)
    assert hash(d) == hash(Empirical(values=[1.0, 2.0, 2.0, 10.0]))


def _errors(spec: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as ei:
        TA.validate_python(spec)
    return ei.value.errors()


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        ({"dist": "triangular", "low": 3, "mode": 2, "high": 5}, "mode", "mode 2 is below low 3"),
        ({"dist": "triangular", "low": 1, "mode": 6, "high": 5}, "high", "below mode"),
        ({"dist": "triangular", "low": 1, "mode": 1, "high": 1}, "high", "constant"),
        ({"dist": "uniform", "low": 2, "high": 2}, "high", "above low"),
        ({"dist": "uniform", "low": 3, "high": 2}, "high", "above low"),
        ({"dist": "exponential", "mean": -1.0}, "mean", "greater than 0"),
        ({"dist": "gamma", "mean": 1.0, "cv": 0.0}, "cv", "greater than 0"),
        ({"dist": "lognormal", "median": 1.0, "sigma": -0.1}, "sigma", "greater than or equal"),
        ({"dist": "exponential", "mean": math.nan}, "mean", "finite"),
        ({"dist": "uniform", "low": 0.0, "high": math.inf}, "high", "finite"),
        ({"dist": "constant", "value": -math.inf}, "value", "finite"),
        ({"dist": "empirical", "values": [1.0, math.nan]}, "values", "finite"),
        ({"dist": "empirical", "values": []}, "values", "at least 1"),
        ({"dist": "exponential", "mean": 1.0, "rate": 2.0}, "rate", "Extra inputs"),
        ({"dist": "exponential"}, "mean", "required"),
    ],
)
def test_invalid_specs_name_the_field(spec: dict[str, Any], field: str, words: str) -> None:
    errs = _errors(spec)
    assert any(field in e["loc"] and words in e["msg"] for e in errs), errs


def test_unknown_dist_name() -> None:
    errs = _errors({"dist": "weibull", "shape": 2.0})
    assert errs[0]["type"] == "union_tag_invalid"
    assert "weibull" in errs[0]["msg"] and "dist" in errs[0]["msg"]
    errs = _errors({"mean": 1.0})
    assert errs[0]["type"] == "union_tag_not_found"


def test_boundary_values_accepted() -> None:
    assert TA.validate_python({"dist": "lognormal", "median": 2.0, "sigma": 0.0}).expected == 2.0
    t = TA.validate_python({"dist": "triangular", "low": 1, "mode": 1, "high": 2})
    assert t.expected == pytest.approx(4 / 3)
    TA.validate_python({"dist": "triangular", "low": 1, "mode": 2, "high": 2})
    assert (
        TA.validate_python({"dist": "constant", "value": -1})
        .sample(np.random.default_rng(0), 3)
        .tolist()
        == [-1.0] * 3
    )


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_scaled_multiplies_samples(spec: dict[str, Any], factor: float) -> None:
    d = TA.validate_python(spec)
    s = scaled(d, factor)
    assert type(s) is type(d) and isinstance(s, BaseModel)
    assert s.expected == pytest.approx(d.expected * factor)
    a = d.sample(np.random.default_rng(3), 1000) * factor
    b = s.sample(np.random.default_rng(3), 1000)
    np.testing.assert_allclose(b, a, rtol=1e-12)


def test_scaled_explicit_params() -> None:
    assert scaled(Exponential(mean=2.0), 3) == Exponential(mean=6.0)
    assert scaled(Lognormal(median=2.0, sigma=0.5), 3) == Lognormal(median=6.0, sigma=0.5)
    assert scaled(Triangular(low=1, mode=2, high=4), 2) == Triangular(low=2, mode=4, high=8)
    assert scaled(Uniform(low=1, high=4), 2) == Uniform(low=2, high=8)
    assert scaled(Gamma(mean=2.0, cv=0.5), 3) == Gamma(mean=6.0, cv=0.5)
    assert scaled(Constant(value=2.0), 3) == Constant(value=6.0)
    assert scaled(Empirical(values=[1, 2]), 3) == Empirical(values=[3, 6])


def test_scaled_rejects_non_finite_factor() -> None:
    with pytest.raises(ValueError):
        scaled(Exponential(mean=2.0), math.nan)


@pytest.mark.parametrize(
    ("d", "ok"),
    [
        (Exponential(mean=1.0), True),
        (Lognormal(median=1.0, sigma=1.0), True),
        (Gamma(mean=1.0, cv=1.0), True),
        (Triangular(low=0, mode=1, high=2), True),
        (Triangular(low=-1, mode=1, high=2), False),
        (Uniform(low=0, high=1), True),
        (Uniform(low=-0.5, high=1), False),
        (Constant(value=0.0), True),
        (Constant(value=-1.0), False),
        (Empirical(values=[0.0, 3.0]), True),
        (Empirical(values=[2.0, -3.0]), False),
    ],
)
def test_nonnegative(d: Any, ok: bool) -> None:
    assert nonnegative(d) is ok
