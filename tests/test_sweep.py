"""Sweeps: designs (sizes and values per method), point configs (paths, scale), common
random numbers, monotone responses under CRN, the Sobol wiring against SALib's
Ishigami indices, the outputs and plots, executors and resume, and bad sweep configs
(exit 2, one line naming the parameter)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from worlds import cover_world

import sim
from sim.analysis.stats import COLUMNS
from sim.cli import main
from sim.config import config_from_dict, read_toml_tree
from sim.errors import FolderError
from sim.model import Replication
from sim.run.execution import Execution
from sim.run.store import ResultsDir
from sim.sweep import plan_sweep, run_sweep
from sim.sweep.design import build_design, design_size
from sim.sweep.sensitivity import TORNADO_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
MMC = ROOT / "configs" / "mmc.toml"
SMALL = ROOT / "tests" / "data" / "small.toml"  # baseline world, 240 days, 7 firms
SWEEPS = ROOT / "configs" / "sweeps"
START = date(2025, 1, 1)


def with_sweep(path: Path, sweep: dict[str, Any], **top: Any) -> sim.Config:
    """The config at `path` with a [sweep] table (and top-level keys) added."""
    data = read_toml_tree(path)
    data.update(top)
    data["sweep"] = sweep
    return config_from_dict(data, str(path))


def mmc_reviewers(values: list[int], reps: int = 3, **sweep: Any) -> sim.Config:
    return with_sweep(MMC, {"method": "grid", "replications": reps, **sweep,
                            "parameters": [{"path": "authority.reviewers", "values": values}]},
                      horizon_days=300)


def table(res: sim.SweepResults, name: str, point: int) -> pd.DataFrame:
    t = res.table(name)
    return t[t["point"] == point].drop(columns="point").reset_index(drop=True)


# =========================================================================== designs

SAMPLED = [{"path": "authority.reviewers", "low": 2, "high": 9, "integer": True},
           {"path": "authority.review_time", "scale": True, "low": 0.5, "high": 2.0,
            "log": True},
           {"path": "authority.decision.approve", "low": 0.2, "high": 0.9}]


def sweep_of(method: str, parameters: list[dict], **kw: Any) -> sim.Config:
    return with_sweep(MMC, {"method": method, "parameters": parameters, **kw})


def test_grid_design() -> None:
    cfg = sweep_of("grid", [{"path": "authority.reviewers", "values": [4, 5, 6]},
                            {"path": "authority.discipline", "values": ["fifo", "priority"]}])
    d = build_design(cfg.sweep, 1)
    assert d.size == design_size(cfg.sweep) == 6
    assert list(d.points.columns) == ["authority.reviewers", "authority.discipline"]
    # every combination, the first parameter varying slowest
    assert d.points.to_dict("records") == [
        {"authority.reviewers": r, "authority.discipline": q}
        for r in (4, 5, 6) for q in ("fifo", "priority")]


def test_oat_design() -> None:
    cfg = sweep_of("oat", [{"path": "authority.reviewers", "values": [5, 3, 8]},
                           {"path": "authority.decision.approve", "values": [0.5, 0.9, 1.0],
                            "base": 0.9}])
    d = build_design(cfg.sweep, 1)
    assert d.size == design_size(cfg.sweep) == 1 + 2 + 2
    assert d.base == 0
    rows = d.points.to_dict("records")
    assert rows[0] == {"authority.reviewers": 5, "authority.decision.approve": 0.9}
    assert rows[1:] == [
        {"authority.reviewers": 3, "authority.decision.approve": 0.9},
        {"authority.reviewers": 8, "authority.decision.approve": 0.9},
        {"authority.reviewers": 5, "authority.decision.approve": 0.5},
        {"authority.reviewers": 5, "authority.decision.approve": 1.0}]
    assert d.oat["authority.reviewers"] == [(5, 0), (3, 1), (8, 2)]
    assert d.oat["authority.decision.approve"] == [(0.9, 0), (0.5, 3), (1.0, 4)]


@pytest.mark.parametrize("method,size", [("lhs", 16), ("sobol", 16 * 5), ("morris", 16 * 4)])
def test_sampled_design_sizes_and_values(method: str, size: int) -> None:
    cfg = sweep_of(method, SAMPLED, N=16, levels=4)
    d = build_design(cfg.sweep, 7)
    assert d.size == design_size(cfg.sweep) == size
    p = d.points
    assert p["authority.reviewers"].dtype == np.int64
    assert p["authority.reviewers"].between(2, 9).all()
    assert p["authority.review_time"].between(0.5, 2.0).all()
    assert p["authority.decision.approve"].between(0.2, 0.9).all()
    # the raw sample (what SALib analyses) is in log space for the log parameter
    assert np.allclose(np.exp(d.sample[:, 1]), p["authority.review_time"])
    assert np.allclose(np.rint(d.sample[:, 0]), p["authority.reviewers"])
    # the same seed gives the same design, another seed another
    pd.testing.assert_frame_equal(build_design(cfg.sweep, 7).points, p)
    assert not build_design(cfg.sweep, 8).points.equals(p)
    if method == "lhs":  # one point in each of the N strata of every dimension
        strata = np.floor((d.sample[:, 2] - 0.2) / 0.7 * 16).astype(int)
        assert sorted(strata) == list(range(16))
    if method == "morris":  # values on the 4-level grid of each range
        u = (p["authority.decision.approve"] - 0.2) / 0.7
        assert np.allclose(u * 3, np.rint(u * 3))
    if method == "sobol":  # Saltelli blocks: A, then A with column j from B, then B
        blocks = d.sample.reshape(16, 5, 3)
        a, b = blocks[:, 0], blocks[:, -1]
        for j in range(3):
            ab = blocks[:, 1 + j]
            assert np.array_equal(ab[:, j], b[:, j])
            assert np.array_equal(np.delete(ab, j, 1), np.delete(a, j, 1))


# =========================================================================== point configs


def test_point_configs_apply_paths_and_scales() -> None:
    cfg = with_sweep(SMALL, {"method": "grid", "parameters": [
        {"path": "authority.review_time", "scale": True, "values": [2.0]},
        {"path": "authority.decision", "scale": True, "values": [1.8]},
        {"path": "suppliers.row", "scale": True, "values": [3.0]},
        {"path": "authority.reviewers", "scale": True, "values": [1.26]},
        {"name": "covers", "path": ["firms.us_auto_ev.initial_cover_days",
                                    "firms.us_tech_drives.initial_cover_days"],
         "values": [33.0]},
        {"path": "authority.decision.rules.2.approve", "values": [0.25]},
    ]})
    base = cfg
    (pt,) = plan_sweep(cfg).configs  # one point
    assert pt.sweep is None
    rt, brt = pt.authority.review_time, base.authority.review_time
    assert (rt.median, rt.sigma) == (2 * brt.median, brt.sigma)  # lognormal: x2 in scale
    d, bd = pt.authority.decision, base.authority.decision
    assert d.approve == pytest.approx(1 - bd.refuse)                       # 1.53 capped
    assert d.rules[0].approve == pytest.approx(1.8 * bd.rules[0].approve)  # military 0.03
    assert d.rules[1].approve == pytest.approx(1 - bd.rules[1].refuse)     # 1.08 capped
    assert d.rules[3].approve == pytest.approx(1.8 * bd.rules[3].approve)  # US 0.5
    assert d.rules[2].approve == 0.25  # the plain path is applied after the scale
    row, brow = pt.suppliers["row"], base.suppliers["row"]
    assert row.capacity_kg_per_day == 3 * brow.capacity_kg_per_day
    assert [s.kg_per_day for s in row.ramp] == [3 * s.kg_per_day for s in brow.ramp]
    assert pt.authority.reviewers == round(1.26 * base.authority.reviewers)
    assert pt.firms["us_auto_ev"].initial_cover_days == 33.0
    assert pt.firms["us_tech_drives"].initial_cover_days == 33.0
    assert pt.firms["jp_automaker"] == base.firms["jp_automaker"]


# =========================================================================== common random numbers


@pytest.fixture(scope="module")
def crn_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[sim.SweepResults, ...]:
    d = tmp_path_factory.mktemp("crn")
    cfg = mmc_reviewers([5, 7, 5])
    on = sim.run_sweep(cfg, d / "crn", workers=1)
    off = sim.run_sweep(cfg, d / "nocrn", workers=1, crn=False)
    return on, off


def test_crn_same_parameters_same_rows(crn_pair: tuple[sim.SweepResults, ...]) -> None:
    on, off = crn_pair
    assert on.crn and on.manifest["crn"] is True
    for name in ("replications", "authority", "exports"):
        pd.testing.assert_frame_equal(table(on, name, 0), table(on, name, 2), check_exact=True)
    assert not table(on, "authority", 0).equals(table(on, "authority", 1))
    # replication i of every point is replication i of `rareshock run`
    cfg5 = sim.load_config(MMC, ["horizon_days=300", "authority.reviewers=5"])
    for i in range(3):
        rep = sim.simulate(cfg5, np.random.SeedSequence(entropy=cfg5.runs.seed,
                                                        spawn_key=(i,)))
        a = table(on, "authority", 0)
        a = a[a["replication"] == i].drop(columns="replication").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, rep.authority, check_exact=True)
    # recorded in the results
    assert set(pd.read_csv(on.path / "points.csv")["crn"]) == {True}
    assert set(pd.read_csv(on.path / "summary.csv")["crn"]) == {True}


def test_no_crn_uses_point_streams(crn_pair: tuple[sim.SweepResults, ...]) -> None:
    on, off = crn_pair
    assert off.crn is False and off.manifest["crn"] is False
    assert set(pd.read_csv(off.path / "points.csv")["crn"]) == {False}
    assert not table(off, "authority", 0).equals(table(off, "authority", 2))
    cfg5 = sim.load_config(MMC, ["horizon_days=300", "authority.reviewers=5"])
    rep = sim.simulate(cfg5, np.random.SeedSequence(entropy=cfg5.runs.seed, spawn_key=(2, 1)))
    a = table(off, "authority", 2)
    a = a[a["replication"] == 1].drop(columns="replication").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, rep.authority, check_exact=True)


# =========================================================================== monotone responses


def test_more_reviewers_never_raise_queue_wait_under_crn(tmp_path: Path) -> None:
    """FIFO queue, review times drawn in arrival order: every file's wait is non-increasing
    in the number of reviewers (see tests/test_model.py), so per replication too."""
    res = sim.run_sweep(mmc_reviewers([5, 6, 8], reps=4), tmp_path / "r", workers=1)
    w = res.authority.pivot(index="replication", columns="point", values="queue_wait_mean")
    assert (w[0] >= w[1]).all() and (w[1] >= w[2]).all(), w
    assert (w[0] > w[2]).all()  # not vacuous
    curve = res.summary().query("metric == 'queue_wait_days'").set_index("point")["mean"]
    assert curve.is_monotonic_decreasing


COVERS = [10.0, 20.0, 40.0, 80.0]


def _cover_sweep(random: bool, reps: int, out: Path) -> pd.DataFrame:
    data = cover_world(10.0, random=random)
    data["sweep"] = {"method": "grid", "replications": reps, "parameters": [
        {"path": "firms.f.initial_cover_days", "values": COVERS}]}
    res = sim.run_sweep(config_from_dict(data), out, workers=1)
    return res.firms.pivot(index="replication", columns="point", values="shortfall_units")


def test_more_cover_never_raises_shortfall_deterministic(tmp_path: Path) -> None:
    """Where it holds pathwise (no random draws to re-align), exactly, per replication."""
    sf = _cover_sweep(False, 2, tmp_path / "c")
    for k in range(len(COVERS) - 1):
        assert (sf[k + 1] <= sf[k] + 1e-6).all(), sf
    assert (sf[3] < sf[0]).all()


def test_more_cover_lowers_mean_shortfall_under_crn(tmp_path: Path) -> None:
    """With randomness the per-replication property does not hold (more cover shifts
    which draw each order gets); the mean does, each step more than 3 standard errors of
    the paired differences from a tie (steps of ~800-2900 units, SE ~150-250)."""
    sf = _cover_sweep(True, 16, tmp_path / "c")
    for k in range(len(COVERS) - 1):
        diff = sf[k + 1] - sf[k]
        se = diff.std(ddof=1) / math.sqrt(len(diff))
        assert diff.mean() < -3 * se, (k, diff.mean(), se)


# =========================================================================== Sobol wiring


def _fake_replication(y: float, seed: np.random.SeedSequence) -> Replication:
    """A Replication whose single firm (sector auto) has shortfall_frac = y."""
    firms = pd.DataFrame({"firm": ["f"], "sector": ["auto"], "planned_units": [1.0],
                          "produced_units": [1.0 - y], "shortfall_units": [y],
                          "shortfall_frac": [y], "planned_value": [1.0], "value_lost": [y],
                          "tts_days": [np.nan], "ttr_days": [np.nan], "downtime_days": [0.0],
                          "stockouts": [0]})
    auth = pd.DataFrame({"queue_wait_mean": [0.0]})
    empty = pd.DataFrame({"x": pd.Series([], dtype=float)})
    return Replication(firms, empty, empty, empty, auth, empty, 0, tuple(seed.spawn_key))


def ishigami_model(cfg: sim.Config, seed: np.random.SeedSequence,
                   progress: object = None) -> Replication:
    """Ishigami (a = 7, b = 0.1) of three config values, each swept over [0, 2π] and
    shifted to [-π, π]."""
    f = cfg.firms["f"]
    x1, x2, x3 = (v - math.pi for v in (f.initial_cover_days, f.restart_delay_days,
                                        f.pipeline_days))
    y = math.sin(x1) + 7 * math.sin(x2) ** 2 + 0.1 * x3 ** 4 * math.sin(x1)
    return _fake_replication(y, seed)


@pytest.mark.slow  # tens of seconds of computing
def test_sobol_wiring_gives_ishigami_indices(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from SALib.analyze import sobol
    from SALib.test_functions import Ishigami

    monkeypatch.setattr("sim.model.simulate", ishigami_model)
    data = cover_world(10.0, random=False)
    two_pi = 2 * math.pi
    data["sweep"] = {"method": "sobol", "N": 512, "replications": 1, "parameters": [
        {"path": f"firms.f.{k}", "low": 0.0, "high": two_pi}
        for k in ("initial_cover_days", "restart_delay_days", "pipeline_days")]}
    cfg = config_from_dict(data)
    run_sweep(cfg, tmp_path / "ish", Execution(workers=1, chunk_size=512))
    res = sim.SweepResults(tmp_path / "ish")
    s = res.sensitivity().query("metric == 'shortfall_frac' and sector == 'auto'")
    assert list(s["parameter"]) == [f"firms.f.{k}" for k in (
        "initial_cover_days", "restart_delay_days", "pipeline_days")]
    # exactly SALib's analysis of the same sample with the function evaluated directly
    d = res.design
    y = Ishigami.evaluate(d.sample - math.pi)
    direct = sobol.analyze(d.problem, y, calc_second_order=False, seed=0)
    assert np.allclose(s["S1"], direct["S1"], atol=1e-9)
    assert np.allclose(s["ST"], direct["ST"], atol=1e-9)
    # and the analytical indices, within the sampling error of N = 512
    assert s["S1"].to_numpy() == pytest.approx([0.3139, 0.4424, 0.0], abs=0.06)
    assert s["ST"].to_numpy() == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.06)
    assert (s["S1_conf"] > 0).all() and (s["ST_conf"] < 0.2).all()


# =========================================================================== outputs, plots


def toy_model(cfg: sim.Config, seed: np.random.SeedSequence,
              progress: object = None) -> Replication:
    """A fast stand-in: shortfall falls with cover, rises with the restart delay, plus
    noise from the replication's seed."""
    f = cfg.firms["f"]
    noise = np.random.default_rng(seed).normal(0, 0.01)
    y = 0.3 - 0.003 * f.initial_cover_days + 0.01 * f.restart_delay_days + noise
    return _fake_replication(float(np.clip(y, 0, 1)), seed)


