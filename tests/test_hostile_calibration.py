"""Hostile variants of calibration and prior input: values applied by name whatever the
order of `calibration.parameters`, names checked, one entry per config value, priors that
clash only together, fits that keep no generation or whose targets do not vary,
posterior-at-bound notes, exact tail draws, exports onto what the calibration reads, and
reports of unfinished or damaged calibration folders."""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats
from scipy.special import ndtr, ndtri

import sim
from sim.calibration.abc import Problem, Scales, calibrated, simulate_particle, to_value
from sim.calibration.posterior import check_export, read_files
from sim.config.paths import resolve
from sim.config.priors import (
    BetaPrior,
    LognormalPrior,
    LogUniformPrior,
    NormalPrior,
    TriangularPrior,
    UniformPrior,
)
from sim.config.uncertain import prepare
from sim.errors import ArgumentError, ConfigError, FolderError
from sim.model.rng import Streams
from sim.report.calibration import _edge
from sim.run.seeds import replication_seed

pytest.importorskip("pyabc")

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "data" / "small.toml"

# Three entries with disjoint ranges (a value given to the wrong one shows), one of them
# on a list of paths; lognormal, truncated normal and uniform priors.
ENTRIES = {
    "reviewers": ('path = "authority.reviewers"\ninteger = true\n'
                  'prior = { dist = "uniform", low = 20, high = 60 }'),
    "approve": ('path = "authority.decision.approve"\n'
                'prior = { dist = "normal", mean = 0.75, sd = 0.1, low = 0.5, high = 0.95 }'),
    "cover": ('path = ["firms.us_auto_ev.initial_cover_days", '
              '"firms.us_tier1.initial_cover_days"]\n'
              'prior = { dist = "lognormal", median = 200, sigma = 0.2 }'),
}
PATHS = {"reviewers": ["authority.reviewers"], "approve": ["authority.decision.approve"],
         "cover": ["firms.us_auto_ev.initial_cover_days",
                   "firms.us_tier1.initial_cover_days"]}


def _write(tmp: Path, order: list[str], *extra: str, month: str = "2025-04") -> Path:
    """A tiny calibration of the small config: the three entries in ENTRIES' order,
    `calibration.parameters` in `order`, fitted to one month."""
    lines = [f'extends = "{os.path.relpath(SMALL, tmp)}"', 'name = "hostile"',
             "horizon_days = 365", "[calibration]", "population = 10", "generations = 2",
             "predictive_replications = 1", f'fit_months = ["{month}"]',
             # the reported downtimes (to the end of 2025) would make every simulation run
             # the whole year: these tests are about names and months, not downtimes
             "weights = { exports = 1.0, stoppages = 1.0, approvals = 1.0, downtimes = 0.0 }",
             "parameters = [" + ", ".join(f'"{n}"' for n in order) + "]", *extra]
    for name, body in ENTRIES.items():
        lines += ["[[uncertain]]", f'name = "{name}"', body]
    path = tmp / "hostile.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _small(uncertain: str, *extra: str) -> sim.Config:
    return sim.load_config(SMALL, [f"uncertain={uncertain}", *extra])


# --------------------------------------------------------------------------- by name


