"""Analysis findings, each as a class: the spread analysis sees one case per point and
replication; every interval stays inside the range its mean can take (Wilson for shares,
t cut at 0 for amounts), checked against hand-computed values; tiers are listed 0 first;
uncertain parameters carry a one-line gloss; and each long phase of a command says that
it starts (or nothing with --quiet)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.analysis.stats import (
    COLUMNS,
    INTERVALS,
    SHARE_METRICS,
    describe,
    interval_of,
    mean_interval,
    summary_rows,
    wilson,
)
from sim.analysis.uncertainty import NOISE_FLOOR, explain
from sim.cli import main
from sim.config import config_from_dict, read_toml_tree

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "data" / "small.toml"  # baseline world, 240 days, a few firms
UNCERTAIN = ('[{name="reviewers", path="authority.reviewers", integer=true, '
             'description="licence reviewers at work", '
             'prior={dist="uniform", low=20, high=60}}, '
             '{name="rate", path="authority.background.rate_per_day", '
             'prior={dist="uniform", low=0.5, high=1.5}}]')


# =========================================================================== spread analysis


def _sweep_frames(points: int, reps: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parameters per (point, replication) and an outcome that is a known function of
    them; the outcome rows shuffled, so only a join on both keys pairs them right."""
    rng = np.random.default_rng(seed)
    keys = pd.MultiIndex.from_product([range(points), range(reps)],
                                      names=["point", "replication"]).to_frame(index=False)
    params = keys.assign(a=rng.random(len(keys)), b=rng.random(len(keys)))
    y = params["a"] - 0.1 * params["b"]
    sectors = keys.assign(sector="auto", shortfall_frac=y).sample(frac=1, random_state=1)
    return params, sectors


@pytest.mark.parametrize("points,reps", [(1, 25), (7, 4), (14, 2)])  # < 30: no delta
def test_spread_analysis_sees_one_case_per_point_and_replication(points: int,
                                                                 reps: int) -> None:
    """n is points x replications (not points^2 x replications), and the rank
    correlation is that of the matched pairs: a drives the outcome, so rho(a) is the
    rank correlation of a with a - 0.1 b computed directly."""
    params, sectors = _sweep_frames(points, reps)
    exp = explain(params, sectors, seed=2).set_index("parameter")
    assert (exp["n"] == points * reps).all()
    want = stats.spearmanr(params["a"], params["a"] - 0.1 * params["b"]).statistic
    assert exp.loc["a", "spearman"] == pytest.approx(want, rel=1e-12)
    assert exp.loc["a", "spearman"] > 0.9  # a matched join; a crossed one scatters it


def test_spread_analysis_of_a_run_is_keyed_on_the_replication() -> None:
    """A run (no `point` column): outcome rows in another order still pair with their own
    replication's draws; the result is that of the pairs aligned by hand."""
    params, sectors = _sweep_frames(1, 25)
    params, sectors = params.drop(columns="point"), sectors.drop(columns="point")
    exp = explain(params, sectors, seed=4).set_index("parameter")
    aligned = sectors.set_index("replication").loc[params["replication"], "shortfall_frac"]
    for name in ("a", "b"):
        want = stats.spearmanr(params[name], aligned.to_numpy()).statistic
        assert exp.loc[name, "spearman"] == pytest.approx(want, rel=1e-12)
    assert (exp["n"] == 25).all()
    assert set(exp.index) == {"a", "b", NOISE_FLOOR}


def test_spread_analysis_refuses_outcomes_without_the_point() -> None:
    params, sectors = _sweep_frames(3, 4)
    with pytest.raises(ValueError, match="point"):
        explain(params, sectors.drop(columns="point"))


def test_sweep_uncertainty_csv_has_one_case_per_point_and_replication(
        tmp_path: Path) -> None:
    data = read_toml_tree(SMALL)
    data["uncertain"] = [
        {"name": "rate", "path": "authority.background.rate_per_day",
         "prior": {"dist": "uniform", "low": 0.5, "high": 1.5}}]
    data["sweep"] = {"method": "grid", "replications": 3, "parameters": [
        {"path": "authority.reviewers", "values": [30, 45, 60]}]}
    cfg = config_from_dict(data, str(SMALL))
    res = sim.run_sweep(cfg, tmp_path / "s", workers=1)
    exp = pd.read_csv(res.path / "uncertainty.csv")
    assert len(exp) and (exp["n"] == 3 * 3).all()
    cases = res.cases
    assert len(cases) == 3 * 3 * cases["sector"].nunique()


# =========================================================================== intervals

Z = stats.norm.ppf(0.975)


def test_wilson_one_of_three_by_hand() -> None:
    """1 success in 3: centre (1/3 + z^2/6) / (1 + z^2/3), half-width
    z sqrt(2/27 + z^2/36) / (1 + z^2/3) -> [0.0615, 0.7923]; scipy agrees."""
    z2 = Z * Z
    centre = (1 / 3 + z2 / 6) / (1 + z2 / 3)
    half = Z * math.sqrt(2 / 27 + z2 / 36) / (1 + z2 / 3)
    lo, hi = wilson(1 / 3, 3, Z)
    assert (lo, hi) == pytest.approx((centre - half, centre + half), rel=1e-12)
    assert (lo, hi) == pytest.approx((0.06149, 0.79234), abs=1e-5)
    ci = stats.binomtest(1, 3).proportion_ci(method="wilson")
    assert (lo, hi) == pytest.approx((ci.low, ci.high), rel=1e-9)