@pytest.mark.parametrize("method,parameters,plots", [
    ("grid", [{"path": "firms.f.initial_cover_days", "values": [10.0, 30.0, 50.0]}],
     {"response.png"}),
    ("grid", [{"path": "firms.f.initial_cover_days", "values": [10.0, 50.0]},
              {"path": "firms.f.restart_delay_days", "values": [0.0, 5.0, 10.0]}],
     {"heatmap.png", "discovery.png"}),
    ("oat", [{"path": "firms.f.initial_cover_days", "values": [20.0, 10.0, 50.0]},
             {"path": "firms.f.restart_delay_days", "values": [3.0, 0.0, 10.0]}],
     {"tornado.png"}),
    ("lhs", [{"path": "firms.f.initial_cover_days", "low": 5.0, "high": 60.0},
             {"path": "firms.f.restart_delay_days", "low": 0.0, "high": 10.0}],
     {"main_effects.png", "discovery.png"}),
    ("sobol", [{"path": "firms.f.initial_cover_days", "low": 5.0, "high": 60.0},
               {"path": "firms.f.restart_delay_days", "low": 0.0, "high": 10.0}],
     {"sobol.png", "discovery.png"}),
    ("morris", [{"path": "firms.f.initial_cover_days", "low": 5.0, "high": 60.0},
                {"path": "firms.f.restart_delay_days", "low": 0.0, "high": 10.0}],
     {"morris.png"}),
])
def test_outputs_and_plots(method: str, parameters: list[dict], plots: set[str],
                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sim.model.simulate", toy_model)
    data = cover_world(10.0, random=False)
    data["sweep"] = {"method": method, "N": 8, "replications": 4, "parameters": parameters}
    if "discovery.png" in plots:
        data["sweep"]["discovery"] = {"sector": "auto", "above": 0.2}
    res = sim.run_sweep(config_from_dict(data), tmp_path / "s", workers=1)
    labels = [p["path"] for p in parameters]
    points = pd.read_csv(res.path / "points.csv")
    assert list(points.columns) == ["point", *labels, "crn"]
    assert len(points) == res.design.size and list(points["point"]) == list(range(len(points)))
    summary = pd.read_csv(res.path / "summary.csv")
    assert list(summary.columns) == ["point", *COLUMNS, "crn"]
    assert sorted(summary["point"].unique()) == list(range(len(points)))
    firms = res.firms
    assert list(firms.columns[:2]) == ["point", "replication"]
    assert len(firms) == len(points) * 4
    sens_file = res.path / "sensitivity.csv"
    expected = {"sobol": ["parameter", "sector", "metric", "S1", "S1_conf", "ST", "ST_conf",
                          "noise_share"],
                "morris": ["parameter", "sector", "metric", "mu_star", "mu_star_conf",
                           "sigma", "mu", "noise_share"],
                "oat": TORNADO_COLUMNS}.get(method)
    if expected is None:
        assert not sens_file.exists()
    else:
        sens = pd.read_csv(sens_file)
        assert list(sens.columns) == expected
        assert set(sens["parameter"]) == set(labels)
    if method == "oat":
        t = res.sensitivity().set_index("parameter")
        cover = t.loc["firms.f.initial_cover_days"]
        assert cover["rank"] == 1  # swing 0.12 against 0.1
        assert cover["low_effect"] == pytest.approx(0.03, abs=1e-9)   # paired: noise cancels
        assert cover["high_effect"] == pytest.approx(-0.09, abs=1e-9)
        assert cover["low_ci_low"] == pytest.approx(cover["low_ci_high"], abs=1e-9)
        # computed once per folder object (the text and the plots below read it again),
        # each reader given its own copy
        monkeypatch.setattr("sim.sweep.sensitivity.tornado_table", _not_again)
        mine = res.sensitivity()
        mine["rank"] = 0
        assert list(res.sensitivity()["rank"]) == list(t["rank"])
    if "discovery.png" in plots:
        box = pd.read_csv(res.path / "discovery.csv")
        assert list(box["parameter"]) == labels
        assert {"coverage", "density", "mass", "quasi_p"} <= set(box.columns)
        assert box["coverage"].iloc[0] >= 0.5 and box["density"].iloc[0] > 0
        if method == "grid":  # shortfall > 0.2 needs little cover: restricted from above
            cover = box.set_index("parameter").loc["firms.f.initial_cover_days"]
            assert bool(cover["restricted"]) and cover["high"] < cover["full_high"]
    paths = res.plot()
    assert {p.name for p in paths} == plots
    assert all(p.stat().st_size > 10_000 for p in paths)
    assert f"{method} sweep, {len(points)} points x 4 replications" in res.text()


def _not_again(*args: object) -> None:
    raise AssertionError("the sensitivity table was computed a second time")


def test_discovery_finds_a_known_box() -> None:
    from sim.sweep.discovery import choose, prim, quasi_p

    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.uniform(0, 1, size=(2000, 3)), columns=["a", "b", "c"])
    inbox = (x["a"] > 0.6) & (x["b"] < 0.3)
    y = np.where(inbox, rng.uniform(size=2000) < 0.9, rng.uniform(size=2000) < 0.05)
    traj = prim(x, y, alpha=0.05, min_mass=0.02)
    assert traj[0].mass == 1 and traj[0].coverage == 1
    assert all(b.mass >= 0.02 for b in traj)
    # the true box holds ~0.7 of the cases of interest (5% lie outside it)
    box = traj[choose(traj, 0.6)]
    (alo, ahi), (blo, bhi), (clo, chi) = box.limits["a"], box.limits["b"], box.limits["c"]
    assert 0.55 < alo < 0.7 and ahi > 0.99 and blo < 0.01 and 0.25 < bhi < 0.35
    assert clo < 0.05 and chi > 0.95  # c is irrelevant
    assert box.coverage >= 0.6 and box.density > 0.85
    qp = quasi_p(x, y, box, traj[0].limits)
    assert qp["a"] < 1e-6 and qp["b"] < 1e-6  # significant restrictions
    assert qp.get("c", 1.0) > 0.05  # a nibble off c's ends is not


