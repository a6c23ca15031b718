"""`rareshock compare`: paired differences on shared seeds, checked against scipy's paired
and Welch t-tests; Bonferroni; the comparison with the best; refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.analysis.compare import compare_runs
from sim.errors import FolderError

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "data" / "small.toml"


class _Run:
    """The parts of a stored run that compare reads: one firm per sector."""

    def __init__(self, frac: dict[str, np.ndarray], seed: int = 1) -> None:
        n = len(next(iter(frac.values())))
        rows = [{"replication": i, "firm": f"f-{s}", "sector": s, "planned_value": 100.0,
                 "value_lost": 100.0 * x[i], "tts_days": 10.0 + x[i], "ttr_days": 5.0}
                for s, x in frac.items() for i in range(n)]
        self.firms = pd.DataFrame(rows)
        self.authority = pd.DataFrame({"replication": range(n), "lead_time_mean": 50.0,
                                       "over_limit_share": 0.2})
        self.manifest = {"seed": seed}
        self.replications = n
        self.config = sim.load_config(SMALL)  # its horizon restricts time to stock-out

    def sectors(self) -> pd.DataFrame:
        from sim.analysis.stats import sector_table

        return sector_table(self.firms)


def test_paired_interval_is_scipys_paired_t() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.random(30), rng.random(30)
    b = 0.5 * a + 0.3 * b  # correlated, as common random numbers make them
    t = compare_runs([_Run({"auto": a}), _Run({"auto": b})], ["A", "B"])
    row = t[(t.name == "auto") & (t.metric == "shortfall_frac")].iloc[0]
    ci = stats.ttest_rel(b, a).confidence_interval(0.95)
    assert row["diff"] == pytest.approx(np.mean(b - a))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert row["share_better"] == pytest.approx(np.mean(b < a))  # less shortfall is better
    assert row["method"] == "paired t" and row["vs_best"] == ""  # two: no comparison with best


def test_bonferroni_and_the_best_with_three() -> None:
    rng = np.random.default_rng(6)
    a = rng.random(40)
    b = a + 0.2 + 0.01 * rng.standard_normal(40)  # clearly worse than a
    c = a + 0.001 * rng.standard_normal(40)        # a twin of a
    t = compare_runs([_Run({"auto": a}), _Run({"auto": b}), _Run({"auto": c})],
                     ["A", "B", "C"])
    sf = t[(t.name == "auto") & (t.metric == "shortfall_frac")].set_index("alternative")
    ci = stats.ttest_rel(b, a).confidence_interval(1 - 0.05 / 2)  # Bonferroni over 2
    assert (sf.loc["B", "ci_low"], sf.loc["B", "ci_high"]) == pytest.approx((ci.low, ci.high))
    assert sf.loc["B", "confidence"] == pytest.approx(0.975)
    assert sf.loc["B", "vs_best"] == "worse than the best"
    assert {sf.loc["C", "vs_best"], sf.loc["C", "reference_vs_best"]} == {
        "best", "not told apart from the best"}
    # time to stock-out: more is better, so B (10.2 + ...) is the best there
    tts = t[(t.name == "auto") & (t.metric == "tts_rmst_days")].set_index("alternative")
    assert tts.loc["B", "vs_best"] == "best"


def test_unpaired_is_welch_and_other_seeds_are_refused() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.random(20), rng.random(25) + 0.1
    runs = [_Run({"auto": a}), _Run({"auto": b}, seed=2)]
    with pytest.raises(FolderError, match="paired only on shared seeds"):
        compare_runs(runs, ["A", "B"])
    t = compare_runs(runs, ["A", "B"], paired=False)
    row = t[(t.name == "auto") & (t.metric == "shortfall_frac")].iloc[0]
    ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert row["method"] == "Welch" and np.isnan(row["share_better"])


def _cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RARESHOCK_DEBUG"} | {
        "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_compare_configs_end_to_end(tmp_path: Path) -> None:
    """Configs are run on a shared seed into --out; a scenario against itself differs by
    exactly 0; fewer reviewers cost shortfall; folders with other seeds are refused."""
    (tmp_path / "slow.toml").write_text(f'extends = "{SMALL.as_posix()}"\nname = "slow"\n'
                                        "[authority]\nreviewers = 10\n")
    r = _cli("compare", SMALL, SMALL, tmp_path / "slow.toml", "-n", "6", "-j", "1",
             "--out", "cmp", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "cmp"
    assert {p.name for p in out.iterdir()} >= {"small", "small-2", "slow", "compare.csv",
                                                "compare.md", "plots"}
    assert (out / "plots" / "compare.png").stat().st_size > 5_000
    t = pd.read_csv(out / "compare.csv")
    same = t[t.alternative == "small-2"]
    assert (same["diff"] == 0).all() and (same["ci_low"] == 0).all()
    assert (same["share_better"] == 0).all()
    slow = t[(t.alternative == "slow") & (t.metric == "shortfall_frac")]
    assert (slow["diff"] >= 0).all() and (slow["diff"] > 0).any()
    assert "Bonferroni over 2 alternatives" in (out / "compare.md").read_text()
    assert sim.Results(out / "slow").manifest["seed"] == sim.Results(out / "small").manifest[
        "seed"]
    # again: refused without --overwrite
    r = _cli("compare", out / "small", out / "slow", "--out", "cmp", cwd=tmp_path)
    assert r.returncode == 2 and "(use --overwrite)" in r.stderr
    # another seed: refused with the reason, or compared unpaired
    r = _cli("run", SMALL, "-n", "6", "-j", "1", "--seed", "99", "--out", "other", "-q",
             "--no-plots", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = _cli("compare", out / "small", "other", "--out", "c2", cwd=tmp_path)
    assert r.returncode == 2 and "paired only on shared seeds" in r.stderr
    assert "(use --unpaired)" in r.stderr and "small-2: was run with seed 99" in r.stderr
    assert r.stderr.count("\n") == 1 and not (tmp_path / "c2" / "compare.csv").exists()
    r = _cli("compare", out / "small", "other", "--out", "c2", "--unpaired", "-q",
             cwd=tmp_path)
    assert r.returncode == 0 and set(pd.read_csv(tmp_path / "c2" / "compare.csv")["method"]) \
        == {"Welch"}


def test_progress_names_the_scenario_being_run(tmp_path: Path) -> None:
    """Each configured scenario's run is announced with its label and place, and its
    progress lines carry the label."""
    import io

    from sim.report.progress import LineProgress
    from sim.run.phases import show_phases

    buf = io.StringIO()
    show_phases(True, buf, prefix="x: ")
    try:
        sim.compare(SMALL, SMALL, out=tmp_path / "cmp", replications=2, workers=1,
                    plots=False)
    finally:
        show_phases(False)
    said = [line for line in buf.getvalue().splitlines() if "scenario" in line]
    assert said == [f"x: scenario 1 of 2: small -> {tmp_path / 'cmp' / 'small'}",
                    f"x: scenario 2 of 2: small-2 -> {tmp_path / 'cmp' / 'small-2'}"]
    line = io.StringIO()
    p = LineProgress(every=0.0, stream=line, label="small-2")
    p.start(64, 0)
    p.advance(16)
    assert line.getvalue().startswith("rareshock: small-2: 16 of 64 replications (25%) after")
