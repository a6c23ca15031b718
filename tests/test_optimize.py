"""`rareshock optimize` (issue #25) against known answers.

- The bounds: Clopper-Pearson as scipy's exact binomial interval, the CVaR bounds of the
  Dvoretzky-Kiefer-Wolfowitz shift by hand.
- Bisection: on a stock-out probability known in closed form, p(x) = (30 - x) / 20 on
  [10, 30] (so the least x with p <= 0.10 is 28), both as a sampler (20 seeds, no
  simulator) and through the simulator (`worlds.buffer_world`: one firm, one order at
  t = 0 arriving after U(10, 30) days; 20 seeds are `slow`).
- Kim-Nelson: 10 normal systems in the slippage configuration (the best 5% below the
  rest), 200 macro-replications: PCS >= 0.95; and on the buffer world, where the
  expected value lost plus a holding cost, 25 (30 - c)^2 + 250 c, is least at c = 25.
- Bad input: one line, exit status 2, nothing written.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import binomtest
from worlds import buffer_world

import sim.api as api
from sim.cli import main
from sim.config import config_from_dict
from sim.errors import FolderError
from sim.optimize.bisection import bisect, stages_of
from sim.optimize.bounds import (
    ACCEPTED,
    REJECTED,
    clopper_pearson,
    cvar_estimate,
    cvar_value,
    mean_estimate,
    probability_estimate,
)
from sim.optimize.selection import equal_allocation, kn_select

TRUE_BUFFER = 28.0  # (30 - x) / 20 = 0.10


# --------------------------------------------------------------------------- bounds


@pytest.mark.parametrize(("k", "n"), [(0, 30), (3, 30), (12, 240), (30, 30)])
def test_clopper_pearson_is_scipys_exact_interval(k: int, n: int) -> None:
    """One-sided bounds at 95% each are the ends of the exact two-sided 90% interval."""
    lo, hi = clopper_pearson(k, n, 0.05)
    ci = binomtest(k, n).proportion_ci(confidence_level=0.90, method="exact")
    assert lo == pytest.approx(ci.low, abs=1e-12)
    assert hi == pytest.approx(ci.high, abs=1e-12)


def test_zero_in_thirty_is_the_rule_of_three() -> None:
    """0 of n: the upper bound is 1 - a^(1/n) (0.0950 for n = 30, a = 0.05), so 30
    clean replications accept P <= 0.10 and 20 do not."""
    assert probability_estimate(np.zeros(30), 0.0, 0.10, 0.05).high == \
        pytest.approx(1 - 0.05 ** (1 / 30))
    assert probability_estimate(np.zeros(30), 0.0, 0.10, 0.05).decision == ACCEPTED
    assert probability_estimate(np.zeros(20), 0.0, 0.10, 0.05).decision != ACCEPTED
    assert probability_estimate(np.ones(20), 0.0, 0.10, 0.05).decision == REJECTED


def test_cvar_bounds_by_hand() -> None:
    """[0.1, 0.2, 0.3, 0.4] at level 0.5: CVaR 0.35; a shift of 0.25 of mass to 1 gives
    (0.25 x 0.4 + 0.25 x 1) / 0.5 = 0.7; to 0, (0.25 x 0.2 + 0.25 x 0.3) / 0.5 = 0.25."""
    xs = np.array([0.1, 0.2, 0.3, 0.4])
    assert cvar_value(xs, 0.5) == pytest.approx(0.35)
    assert cvar_value(xs, 0.5, 0.25) == pytest.approx(0.7)
    assert cvar_value(xs, 0.5, -0.25) == pytest.approx(0.25)
    e = cvar_estimate(np.random.default_rng(0).uniform(size=2000), 0.9, 0.96, 0.05)
    assert e.low < 0.95 < e.high and abs(e.estimate - 0.95) < 0.01  # U(0, 1): 0.95


def test_mean_bound_is_students_t() -> None:
    """[1, 2, 3]: mean 2, s = 1, t(0.95, 2) = 2.919986: 2 ± 2.919986 / sqrt(3) = 2 ± 1.685855."""
    e = mean_estimate(np.array([1.0, 2.0, 3.0]), 5.0, 0.05)
    assert (e.low, e.high) == pytest.approx((2 - 1.685855, 2 + 1.685855), abs=1e-6)


def test_outputs_per_replication_by_firm_and_sector() -> None:
    """Sector shortfall is value-weighted: (10 + 30) / (100 + 100) = 0.2 in replication 5,
    (0 + 50) / (100 + 100) = 0.25 in replication 6; rows in any order."""
    from sim.config.schema import Output
    from sim.optimize.evaluate import outputs_of

    firms = {"replication": np.array([6, 5, 5, 6]), "firm": np.array(["a", "b", "a", "b"]),
             "sector": np.array(["auto"] * 4), "value_lost": np.array([0., 30., 10., 50.]),
             "planned_value": np.full(4, 100.0), "shortfall_frac": np.array([0., .3, .1, .5])}
    got = outputs_of(firms, [Output(metric="shortfall_frac", sector="auto"),
                             Output(metric="value_lost", firm="b")], 5, 7)
    assert got["shortfall_frac[auto]"].tolist() == pytest.approx([0.2, 0.25])
    assert got["value_lost[b]"].tolist() == [30.0, 50.0]


# --------------------------------------------------------------------------- bisection


def bernoulli_judge(seed: int):  # noqa: ANN201
    """Stock-out iff U_j < p(x) = (30 - x) / 20, U_j common to every x (common random
    numbers): the counts are monotone in x, as the simulator's are."""
    u = np.random.default_rng(seed).uniform(size=4000)

    def judge(x: float, n: int, a: float) -> list:
        p = min(1.0, max(0.0, (30 - x) / 20))
        return [probability_estimate((u[:n] < p).astype(float), 0.0, 0.10, a)]

    return judge