@pytest.mark.parametrize("k,n", [(0, 5), (5, 5), (2, 7), (19, 20), (1, 200)])
def test_p_positive_interval_is_wilsons(k: int, n: int) -> None:
    d = describe([1.0] * k + [0.0] * (n - k))
    ci = stats.binomtest(k, n).proportion_ci(method="wilson")
    assert d["p_positive"] == pytest.approx(k / n)
    assert (d["p_positive_low"], d["p_positive_high"]) == pytest.approx((ci.low, ci.high),
                                                                        abs=1e-12)


def test_share_interval_of_zero_one_values_by_hand() -> None:
    """Shares 1, 0, 0: p = 1/3, s^2 = 1/3, n_eff = p(1-p) / (s^2/n) = 2, quantile
    t(0.975, 2) = 4.3027: Wilson on 2 trials at that quantile."""
    p, n_eff, t = 1 / 3, 2.0, stats.t.ppf(0.975, 2)
    centre = (p + t * t / (2 * n_eff)) / (1 + t * t / n_eff)
    half = t * math.sqrt(p * (1 - p) / n_eff + t * t / (4 * n_eff ** 2)) / (1 + t * t / n_eff)
    d = describe([1.0, 0.0, 0.0], "wilson")
    assert (d["ci_low"], d["ci_high"]) == pytest.approx((centre - half, centre + half),
                                                        rel=1e-12)
    assert 0 < d["ci_low"] < 0.02 and 0.95 < d["ci_high"] < 1  # the t interval: [-1.1, 1.8]
    assert d["interval"] == "wilson"


def test_share_interval_approaches_t_for_many_tight_values() -> None:
    x = np.random.default_rng(3).normal(0.4, 0.01, 2000).clip(0, 1)
    lo, hi, _ = mean_interval(x, "wilson")
    half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    assert (lo, hi) == pytest.approx((x.mean() - half, x.mean() + half), abs=2e-6)


SAMPLES = [
    [0.0, 0.9], [1.0, 0.0], [0.05, 0.6], [0.0, 0.0, 1.0], [0.99, 1.0], [0.0, 0.001],
    [0.0, 0.0, 0.0, 0.7], [1.0, 1.0, 1.0, 0.2], [0.3, 0.3, 0.3], [0.0, 1.0, 0.0, 1.0],
]


@pytest.mark.parametrize("x", SAMPLES)
def test_share_interval_never_leaves_zero_one(x: list[float]) -> None:
    d = describe(x, "wilson")
    assert 0.0 <= d["ci_low"] <= d["mean"] <= d["ci_high"] <= 1.0
    assert 0.0 <= d["p_positive_low"] <= d["p_positive"] <= d["p_positive_high"] <= 1.0


@pytest.mark.parametrize("x", [[0.0, 50.0], [1.0, 1.0, 20.0], [0.0, 0.0, 0.0, 3.0],
                               [0.4, 30.0], [2.0, 2.0]])
def test_amount_interval_never_goes_below_zero(x: list[float]) -> None:
    d = describe(x, "t>=0")
    half = stats.t.ppf(0.975, len(x) - 1) * np.std(x, ddof=1) / math.sqrt(len(x))
    assert d["ci_low"] == pytest.approx(max(0.0, np.mean(x) - half), abs=1e-12)
    assert d["ci_high"] == pytest.approx(np.mean(x) + half, rel=1e-12)
    assert d["ci_low"] >= 0.0


def test_out_of_range_values_fall_back_to_t_and_say_so() -> None:
    assert mean_interval(np.array([-0.2, 0.5, 1.3]), "wilson")[2] == "t"
    assert mean_interval(np.array([-1.0, 3.0]), "t>=0")[2] == "t"
    assert describe([-1.0, 3.0], "t>=0")["ci_low"] < 0  # an honest t, not cut


def test_every_summary_metric_has_a_kind() -> None:
    assert {"shortfall_frac", "approval_share", "over_limit_share",
            "utilisation"} == SHARE_METRICS
    assert interval_of("queue_wait_days") == "t>=0"
    assert set(INTERVALS) == {"wilson", "t>=0", "t"}


