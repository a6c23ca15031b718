"""Queueing-theory checks of the licence queue: simulation vs closed-form values.

Every statistical check uses independent replications (children of one
``numpy.random.SeedSequence``), reduces each replication to one number (its mean over
~thousands of applications, so approximately normal by the batch-means argument), and
asks whether the theoretical value lies in the 95% Student-t confidence interval of the
mean across replications. The seeds are fixed, so each test is deterministic; for a
correct model each such check would fail for about 5% of seed sets, which is why a
failure should be re-run with more replications (``N_REPS``) before it is believed or
dismissed. Tolerances that are not confidence intervals are justified where they are used.

Theory values (queue scenarios have every day worked, so working days = calendar days):

* M/M/5, lambda = 4, mu = 1 (``configs/mmc.toml``): P(wait) = C(5, 4) = 0.5541,
  Wq = C / (c mu - lambda) = 0.5541 days, utilisation rho = 0.8.
* M/M/2, lambda = 1.5: C(2, 1.5) = 9/14 = 0.6429, Wq = 1.2857 days, rho = 0.75.
* M/M/1, lambda = 0.5: P(wait) = rho = 0.5, Wq = rho / (mu - lambda) = 1 day.
* M/M/5 with two non-preemptive priority classes (40% / 60% of arrivals), Cobham:
  W_high = 0.1630 days, W_low = 0.8149 days.
"""

from __future__ import annotations

import copy
import math
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.calibration.theory import cobham_waits, erlang_c, mmc_wq
from sim.config import config_from_dict, load_config, read_toml_tree
from sim.config.schema import Config
from sim.model import simulate
from sim.model.calendar import WorkingCalendar

MMC = Path(__file__).resolve().parent.parent / "configs" / "mmc.toml"

# 20 replications of 1900 post-warmup days each: about 0.13 s per M/M/5 replication, so the
# whole file runs in well under 10 s, while the t interval on Wq(M/M/5) is about +-0.03 days
# (5% of the theoretical value) -- tight enough to catch a mis-wired rate or discipline.
N_REPS = 20
ROOT_SEED = 5  # runs.seed of configs/mmc.toml
LEVEL = 0.95


# --------------------------------------------------------------------------- formulas


