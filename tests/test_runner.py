"""The batch runner and its statistics, in process: `sim.run_batch`, the seed scheme,
errors that say how to reproduce a failed replication, resume/extend, the results
folder's files, and `sim.stats` checked against numbers worked out by hand."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import sim
from sim.analysis.stats import COLUMNS, describe, sector_halfwidths, sector_table, summary_rows
from sim.errors import ArgumentError, FolderError
from sim.run.batch import default_chunk_size
from sim.run.chunks import ReplicationError
from sim.run.seeds import replication_seed
from sim.run.store import TABLES, ResultsDir, atomic_write_bytes, config_hash

ROOT = Path(__file__).resolve().parents[1]
MMC = ROOT / "configs" / "mmc.toml"
SMALL = ROOT / "tests" / "data" / "small.toml"  # baseline world, 240 days, 10 firms


@pytest.fixture(scope="module")
def cfg() -> sim.Config:
    return sim.load_config(SMALL)


@pytest.fixture(scope="module")
def batch(cfg: sim.Config, tmp_path_factory: pytest.TempPathFactory) -> sim.Results:
    return sim.run_batch(cfg, tmp_path_factory.mktemp("batch") / "out", replications=3,
                         workers=1)


# --------------------------------------------------------------------------- run_batch


def test_run_batch_returns_results(batch: sim.Results, cfg: sim.Config) -> None:
    assert isinstance(batch, sim.Results)
    assert batch.replications == 3
    assert len(cfg.firms) == 10
    assert len(batch.firms) == 3 * len(cfg.firms)
    assert set(batch.firms["firm"]) == set(cfg.firms)
    assert list(batch.firms["replication"]) == [i for i in range(3) for _ in cfg.firms]
    assert (batch.path / "summary.csv").is_file()
    assert list(batch.summary().columns) == COLUMNS
    man = batch.manifest
    assert man["seed"] == cfg.runs.seed and list(ResultsDir(batch.path).chunks()) == [0, 1, 2]
    assert man["config_sha256"] == config_hash(cfg)
    # the stored config is the one that ran
    assert config_hash(sim.load_config(batch.path / "config.toml")) == config_hash(cfg)


@pytest.mark.parametrize("i", [0, 1, 2])
def test_seed_scheme(batch: sim.Results, cfg: sim.Config, i: int) -> None:
    """Replication i is `simulate` with child i of SeedSequence(runs.seed), nothing else."""
    rep = sim.simulate(cfg, np.random.SeedSequence(entropy=cfg.runs.seed, spawn_key=(i,)))
    stored = batch.firms[batch.firms["replication"] == i].drop(columns="replication")
    pd.testing.assert_frame_equal(stored.reset_index(drop=True), rep.firms, check_exact=True)
    assert replication_seed(cfg.runs.seed, i).generate_state(4).tolist() == \
        np.random.SeedSequence(cfg.runs.seed).spawn(i + 1)[i].generate_state(4).tolist()


def test_replication_error_says_how_to_reproduce(cfg: sim.Config, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    real = sim.model.simulate

    def boom(c, seed, progress=None):  # noqa: ANN001, ANN202
        if tuple(seed.spawn_key) == (2,):
            raise ZeroDivisionError("boom")
        return real(c, seed)

    monkeypatch.setattr("sim.model.simulate", boom)
    with pytest.raises(ReplicationError) as err:
        sim.run_batch(cfg, tmp_path / "out", replications=4, workers=1, chunk_size=1)
    msg = str(err.value)
    assert "replication 2 failed" in msg and "ZeroDivisionError: boom" in msg
    assert f"SeedSequence(entropy={cfg.runs.seed}, spawn_key=(2,))" in msg
    assert isinstance(err.value.__cause__, ZeroDivisionError)
    # what finished before the failure is stored and can be resumed
    assert list(ResultsDir(tmp_path / "out").chunks()) == [0, 1]
    monkeypatch.setattr("sim.model.simulate", real)
    res = sim.run_batch(cfg, tmp_path / "out", replications=4, workers=1, resume=True)
    assert sorted(res.firms["replication"].unique()) == [0, 1, 2, 3]


def test_bad_options(cfg: sim.Config, tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match="^replications=0: must be at least 1"):
        sim.run_batch(cfg, tmp_path / "a", replications=0)
    with pytest.raises(ArgumentError, match="^chunk_size=0: must be at least 1"):
        sim.run_batch(cfg, tmp_path / "b", replications=1, chunk_size=0)
    with pytest.raises(ArgumentError, match="^executor='nosuch': expected"):
        sim.run_batch(cfg, tmp_path / "c", replications=1, executor="nosuch")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_existing_folder_needs_resume_or_overwrite(batch: sim.Results, cfg: sim.Config) -> None:
    before = (batch.path / "manifest.json").read_bytes()
    with pytest.raises(FolderError, match=r"pass resume=True or overwrite=True"):
        sim.run_batch(cfg, batch.path, replications=3, workers=1)
    assert (batch.path / "manifest.json").read_bytes() == before


def test_extend_with_partial_last_chunk(cfg: sim.Config, tmp_path: Path) -> None:
    """3 replications in chunks of 2 end with a short chunk; growing the batch to 5 must
    run replication 3, not skip it (the short chunk is run again, whole)."""
    sim.run_batch(cfg, tmp_path / "grown", replications=3, workers=1, chunk_size=2)
    grown = sim.run_batch(cfg, tmp_path / "grown", replications=5, workers=1, resume=True)
    fresh = sim.run_batch(cfg, tmp_path / "fresh", replications=5, workers=1, chunk_size=2)
    assert grown.replications == 5
    for name in ("replications", "applications", "timeseries", "exports"):
        pd.testing.assert_frame_equal(grown.table(name), fresh.table(name), check_exact=True)
    assert grown.manifest["events_processed"] == fresh.manifest["events_processed"]


def test_precision_from_one_replication(cfg: sim.Config, tmp_path: Path) -> None:
    """One replication has no confidence interval (infinite half-width): the batch must
    grow, not crash."""
    res = sim.run_batch(cfg, tmp_path / "p", replications=1, workers=1, precision=1e-9,
                        max_replications=4)
    assert res.manifest["precision"]["target_halfwidth"] == 1e-9
    assert res.manifest["precision"]["met"] is False
    assert res.replications == 4 and res.info.replications == 4
    assert sorted(res.firms["replication"].unique()) == [0, 1, 2, 3]


def test_precision_met_records_target(cfg: sim.Config, tmp_path: Path) -> None:
    res = sim.run_batch(cfg, tmp_path / "p", replications=2, workers=1, precision=10.0)
    prec = res.manifest["precision"]
    assert prec["target_halfwidth"] == 10.0 and prec["met"] is True
    assert prec["worst_halfwidth"] < 10.0
    assert res.replications == 2  # already precise enough: nothing added


def test_plot_without_firms_or_policy(tmp_path: Path) -> None:
    """mmc.toml has no firms and no policy events; its empty policy table must not break
    the plots."""
    cfg = sim.load_config(MMC, ["horizon_days=200"])
    res = sim.run_batch(cfg, tmp_path / "m", replications=2, workers=1)
    assert res.policy.empty and res.policy["happened"].dtype == bool
    assert res.firms.empty and "replication" in res.firms.columns
    paths = res.plot()
    assert paths and all(p.suffix == ".png" and p.is_file() for p in paths)


def test_results_of_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FolderError, match="no such folder"):
        sim.Results(tmp_path / "nothing")
    with pytest.raises(FolderError, match="no rareshock results"):
        sim.Results(tmp_path)


# --------------------------------------------------------------------------- store


def test_atomic_write_leaves_no_temporaries(tmp_path: Path) -> None:
    f = tmp_path / "d" / "x.bin"
    atomic_write_bytes(f, b"one")
    atomic_write_bytes(f, b"two")
    assert f.read_bytes() == b"two"
    assert [p.name for p in f.parent.iterdir()] == ["x.bin"]
    umask = os.umask(0)
    os.umask(umask)
    assert f.stat().st_mode & 0o777 == 0o666 & ~umask


def test_resume_removes_temporaries(batch: sim.Results, cfg: sim.Config,
                                    tmp_path: Path) -> None:
    import shutil

    d = tmp_path / "copy"
    shutil.copytree(batch.path, d)
    for t in TABLES:
        if (d / t).is_dir():  # (no parameters: nothing uncertain in this config)
            (d / t / ".part-00009.parquet.x1.tmp").write_bytes(b"half")
    (d / ".manifest.json.x2.tmp").write_bytes(b"{")
    res = sim.run_batch(cfg, d, replications=3, workers=1, resume=True)
    assert not list(d.rglob("*.tmp"))
    assert res.info.chunks_run == 0  # everything was done already
    pd.testing.assert_frame_equal(res.firms, batch.firms)


def test_default_chunk_size() -> None:
    assert default_chunk_size(1) == 1
    assert default_chunk_size(32) == 1
    assert default_chunk_size(33) == 2
    assert default_chunk_size(200) == 7
    assert default_chunk_size(10_000) == 20


def test_store_read_is_ordered(batch: sim.Results) -> None:
    store = ResultsDir(batch.path)
    ts = store.read("timeseries")
    assert ts["replication"].is_monotonic_increasing
    assert list(store.read("replications", ["replication", "firm"]).columns) == [
        "replication", "firm"]


# --------------------------------------------------------------------------- statistics

VALUES = np.array([0.0, 0.0, *range(1, 20)])  # 21 values: two zeros, then 1..19


def test_describe_by_hand() -> None:
    d = describe(VALUES)
    n = 21
    mean = sum(range(1, 20)) / n  # 190 / 21
    assert d["n"] == n
    assert d["mean"] == pytest.approx(190 / 21, abs=1e-12)
    sd = math.sqrt(sum((x - mean) ** 2 for x in VALUES) / (n - 1))
    half = sps.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    assert d["ci_low"] == pytest.approx(mean - half, rel=1e-12)
    assert d["ci_high"] == pytest.approx(mean + half, rel=1e-12)
    lo, hi = sps.t.interval(0.95, n - 1, loc=mean, scale=sps.sem(VALUES))
    assert (d["ci_low"], d["ci_high"]) == pytest.approx((lo, hi), rel=1e-12)
    # linear-interpolated quantiles of the sorted values 0, 0, 1, ..., 19 (positions k/20)
    assert d["p5"] == 0.0      # position 1: the second 0
    assert d["p50"] == 9.0     # position 10
    assert d["p90"] == 17.0    # position 18
    assert d["p95"] == 18.0    # position 19
    assert d["p99"] == pytest.approx(18.8)  # position 19.8: 18 + 0.8
    assert d["p_positive"] == pytest.approx(19 / 21)
    # CVaR95: mean of the largest ceil(0.05 * 21) = 2 values
    assert d["cvar95"] == pytest.approx((19 + 18) / 2)
    assert set(d) == set(COLUMNS[3:])


def test_describe_edge_cases() -> None:
    x = np.arange(100.0)
    assert describe(x)["cvar95"] == pytest.approx(np.mean([95, 96, 97, 98, 99]))
    d = describe(np.array([1.0, np.nan, 3.0]))  # NaN ignored
    assert d["n"] == 2 and d["mean"] == 2.0
    one = describe([5.0])
    assert one["n"] == 1 and one["mean"] == 5.0 and math.isnan(one["ci_low"])
    assert one["cvar95"] == 5.0
    empty = describe(np.array([np.nan]))
    assert empty["n"] == 0 and all(math.isnan(empty[k]) for k in COLUMNS[4:-1])
    const = describe([0.0, 0.0, 0.0])
    assert const["ci_low"] == const["ci_high"] == 0.0 and const["p_positive"] == 0.0
    neg = describe([-1.0, -2.0])
    assert neg["p_positive"] == 0.0 and neg["cvar95"] == -1.0


def _firms() -> pd.DataFrame:
    rows = [  # replication, firm, sector, planned_value, value_lost
        (0, "a", "auto", 100.0, 10.0),
        (0, "b", "auto", 300.0, 90.0),
        (0, "c", "tech", 50.0, 0.0),
        (1, "a", "auto", 100.0, 0.0),
        (1, "b", "auto", 300.0, 30.0),
        (1, "c", "tech", 50.0, 50.0),
        (2, "a", "auto", 100.0, 100.0),
        (2, "b", "auto", 300.0, 0.0),
        (2, "c", "tech", 50.0, 5.0),
    ]
    df = pd.DataFrame(rows, columns=["replication", "firm", "sector", "planned_value",
                                     "value_lost"])
    df["shortfall_frac"] = df["value_lost"] / df["planned_value"]
    for m in ("shortfall_units", "tts_days", "ttr_days", "downtime_days"):
        df[m] = 1.0
    return df


def test_sector_table_value_weighted() -> None:
    st = sector_table(_firms()).set_index(["replication", "sector"])
    # Σ value_lost / Σ planned_value, not the mean of the firms' fractions
    assert st.loc[(0, "auto"), "shortfall_frac"] == pytest.approx(100 / 400)  # not 0.2
    assert st.loc[(1, "auto"), "shortfall_frac"] == pytest.approx(30 / 400)
    assert st.loc[(2, "auto"), "shortfall_frac"] == pytest.approx(100 / 400)  # not 0.5
    assert st.loc[(0, "tech"), "shortfall_frac"] == 0.0
    assert st.loc[(1, "tech"), "shortfall_frac"] == pytest.approx(1.0)
    assert st.loc[(2, "tech"), "shortfall_frac"] == pytest.approx(0.1)
    assert st.loc[(0, "auto"), "value_lost"] == 100.0
    assert st.loc[(1, "auto"), "planned_value"] == 400.0
    assert len(st) == 6


def test_sector_table_zero_planned_value() -> None:
    df = _firms()
    df.loc[df["sector"] == "tech", ["planned_value", "value_lost"]] = 0.0
    st = sector_table(df).set_index(["replication", "sector"])
    assert (st.xs("tech", level="sector")["shortfall_frac"] == 0.0).all()


def test_summary_rows_sector_rows() -> None:
    firms = {c: v.to_numpy() for c, v in _firms().items()}
    authority = {"replication": np.array([0, 1, 2]), "queue_wait_mean": np.array([1.0, 2.0, 3.0])}
    s = pd.DataFrame(summary_rows(firms, authority), columns=COLUMNS)
    assert list(s.columns) == COLUMNS
    row = s[(s["level"] == "sector") & (s["name"] == "auto")
            & (s["metric"] == "shortfall_frac")].iloc[0]
    auto = np.array([0.25, 0.075, 0.25])
    assert row["n"] == 3
    assert row["mean"] == pytest.approx(auto.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(_share_interval(auto))
    assert row["interval"] == "wilson"
    assert row["cvar95"] == pytest.approx(0.25)
    lost = s[(s["level"] == "sector") & (s["name"] == "tech") & (s["metric"] == "value_lost")]
    assert lost["mean"].iloc[0] == pytest.approx(55 / 3)
    assert lost["p_positive"].iloc[0] == pytest.approx(2 / 3)
    firm = s[(s["level"] == "firm") & (s["name"] == "b") & (s["metric"] == "shortfall_frac")]
    assert firm["mean"].iloc[0] == pytest.approx((0.3 + 0.1 + 0.0) / 3)
    wait = s[(s["level"] == "authority") & (s["metric"] == "queue_wait_days")].iloc[0]
    assert wait["mean"] == 2.0 and wait["n"] == 3
    assert set(s["level"]) == {"firm", "sector", "authority"}


def _share_interval(x: np.ndarray) -> tuple[float, float]:
    """The summary's interval of a mean share, by hand: Wilson's score interval on the
    effective sample size p(1 - p) / (s^2 / n), at Student's t quantile."""
    n, p = len(x), x.mean()
    m = p * (1 - p) / (x.var(ddof=1) / n)
    t = sps.t.ppf(0.975, n - 1)
    centre = (p + t * t / (2 * m)) / (1 + t * t / m)
    half = t * math.sqrt(p * (1 - p) / m + t * t / (4 * m * m)) / (1 + t * t / m)
    return centre - half, centre + half


def test_sector_halfwidths() -> None:
    """The larger half of the summary's interval (what --precision holds to)."""
    hw = sector_halfwidths(_firms())
    auto = np.array([0.25, 0.075, 0.25])
    lo, hi = _share_interval(auto)
    assert hw["auto"] == pytest.approx(max(auto.mean() - lo, hi - auto.mean()))
    df = _firms()
    df["value_lost"] = 0.0
    assert sector_halfwidths(df) == {"auto": 0.0, "tech": 0.0}  # no variation: exact
    assert sector_halfwidths(_firms()[lambda d: d["replication"] == 0])["auto"] == math.inf