# =========================================================================== executors, resume


@pytest.fixture(scope="module")
def grid2(tmp_path_factory: pytest.TempPathFactory) -> tuple[sim.Config, Path]:
    cfg = with_sweep(MMC, {"method": "grid", "replications": 3, "parameters": [
        {"path": "authority.reviewers", "values": [5, 7]},
        {"path": "authority.review_time", "scale": True, "values": [0.8, 1.0]}]},
        horizon_days=200)
    d = tmp_path_factory.mktemp("grid2")
    run_sweep(cfg, d / "serial", Execution(workers=1, chunk_size=5))
    return cfg, d


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    res = sim.SweepResults(path)
    return {n: res.table(n).sort_values(["point", "replication"], kind="mergesort")
            .reset_index(drop=True) for n in ("replications", "authority", "exports")}


def _same(a: Path, b: Path) -> None:
    ta, tb = _tables(a), _tables(b)
    for n in ta:
        pd.testing.assert_frame_equal(ta[n], tb[n], check_exact=True, obj=n)


def test_same_tables_for_any_executor_and_chunk_size(grid2: tuple[sim.Config, Path]) -> None:
    cfg, d = grid2
    run_sweep(cfg, d / "pool", Execution(workers=2, chunk_size=2))
    _same(d / "serial", d / "pool")
    pytest.importorskip("dask.distributed")
    run_sweep(cfg, d / "dask", Execution("dask", workers=2, chunk_size=4))
    _same(d / "serial", d / "dask")