def t_interval(values: np.ndarray | list[float], level: float = LEVEL) -> tuple[float, float]:
    """Two-sided Student-t confidence interval for the mean of independent replications."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    return float(x.mean() - half), float(x.mean() + half)


def assert_in_ci(values: np.ndarray | list[float], theory: float, what: str) -> None:
    lo, hi = t_interval(values)
    assert lo <= theory <= hi, (
        f"{what}: theory {theory:.4f} outside the {LEVEL:.0%} CI [{lo:.4f}, {hi:.4f}] "
        f"(mean {np.mean(values):.4f} over {len(values)} replications)"
    )


# --------------------------------------------------------------------------- runs


def seeds(n: int = N_REPS) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(ROOT_SEED).spawn(n)


@cache
def runs(overrides: tuple[str, ...] = ()) -> tuple:
    """Replications of configs/mmc.toml with dotted overrides, computed once per session."""
    cfg = load_config(MMC, overrides=overrides)
    return tuple(simulate(cfg, s) for s in seeds())


def priority_config() -> Config:
    """configs/mmc.toml with two destinations: HI (class 0, 40% of arrivals) served before
    LO (class 1, 60%). Built on the raw dict because overrides cannot add tables."""
    raw = copy.deepcopy(read_toml_tree(MMC))
    raw["destinations"] = {"HI": {"priority": 0}, "LO": {"priority": 1}}
    raw["authority"]["discipline"] = "priority"
    raw["authority"]["background"]["destinations"] = {"HI": 0.4, "LO": 0.6}
    return config_from_dict(raw, "mmc+priority")


@cache
def priority_runs() -> tuple:
    cfg = priority_config()
    return tuple(simulate(cfg, s) for s in seeds())


def mean_wait(r) -> float:  # noqa: ANN001
    """Mean queue wait over applications whose review started (as authority.queue_wait_mean)."""
    return float(r.applications["queue_wait_days"].dropna().mean())


def share_waited(r) -> float:  # noqa: ANN001
    """Share of applications that waited: wait > 0, or still waiting at the horizon (NaN)."""
    w = r.applications["queue_wait_days"]
    return float(((w > 0) | w.isna()).mean())


# --------------------------------------------------------------------------- formulas


def test_erlang_c_reproduces_known_values() -> None:
    # 0.5541 is quoted to 4 decimals in the issue and in configs/mmc.toml: allow rounding.
    assert erlang_c(5, 4.0) == pytest.approx(0.5541, abs=5e-5)
    assert mmc_wq(5, 4.0, 1.0) == pytest.approx(0.5541, abs=5e-5)
    # Hand values: M/M/1 waits with probability rho; C(2, 1.5) = 4.5 / 7 = 9/14.
    assert erlang_c(1, 0.5) == pytest.approx(0.5, rel=1e-12)
    assert mmc_wq(1, 0.5, 1.0) == pytest.approx(1.0, rel=1e-12)  # rho / (mu - lambda)
    assert erlang_c(2, 1.5) == pytest.approx(9 / 14, rel=1e-12)
    assert erlang_c(5, 0.0) == 0.0


def test_cobham_reduces_to_erlang_c_and_conserves_work() -> None:
    # One class is FIFO M/M/c.
    assert cobham_waits(5, 1.0, [4.0]) == pytest.approx([mmc_wq(5, 4.0, 1.0)], rel=1e-12)
    # Kleinrock's conservation law (equal service rates, work-conserving discipline): the
    # arrival-weighted mean wait over classes equals the FIFO wait.
    w = cobham_waits(5, 1.0, [1.6, 2.4])
    assert (1.6 * w[0] + 2.4 * w[1]) / 4.0 == pytest.approx(mmc_wq(5, 4.0, 1.0), rel=1e-12)
    # By hand: sigma_HI = 1.6/5 = 0.32, sigma_LO = 4/5 = 0.8, C/(c mu) = C/5.
    c = erlang_c(5, 4.0)
    assert w == pytest.approx([c / 5 / 0.68, c / 5 / (0.68 * 0.2)], rel=1e-12)
    assert w == pytest.approx([0.1630, 0.8149], abs=5e-5)  # as quoted in the module docstring


# --------------------------------------------------------------------------- M/M/5


def test_mm5_mean_queue_wait_matches_erlang_c() -> None:
    assert_in_ci([mean_wait(r) for r in runs()], mmc_wq(5, 4.0, 1.0), "M/M/5 Wq")


def test_mm5_probability_of_waiting_matches_erlang_c() -> None:
    assert_in_ci([share_waited(r) for r in runs()], erlang_c(5, 4.0), "M/M/5 P(wait)")


def test_mm5_utilisation_matches_rho() -> None:
    util = [float(r.authority["utilisation"].iloc[0]) for r in runs()]
    assert_in_ci(util, 4.0 / 5.0, "M/M/5 utilisation")


def test_mm5_arrival_rate_matches_config() -> None:
    # The arrival stream itself: Poisson(4/day) counted over 1900 days per replication.
    rate = [float(r.authority["arrival_rate_per_day"].iloc[0]) for r in runs()]
    assert_in_ci(rate, 4.0, "M/M/5 arrival rate")


# --------------------------------------------------------------------------- Little's law


def test_littles_law_on_the_queue() -> None:
    """L_q (time-weighted area of the queue count) = lambda x W_q (per-application records).

    The two sides differ only by edge effects: files queued across the warmup instant or
    still queued at the horizon (a few files x ~1 day against an area of ~2 x 1900
    file-days, i.e. ~0.1%). 2% therefore leaves room for chance yet catches bookkeeping
    errors such as an area not updated before a count changes.
    """
    for i, r in enumerate(runs()):
        a = r.authority.iloc[0]
        lhs = a["queue_mean"]
        rhs = a["arrival_rate_per_day"] * a["queue_wait_mean"]
        assert lhs == pytest.approx(rhs, rel=0.02), f"replication {i}: L_q {lhs} vs {rhs}"


def test_littles_law_on_the_backlog() -> None:
    """L (time-average backlog, submitted and undecided) = lambda x mean lead time.

    Default config: no pre-acceptance, every file approved at the end of its review, so the
    backlog is the whole M/M/5 system. The lead time covers decided applications only; the
    handful open at the horizon (and those submitted before warmup but open after it) shift
    the balance by ~(6 files x ~1.5 days) / (6 x 1900 file-days), about 0.1%: 3% is ample
    for chance and still catches e.g. decisions not closing files.
    """
    for i, r in enumerate(runs()):
        a = r.authority.iloc[0]
        lhs = a["backlog_mean"]
        rhs = a["arrival_rate_per_day"] * a["lead_time_mean"]
        assert lhs == pytest.approx(rhs, rel=0.03), f"replication {i}: L {lhs} vs {rhs}"


def test_mm5_backlog_matches_theory() -> None:
    # Whole system L = lambda (Wq + 1/mu) = 4 x (0.5541 + 1) = 6.216 files.
    backlog = [float(r.authority["backlog_mean"].iloc[0]) for r in runs()]
    assert_in_ci(backlog, 4.0 * (mmc_wq(5, 4.0, 1.0) + 1.0), "M/M/5 mean backlog")


# --------------------------------------------------------------------------- priority


PRIORITY_W = cobham_waits(5, 1.0, [0.4 * 4.0, 0.6 * 4.0])  # [HI, LO]


def _class_waits(r) -> pd.Series:  # noqa: ANN001
    return r.applications.groupby("destination")["queue_wait_days"].mean()


def test_priority_classes_split_arrivals_as_configured() -> None:
    share = [float((r.applications["destination"] == "HI").mean()) for r in priority_runs()]
    assert_in_ci(share, 0.4, "share of HI arrivals")


@pytest.mark.parametrize(("dest", "k"), [("HI", 0), ("LO", 1)])
def test_priority_class_wait_matches_cobham(dest: str, k: int) -> None:
    waits = [float(_class_waits(r)[dest]) for r in priority_runs()]
    assert_in_ci(waits, PRIORITY_W[k], f"Cobham W for class {k} ({dest})")


def test_priority_high_class_waits_less_by_the_cobham_margin() -> None:
    gap = [float(_class_waits(r)["LO"] - _class_waits(r)["HI"]) for r in priority_runs()]
    lo, _ = t_interval(gap)
    assert lo > 0, f"high class does not wait significantly less: gap CI lower bound {lo}"
    assert_in_ci(gap, PRIORITY_W[1] - PRIORITY_W[0], "Cobham gap W_LO - W_HI")


def test_priority_keeps_overall_wait_and_p_wait() -> None:
    # Non-preemptive priority with equal service rates changes who waits, not how much work
    # waits: overall Wq and P(wait) stay at their FIFO Erlang C values (conservation law).
    pr = priority_runs()
    assert_in_ci([mean_wait(r) for r in pr], mmc_wq(5, 4.0, 1.0), "priority overall Wq")
    assert_in_ci([share_waited(r) for r in pr], erlang_c(5, 4.0), "priority P(wait)")


# --------------------------------------------------------------------------- other loads


OTHER_LOADS = [
    pytest.param(1, 0.5, id="M/M/1-lambda0.5"),
    pytest.param(2, 1.5, id="M/M/2-lambda1.5"),
]


@pytest.mark.parametrize(("c", "lam"), OTHER_LOADS)
def test_other_loads_match_erlang_c(c: int, lam: float) -> None:
    rs = runs((f"authority.reviewers={c}", f"authority.background.rate_per_day={lam}"))
    assert_in_ci([mean_wait(r) for r in rs], mmc_wq(c, lam, 1.0), f"M/M/{c} Wq")
    assert_in_ci([share_waited(r) for r in rs], erlang_c(c, lam), f"M/M/{c} P(wait)")
    util = [float(r.authority["utilisation"].iloc[0]) for r in rs]
    assert_in_ci(util, lam / c, f"M/M/{c} utilisation")


# --------------------------------------------------------------------------- calendar


CAL_START = date(2025, 1, 1)  # a Wednesday
EASTER = [(date(2025, 4, 18), date(2025, 4, 21))]  # Good Friday to Easter Monday


def calendar_config(holidays: list[tuple[date, date]]) -> Config:
    """A queue with no waiting (50 reviewers, ~2 files a day) and a constant review of one
    working day, Mon-Fri, so each file's review_days can be checked by hand."""
    raw = copy.deepcopy(read_toml_tree(MMC))
    raw["horizon_days"] = 150
    raw["runs"]["warmup_days"] = 0
    raw["calendar"] = {
        "start": CAL_START,
        "working_days": "mon-fri",
        "holidays": [{"name": "h", "start": s, "end": e} for s, e in holidays],
    }
    raw["authority"]["reviewers"] = 50
    raw["authority"]["review_time"] = {"dist": "constant", "value": 1.0}
    raw["authority"]["background"]["rate_per_day"] = 2.0
    return config_from_dict(raw, "calendar")


