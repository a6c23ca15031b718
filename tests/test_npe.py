"""Neural posterior estimation (`calibration.method = "npe"`, issue #24) and its
simulation-based calibration check, on a simulator whose posterior is known: the figures
are the parameters plus Gaussian noise (sd 0.05), so the posterior of each identified
parameter is its figure's normal density cut to [0, 1]; a third parameter moves no
figure, so its posterior is its prior (the check must name it not identified)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sbi")

from sim.calibration.npe import sbc_of, train  # noqa: E402
from sim.errors import ConfigError  # noqa: E402

SD = 0.05


@dataclass(frozen=True)
class _Target:
    key: str


@dataclass(frozen=True)
class _Problem:
    keys: dict[str, str]
    targets: list[_Target]


PROBLEM = _Problem({"p0": "a", "p1": "b", "p2": "blind"},
                   [_Target("x a"), _Target("x b"), _Target("constant")])


def _simulate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    u = rng.uniform(0, 1, size=(n, 3))
    x = np.column_stack([u[:, 0] + rng.normal(0, SD, n), u[:, 1] + rng.normal(0, SD, n),
                         np.full(n, 2.0)])  # the third figure never varies
    return u, x


@pytest.fixture(scope="module")
def trained():  # noqa: ANN201
    u, x = _simulate(2000, 1)
    return train(PROBLEM, u, x, 7, "t.toml", "calibration.fit_months")


def test_training_writes_nothing_in_the_working_directory(trained) -> None:  # noqa: ANN001
    """sbi's default tracker would leave TensorBoard logs in ./sbi-logs."""
    assert not (Path.cwd() / "sbi-logs").exists()


def test_a_target_with_no_spread_is_left_out(trained) -> None:  # noqa: ANN001
    assert trained.left_out == ["constant"]
    assert trained.kept.tolist() == [0, 1]


def test_the_posterior_is_the_known_one(trained) -> None:  # noqa: ANN001
    """At figures (0.3, 0.7): posterior means 0.3 and 0.7 with sd 0.05 (far from the
    edges, the cut normal is the normal); the blind parameter keeps its uniform prior
    (mean 0.5, sd 1/sqrt(12) = 0.289)."""
    d = trained.draws(np.array([0.3, 0.7, 2.0]), 4000)
    assert d.shape == (4000, 3)
    assert d[:, 0].mean() == pytest.approx(0.3, abs=0.015)
    assert d[:, 1].mean() == pytest.approx(0.7, abs=0.015)
    assert d[:, 0].std() == pytest.approx(SD, rel=0.25)
    assert d[:, 2].std() == pytest.approx(12 ** -0.5, rel=0.15)
    assert ((d >= 0) & (d <= 1)).all()  # no leakage outside the prior's box


def test_sbc_passes_and_names_the_blind_parameter(trained) -> None:  # noqa: ANN001
    u, x = _simulate(200, 2)
    got = sbc_of(trained, u, x, 500, 7)
    rows = {r["parameter"]: r for r in got["rows"]}
    for n in ("a", "b", "blind"):
        assert 0.80 <= rows[n]["coverage_90"] <= 0.97, rows[n]
        assert 0.35 <= rows[n]["coverage_50"] <= 0.65, rows[n]
    # contraction: 1 - 0.05^2 x 12 = 0.97 for the identified ones, 0 for the blind one
    assert rows["a"]["contraction"] > 0.9 and rows["b"]["contraction"] > 0.9
    assert abs(rows["blind"]["contraction"]) < 0.1
    assert got["ranks"].shape == (200, 3) and got["datasets"] == 200


def test_rank_histograms_are_drawn(trained, tmp_path: Path) -> None:  # noqa: ANN001
    from sim.report.calibration import plot_ranks

    u, x = _simulate(60, 4)
    got = sbc_of(trained, u, x, 200, 7)
    png = plot_ranks(got, ["a", "b", "blind"], tmp_path)
    assert png.name == "sbc_ranks.png" and png.stat().st_size > 10_000


def test_sbc_catches_a_wrong_posterior(trained) -> None:  # noqa: ANN001
    """Data made with twice the noise the network learnt: its intervals are too narrow,
    and the check says so (90% intervals cover far fewer than 90%)."""
    rng = np.random.default_rng(3)
    u = rng.uniform(0.1, 0.9, size=(200, 3))
    x = np.column_stack([u[:, 0] + rng.normal(0, 4 * SD, 200),
                         u[:, 1] + rng.normal(0, 4 * SD, 200), np.full(200, 2.0)])
    rows = {r["parameter"]: r for r in sbc_of(trained, u, x, 500, 7)["rows"]}
    assert rows["a"]["coverage_90"] < 0.6 and rows["b"]["coverage_90"] < 0.6


