"""Calibration (`rareshock calibrate`): targets against the observations file by hand, the
summary statistics against the back-test's own computation, recovery of a known value
from synthetic observations, reproducibility whatever the number of workers, the files
it writes, and bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.calibration.abc import calibrated
from sim.calibration.backtest import export_ratios
from sim.calibration.posterior import export, weighted_quantiles
from sim.calibration.targets import fit_targets, horizon_for, statistics
from sim.errors import ConfigError, FolderError

pytest.importorskip("pyabc")

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.toml"
CALIBRATION = ROOT / "configs" / "calibration" / "2025.toml"


def rareshock(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


# --------------------------------------------------------------------------- targets


def test_targets_are_the_observations_by_hand() -> None:
    cfg = sim.load_config(CALIBRATION)
    targets = {t.key: t for t in fit_targets(cfg)}
    per_day_2024 = 58152 / 366  # configs/observed/2025.toml: the total's reference level
    assert targets["exports total 2025-05"].observed == pytest.approx(1238 / 31 / per_day_2024)
    # the level before the controls (January-March, whole months before 4 April) is the
    # reference level itself: 2024's
    assert targets["level total"].observed == 1.0
    assert targets["level US"].until_day == 31 + 28 + 31
    assert targets["exports US 2025-06"].observed == pytest.approx(353 / 30 / (7416.25 / 366))
    # stoppages: days since 2025-01-01; approvals: the share, due by the end of the day
    assert targets["stoppage jp_automaker"].observed == 31 + 28 + 31 + 30 + 25  # 26 May
    assert targets["approved EU 2025-06-04"].observed == 0.25
    assert targets["approved EU 2025-06-04"].until_day == 154 + 1  # 4 June is day 154
    # held-out months are not targets; 9 export ratios (Apr-Aug total, May-Aug US)
    assert not any("2025-09" in k or "2025-01" in k for k in targets)
    assert sum(t.group == "exports" for t in targets.values()) == 9
    # downtimes: the reported range's midpoint, in 2025 (FACTS §3: Ford 7-21, Suzuki 18-21)
    assert targets["downtime us_auto_ev"].observed == 14.0
    assert targets["downtime jp_automaker"].observed == 19.5
    assert targets["downtime jp_automaker"].until_day == 365.0
    # the simulations run to the end of August (the last export target) without the
    # downtimes, to the end of 2025 with them
    rest = [t for t in targets.values() if t.group != "downtimes"]
    assert horizon_for(rest) == 243
    assert horizon_for(list(targets.values())) == 365


def test_statistics_agree_with_the_backtest() -> None:
    """The figures ABC compares are the back-test's, computed separately."""
    cfg = sim.load_config(BASELINE, ["uncertain=[]"])
    targets = fit_targets(cfg, months=["2025-04", "2025-05", "2025-06"])
    rep = sim.simulate(cfg, np.random.SeedSequence(7))
    got = statistics(rep, cfg, targets)
    ex = rep.exports.assign(replication=0)
    ratios = export_ratios(ex, cfg.observed.exports).set_index(["series", "month"])["ratio"]
    for t in targets:
        if t.group == "exports":
            _, series, month = t.key.split()
            assert got[t.key] == pytest.approx(ratios[(series, month)], rel=1e-12)
    # the level: January-March's exports (90 days) per day over the reference, by hand
    jan_mar = ratios.loc["total"].loc[["2025-01", "2025-02", "2025-03"]]
    assert got["level total"] == pytest.approx((jan_mar * [31, 28, 31]).sum() / 90, rel=1e-12)
    firms = rep.firms.set_index("firm")["tts_days"]
    assert got["stoppage jp_automaker"] == pytest.approx(93 + firms["jp_automaker"])
    apps = rep.applications
    eu = apps[(apps["destination"] == "EU") & (apps["submitted_day"] < 93 + 28)]
    share = ((eu["outcome"] == "approved") & (eu["decided_day"] < 155)).mean()
    assert got["approved EU 2025-06-04"] == pytest.approx(share)


