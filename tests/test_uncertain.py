"""Uncertain parameters: priors against scipy's distributions, draws keyed to the
replication, the parameters dataset, composition with sweeps, and bad input."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

import sim
from sim.analysis.uncertainty import NOISE_FLOOR, ROW_FLOOR, explain, floor_columns, floor_of
from sim.config.priors import (
    BetaPrior,
    ChoicePrior,
    LognormalPrior,
    LogUniformPrior,
    NormalPrior,
    TriangularPrior,
    UniformPrior,
)
from sim.config.uncertain import prepare
from sim.errors import ConfigError
from sim.model.rng import Streams
from sim.run.seeds import replication_seed

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "data" / "small.toml"
U = np.array([1e-4, 0.01, 0.1, 0.3, 0.5, 0.77, 0.9, 0.999])


@pytest.mark.parametrize("prior,frozen", [
    (UniformPrior(low=2.0, high=5.0), stats.uniform(2.0, 3.0)),
    (LogUniformPrior(low=0.01, high=10.0), stats.loguniform(0.01, 10.0)),
    (NormalPrior(mean=1.0, sd=0.5), stats.norm(1.0, 0.5)),
    (NormalPrior(mean=1.0, sd=0.5, low=0.2, high=1.3),
     stats.truncnorm((0.2 - 1.0) / 0.5, (1.3 - 1.0) / 0.5, loc=1.0, scale=0.5)),
    (LognormalPrior(median=30.0, sigma=0.6), stats.lognorm(0.6, scale=30.0)),
    (TriangularPrior(low=1.0, mode=2.0, high=5.0), stats.triang(0.25, loc=1.0, scale=4.0)),
    (BetaPrior(a=2.0, b=5.0, low=0.1, high=0.9), stats.beta(2.0, 5.0, loc=0.1, scale=0.8)),
])
def test_prior_inverse_cdf_is_scipys(prior, frozen) -> None:  # noqa: ANN001
    got = np.array([prior.ppf(u) for u in U])
    np.testing.assert_allclose(got, frozen.ppf(U), rtol=1e-9, atol=1e-12)


def test_choice_follows_its_weights() -> None:
    p = ChoicePrior(values=["a", "b", "c"], weights=[1.0, 0.0, 3.0])
    assert [p.ppf(u) for u in (0.0, 0.2499, 0.25, 0.9999)] == ["a", "a", "c", "c"]


def _cfg(uncertain: str, *extra: str) -> sim.Config:
    return sim.load_config(SMALL, [f"uncertain={uncertain}", *extra])


REVIEWERS = '[{name="reviewers", path="authority.reviewers", integer=true, ' \
            'prior={dist="uniform", low=20, high=60}}]'


def test_draws_are_keyed_to_the_replication_and_the_entry() -> None:
    """Replication i draws the same value whatever else the config holds: another entry
    beside it, or another scenario (a different reviewer count elsewhere)."""
    one = prepare(_cfg(REVIEWERS))
    two = prepare(_cfg(REVIEWERS[:-1] + ', {name="approve", path="authority.decision.approve",'
                       ' prior={dist="beta", a=2, b=2, low=0.5, high=0.95}}]',
                       "authority.background.rate_per_day=2"))
    for i in range(5):
        seed = replication_seed(7, i)
        a, b = one.draw(Streams(seed)), two.draw(Streams(seed))
        assert a["reviewers"] == b["reviewers"]
        u = Streams(seed)("uncertain.reviewers").random()
        assert a["reviewers"] == round(20 + 40 * u)


def test_many_draws_follow_the_prior() -> None:
    """5,000 replications' draws of a uniform(20, 60): mean within 4 standard errors of 40,
    and the Kolmogorov-Smirnov test does not reject uniformity at 1%."""
    unc = prepare(_cfg('[{name="x", path="authority.review_time", scale=true, '
                       'prior={dist="uniform", low=20, high=60}}]'))
    x = np.array([unc.draw(Streams(replication_seed(3, i)))["x"] for i in range(5000)])
    assert abs(x.mean() - 40.0) < 4 * (40 / math.sqrt(12)) / math.sqrt(5000)
    assert stats.kstest(x, stats.uniform(20, 40).cdf).pvalue > 0.01


def test_a_replication_runs_with_its_drawn_values(tmp_path: Path) -> None:
    """The parameters dataset records each replication's values, and each replication's
    tables are those of the config with those values set by hand."""
    cfg = _cfg(REVIEWERS)
    res = sim.run_batch(cfg, tmp_path / "u", replications=3, workers=1)
    params = res.parameters
    assert list(params.columns) == ["replication", "reviewers"]
    assert list(params["replication"]) == [0, 1, 2]
    for i, v in zip(params["replication"], params["reviewers"], strict=True):
        by_hand = sim.load_config(SMALL, ["uncertain=[]", f"authority.reviewers={int(v)}"])
        rep = sim.simulate(by_hand, replication_seed(cfg.runs.seed, int(i)))
        stored = res.firms[res.firms["replication"] == i].drop(columns="replication")
        pd.testing.assert_frame_equal(stored.reset_index(drop=True), rep.firms,
                                      check_exact=True)


def test_posterior_rows_are_drawn_whole(tmp_path: Path) -> None:
    """Entries naming one sample draw one row: b is always 2a, and a row of weight 0 never
    comes up."""
    a = np.linspace(20, 60, 9)
    w = np.ones(9)
    w[4] = 0.0
    pq.write_table(pa.table({"a": a, "b": 2 * a, "weight": w}), tmp_path / "post.parquet")
    (tmp_path / "c.toml").write_text(f'''extends = "{SMALL}"
[[uncertain]]
name = "a"
path = "authority.review_time"
scale = true
prior = {{ dist = "posterior", file = "post.parquet" }}
[[uncertain]]
name = "b"
path = "authority.background.rate_per_day"
prior = {{ dist = "posterior", file = "post.parquet" }}
''')
    unc = prepare(sim.load_config(tmp_path / "c.toml"))
    draws = [unc.draw(Streams(replication_seed(1, i))) for i in range(400)]
    assert all(d["b"] == 2 * d["a"] for d in draws)
    seen = {d["a"] for d in draws}
    assert a[4] not in seen and len(seen) == 8


@pytest.mark.parametrize("table,needle", [
    ({"a": [1.0, None], "weight": [0.5, 0.5]}, "column 'a', row 1: not a finite number"),
    ({"a": [1.0, 2.0], "weight": [0.5, float("nan")]}, "column 'weight', row 1"),
    ({"a": ["x", "y"], "weight": [0.5, 0.5]}, "column 'a', row 0: not a finite number"),
    ({"a": pa.array([], pa.float64()), "weight": pa.array([], pa.float64())}, "holds no rows"),
])
def test_a_bad_sample_is_a_config_error(tmp_path: Path, table: dict, needle: str) -> None:
    pq.write_table(pa.table(table), tmp_path / "post.parquet")
    (tmp_path / "c.toml").write_text(f'extends = "{SMALL}"\n[[uncertain]]\nname = "a"\n'
                                     'path = "authority.reviewers"\ninteger = true\n'
                                     'prior = { dist = "posterior", file = "post.parquet" }\n')
    with pytest.raises(ConfigError, match=needle) as info:
        sim.load_config(tmp_path / "c.toml")
    assert info.value.path == "uncertain.0.prior.file"


def test_set_on_a_posterior_file_or_column_reads_the_sample_again(tmp_path: Path) -> None:
    """--set of a posterior prior's column reads that column of the same file; of its file,
    that file (relative to the working folder); the stored config then says what ran."""
    base = ROOT / "configs" / "baseline.toml"
    post = pq.read_table(ROOT / "configs" / "posterior" / "2025.parquet").to_pandas()
    cfg = sim.load_config(base, ['uncertain.1.prior.column="review_median"'])
    assert cfg.uncertain[1].prior.values == pytest.approx(post["review_median"].tolist())
    pq.write_table(pa.table({"exempt_share": [0.3, 0.4], "weight": [1.0, 1.0]}),
                   tmp_path / "mine.parquet")
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        cfg = sim.load_config(base, ['uncertain.0.prior.file="mine.parquet"'])
        assert cfg.uncertain[0].prior.values == [0.3, 0.4]
        with pytest.raises(ConfigError, match="no such file 'missing.parquet'"):
            sim.load_config(base, ['uncertain.0.prior.file="missing.parquet"'])
    finally:
        os.chdir(old)


def test_a_sweep_point_fixes_its_levers_and_keeps_the_rest_uncertain(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "s.toml").write_text(f'''extends = "{SMALL}"
[sweep]
method = "grid"
replications = 2
parameters = [{{ path = "authority.reviewers", values = [30, 50] }}]
[[uncertain]]
name = "reviewers"
path = "authority.reviewers"
integer = true
prior = {{ dist = "uniform", low = 20, high = 60 }}
[[uncertain]]
name = "rate"
path = "authority.background.rate_per_day"
prior = {{ dist = "uniform", low = 0.5, high = 1.5 }}
''')
    cfg = sim.load_config(tmp_path / "s.toml")
    with caplog.at_level("WARNING"):
        res = sim.run_sweep(cfg, tmp_path / "sw", workers=1)
    # the user is told which uncertain parameters the levers set (and so are not drawn)
    assert any("the sweep's levers set the uncertain parameter reviewers: its points do "
               "not draw it" in r.getMessage() for r in caplog.records)
    params = res.table("parameters")
    assert list(params.columns) == ["point", "replication", "rate"]  # reviewers: the sweep's
    # with common random numbers, replication i draws the same rate at every point
    by_point = params.pivot(index="replication", columns="point", values="rate")
    np.testing.assert_array_equal(by_point[0], by_point[1])
    auth = res.authority
    assert len(auth) == 4


@pytest.mark.parametrize("entry,message", [
    ('{name="p", path="authority.decision.approve", prior={dist="uniform", low=0.5, '
     'high=1.2}}', "uncertain.0.prior (p): the prior reaches 1.2"),
    ('{name="p", path="authority.nosuch", prior={dist="uniform", low=0.5, high=1}}',
     "uncertain.0.path: 'authority.nosuch'"),
    ('{name="p", path="authority.reviewers", prior={dist="uniform", low=5, high=9}}',
     "uncertain.0.integer"),
    ('{name="p", path="authority.decision.approve", prior={dist="normal", mean=0.5, sd=0.1}}',
     "the prior reaches"),
    ('{name="p", path="authority.review_time", prior={dist="uniform", low=1, high=2}}',
     "is a distribution"),
])
def test_bad_uncertain_entries_are_one_line_errors(entry: str, message: str,
                                                   tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "sim", "validate", str(SMALL), "--set",
                        f"uncertain=[{entry}]"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert message in r.stderr
    with pytest.raises(ConfigError):
        _cfg(f"[{entry}]")


@pytest.mark.slow  # tens of seconds of computing
def test_summary_tells_the_intervals_apart_and_names_what_explains_the_spread(
        tmp_path: Path) -> None:
    """With the auto firms' buffers uncertain (x0.5 to x2), the buffer dominates auto's
    spread: the strongest rank correlation of the three, and negative (more buffer, less
    shortfall). The delta index needs the sample: at 40 replications its 95% half-width is
    ~0.09 and the two indices overlap; at 160 it is ~0.05 (buffer ~0.26, rate ~0.05)."""
    buffers = ('{name="buffer", path=["firms.us_auto_ev.ordering.target_cover_days", '
               '"firms.us_auto_ev.initial_cover_days"], scale=true, '
               'prior={dist="uniform", low=0.5, high=2.0}}')
    noise = ('{name="rate", path="authority.background.rate_per_day", '
             'prior={dist="uniform", low=0.9, high=1.1}}')
    cfg = _cfg(f"[{buffers}, {noise}]")
    res = sim.Results(sim.run_batch(cfg, tmp_path / "u", replications=160, workers=2).path)
    text = sim.api.Results(res.path).text()
    assert "2 uncertain parameters drawn in each" in text
    assert "95% CI of the mean: Monte Carlo error" in text and "P5-P95" in text
    exp = pd.read_csv(tmp_path / "u" / "uncertainty.csv")
    auto = exp[(exp["sector"] == "auto")].set_index("parameter")
    assert auto.loc["buffer", "spearman"] < -0.5
    assert abs(auto.loc["buffer", "spearman"]) > abs(auto.loc["rate", "spearman"])
    gap = auto.loc["buffer", "delta"] - auto.loc["rate", "delta"]
    assert gap > auto.loc["buffer", "delta_conf"] + auto.loc["rate", "delta_conf"]
    # a random column is the floor: the buffer stands above it and is listed; the rate
    # (background flow +-10%, no effect to speak of) does not and is not
    floor = auto.loc[NOISE_FLOOR]
    assert auto.loc["buffer", "delta"] - auto.loc["buffer", "delta_conf"] > \
        floor["delta"] + floor["delta_conf"]
    listed = text[text.index("what explains"):].splitlines()[1]
    assert listed.split()[:2] == ["auto", "buffer"]


def test_summary_says_when_delta_cannot_be_had(tmp_path: Path) -> None:
    """Below 30 replications delta is not estimated, and the summary says so (rather than
    'none stands above the noise floor')."""
    cfg = _cfg(REVIEWERS)
    res = sim.run_batch(cfg, tmp_path / "u", replications=4, workers=1)
    text = sim.api.Results(res.path).text()
    block = text[text.index("what explains"):].split("\n\n")[0]
    assert "delta needs at least 30 replications" in block
    assert "noise floor" not in block


@pytest.mark.slow  # tens of seconds of computing
def test_posterior_rows_get_their_own_floor() -> None:
    """Parameters drawn as whole rows repeat together: their floor column is constant
    within each row, the independent one is not; every row of the result is finite."""
    rng = np.random.default_rng(1)
    row = rng.integers(0, 10, 120)
    params = pd.DataFrame({"replication": np.arange(120), "a": row * 1.0, "b": row * 2.0,
                           "c": rng.random(120)})
    y = row + rng.random(120)  # driven by the row, i.e. by a and b
    sectors = pd.DataFrame({"replication": np.arange(120), "sector": "auto",
                            "shortfall_frac": y})
    exp = explain(params, sectors, seed=3).set_index("parameter")
    assert {NOISE_FLOOR, ROW_FLOOR} <= set(exp.index)
    assert floor_of(params, "a") == ROW_FLOOR and floor_of(params, "c") == NOISE_FLOOR
    floors = floor_columns(params, ["a", "b", "c"], 3)
    assert pd.Series(floors[ROW_FLOOR]).groupby(row).nunique().eq(1).all()
    assert len(set(floors[NOISE_FLOOR])) == 120
    # a per-row random column scores more than an independent one: rows repeat
    assert exp.loc[ROW_FLOOR, "delta"] > exp.loc[NOISE_FLOOR, "delta"]


@pytest.mark.slow  # tens of seconds of computing
def test_explain_survives_an_almost_constant_outcome() -> None:
    """A sector that loses nothing in all but three of 200 replications (a scenario without
    controls): SALib's density estimate is singular there, so those deltas are left out
    (NaN) rather than failing the run's summary; a parameter that does drive the outcome
    elsewhere is still scored."""
    rng = np.random.default_rng(5)
    n = 200
    a, b = rng.random(n), rng.random(n)
    params = pd.DataFrame({"replication": range(n), "a": a, "b": b})
    flat = np.zeros(n)
    flat[:3] = [0.01, 0.02, 0.01]
    sectors = pd.DataFrame({"replication": np.tile(range(n), 2),
                            "sector": ["defence"] * n + ["auto"] * n,
                            "shortfall_frac": np.concatenate([flat, a + 0.1 * b])})
    out = explain(params, sectors, seed=1)
    auto = out[(out["sector"] == "auto") & (out["parameter"] == "a")]
    assert float(auto["delta"].iloc[0]) > 0.3
    assert len(out[out["sector"] == "defence"]) == 3  # a, b and the noise floor, kept as rows