def test_bisection_brackets_the_known_optimum_in_19_of_20_seeds() -> None:
    hits, widths = 0, []
    for seed in range(20):
        res = bisect(bernoulli_judge(seed), 10.0, 40.0, integer=False, tolerance=0.5,
                     stages=stages_of(30, 240), confidence=0.95, constraints=1)
        assert res.feasible
        hits += res.lo <= TRUE_BUFFER <= res.hi
        widths.append(res.hi - res.lo)
    assert hits >= 19, hits
    assert np.median(widths) < 4  # it does narrow: the range was 30 wide


def test_bisection_says_infeasible_when_the_dear_end_fails() -> None:
    """On [10, 20] even 20 stocks out half the time: no answer, the dear end rejected."""
    res = bisect(bernoulli_judge(1), 10.0, 20.0, integer=False, tolerance=0.5,
                 stages=stages_of(30, 240), confidence=0.95, constraints=1)
    assert not res.feasible and res.points[0].position == 20 and \
        res.points[0].status == REJECTED


def test_integer_bisection_ends_on_adjacent_whole_numbers() -> None:
    res = bisect(bernoulli_judge(2), 10.0, 40.0, integer=True, tolerance=1.0,
                 stages=stages_of(30, 480), confidence=0.95, constraints=1)
    assert float(res.hi).is_integer() and float(res.lo).is_integer()
    assert res.lo <= TRUE_BUFFER <= res.hi


def buffer_problem(seed: int, tolerance: float = 0.5) -> dict[str, Any]:
    d = buffer_world()
    d["runs"] = {"seed": seed}
    d["optimize"] = {
        "levers": [{"path": "firms.f.initial_cover_days", "low": 10, "high": 40}],
        "objective": {"kind": "levers"}, "tolerance": tolerance,
        "constraints": [{"kind": "probability", "metric": "shortfall_frac", "firm": "f",
                         "above": 0.0, "at_most": 0.10}]}
    return d


def test_optimize_finds_the_buffer_of_the_simulated_world(tmp_path: Path) -> None:
    """Through the simulator and the results folder: the bracket holds 28, every
    candidate is listed with its bounds, and `verify` checks the outputs."""
    out = tmp_path / "opt"
    ans = api.optimize(config_from_dict(buffer_problem(11, tolerance=2.0)), out, workers=1)
    assert ans["feasible"]
    lo, hi = ans["bracket"]
    assert lo <= TRUE_BUFFER <= hi
    assert ans["estimates"][0]["high"] <= 0.10
    table = __import__("pandas").read_csv(out / "candidates.csv")
    assert len(table) == ans["points_judged"] and set(table["status"]) >= {"accepted"}
    assert json.loads((out / "answer.json").read_text())["answer"] == ans["answer"]
    assert (out / "plots" / "optimize.png").is_file() and (out / "optimize.md").is_file()
    assert "optimisation (bisection)" in api.verify(out)[0]
    page = (out / "report.html").read_text()
    assert "Optimisation: " in page and "bracketed in" in page and "<svg" in page
    with pytest.raises(FolderError, match="is an optimisation folder"):
        api.open_results(out)
    evals = __import__("pandas").read_parquet(out / "evaluations.parquet")
    assert ans["simulations"] == len(evals) == table["replications"].sum()