def test_weighted_quantiles_by_hand() -> None:
    # weights 1,1,2: the CDF midpoints are 1/8, 3/8, 3/4
    q = weighted_quantiles([3.0, 1.0, 2.0], [2.0, 1.0, 1.0], [0.125, 0.375, 0.75, 0.5])
    np.testing.assert_allclose(q, [1.0, 2.0, 3.0, 2.0 + (0.5 - 0.375) / (0.75 - 0.375)])


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("overrides,needle", [
    (["uncertain=[]"], "nothing to calibrate"),
    (["calibration.fit_months=[\"2025-02\"]"], "nothing was observed in 2025-02"),
    (["calibration.fit_months=[]"], "fit window is empty"),
    (["calibration.parameters=[\"nope\"]"], "no uncertain parameter named 'nope'"),
    (["uncertain.7.prior={dist = \"uniform\", low = 0.5, high = 1.5}"], "us_approve"),
    (["uncertain.0.prior={dist = \"choice\", values = [0.1, 0.5]}"], "cannot be calibrated"),
    (["calibration.weights={exports=0, stoppages=0, approvals=0}"],
     "no kind of target has a weight above 0"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, overrides: list[str],
                                                  needle: str) -> None:
    args = [a for o in overrides for a in ("--set", o)]
    r = rareshock("calibrate", CALIBRATION, "--out", tmp_path / "out", *args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert str(CALIBRATION) in lines[0] or "--set" in lines[0]  # the source is named
    assert not (tmp_path / "out").exists()


def test_an_export_that_cannot_be_written_is_refused_before_fitting(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    for target in (tmp_path / "afile" / "x" / "p.toml", Path("/proc/x/p.toml")):
        r = rareshock("calibrate", CALIBRATION, "--out", tmp_path / "out", "--export", target,
                      cwd=tmp_path)
        assert r.returncode == 2 and "cannot write under" in r.stderr, r.stderr
        assert "generation" not in r.stderr and not (tmp_path / "out").exists()


def test_a_folder_in_the_way_is_refused_without_resume(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    r = rareshock("calibrate", CALIBRATION, "--out", tmp_path / "out", cwd=tmp_path)
    assert r.returncode == 2
    assert "--resume" not in r.stderr and "--overwrite" in r.stderr
    assert (tmp_path / "out" / "notes.txt").read_text() == "mine"


# --------------------------------------------------------------------------- recovery


def _synthetic(tmp_path: Path, truth: float) -> Path:
    """A scenario whose observations are the mean January-March exports of 20 replications
    of the baseline at background rate `truth`, with a wide prior on that rate."""
    base = sim.load_config(BASELINE, ["uncertain=[]",
                                      f"authority.background.rate_per_day={truth}"])
    ref_t_per_day = 58152 / 366
    months: dict[str, list[float]] = {"2025-01": [], "2025-02": [], "2025-03": []}
    for i in range(20):
        ex = sim.simulate(base, np.random.SeedSequence([99, i])).exports
        for m in months:
            months[m].append(ex.loc[ex["month"] == m, "kg"].sum() / 1000.0)
    obs = tmp_path / "observed.toml"
    obs.write_text("\n".join([
        'fit_months = ["2025-01", "2025-02", "2025-03"]',
        "[exports]",
        "[[exports.series]]",
        'name = "total"',
        f"reference_tonnes = {ref_t_per_day * 366}",
        "reference_days = 366",
        "months = { " + ", ".join(f'"{m}" = {np.mean(v):.3f}' for m, v in months.items())
        + " }", ""]))
    cfg = tmp_path / "synthetic.toml"
    cfg.write_text("\n".join([
        f'extends = "{os.path.relpath(BASELINE, tmp_path)}"',
        'observed = "observed.toml"',
        "[runs]", "seed = 4242",
        "[calibration]", "population = 40", "generations = 4", "predictive_replications = 4",
        # the January-March level would count the same three months twice
        "weights = { exports = 1.0, level = 0.0 }",
        "[[uncertain]]", 'name = "background_rate"',
        'path = "authority.background.rate_per_day"',
        'prior = { dist = "uniform", low = 15, high = 45 }', ""]))
    return cfg


@pytest.mark.slow
@pytest.mark.long
def test_calibration_recovers_a_known_rate(tmp_path: Path) -> None:
    """Observations made by the model at rate 30: the posterior must hold 30 and be much
    narrower than the prior (January-March exports are ~linear in the rate; their noise
    over three months puts the rate within a few per day)."""
    path = _synthetic(tmp_path, 30.0)
    cal = sim.calibrate(sim.load_config(path), tmp_path / "cal", workers=2,
                        config_path=path, plots=False)
    post = cal.posterior()
    q5, q50, q95 = weighted_quantiles(post["background_rate"], post["weight"],
                                      [0.05, 0.5, 0.95])
    assert q5 <= 30.0 <= q95
    assert abs(q50 - 30.0) < 3.0
    assert (q95 - q5) < 0.4 * (0.9 * 30)  # the prior's P5-P95 is 27 wide
    assert post["weight"].sum() == pytest.approx(1.0)


# --------------------------------------------------------------------------- the files


@pytest.fixture(scope="module")
def small_calibration(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The 2025 calibration, tiny: 12 particles, 2 generations, 3 predictive replications,
    two calibrated parameters (the rest drawn from their priors), on one worker and on
    two."""
    tmp = tmp_path_factory.mktemp("cal")
    sets = ["--set", "calibration.population=12", "--set", "calibration.generations=2",
            "--set", "calibration.predictive_replications=3", "--set",
            'calibration.parameters=["exempt_share", "review_median"]',
            # the downtimes left out: these two parameters cannot bring the simulated
            # stoppages (5-8x the reported lengths, issue 22) near them, and with them the
            # adaptive distance's tolerance grew from 5.11 to 5.58 in the second generation
            "--set", "calibration.weights={exports = 1.0, stoppages = 1.0, downtimes = 0.0, "
            "approvals = 1.0}"]
    outs = []
    for workers in ("1", "2"):
        out = tmp / f"cal-{workers}"
        r = rareshock("calibrate", CALIBRATION, "--out", out, "-j", workers, "-q", *sets,
                      "--export", tmp / f"export-{workers}" / "2025.toml", cwd=ROOT)
        assert r.returncode == 0, r.stderr
        assert r.stdout == ""  # -q
        outs.append(out)
    return outs[0], outs[1]


@pytest.mark.slow
@pytest.mark.long
def test_calibration_is_reproducible_whatever_the_workers(small_calibration) -> None:  # noqa: ANN001
    one, two = small_calibration
    a = pd.read_parquet(one / "posterior.parquet")
    b = pd.read_parquet(two / "posterior.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["exempt_share", "review_median", "weight"]
    ga, gb = (pd.read_csv(p / "generations.csv") for p in (one, two))
    pd.testing.assert_frame_equal(ga, gb)


@pytest.mark.slow
@pytest.mark.long
def test_calibration_folder_holds_what_it_says(small_calibration) -> None:  # noqa: ANN001
    out, _ = small_calibration
    man = sim.api.ResultsDir(out).header()
    assert man["kind"] == "calibration" and man["state"] == "complete"
    for name in man["outputs"]:
        assert (out / name).exists(), name
    post = pd.read_parquet(out / "posterior.parquet")
    assert post["weight"].sum() == pytest.approx(1.0)
    assert len(post) == 12
    # the posterior config: calibrated entries draw rows of the sample, the rest keep
    # their priors; it extends the calibrated file
    text = (out / "posterior.toml").read_text()
    assert 'extends = "' in text and "calibration/2025.toml" in text
    cfg = sim.load_config(out / "posterior.toml")
    by = {u.name: u for u in cfg.uncertain}
    assert by["exempt_share"].prior.dist == "posterior"
    assert by["exempt_share"].prior.values == pytest.approx(post["exempt_share"].tolist())
    assert by["review_sigma"].prior.dist == "uniform"  # not calibrated here
    gens = pd.read_csv(out / "generations.csv")
    assert len(gens) == 2 and (gens["particles"] == 12).all()
    assert (gens["epsilon"].diff().dropna() < 0).all()  # the tolerance shrinks
    # the predictive run drew rows of the posterior: every exempt_share drawn is a particle
    res = sim.open_results(out / "predictive")
    drawn = res.store.read("parameters")["exempt_share"]
    assert set(drawn) <= set(post["exempt_share"])
    md = (out / "calibration.md").read_text()
    assert "## Generations" in md and "## Posterior predictive check" in md
    with pytest.raises(FolderError, match="calibration folder"):
        sim.open_results(out)
    r = rareshock("verify", out, cwd=ROOT)
    assert r.returncode == 0 and "calibration" in r.stdout, r.stderr
    files = [o for o in man["outputs"] if (out / o).is_file()]
    assert f"{len(files)} files match their sha256" in r.stdout
    # a copy whose posterior was edited is refused by verify, naming the file
    copy = out.parent / f"{out.name}-edited"
    shutil.copytree(out, copy)
    (copy / "posterior.toml").write_text((copy / "posterior.toml").read_text() + "\n# x\n")
    r = rareshock("verify", copy, cwd=ROOT)
    assert r.returncode == 2 and "posterior.toml changed since the calibration" in r.stderr


@pytest.mark.slow
@pytest.mark.long
def test_export_rewrites_paths(small_calibration, tmp_path: Path) -> None:  # noqa: ANN001
    out, _ = small_calibration
    exported = out.parent / "export-1" / "2025.toml"
    assert exported.with_suffix(".parquet").is_file()
    a = sim.load_config(out / "posterior.toml")
    b = sim.load_config(exported)
    assert [u.model_dump() for u in a.uncertain] == [
        u.model_dump() | {"prior": u.prior.model_dump() | {"file": "posterior.parquet"}}
        if u.prior.dist == "posterior" else u.model_dump() for u in b.uncertain]
    again = export(out, tmp_path / "deeper" / "x.toml")
    assert sim.load_config(again[0]).uncertain[0].prior.values == a.uncertain[0].prior.values


def test_calibrated_parameters_default_to_all() -> None:
    cfg = sim.load_config(CALIBRATION, ["calibration.parameters=[\"auto_cover\"]"])
    assert [u.name for u in calibrated(cfg)] == ["auto_cover"]
    k = [u.name for u in cfg.uncertain].index("september_scale")
    cfg = sim.load_config(CALIBRATION, [f"uncertain.{k}.prior={{dist = \"choice\", values = "
                                        "[0.8, 1.0]}"])
    assert "september_scale" not in [u.name for u in calibrated(cfg)]  # not listed
    with pytest.raises(ConfigError, match="cannot be calibrated"):
        calibrated(cfg.model_copy(update={"calibration": None}))


def test_overwrite_removes_the_folders_it_listed_and_nothing_outside(tmp_path: Path) -> None:
    """A calibration lists its predictive run (a folder) as an output; replacing it removes
    that folder, and a manifest edited to name something outside the folder is ignored."""
    from sim.run.store import ResultsDir

    cfg = sim.load_config(ROOT / "tests" / "data" / "small.toml")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    out = tmp_path / "out"
    store = ResultsDir(out)
    meta = {"kind": "calibration", "replications": 1}
    with store.locked():
        store.prepare(cfg, meta, resume=False, overwrite=False)
        (out / "predictive").mkdir()
        (out / "predictive" / "part.parquet").write_bytes(b"x")
        for name in ("predictive", "../victim", str(victim)):
            store.record_output(name)
    (out / "notes.txt").write_text("mine too")
    with store.locked():
        store.prepare(cfg, meta, resume=False, overwrite=True)
    assert not (out / "predictive").exists()
    assert (victim / "keep.txt").read_text() == "mine"
    assert (out / "notes.txt").read_text() == "mine too"


def test_the_calibration_scale_is_logit_of_the_prior_cdf() -> None:
    """pyabc perturbs z = logit(F(value)): z = 0 is the prior's median, z = logit(0.95) its
    95th percentile, and z's prior is the standard logistic whatever the value's prior
    (the probability integral transform), checked by Kolmogorov-Smirnov on 2,000 values
    mapped back from logistic draws against the value's own prior."""
    from scipy import stats

    from sim.calibration.abc import to_value
    from sim.config.priors import LogUniformPrior, TriangularPrior, UniformPrior

    u = UniformPrior(dist="uniform", low=10.0, high=60.0)
    assert to_value(u, 0.0) == pytest.approx(35.0)
    assert to_value(u, float(np.log(0.95 / 0.05))) == pytest.approx(10 + 0.95 * 50)
    assert 10.0 < to_value(u, -800.0) < 10.0 + 1e-9 and 60.0 - 1e-9 < to_value(u, 800.0) < 60
    lu = LogUniformPrior(dist="loguniform", low=0.2, high=5.0)
    assert to_value(lu, 0.0) == pytest.approx(1.0)  # the geometric middle of [0.2, 5]
    tri = TriangularPrior(dist="triangular", low=15.0, mode=35.0, high=45.0)
    z = np.random.default_rng(2).logistic(0.0, 1.0, 2000)
    values = [to_value(tri, float(v)) for v in z]
    assert stats.kstest(values, stats.triang(20 / 30, 15.0, 30.0).cdf).pvalue > 0.01
