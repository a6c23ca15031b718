"""The back-test measures on hand-made tables, and a small run of the validation report."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.calibration.backtest import (
    approval_table,
    error_measures,
    export_ratios,
    exports_table,
    level_table,
    stoppage_table,
)
from sim.calibration.scores import crps_ensemble

ROOT = Path(__file__).resolve().parents[1]
START = date(2025, 1, 1)
OBS = sim.load_config(ROOT / "configs" / "baseline.toml").observed
assert OBS is not None and OBS.exports is not None
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def _exports(per_day: dict[str, float], us_share: float = 0.1, reps: int = 3,
             spread: float = 0.0) -> pd.DataFrame:
    """A monthly exports table whose kg/day in each month is given; replication r has it
    times 1 + spread * (r - 1) (so with 3 replications the middle one has it exactly)."""
    rows = []
    for r in range(reps):
        for m in MONTHS:
            kg = per_day.get(m, per_day["base"]) * pd.Period(m, "M").days_in_month
            kg *= 1.0 + spread * (r - 1)
            rows.append({"replication": r, "month": m, "destination": "US", "material": "x",
                         "kg": kg * us_share})
            rows.append({"replication": r, "month": m, "destination": "EU", "material": "x",
                         "kg": kg * (1 - us_share)})
    return pd.DataFrame(rows)


def test_export_ratio_is_per_day_over_the_observed_reference_level() -> None:
    ref = {s.name: s.reference_t_per_day for s in OBS.exports.series}  # t/day, 2024
    base = 1000.0 * ref["total"]  # kg/day at the observed 2024 level
    ex = _exports({"base": base, "2025-05": 0.25 * base, "2025-02": base})
    r = export_ratios(ex, OBS.exports).set_index(["series", "month"])["ratio"]
    # a quarter of the reference level per day in May: 0.25, whatever the month lengths
    np.testing.assert_allclose(r.loc[("total", "2025-05")], 0.25)
    np.testing.assert_allclose(r.loc[("total", "2025-02")], 1.0)
    # the US series is divided by its own level: 10% of 158.9 t/day over 20.26 t/day
    np.testing.assert_allclose(r.loc[("US", "2025-02")], 0.1 * ref["total"] / ref["US"])


def test_exports_table_compares_with_facts_and_counts_coverage() -> None:
    # A run whose median reproduces the observed tonnages exactly (the others 1% either
    # side): error 0, every month covered.
    obs = {"2025-05": 1238.0, "2025-06": 3188.0}
    pre = OBS.exports.series[0].reference_t_per_day
    per_day = {"base": 1000.0 * pre} | {m: 1000.0 * v / pd.Period(m, "M").days_in_month
                                        for m, v in obs.items()}
    t = exports_table(_exports(per_day, us_share=0.0, spread=0.01), OBS)
    tot = t[(t["series"] == "total") & t["month"].isin(obs)]
    np.testing.assert_allclose(tot["sim_p50"], tot["observed"], rtol=1e-9)
    assert tot["inside"].all()
    assert (tot["abs_error"] < 1e-9).all()
    # May 2025 observed: 1,238 t over 31 days against 58,152 t over 366 days = 0.2524.
    assert tot.set_index("month").loc["2025-05", "observed"] == pytest.approx(
        1238 / 31 / (58152 / 366))
    e = error_measures(t)
    assert set(e["sample"]) == {"in", "out"}
    # each point's CRPS is the ensemble CRPS of the three replications' ratios: 0.99,
    # 1, 1.01 times the observed ratio o, so by hand (E|X - o| - E|X - X'| / 2)
    # o (0.02 / 3 - (2 x 0.02) / 9) = o x 0.02 / 9
    may = tot.set_index("month").loc["2025-05"]
    assert may["crps"] == pytest.approx(may["observed"] * 0.02 / 9)
    assert may["crps"] == pytest.approx(crps_ensemble(
        may["observed"] * np.array([0.99, 1.0, 1.01]), may["observed"]))


def test_level_before_the_controls_by_hand() -> None:
    """Three replications at 0.9, 1.0 and 1.1 times 2024's level per day (158.9 t/day) in
    January to March (controls on 4 April): P5-P95 = 0.91-1.09 times 4,846 t/month
    (58,152 / 12), inside +-10%; at spread 0.2 (0.8-1.2) it is not."""
    base = {"base": 1000.0 * OBS.exports.series[0].reference_t_per_day}
    t = level_table(_exports(base, spread=0.1), OBS, START, date(2025, 4, 4))
    tot = t.set_index("series").loc["total"]
    assert tot["months"] == "2025-01 to 2025-03"
    assert tot["reference_t_per_month"] == pytest.approx(58152 / 12)
    assert [tot["ratio_p5"], tot["ratio_p95"]] == pytest.approx([0.91, 1.09])
    assert tot["sim_p50"] == pytest.approx(4846.0)
    assert bool(tot["within_10%"])
    wide = level_table(_exports(base, spread=0.2), OBS, START, date(2025, 4, 4))
    assert not bool(wide.set_index("series").loc["total", "within_10%"])


def test_stoppage_table_dates_and_shares() -> None:
    firms = pd.DataFrame({"replication": [0, 1, 2, 3], "firm": ["jp_automaker"] * 4,
                          "tts_days": [50.0, 52.0, 54.0, np.nan]})
    # Controls on day 93 (4 April): stoppages on days 143, 145, 147 = 24, 26, 28 May
    # (1 May is day 120).
    t = stoppage_table(firms, 93.0, START, OBS).set_index("firm").loc["jp_automaker"]
    assert t["sim_p50"] == "2025-05-26"
    assert t["share_never_stopped"] == 0.25
    # Reported 26 May = day 145: two of four replications stopped by then.
    assert t["share_stopped_by_reported_date"] == 0.5
    assert t["days_p50_minus_reported"] == pytest.approx(0.0)


def test_eu_approval_share_by_date() -> None:
    # Four EU files submitted on day 100; two approved by 4 June (day 154), one more by
    # 30 June (day 180), one refused.
    apps = pd.DataFrame({
        "replication": [0, 0, 0, 0],
        "destination": ["EU"] * 4,
        "submitted_day": [100.0] * 4,
        "decided_day": [140.0, 150.0, 170.0, 160.0],
        "outcome": ["approved", "approved", "approved", "refused"],
    })
    t = approval_table(apps, START, date(2025, 4, 4), OBS)
    by = t[t["basis"] == "submitted by the date"].set_index("date")["sim_p50"]
    assert by["2025-06-04"] == 0.5
    assert by["2025-06-30"] == 0.75


def test_backtest_refuses_a_config_without_controls(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "sim", "backtest", str(ROOT / "configs" / "mmc.toml"),
                        "--out", str(tmp_path / "bt")], capture_output=True, text=True)
    assert r.returncode == 2
    assert "observed" in r.stderr  # mmc.toml names no observations
    assert not (tmp_path / "bt").exists()


@pytest.mark.slow  # tens of seconds of computing
@pytest.mark.long
def test_validation_report_small(tmp_path: Path) -> None:
    from sim.report.validation import validate_model

    doc = validate_model(tmp_path / "validation.md", ROOT / "configs", small=True, workers=1)
    text = doc.read_text()
    for heading in ("## 1. The licence queue against queueing theory", "## 2. Conservation",
                    "## 3. Back-test against 2025 rare-earth export controls",
                    "## 4. Rolling origin"):
        assert heading in text
    assert "Erlang C" in text and "Cobham" in text and "Little" in text
    assert (tmp_path / "validation" / "backtest_exports.png").stat().st_size > 10_000


def test_backtest_needs_a_control_and_a_run_covering_the_observations() -> None:
    from sim.calibration.backtest import check_backtest
    from sim.errors import ConfigError

    base = ROOT / "configs" / "baseline.toml"
    assert check_backtest(sim.load_config(base)) is not None
    with pytest.raises(ConfigError, match="policy: no controls_start"):
        check_backtest(sim.load_config(base, ["policy=[]", "uncertain=[]"]))
    # the first observation past the run's end is named (2025-01-01 + 200 days: 20 July)
    with pytest.raises(ConfigError, match=r"observed\.fit_months\.3: 2025-07 lies outside "
                       r"the run \(2025-01-01 to 2025-07-20\): the back-test needs the run "
                       "to cover 2025-04 to 2025-12"):
        check_backtest(sim.load_config(base, ["horizon_days=200"]))
    # a downtime reported before the run began is named, not the calendar (refused as
    # the config is loaded: it could never be counted)
    with pytest.raises(ConfigError, match=r"observed\.downtimes\.0\.until: 2024-12-31 is "
                       "before the start: nothing would be counted"):
        sim.load_config(base, ["observed.downtimes.0.until=2024-12-31"])


def test_backtest_into_a_folder_in_the_way_names_only_its_own_remedy(tmp_path: Path) -> None:
    """backtest has --overwrite but no --resume: the refusal names only what it has."""
    (tmp_path / "bt").mkdir()
    (tmp_path / "bt" / "notes.txt").write_text("mine")
    r = subprocess.run([sys.executable, "-m", "sim", "backtest",
                        str(ROOT / "configs" / "baseline.toml"), "--out", str(tmp_path / "bt")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "(use --overwrite)" in r.stderr, r.stderr
    assert "--resume" not in r.stderr
    assert (tmp_path / "bt" / "notes.txt").read_text() == "mine"