def test_two_workers_give_the_same_answer(tmp_path: Path) -> None:
    """Replication i of a candidate has the same seed wherever it runs: a pool of two
    writes the candidates.csv and evaluations.parquet that one process writes."""
    d = buffer_problem(12, tolerance=4.0)
    d["optimize"].update(max_replications=60)
    for w in (1, 2):
        api.optimize(config_from_dict(d), tmp_path / str(w), workers=w, plots=False)
    for f in ("candidates.csv", "evaluations.parquet"):
        assert (tmp_path / "1" / f).read_bytes() == (tmp_path / "2" / f).read_bytes(), f


@pytest.mark.slow
def test_optimize_brackets_the_simulated_optimum(tmp_path: Path) -> None:
    """Through the simulator, five seeds (the 20-seed figure, 20 of 20, is
    tests/benchmarks/optimize_checks.py's; the sampler version above runs 20 here): each
    search brackets the true 28 days at 95% confidence, so at least 4 of 5 must."""
    hits = 0
    for seed in range(5):
        ans = api.optimize(config_from_dict(buffer_problem(100 + seed)), tmp_path / str(seed),
                           workers=1, plots=False)
        hits += ans["bracket"][0] <= TRUE_BUFFER <= ans["bracket"][1]
    assert hits >= 4, hits


def test_bisection_over_listed_values(tmp_path: Path) -> None:
    """Values searched in order of cost (listed out of order): the least listed cover
    with P(stock-out) <= 0.10 is 28.5 (P = 0.075; 25 has 0.25), so the bracket's ends are
    listed values around it."""
    d = buffer_problem(9)
    d["optimize"]["levers"][0] = {"path": "firms.f.initial_cover_days",
                                  "values": [40.0, 10.0, 25.0, 35.0, 28.5, 15.0, 30.0, 20.0]}
    ans = api.optimize(config_from_dict(d), tmp_path / "v", workers=1, plots=False)
    lo, hi = ans["bracket"]
    assert lo < 28.5 <= hi and {lo, hi} <= {10.0, 15.0, 20.0, 25.0, 28.5, 30.0, 35.0, 40.0}
    assert ans["answer"]["firms.f.initial_cover_days"] == hi


def test_a_negative_cost_seeks_the_largest_value(tmp_path: Path) -> None:
    """The widest transit window U(10, h) a cover of 28 days survives with P(stock-out)
    <= 0.10: (h - 28) / (h - 10) = 0.10 at h = 30."""
    d = buffer_world(28.0)
    d["runs"] = {"seed": 5}
    d["optimize"] = {
        "levers": [{"path": "suppliers.cn.transit_days.high", "low": 20, "high": 50,
                    "cost": -1.0}],
        "objective": {"kind": "levers"}, "tolerance": 2.0,
        "constraints": [{"kind": "probability", "metric": "shortfall_frac", "firm": "f",
                         "above": 0.0, "at_most": 0.10}]}
    ans = api.optimize(config_from_dict(d), tmp_path / "o", workers=1, plots=False)
    lo, hi = ans["bracket"]
    assert ans["seeks"] == "largest" and lo <= 30.0 <= hi
    assert ans["answer"]["suppliers.cn.transit_days.high"] == lo  # the safe end
    assert "the largest value meeting" in api.optimize_text(ans)