@pytest.mark.parametrize("order", list(itertools.permutations(ENTRIES)))
def test_each_parameter_receives_its_own_value(tmp_path: Path, order: tuple[str, ...],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the order of calibration.parameters, the value pyabc proposes for a name
    is the one set at that name's paths (every path of a list)."""
    cfg = sim.load_config(_write(tmp_path, list(order)))
    params = calibrated(cfg)
    assert [u.name for u in params] == list(ENTRIES)  # the config's order, not the list's
    keys = {f"p{i}": name for i, name in enumerate(order)}  # any pairing of keys and names
    seen: list[sim.Config] = []
    monkeypatch.setattr(sim.model, "simulate", lambda c, seed: seen.append(c))
    monkeypatch.setattr(sim.calibration.abc, "statistics", lambda rep, c, targets: {})
    z = {k: [-1.5, 0.3, 2.0][i] for i, k in enumerate(keys)}
    simulate_particle(Problem(cfg, keys, []), z)
    by_name = {u.name: u for u in cfg.uncertain}
    for k, name in keys.items():
        want = to_value(by_name[name].prior, z[k])
        for p in PATHS[name]:
            got = resolve(seen[0], p)[0]
            assert got == (round(want) if by_name[name].integer else pytest.approx(want))


@pytest.mark.slow  # seconds of computing: make test runs it, test-fast does not
def test_a_reordered_calibration_keeps_each_value_with_its_name(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """End to end, names listed against the entries' order: every posterior column lies
    in its own prior's range (disjoint ranges), and the predictive run drew each
    parameter's own particles. May's targets include the first stoppage of us_auto_ev,
    whose ~200 days of cover (the `cover` prior) outlast the simulated 181 days: that
    target is the horizon in every simulation, has no spread, and is said to be left
    out (in the log, calibration.md and the manifest)."""
    path = _write(tmp_path, ["cover", "approve", "reviewers"], month="2025-05")
    cal = sim.calibrate(sim.load_config(path), tmp_path / "cal", workers=1,
                        config_path=path, plots=False)
    post = cal.posterior()
    assert list(post.columns) == [*ENTRIES, "weight"]  # the config's order, not the list's
    assert post["reviewers"].between(20, 60).all()
    assert post["approve"].between(0.5, 0.95).all()
    assert post["cover"].between(49, 820).all()
    drawn = cal.predictive.store.read("parameters")
    for name in ENTRIES:
        assert set(drawn[name]) <= set(post[name].round() if name == "reviewers"
                                       else post[name])
    left = cal.fit.unscaled
    assert "stoppage us_auto_ev" in left and left["stoppage us_auto_ev"][0] == 0
    assert "exports total 2025-05" not in left
    assert "target 'stoppage us_auto_ev' had no spread" in caplog.text
    md = (tmp_path / "cal" / "calibration.md").read_text()
    assert "**Targets the fit left out:**" in md and "'stoppage us_auto_ev'" in md
    man = json.loads((tmp_path / "cal" / "manifest.json").read_text())
    assert man["unscaled"] == {k: list(v) for k, v in left.items()}
    # the folder reports, and then a damaged copy does not (below)
    assert sim.api.report(tmp_path / "cal").is_file()
    _damaged_folders_are_refused(tmp_path / "cal", tmp_path)


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("names,needle", [
    (["reviewers", "approve", "reviewers"], "'reviewers' is listed twice"),
    (["cover", "cover"], "'cover' is listed twice"),
    (["reviewer"], "did you mean 'reviewers'"),
    (["aprove", "cover"], "did you mean 'approve'"),
    (["zzz"], "there are: reviewers, approve, cover"),
    ([], "is empty"),
])
def test_calibration_parameters_are_checked(tmp_path: Path, names: list[str],
                                            needle: str) -> None:
    cfg = sim.load_config(_write(tmp_path, ["reviewers"]))
    bad = cfg.model_copy(update={"calibration": cfg.calibration.model_copy(
        update={"parameters": names})})
    with pytest.raises(ConfigError, match=needle) as exc:
        calibrated(bad, "x.toml")
    assert str(exc.value).startswith("x.toml: calibration.parameters")
    assert "\n" not in str(exc.value)


def test_a_repeated_name_is_one_line_at_the_command_line(tmp_path: Path) -> None:
    path = _write(tmp_path, ["approve", "cover", "approve"])
    r = subprocess.run([sys.executable, "-m", "sim", "calibrate", str(path), "--out",
                        str(tmp_path / "out")], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "listed twice" in r.stderr
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- one entry per value


@pytest.mark.parametrize("uncertain,needle", [
    ('[{name="a", path="authority.reviewers", integer=true, prior={dist="uniform", '
     'low=20, high=60}}, {name="b", path="authority.reviewers", integer=true, '
     'prior={dist="uniform", low=30, high=50}}]', "uncertain.1.path: entry 'b'"),
    ('[{name="a", path="authority.reviewers", integer=true, prior={dist="uniform", '
     'low=20, high=60}}, {name="b", path=["firms.us_tier1.initial_cover_days", '
     '"authority.reviewers"], integer=true, prior={dist="uniform", low=30, high=50}}]',
     "sets the same value as entry 'a'"),
    ('[{name="a", path="policy.3.review_time", scale=true, prior={dist="uniform", '
     'low=0.5, high=2}}, {name="b", path="policy.03.review_time.low", '
     'prior={dist="uniform", low=10, high=12}}]', "overlaps entry 'a'"),
    ('[{name="a", path=["firms.us_tier1.initial_cover_days", '
     '"firms.us_tier1.initial_cover_days"], prior={dist="uniform", low=1, high=2}}]',
     "in the same list"),
])
def test_two_entries_on_one_value_are_refused(uncertain: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle) as exc:
        _small(uncertain)
    assert "\n" not in str(exc.value)


# --------------------------------------------------------------------------- priors together


@pytest.mark.parametrize("uncertain,names,shown", [
    ('[{name="lo", path="policy.3.review_time.low", prior={dist="uniform", low=10, '
     'high=30}}, {name="mo", path="policy.3.review_time.mode", prior={dist="uniform", '
     'low=20, high=40}}]', ("uncertain.0 (lo)", "uncertain.1 (mo)"), "lo = 30, mo = 20"),
    ('[{name="mo", path="policy.3.review_time.mode", prior={dist="normal", mean=35, sd=2, '
     'low=30, high=40}}, {name="x", path="authority.reviewers", integer=true, '
     'prior={dist="uniform", low=20, high=60}}, {name="hi", path="policy.3.review_time.high",'
     ' prior={dist="uniform", low=36, high=50}}]', ("uncertain.0 (mo)", "uncertain.2 (hi)"),
     "mo = 40, hi = 36"),
    ('[{name="a", path="output.measure_from", prior={dist="choice", values=[2025-03-01, '
     '2025-06-01]}}, {name="b", path="output.measure_until", prior={dist="choice", '
     'values=[2025-05-01, 2025-07-01]}}]', ("uncertain.0 (a)", "uncertain.1 (b)"),
     "a = 2025-06-01, b = 2025-05-01"),
])
def test_priors_that_clash_only_together_are_refused(uncertain: str, names: tuple[str, ...],
                                                     shown: str) -> None:
    """Each prior alone is valid at both ends; some corner of the two together is not."""
    with pytest.raises(ConfigError) as exc:
        _small(uncertain)
    msg = str(exc.value)
    assert all(n in msg for n in names) and shown in msg and "\n" not in msg


def test_priors_that_fit_together_load_and_a_clashing_draw_names_both() -> None:
    cfg = _small('[{name="lo", path="policy.3.review_time.low", prior={dist="uniform", '
                 'low=10, high=20}}, {name="hi", path="policy.3.review_time.high", '
                 'prior={dist="uniform", low=40, high=50}}]')
    unc = prepare(cfg)
    assert unc.config({"lo": 20.0, "hi": 40.0}).policy[3].review_time.low == 20.0
    with pytest.raises(ConfigError, match=r"uncertain.0 \(lo\), uncertain.1 \(hi\)"):
        unc.config({"lo": 44.0, "hi": 40.0})  # a draw beyond the checked priors


# --------------------------------------------------------------------------- posterior files


def _sample(path: Path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pq.write_table(pa.table({"a": rng.uniform(20, 60, n), "b": rng.uniform(0.5, 0.9, n),
                             "weight": rng.uniform(0.1, 1.0, n)}), path)


def test_two_spellings_of_one_sample_draw_one_row(tmp_path: Path) -> None:
    _sample(tmp_path / "s.parquet", 50, 1)
    (tmp_path / "sub").mkdir()
    (tmp_path / "c.toml").write_text(f'extends = "{os.path.relpath(SMALL, tmp_path)}"\n'
                                     + "".join(f"""
[[uncertain]]
name = "{n}"
path = "{p}"
prior = {{ dist = "posterior", file = "{f}" }}
""" for n, p, f in [("a", "authority.background.rate_per_day", "s.parquet"),
                    ("b", "authority.decision.approve", "./sub/../s.parquet")]))
    cfg = sim.load_config(tmp_path / "c.toml")
    table = pq.read_table(tmp_path / "s.parquet").to_pandas()
    unc = prepare(cfg)
    for i in range(20):
        v = unc.draw(Streams(replication_seed(5, i)))
        row = table.index[table["a"] == v["a"]][0]
        assert v["b"] == table["b"][row]  # the same particle


def test_one_name_for_two_samples_is_refused(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """An override's file is read from the working folder: under the name the config's
    other entry reads from its own folder, it is another sample."""
    _sample(tmp_path / "s.parquet", 50, 1)
    (tmp_path / "here").mkdir()
    _sample(tmp_path / "here" / "s.parquet", 7, 2)
    (tmp_path / "c.toml").write_text(f'extends = "{os.path.relpath(SMALL, tmp_path)}"\n'
                                     + "".join(f"""
[[uncertain]]
name = "{n}"
path = "{p}"
prior = {{ dist = "posterior", file = "s.parquet" }}
""" for n, p in [("a", "authority.background.rate_per_day"),
                 ("b", "authority.decision.approve")]))
    monkeypatch.chdir(tmp_path / "here")
    with pytest.raises(ConfigError, match=r"uncertain.1.prior.file: entry 'b' reads "
                       r"'s.parquet' \(7 rows\).*\(50 rows\)"):
        sim.load_config(tmp_path / "c.toml",
                        ['uncertain.1.prior={dist="posterior", file="s.parquet"}'])


# --------------------------------------------------------------------------- acceptance, spread


def test_no_generation_meeting_the_floor_ends_cleanly(tmp_path: Path) -> None:
    path = _write(tmp_path, ["reviewers", "cover"], "min_acceptance = 0.99")
    with pytest.raises(ConfigError, match=r"calibration.min_acceptance: generation 0 "
                       r"accepted \d+ of \d+ simulations .* below the floor of 99.0%"):
        sim.calibrate(sim.load_config(path), tmp_path / "cal", workers=1,
                      config_path=path, plots=False)
    # the folder this call made is gone: bad input leaves nothing half-written
    assert not (tmp_path / "cal").exists()
    # one that was there before is marked failed, with the message
    from sim.run.store import ResultsDir
    from sim.workflows.calibrate import mark_unfinished

    store = ResultsDir(tmp_path / "cal2")
    with store.locked():
        store.prepare(sim.load_config(path), {"kind": "calibration", "replications": 1,
                                              "seed": 1, "chunk_size": None, "crn": None,
                                              "name": "x"}, resume=False, overwrite=False)
    mark_unfinished(store, ConfigError("x.toml", "calibration.min_acceptance", "too high"))
    man = json.loads((tmp_path / "cal2" / "manifest.json").read_text())
    assert man["state"] == "failed" and "min_acceptance" in man["error"]
    with pytest.raises(FolderError, match="did not finish.*'failed'"):
        sim.api.report(tmp_path / "cal2")


def test_targets_without_spread_are_named_and_all_of_them_refused() -> None:
    """pyabc gives a target whose spread is 0 no weight: Scales names it, and refuses a
    generation where no weighted target has any spread."""
    weights = {"a": 1.0, "b": 0.5, "c": 0.0}
    sc = Scales(weights, "x.toml", "calibration.fit_months")
    rng = np.random.default_rng(0)
    samples = np.column_stack([rng.normal(size=20), np.full(20, 3.0), rng.normal(size=20)])
    scales = sc(samples=samples, s0=np.zeros(3), s_ids=["a", "b", "c"], t=0)
    assert scales[1] == 0 and scales[0] > 0
    assert sc.unscaled == {"b": [0]}
    # 11 of 20 alike: the median absolute deviation is 0 though the values differ
    samples[:, 0] = np.r_[np.zeros(11), rng.normal(size=9)]
    with pytest.raises(ConfigError, match=r"x.toml: calibration.fit_months: no target "
                       r"varies .* generation 1 \('a', 'b': "):
        sc(samples=samples, s0=np.zeros(3), s_ids=["a", "b", "c"], t=1)
    assert sc.unscaled == {"b": [0, 1], "a": [1]}


# --------------------------------------------------------------------------- at the bound


@pytest.mark.parametrize("prior,p50,note", [
    (LognormalPrior(median=30.0, sigma=0.6), 30.0 * math.exp(-0.6 * 2.5), ""),
    (LognormalPrior(median=30.0, sigma=0.6), 200.0, ""),  # no upper bound
    (LognormalPrior(median=1.0, sigma=0.5), 0.05, "lower bound"),  # 0: 6 sigma below
    (NormalPrior(mean=1.0, sd=0.5), -3.0, ""),
    (NormalPrior(mean=1.0, sd=0.5), 5.0, ""),
    (NormalPrior(mean=10.0, sd=1.0, low=0.0), 8.0, ""),  # the bound is 10 sd away
    (NormalPrior(mean=10.0, sd=1.0, low=0.0), 0.3, "lower bound"),
    (NormalPrior(mean=1.0, sd=0.5, high=1.2), 1.19, "upper bound"),
    (UniformPrior(low=2.0, high=5.0), 2.1, "lower bound"),
    (UniformPrior(low=2.0, high=5.0), 4.9, "upper bound"),
    (UniformPrior(low=2.0, high=5.0), 3.5, ""),
    (LogUniformPrior(low=0.1, high=10.0), 9.9, "upper bound"),
    # near 1 on [1, 1e5] as a width, but log(25.2) / log(1e5) = 0.28 of the prior below it
    (LogUniformPrior(low=1.0, high=1e5), 25.2, ""),
    (LogUniformPrior(low=1.0, high=1e5), 1.2, "lower bound"),  # below its P5, 10 ** 0.25
])
def test_only_finite_bounds_are_flagged(prior, p50: float, note: str) -> None:  # noqa: ANN001
    got = _edge(prior, p50)
    assert (note in got) if note else got == ""


# --------------------------------------------------------------------------- tails


@pytest.mark.slow  # seconds of computing: make test runs it, test-fast does not
@pytest.mark.parametrize("low,high", [(8.0, 9.0), (-40.0, -38.0), (30.0, 31.0),
                                      (-9.0, -8.0), (8.0, None), (None, -38.0),
                                      (3.0, 4.0)])
def test_truncated_normal_tails_are_exact(low: float | None, high: float | None) -> None:
    """Midpoint-rule draws over 20,000 uniforms average to scipy's truncated-normal mean
    (to 1e-6), spread over the interval, never piled on a bound."""
    mean, sd = 2.0, 3.0
    prior = NormalPrior(mean=mean, sd=sd, low=None if low is None else mean + sd * low,
                        high=None if high is None else mean + sd * high)
    u = (np.arange(20000) + 0.5) / 20000
    x = np.array([prior.ppf(v) for v in u])
    a = -np.inf if low is None else low
    b = np.inf if high is None else high
    frozen = stats.truncnorm(a, b, loc=mean, scale=sd)
    assert x.mean() == pytest.approx(frozen.mean(), rel=1e-6)
    assert len(np.unique(x)) > 19000 and np.all(np.diff(x) > 0)
    np.testing.assert_allclose([prior.ppf(q) for q in (0.01, 0.5, 0.99)],
                               frozen.ppf([0.01, 0.5, 0.99]), rtol=1e-7)


def test_ordinary_truncated_normals_draw_as_before() -> None:
    """Away from the tails the draw is the plain inverse CDF, to the bit."""
    prior = NormalPrior(mean=1.0, sd=0.5, low=0.2, high=1.3)
    a, b = ndtr(-1.6), ndtr(0.6)
    for u in (1e-12, 0.1, 0.5, 0.77, 1 - 1e-12):
        assert prior.ppf(u) == min(max(float(1.0 + 0.5 * ndtri(a + u * (b - a))), 0.2), 1.3)


def test_a_truncation_beyond_double_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="too far in the normal's tail"):
        NormalPrior(mean=0.0, sd=1e-300, low=1.0, high=2.0)


@pytest.mark.parametrize("prior,frozen", [
    (LognormalPrior(median=30.0, sigma=0.6), stats.lognorm(0.6, scale=30.0)),
    (BetaPrior(a=0.5, b=8.0, low=0.1, high=0.9), stats.beta(0.5, 8.0, loc=0.1, scale=0.8)),
    (TriangularPrior(low=1.0, mode=1.0, high=5.0), stats.triang(0.0, loc=1.0, scale=4.0)),
    (LogUniformPrior(low=0.01, high=10.0), stats.loguniform(0.01, 10.0)),
])
def test_other_priors_are_exact_at_their_extremes(prior, frozen) -> None:  # noqa: ANN001
    u = np.array([1e-12, 1e-9, 1 - 1e-9, 1 - 1e-12])
    np.testing.assert_allclose([prior.ppf(v) for v in u], frozen.ppf(u), rtol=1e-6)


# --------------------------------------------------------------------------- range helpers


@pytest.mark.parametrize("prior,bounds,frozen", [
    (UniformPrior(low=2.0, high=5.0), (2.0, 5.0), stats.uniform(2.0, 3.0)),
    (NormalPrior(mean=1.0, sd=0.5), (-math.inf, math.inf), stats.norm(1.0, 0.5)),
    (NormalPrior(mean=1.0, sd=0.5, low=0.0), (0.0, math.inf),
     stats.truncnorm(-2.0, np.inf, loc=1.0, scale=0.5)),
    (LognormalPrior(median=30.0, sigma=0.6), (0.0, math.inf), stats.lognorm(0.6, scale=30.0)),
])
def test_bounds_and_quantiles_for_range_checks(prior, bounds, frozen) -> None:  # noqa: ANN001
    assert prior.bounds == bounds
    assert prior.quantile(0.999) == pytest.approx(frozen.ppf(0.999), rel=1e-9)
    assert prior.quantile(1.0) == (bounds[1] if math.isfinite(bounds[1])
                                   else pytest.approx(frozen.ppf(1 - 1e-12), rel=1e-4))
    with pytest.raises(ValueError):
        prior.quantile(1.5)


# --------------------------------------------------------------------------- export


def test_export_onto_what_the_calibration_reads_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, ["reviewers"])
    reads = read_files(path)
    assert path.resolve() in reads and SMALL.resolve() in reads
    assert (ROOT / "configs" / "baseline.toml").resolve() in reads  # small extends it
    assert (ROOT / "configs" / "observed" / "2025.toml").resolve() in reads
    out = tmp_path / "cal"
    for target, needle in [
        (path, "the config being calibrated"),
        (tmp_path / "sub" / ".." / "hostile.toml", "the config being calibrated"),
        (SMALL, "a config it extends"),
        (ROOT / "configs" / "baseline.toml", "a config it extends"),
        (ROOT / "configs" / "observed" / "2025.toml", "the observations it reads"),
        (out / "posterior.toml", "inside the calibration folder"),
    ]:
        with pytest.raises(ArgumentError, match=needle):
            check_export(target, path, [], out)
    check_export(tmp_path / "elsewhere.toml", path, [], out)  # fine
    # the child's [[uncertain]] replace the baseline's, which draw from the committed
    # posterior sample: the calibration does not read it, and `make calibration` exports
    # its new posterior there
    posterior = ROOT / "configs" / "posterior" / "2025.toml"
    assert posterior.with_suffix(".parquet").resolve() not in reads
    calibration = ROOT / "configs" / "calibration" / "2025.toml"
    check_export(posterior, calibration, [], out)
    # a config that keeps the baseline's [[uncertain]] does read the sample beside it
    keeps = tmp_path / "keeps.toml"
    base = os.path.relpath(ROOT / "configs" / "baseline.toml", tmp_path)
    keeps.write_text(f'extends = "{base}"\n')
    with pytest.raises(ArgumentError, match="its sample .* a posterior sample named in "
                       "baseline.toml"):
        check_export(posterior, keeps, [], out)
    obs = tmp_path / "obs.toml"
    with pytest.raises(ArgumentError, match="the observations it reads"):
        check_export(obs, path, [f"observed={json.dumps(str(obs))}"], out)


def test_export_onto_the_config_is_refused_before_fitting(tmp_path: Path) -> None:
    path = _write(tmp_path, ["reviewers"])
    before = path.read_bytes()
    r = subprocess.run([sys.executable, "-m", "sim", "calibrate", str(path), "--out",
                        str(tmp_path / "out"), "--export", str(path), "--overwrite"],
                       capture_output=True, text=True, timeout=600,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    assert r.returncode == 2 and "the config being calibrated" in r.stderr, r.stderr
    assert r.stderr.strip().count("\n") == 0
    assert path.read_bytes() == before and not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- report


def _damaged_folders_are_refused(good: Path, tmp: Path) -> None:
    """Copies of a finished calibration folder, each damaged one way: `report` says what
    is wrong in one line (FolderError), never a traceback."""
    def damage(name: str, how: str) -> Path:
        bad = tmp / f"bad-{name.replace('/', '-')}-{how}"
        shutil.copytree(good, bad)
        f = bad / name
        if how == "rm":
            shutil.rmtree(f) if f.is_dir() else f.unlink()
        elif how == "cut":
            f.write_bytes(f.read_bytes()[:40])
        else:
            man = json.loads(f.read_text())
            man["state"] = "running"
            f.write_text(json.dumps(man))
        return bad

    for name, how, needle in [
        ("manifest.json", "running", "did not finish.*'running'.*stopped before"),
        ("posterior.parquet", "rm", "missing posterior.parquet"),
        ("posterior.parquet", "cut", "posterior.parquet is damaged"),
        ("generations.csv", "rm", "missing generations.csv"),
        ("generations.csv", "cut", "generations.csv is damaged"),
        ("predictive", "rm", "missing predictive/manifest.json"),
    ]:
        with pytest.raises(FolderError, match=needle) as exc:
            sim.api.report(damage(name, how))
        assert "\n" not in str(exc.value)