@pytest.mark.parametrize("holidays", [[], EASTER], ids=["no-holidays", "easter"])
def test_review_time_is_mapped_through_working_day_calendar(holidays) -> None:  # noqa: ANN001
    cfg = calendar_config(holidays)
    apps = simulate(cfg, 11).applications
    cal = WorkingCalendar(CAL_START, cfg.horizon_days, "mon-fri", holidays=holidays)
    # Reviews still running at the horizon have no review_days yet: check finished ones.
    done = apps.dropna(subset=["decided_day"])
    assert len(done) > 200  # ~300 files expected (2/day x 150 days)
    starts = done["review_start_day"].to_numpy()
    expected = np.array([cal.add(t, 1.0) - t for t in starts])
    # Both sides are the same float arithmetic on the same start times: 1e-9 days is ~0.1 ms.
    np.testing.assert_allclose(done["review_days"].to_numpy(), expected, rtol=0, atol=1e-9)
    # Approved at the end of the review, which starts on submission (no queue).
    np.testing.assert_allclose(done["decided_day"] - starts, expected, rtol=0, atol=1e-9)
    assert (done["queue_wait_days"] == 0).all()
    if holidays:
        # A review started Thu 17 April 2025 runs over Easter and ends Tue 22 April (5 days):
        # the sample must contain such a review, or dropping holidays would go unnoticed.
        assert (done["review_days"] > 3.5).any()


def test_friday_review_ends_on_monday_by_hand() -> None:
    """Without holidays, one working day of review started at time t takes:
    Mon-Thu -> 1 calendar day; Fri -> 3 (ends Monday at the same clock time);
    Sat/Sun -> until midnight ending Monday (work resumes Monday 00:00)."""
    apps = simulate(calendar_config([]), 11).applications.dropna(subset=["decided_day"])
    seen = set()
    for t, rd in zip(apps["review_start_day"], apps["review_days"], strict=True):
        day = CAL_START + timedelta(days=math.floor(t))
        wd = day.weekday()
        seen.add(wd)
        if wd < 4:
            want = 1.0
        elif wd == 4:
            want = 3.0
        else:  # Saturday (5) or Sunday (6): done at the end of Monday = start of Tuesday
            want = (math.floor(t) + (8 - wd)) - t
        # 1e-9 days: float rounding of t + duration, nothing more.
        assert rd == pytest.approx(want, abs=1e-9), f"start {t} ({day:%a}): {rd} != {want}"
    assert seen == set(range(7)), "the sample must include reviews starting every weekday"