def test_infeasible_problem_reports_its_best_point(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    d = buffer_problem(5)
    d["optimize"]["levers"][0]["high"] = 20
    ans = api.optimize(config_from_dict(d), tmp_path / "o", workers=1, plots=False)
    assert ans["answer"] == "infeasible" and not ans["feasible"]
    best = ans["best_point"]
    assert best["firms.f.initial_cover_days"] == 20
    assert best["estimates"][0]["low"] > 0.10  # p(20) = 0.5: shown to fail
    assert "INFEASIBLE" in api.optimize_text(ans)


# --------------------------------------------------------------------------- selection


def slippage(macro: int, k: int = 10, best: int = 3, delta: float = 0.05,
             sigma: float = 0.1):  # noqa: ANN201
    """k normal systems, means 1.05 except the best's 1.0, sd 0.1, independent."""
    mu = np.full(k, 1.0 + delta)
    mu[best] = 1.0

    def sample(systems: list[int], start: int, stop: int) -> np.ndarray:
        return np.array([mu[i] + sigma * np.random.default_rng([macro, i, start])
                         .standard_normal(stop - start) for i in systems])

    return sample


def test_kn_meets_its_pcs_on_200_macro_replications() -> None:
    """Nominal 0.95; measured 0.965 (193 of 200), 392 replications on average against
    2,651 for equal allocation with the same guarantee."""
    correct, used, equal = 0, [], []
    for m in range(200):
        s = kn_select(slippage(m), 10, 0.05, 0.05, 10)
        correct += s.selected == 3
        used.append(s.total_used)
        equal.append(equal_allocation(slippage(m)(list(range(10)), 0, 10), 0.05, 0.05))
        assert s.finished and s.selected in s.subset
    assert correct >= 190, correct  # 0.95 x 200
    assert np.mean(used) < np.mean(equal) / 3


def test_kn_picks_the_cheapest_buffer_by_expected_cost(tmp_path: Path) -> None:
    """25 (30 - c)^2 + 250 c: 9375, 7500, 6875, 7500 at c = 15, 20, 25, 30."""
    d = buffer_world()
    d["runs"] = {"seed": 3}
    d["optimize"] = {"levers": [{"path": "firms.f.initial_cover_days",
                                 "values": [15.0, 20.0, 25.0, 30.0], "cost": 250.0}],
                     "objective": {"kind": "mean",
                                   "output": {"metric": "value_lost", "firm": "f"}},
                     "replications": 10, "max_replications": 2000, "indifference": 300.0}
    ans = api.optimize(config_from_dict(d), tmp_path / "kn", workers=1)
    assert ans["answer"] == {"firms.f.initial_cover_days": 25.0} and ans["finished"]
    assert ans["mean"] == pytest.approx(6875, rel=0.1)
    assert ans["replications_used"] < ans["equal_allocation"]
    assert "optimisation (kn)" in api.verify(tmp_path / "kn")[0]


def test_kn_ranks_only_the_candidates_shown_to_meet_the_constraints(tmp_path: Path) -> None:
    """With P(stock-out) <= 0.10 required, 15, 20 and 25 days fail (0.75, 0.5, 0.25) and
    30 and 35 pass (0): of those, 30 costs least (7,500 against 8,750, no losses). With
    only 15 and 20 listed, nothing passes: "infeasible", with the nearer one."""
    d = buffer_problem(4)
    d["optimize"] = {"levers": [{"path": "firms.f.initial_cover_days",
                                 "values": [15.0, 20.0, 25.0, 30.0, 35.0], "cost": 250.0}],
                     "objective": {"kind": "mean",
                                   "output": {"metric": "value_lost", "firm": "f"}},
                     "constraints": d["optimize"]["constraints"], "indifference": 300.0,
                     "replications": 30, "max_replications": 240}
    ans = api.optimize(config_from_dict(d), tmp_path / "a", workers=1)
    assert ans["answer"] == {"firms.f.initial_cover_days": 30.0}
    assert ans["shown_feasible"] == 2 and ans["mean"] == 7500.0
    table = __import__("pandas").read_csv(tmp_path / "a" / "candidates.csv")
    assert table["feasibility"].tolist() == ["rejected"] * 3 + ["accepted"] * 2
    d["optimize"]["levers"][0]["values"] = [15.0, 20.0]
    ans = api.optimize(config_from_dict(d), tmp_path / "b", workers=1)
    assert ans["answer"] == "infeasible" and \
        ans["best_point"]["firms.f.initial_cover_days"] == 20.0
    assert "INFEASIBLE" in api.optimize_text(ans)


# --------------------------------------------------------------------------- surrogate


def test_surrogate_finds_the_bottom_of_a_noisy_bowl() -> None:
    """(x - 0.3)^2 + 2 (y - 0.7)^2 with noise sd 0.05 shared by every point (common random
    numbers), 10 replications a point: within 0.1 of (0.3, 0.7) after 14 points; the
    fresh replications' interval holds the true value there."""
    from sim.optimize.surrogate import surrogate_search

    def f(x: np.ndarray) -> float:
        return (x[0] - 0.3) ** 2 + 2 * (x[1] - 0.7) ** 2

    def evaluate(x: np.ndarray, start: int, stop: int) -> np.ndarray:
        return f(x) + 0.05 * np.random.default_rng([7, start]).standard_normal(stop - start)

    r = surrogate_search(evaluate, [0, 0], [1, 1], [False, False], points=14, n=10, seed=1)
    x = r.x[r.incumbent]
    assert np.hypot(x[0] - 0.3, x[1] - 0.7) < 0.1, x
    assert r.fresh_low <= f(x) <= r.fresh_high
    assert r.design.sum() == 6  # 2d + 2 Latin hypercube points first


def test_surrogate_on_the_buffer_world(tmp_path: Path) -> None:
    """25 (30 - c)^2 + 250 c over c in [10, 40] (continuous) is least at c = 25; flat
    near it (J(22) = 7100 against 6875)."""
    d = buffer_world()
    d["runs"] = {"seed": 3}
    d["optimize"] = {"levers": [{"path": "firms.f.initial_cover_days", "low": 10,
                                 "high": 40, "cost": 250.0}],
                     "objective": {"kind": "mean",
                                   "output": {"metric": "value_lost", "firm": "f"}},
                     "replications": 20, "points": 8}
    ans = api.optimize(config_from_dict(d), tmp_path / "s", workers=1, plots=False)
    c = ans["answer"]["firms.f.initial_cover_days"]
    assert ans["method"] == "surrogate" and abs(c - 25) < 3.5, c
    true = 25 * max(0.0, 30 - c) ** 2 + 250 * c
    assert ans["ci_fresh"][0] <= true <= ans["ci_fresh"][1]
    assert ans["simulations"] == 8 * 20 + 20  # the points, then the incumbent's fresh ones


# --------------------------------------------------------------------------- bad input


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    import tomli_w

    f = tmp_path / "o.toml"
    f.write_bytes(tomli_w.dumps(data).encode())
    return f


def broken(change: str) -> dict[str, Any]:
    d = buffer_problem(1)
    opt = d["optimize"]
    if change == "path":
        opt["levers"][0]["path"] = "firms.f.initial_cover_dayz"
    elif change == "metric":
        opt["constraints"][0]["metric"] = "lost_frac"
    elif change == "firm":
        opt["constraints"][0]["firm"] = "g"
    elif change == "sector":
        del opt["constraints"][0]["firm"]
        opt["constraints"][0]["sector"] = "defence"
    elif change == "empty":
        opt["levers"][0]["low"] = 50
    elif change == "bound":
        opt["levers"][0]["low"] = -5
    elif change == "none":
        del d["optimize"]
    elif change == "two-ranges":
        opt["levers"].append({"path": "firms.f.restart_delay_days", "low": 0, "high": 5})
    elif change == "cvar":
        opt["constraints"][0].update(kind="cvar", metric="value_lost")
        del opt["constraints"][0]["above"]

    return copy.deepcopy(d)


@pytest.mark.parametrize(("change", "needles"), [
    ("path", ["optimize.levers.0.path", "initial_cover_days"]),
    ("metric", ["optimize.constraints.0.metric", "lost_frac"]),
    ("firm", ["optimize.constraints.0.firm", "unknown firm 'g'"]),
    ("sector", ["optimize.constraints.0.sector", "no firm is in sector 'defence'"]),
    ("empty", ["optimize.levers.0", "the range is empty"]),
    ("bound", ["optimize.levers.0 (firms.f.initial_cover_days)", "-5"]),
    ("none", ["no [optimize] table"]),
    ("two-ranges", ["optimize.levers", "not supported yet"]),
    ("cvar", ["optimize.constraints.0", "cvar bound is exact only"]),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          change: str, needles: list[str]) -> None:
    f = write(tmp_path, broken(change))
    code = main(["optimize", str(f), "--out", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("rareshock: error: "), err
    assert str(f) in err or change == "none"
    for n in needles:
        assert n in err, (n, err)
    assert not (tmp_path / "out").exists()


def test_an_existing_folder_needs_overwrite(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    d = buffer_problem(1)
    d["optimize"].update(replications=30, max_replications=30, tolerance=10.0)
    f = write(tmp_path, d)
    out = str(tmp_path / "out")
    assert main(["validate", str(f)]) == 0
    assert "optimize: bisection on firms.f.initial_cover_days" in capsys.readouterr().out
    assert main(["optimize", str(f), "--out", out, "-q", "-j", "1", "--no-plots"]) == 0
    assert main(["optimize", str(f), "--out", out, "-q", "-j", "1"]) == 2
    err = capsys.readouterr().err
    assert "results folder exists (use --overwrite)" in err and err.count("\n") == 1
    assert main(["optimize", str(f), "--out", out, "-q", "-j", "1", "--overwrite",
                 "--no-plots"]) == 0