def test_resume_finishes_an_interrupted_sweep(grid2: tuple[sim.Config, Path]) -> None:
    import shutil

    cfg, d = grid2
    part = d / "part"
    shutil.copytree(d / "serial", part)
    assert list(ResultsDir(part).chunks()) == [0, 1, 2]  # 12 runs in chunks of 5 (spanning
    for t in cfg.sweep.tables:                          # points)
        (part / t / "part-00001.parquet").unlink()
    with pytest.raises(FolderError, match="chunk 1 is damaged: .*part-00001.parquet is "
                       "missing"):
        sim.SweepResults(part)
    with pytest.raises(FolderError, match="resume=True or overwrite=True"):
        run_sweep(cfg, part, Execution(workers=1))
    with pytest.raises(FolderError, match="differs"):  # crn is part of the config
        run_sweep(cfg, part, Execution(workers=1, resume=True), crn=False)
    info = run_sweep(cfg, part, Execution(workers=1, resume=True))
    assert info.chunks_run == 1
    _same(d / "serial", part)


# =========================================================================== bad input

GOOD = """
[sweep]
method = "grid"
replications = 2
[[sweep.parameters]]
path = "authority.reviewers"
values = [4, 5]
"""

BAD = [  # id, [sweep] text, substrings of the one-line message
    ("unknown-path", GOOD.replace("authority.reviewers", "authority.reviewerz"),
     ["sweep.parameters.0.path", "no key 'reviewerz'", "reviewers"]),
    ("unknown-name", GOOD.replace("authority.reviewers", "firms.nosuch.initial_cover_days"),
     ["sweep.parameters.0.path", "no 'nosuch' in firms"]),
    ("empty-values", GOOD.replace("[4, 5]", "[]"),
     ["sweep.parameters.0.values", "must not be empty"]),
    ("low-not-below-high", GOOD.replace('"grid"', '"lhs"').replace(
        "values = [4, 5]", "low = 5\nhigh = 5\ninteger = true"),
     ["sweep.parameters.0", "low must be below high"]),
    ("integer-on-float-path", GOOD.replace('"grid"', '"lhs"').replace(
        "authority.reviewers", "authority.background.rate_per_day").replace(
        "values = [4, 5]", "low = 1\nhigh = 9\ninteger = true"),
     ["sweep.parameters.0.integer", "rate_per_day", "not a whole number"]),
    ("int-path-without-integer", GOOD.replace('"grid"', '"sobol"').replace(
        "values = [4, 5]", "low = 3\nhigh = 9"),
     ["sweep.parameters.0.integer", "add integer = true"]),
    ("value-out-of-range", GOOD.replace("[4, 5]", "[4, 0]"),
     ["sweep.parameters.0 (authority.reviewers)", "point 1", "value 0"]),
    ("wrong-type-at-point", GOOD.replace("[4, 5]", "[4, 5.5]"),
     ["sweep.parameters.0 (authority.reviewers)", "point 1", "whole number"]),
    ("values-for-sampled", GOOD.replace('"grid"', '"morris"'),
     ["sweep.parameters.0.values", "morris"]),
    ("sobol-N-not-power-of-2", GOOD.replace('"grid"', '"sobol"\nN = 10').replace(
        "values = [4, 5]", "low = 3\nhigh = 9\ninteger = true"),
     ["sweep.N", "power of 2"]),
    ("a-table", GOOD.replace("authority.reviewers", "authority.decision"),
     ["sweep.parameters.0.path", "is a table"]),
    ("scale-on-a-string", GOOD.replace("authority.reviewers", "authority.discipline")
     .replace("values = [4, 5]", "values = [1.0]\nscale = true"),
     ["sweep.parameters.0.path", "scale = true needs"]),
    ("unknown-method", GOOD.replace('"grid"', '"factorial"'),
     ["sweep.method", "factorial"]),
    ("duplicate-parameter", GOOD + '[[sweep.parameters]]\npath = "authority.reviewers"\n'
     'values = [1]\n', ["sweep.parameters.1.path", "already"]),
]