def test_a_mixture_of_flows_is_still_the_known_posterior() -> None:
    """Two flows on one training set: sbi's EnsemblePosterior of the two, centred at
    the known posterior (the same checks as one flow's) and calibrated (the SBC's
    coverage)."""
    from sbi.inference.posteriors import EnsemblePosterior

    u, x = _simulate(1000, 1)
    ens = train(PROBLEM, u, x, 7, "t.toml", "calibration.fit_months", flows=2)
    assert isinstance(ens.posterior, EnsemblePosterior) and len(ens.posterior.posteriors) == 2
    d = ens.draws(np.array([0.3, 0.7, 2.0]), 3000)
    assert d[:, 0].mean() == pytest.approx(0.3, abs=0.015)
    assert d[:, 1].mean() == pytest.approx(0.7, abs=0.015)
    assert d[:, 0].std() == pytest.approx(SD, rel=0.3)
    assert d[:, 2].std() == pytest.approx(12 ** -0.5, rel=0.15)
    rows = {r["parameter"]: r for r in sbc_of(ens, *_simulate(150, 2), 400, 7)["rows"]}
    for n in ("a", "b"):
        assert 0.80 <= rows[n]["coverage_90"] <= 0.99, rows[n]


def test_flows_need_npe() -> None:
    from sim.config import load_config

    root = Path(__file__).resolve().parents[1]
    with pytest.raises(ConfigError) as e:
        load_config(root / "configs" / "calibration" / "2025.toml", ["calibration.flows=5"])
    assert e.value.path == "calibration.flows" and "npe" in e.value.message


def test_nothing_varies_is_refused() -> None:
    u = np.random.default_rng(0).uniform(size=(100, 3))
    with pytest.raises(ConfigError, match="no target varies"):
        train(PROBLEM, u, np.full((100, 3), 1.0), 7, "t.toml", "calibration.fit_months")


def test_check_needs_npe(tmp_path: Path) -> None:
    from sim.config import load_config

    root = Path(__file__).resolve().parents[1]
    with pytest.raises(ConfigError) as e:
        load_config(root / "configs" / "calibration" / "2025.toml", ["calibration.check=20"])
    assert e.value.path == "calibration.check" and "npe" in e.value.message


@pytest.mark.slow
@pytest.mark.long
def test_an_npe_calibration_writes_what_it_says(tmp_path: Path) -> None:
    """The CLI end to end on the Jan-March world of test_calibrate (background rate
    uniform 15-45, truth 30), 300 simulations: independent draws, the SBC table, a
    calibration.md that names the method, a folder verify accepts."""
    import subprocess
    import sys

    import pandas as pd
    from test_calibrate import _synthetic

    cfg = _synthetic(tmp_path, 30.0)
    out = tmp_path / "cal"
    r = subprocess.run([sys.executable, "-m", "sim", "calibrate", str(cfg), "--out", str(out),
                        "-j", "2", "-q", "--no-plots", "--check", "40",
                        "--set", 'calibration.method="npe"',
                        "--set", "calibration.simulations=300",
                        "--set", "calibration.draws=1000"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    post = pd.read_parquet(out / "posterior.parquet")
    assert len(post) == 1000 and post["weight"].nunique() == 1
    q5, q95 = post["background_rate"].quantile([0.05, 0.95])
    assert q5 <= 30.0 <= q95 and q95 - q5 < 0.5 * 27  # the prior's P5-P95 is 27 wide
    sbc = pd.read_csv(out / "sbc.csv")
    assert sbc["datasets"].tolist() == [40] and sbc["identified"].all()
    ranks = pd.read_csv(out / "sbc_ranks.csv")  # each dataset's rank of the truth
    assert ranks.shape == (40, 1) and ranks["background_rate"].between(0, 1000).all()
    md = (out / "calibration.md").read_text()
    assert "neural posterior estimation" in md and "abc.db" not in md
    assert "## Simulation-based calibration" in md
    v = subprocess.run([sys.executable, "-m", "sim", "verify", str(out)], capture_output=True,
                       text=True)
    assert v.returncode == 0, v.stdout + v.stderr