def test_no_interval_leaves_its_range_in_a_small_run(tmp_path: Path) -> None:
    """Three replications of the small world with uncertain parameters: every share's
    interval inside [0, 1], every amount's at or above 0, each row naming its kind; tiers
    0 first."""
    cfg = sim.load_config(SMALL, [f"uncertain={UNCERTAIN}"])
    res = sim.run_batch(cfg, tmp_path / "r", replications=3, workers=1)
    s = pd.read_csv(res.path / "summary.csv")
    assert list(s.columns) == COLUMNS
    shares = s["metric"].isin(SHARE_METRICS)
    assert (s.loc[shares, "interval"] == "wilson").all()
    assert (s.loc[~shares, "interval"] == "t>=0").all()
    ok = s.dropna(subset=["ci_low"])
    assert (ok["ci_low"] >= 0).all()
    assert (ok.loc[ok["metric"].isin(SHARE_METRICS), "ci_high"] <= 1).all()
    assert ((ok["ci_low"] <= ok["mean"] + 1e-12) & (ok["mean"] <= ok["ci_high"] + 1e-12)).all()
    tiers = s[s["level"] == "tier"]["name"].astype(int).tolist()
    assert tiers == sorted(tiers) and tiers[0] == 0


def test_tiers_are_listed_zero_first() -> None:
    firms = pd.DataFrame({
        "replication": [0, 0, 0, 1, 1, 1], "firm": ["m", "s", "r"] * 2,
        "sector": ["auto"] * 6, "tier": [0, 2, 1] * 2,
        "value_lost": [1.0, 0.0, 2.0, 0.5, 1.0, 0.0], "planned_value": [10.0] * 6,
        **{m: [0.1] * 6 for m in ("shortfall_frac", "shortfall_units", "tts_days",
                                  "ttr_days", "downtime_days")}})
    s = pd.DataFrame(summary_rows({c: v.to_numpy() for c, v in firms.items()},
                                  {"replication": np.array([0, 1])}), columns=COLUMNS)
    assert s[s["level"] == "tier"]["name"].drop_duplicates().tolist() == ["0", "1", "2"]


# =========================================================================== glossary


def test_summary_glosses_each_parameter_and_explains_rho(tmp_path: Path) -> None:
    """A listed parameter shows its description under its name, one without shows none,
    and the sign of rho is explained (the analysis table given: what is listed is
    `top_explainers`' business, tested with the analysis)."""
    cfg = sim.load_config(SMALL, [f"uncertain={UNCERTAIN}"])
    assert cfg.uncertain[0].description == "licence reviewers at work"
    assert cfg.uncertain[1].description is None
    res = sim.Results(sim.run_batch(cfg, tmp_path / "r", replications=4, workers=1).path)
    rows = [(p, s_, d) for s_ in ("auto", "defence", "tech")
            for p, d in (("reviewers", 0.5), ("rate", 0.4), (NOISE_FLOOR, 0.05))]
    res.__dict__["_explained"] = pd.DataFrame([
        {"parameter": p, "sector": s_, "metric": "shortfall_frac", "n": 40, "spearman": -0.6,
         "delta": d, "delta_conf": 0.02, "S1": d, "S1_conf": 0.02} for p, s_, d in rows])
    text = res.text()
    block = text[text.index("what explains"):].splitlines()
    at = next(i for i, ln in enumerate(block) if ln.split()[:2] == ["auto", "reviewers"])
    assert block[at + 1].strip() == "licence reviewers at work"
    assert block[at + 2].split()[0] == "rate"  # no description, no gloss line
    assert "rho > 0: replications that drew a higher value of the parameter lost more" \
        in " ".join(block)


def test_bundled_configs_gloss_every_uncertain_parameter() -> None:
    for path in ("configs/baseline.toml", "configs/calibration/2025.toml",
                 "configs/posterior/2025.toml"):
        cfg = sim.load_config(ROOT / path)
        missing = [u.name for u in cfg.uncertain if not u.description]
        assert not missing, f"{path}: {missing}"


# =========================================================================== progress


@pytest.mark.slow  # seconds of computing: make test runs it, test-fast does not
def test_each_long_phase_says_it_starts(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'extends = "{SMALL.as_posix()}"\nuncertain = {UNCERTAIN}\n')
    assert main(["run", str(cfg), "-n", "2", "-j", "1", "--out", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err
    for needle in ("computing what explains the spread (uncertainty.csv)",
                   "drawing plots into", "report.html..."):
        assert needle in err, err
    assert main(["run", str(cfg), "-n", "2", "-j", "1", "--out", str(tmp_path / "q"),
                 "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    # no step is announced before its input is checked: bad input stays one line
    (tmp_path / "empty").mkdir()
    for folder in ("empty", "nowhere"):
        for command in ("report", "plot", "summary"):
            assert main([command, str(tmp_path / folder)]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and folder in err, err


def test_loop_progress_lines_and_silence() -> None:
    """A loop says how far it has got (a line per step when every step is late enough),
    and says nothing when phases are not shown; the items pass through unchanged."""
    import io

    from sim.run.phases import phase, show_phases, steps

    buf = io.StringIO()
    show_phases(True, buf, prefix="x: ")
    try:
        assert list(steps(range(3), "things", every=0.0)) == [0, 1, 2]
        phase("starting")
        assert buf.getvalue().splitlines() == [
            "x:   things: 1 of 3 done", "x:   things: 2 of 3 done", "x:   things: 3 of 3 done",
            "x: starting"]
        show_phases(False)
        assert list(steps(iter("ab"), "letters", every=0.0)) == ["a", "b"]
        phase("unheard")
        assert buf.getvalue().count("\n") == 4
    finally:
        show_phases(False)