@pytest.mark.parametrize("text,needles", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_sweep_config_exits_2(text: str, needles: list[str], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "s.toml"
    f.write_text(f'extends = "{MMC.as_posix()}"\n' + text)
    code = main(["sweep", str(f), "--out", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("rareshock: error: ")
    for n in needles:
        assert n in err, (n, err)
    assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.slow  # validates every point of every bundled sweep (~15 s)
def test_sweep_without_table_and_validate(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", str(MMC), "--out", str(tmp_path / "o")]) == 2
    assert "no [sweep] table" in capsys.readouterr().err
    for f in sorted(SWEEPS.glob("*.toml")):  # the bundled sweep configs are valid
        assert main(["validate", str(f)]) == 0
        assert "every point's config is valid" in capsys.readouterr().out


def test_cli_sweep_end_to_end(tmp_path: Path) -> None:
    """`rareshock sweep` for real: --set reaches the sweep table, --replications sets the
    replications per point, --no-crn is recorded; `summary` and `plot` read the folder."""
    f = tmp_path / "s.toml"
    f.write_text(f'extends = "{SMALL.as_posix()}"\n' + """
[sweep]
method = "oat"
replications = 5
[[sweep.parameters]]
path = "authority.reviewers"
values = [40, 10, 80]
[[sweep.parameters]]
name = "approval factor"
path = "authority.decision"
scale = true
values = [1.0, 0.5]
""")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sim", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "MPLBACKEND": "Agg"})

    r = run("sweep", "s.toml", "-n", "2", "--set", "sweep.parameters.0.values=[40, 20]",
            "--no-crn", "-j", "1", "--out", "out")
    assert r.returncode == 0, r.stderr
    assert "oat sweep, 3 points x 2 replications, independent streams" in r.stdout
    assert "Tornado, auto shortfall_frac" in r.stdout
    man = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert (man["kind"], man["points"], man["replications"], man["crn"]) == (
        "sweep", 3, 2, False)
    pts = pd.read_csv(tmp_path / "out" / "points.csv")
    assert list(pts["authority.reviewers"]) == [40, 20, 40]
    assert list(pts["approval factor"]) == [1.0, 1.0, 0.5]
    assert (tmp_path / "out" / "plots" / "tornado.png").is_file()
    s = run("summary", "out")
    assert s.returncode == 0 and "Tornado" in s.stdout
    c = run("summary", "out", "--csv")
    assert c.stdout.startswith("point,level,name,metric")


def test_noise_share_credits_common_random_numbers() -> None:
    """y[p, i] = p + r_i + e_pi over 5 points and 400 replications, r_i ~ N(0, 10^2) shared
    by the points (CRN), e ~ N(0, 1): the point means vary by var(p) = 2.5 plus var(e)/n,
    so the noise share is (1/400) / (2.5 + 1/400) ~ 0.001 -- not the ~0.1 that
    var(replications)/n, which counts the shared r_i, would say. With no shared part the
    two estimates agree."""
    from sim.sweep.sensitivity import noise_shares

    rng = np.random.default_rng(4)
    p, n = 5, 400
    r = rng.normal(0, 10, n)
    for shared, lo, hi in ((r, 0.0005, 0.002), (np.zeros(n), 0.0005, 0.002)):
        y = np.arange(p)[:, None] + shared[None, :] + rng.normal(0, 1, (p, n))
        cases = pd.DataFrame({"point": np.repeat(np.arange(p), n),
                              "replication": np.tile(np.arange(n), p),
                              "sector": "auto", "x": y.ravel()})
        assert lo < noise_shares(cases, "x")["auto"] < hi
