"""Guards against runaway configs and sloppy input ("Results that cannot silently lie").

Configs that validate but could not finish are refused by `check_work` (and run with
force); the working-day calendar no longer grows without bound; an unstable licence
queue and policy events after the window are warned about; policy dates before the start
are refused; deep nesting and long `extends` chains are bad input, not RecursionErrors;
errors name the right thing (an unknown supplier, `--set`); typed API arguments are
checked before anything is written. The expected numbers come from the configs and are
worked out by hand in the comments.
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.analysis.precision import PrecisionTarget
from sim.config import config_from_dict, load_config
from sim.config.loading import MAX_EXTENDS, config_dict
from sim.config.workload import (
    MAX_EVENTS,
    MAX_HORIZON_DAYS,
    MAX_ROWS,
    calendar_days_per_working_day,
    check_warnings,
    check_work,
    estimate_work,
    late_policy_events,
    queue_stability,
)
from sim.errors import ArgumentError, ConfigError
from sim.model.calendar import WorkingCalendar
from sim.sweep.plan import check_plan_work, plan_sweep

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.toml"
MMC = ROOT / "configs" / "mmc.toml"
BUNDLED = sorted([*ROOT.glob("configs/*.toml"), *ROOT.glob("configs/scenarios/*.toml"),
                  *ROOT.glob("configs/sweeps/*.toml")])

EXP_1E308 = 'authority.review_time={dist="exponential", mean=1e308}'
# The baseline's uncertain parameters include the lognormal review time's median and
# sigma, which an exponential does not have: the probes run without them.
NO_UNCERTAIN = "uncertain=[]"
# The four probes: (override, the field the error must name, words it must contain)
PROBES = [
    ("horizon_days=1e308", "horizon_days", "the limit is 1e+06 days"),
    (EXP_1E308, "authority.review_time", "a mean of 1e+308 days"),
    ("suppliers.china.max_shipment_kg=1e-300", "suppliers.china.max_shipment_kg",
     "licence applications per replication; the limit is 5e+07 events"),
    ("output.sample_every_days=0.001", "output.sample_every_days",
     "time-series rows per replication (a sample every 0.001 days over 546 days); the limit "
     "is 5e+06 rows"),
]


@pytest.fixture(scope="module")
def baseline() -> sim.Config:
    return load_config(BASELINE)


# --------------------------------------------------------------------------- CLI


def rareshock(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RARESHOCK_DEBUG"}
    env["MPLBACKEND"] = "Agg"
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def bad(tmp_path: Path, *args: str | Path) -> str:
    """Run the command; it must exit 2 with one error line, no traceback and nothing
    written (no results/ folder, no --out folder). Returns the line."""
    before = sorted(p.name for p in tmp_path.iterdir())
    r = rareshock(*args, cwd=tmp_path)
    assert r.returncode == 2, f"exit {r.returncode}: {r.stderr}"
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert r.stderr.endswith("\n") and r.stderr.count("\n") == 1, repr(r.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not (tmp_path / "results").exists() and not (tmp_path / "out").exists()
    line = r.stderr.rstrip("\n")
    assert line.startswith("rareshock: error: "), line
    return line.removeprefix("rareshock: error: ")


@pytest.mark.parametrize(("override", "path", "words"), PROBES,
                         ids=["horizon", "review-mean", "max-shipment", "sampling"])
def test_cli_refuses_configs_that_cannot_finish(tmp_path: Path, override: str, path: str,
                                                words: str) -> None:
    msg = bad(tmp_path, "run", BASELINE, "--set", NO_UNCERTAIN, "--set", override, "-j", "1",
              "-o", "out")
    assert msg.startswith(f"{BASELINE}: {path}: "), msg
    assert words in msg and msg.endswith("(use --force to run it anyway)"), msg


def test_cli_validate_refuses_and_sweep_names_the_point(tmp_path: Path) -> None:
    msg = bad(tmp_path, "validate", BASELINE, "--set", PROBES[2][0])
    assert msg.startswith(f"{BASELINE}: suppliers.china.max_shipment_kg: about ")
    (tmp_path / "s.toml").write_text(
        f'extends = "{MMC.as_posix()}"\n[sweep]\nmethod = "grid"\n'
        '[[sweep.parameters]]\npath = "output.sample_every_days"\nvalues = [7.0, 1e-9]\n')
    for cmd in ("validate", "sweep"):
        msg = bad(tmp_path, cmd, "s.toml", "-j", "1", "-o", "out") if cmd == "sweep" else \
            bad(tmp_path, cmd, "s.toml")
        assert msg.startswith("s.toml: sweep.parameters.0 (output.sample_every_days): point "
                              "1, value 1e-09: must be at least 0.000694 days (one minute)"), msg


def test_cli_validate_prints_the_estimate_and_force_runs_anyway(tmp_path: Path) -> None:
    r = rareshock("validate", MMC, cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    # mmc: 4/day x 2000 days x 2 events + 2000/7 + 1 samples = 16,287 events;
    # 287 samples x 2 series (backlog, queue) = 573 rows
    assert r.stdout.splitlines()[1] == "work: about 16,000 events and 570 time-series rows " \
        "per replication"
    # A mean review time of 2e6 days is refused (over the 1e6-day limit) ...
    slow = ["--set", "horizon_days=20", "--set",
            'authority.review_time={dist="exponential", mean=2e6}']
    assert "authority.review_time: a mean of 2,000,000 days" in \
        bad(tmp_path, "run", MMC, *slow, "-n", "1", "-j", "1", "-o", "out")
    # ... and runs with --force (it is quick: reviews just never end within 20 days)
    r = rareshock("run", MMC, *slow, "-n", "1", "-j", "1", "-o", "out", "-q", "--no-plots",
                  "--force", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stderr
    assert (tmp_path / "out" / "summary.csv").is_file()


def test_cli_warns_about_an_unstable_queue_unless_quiet(tmp_path: Path) -> None:
    # mmc with 3 reviewers: 4 applications/day, each reviewer clears 1/day (mean 1 day,
    # every day worked) -> 3/day, from t = 0 (controlled at start)
    r = rareshock("validate", MMC, "--set", "authority.reviewers=3", cwd=tmp_path)
    assert r.returncode == 0
    assert r.stderr == (f"rareshock: {MMC}: the licence queue is unstable: about 4 "
                        "applications/day arrive and the reviewers clear about 3/day for the "
                        "whole run; the backlog will grow throughout\n")
    r = rareshock("run", MMC, "--set", "authority.reviewers=3", "--set", "horizon_days=10",
                  "-n", "1", "-j", "1", "-q", "--no-plots", "-o", "out", cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == "", r.stderr  # -q: only errors


def test_cli_deep_nesting_and_long_extends_chains(tmp_path: Path) -> None:
    (tmp_path / "deep.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    assert bad(tmp_path, "validate", "deep.toml") == \
        "deep.toml: nested too deep (arrays or tables inside one another)"
    n = MAX_EXTENDS + 1
    for i in range(n):
        (tmp_path / f"c{i}.toml").write_text(f'extends = "c{i + 1}.toml"\n')
    (tmp_path / f"c{n}.toml").write_text(f'extends = "{MMC.as_posix()}"\n')
    assert bad(tmp_path, "validate", "c0.toml") == \
        f"c{MAX_EXTENDS}.toml: extends: more than {MAX_EXTENDS} configs extending one another " \
        "(the chain starts at c0.toml)"
    assert bad(tmp_path, "validate", MMC, "--set", "name=" + "[" * 5000 + "]" * 5000) == \
        "--set: name: value nested too deep (arrays or tables inside one another)"


def test_cli_messages_blame_the_right_thing(tmp_path: Path) -> None:
    (tmp_path / "ext.toml").write_text(
        f'extends = "{BASELINE.as_posix()}"\n[firms.us_auto_ev.ordering]\n'
        "suppliers = { china = 0.94, nosuch = 0.06 }\n")
    assert bad(tmp_path, "validate", "ext.toml") == (
        "ext.toml: firms.us_auto_ev.ordering.suppliers.nosuch: unknown supplier 'nosuch' "
        "(known: china, china_motors, row; firms that make parts: eu_motor_supplier, jp_tier1, "
        "us_defence_subtier, us_tier1)")
    assert bad(tmp_path, "validate", BASELINE, "--set", "authority.reviewers=abc") == \
        "--set: authority.reviewers: should be a whole number (got 'abc')"
    # a cross-reference that only the override breaks
    assert bad(tmp_path, "validate", BASELINE, "--set", 'suppliers.china.materials=["smco_magnet"]'
               ).startswith("--set: firms.us_auto_ev.ordering.suppliers.china: supplier "
                            "'china' does not supply 'ndfeb_magnet'")
    assert bad(tmp_path, "validate", BASELINE, "--set", "calendar.start=9999-12-01") == (
        "--set: policy.0.date: 2025-04-04 is before the simulated window (9999-12-01 to "
        "beyond 9999-12-31): it would apply at t = 0; set outside_window = true if that is "
        "meant")


# --------------------------------------------------------------------------- the estimate


def test_estimate_of_the_baseline(baseline: sim.Config) -> None:
    est = estimate_work(baseline)
    # 546 days, a sample every 7 -> 79 samples; per sample: backlog, queue and, per firm,
    # its materials + cumulative units: 9 firms x 2 + the defence sub-tier x 3 = 21 -> 23
    assert est.rows == 79 * 23
    assert est.days == 546 + 3 * 366
    bg = next(t for t in est.terms if t.what == "background applications")
    assert bg.count == pytest.approx(25.8 * 546)  # rate x horizon
    assert bg.events == pytest.approx(25.8 * 546 * 3)  # queue, review, pre-acceptance
    # us_auto_ev orders 500 x 1.6 x 7 x 0.94 = 5,264 kg of magnets from china a week:
    # 2 shipments of at most 5,000 kg, each its own licence; 546 / 7 + 1 = 79 reviews, the
    # first orders nothing (45 = 15 on hand + 30 in transit)
    apps = [t for t in est.terms if t.what == "licence applications"
            and t.path == "firms.us_auto_ev.ordering.review_period_days"]
    assert apps[0].count == 78 * 2
    # what one replication counts: 39,193 events (seed 1); the estimate is an upper
    # order of magnitude, within a factor 2
    one = sim.simulate(baseline, 1)
    assert one.events <= est.events <= 2 * one.events


def test_mmc_estimate_is_what_it_costs() -> None:
    # 4 arrivals/day x 40,000 days x 2 events (arrival, end of review) + 40,000/7 + 1 samples
    est = estimate_work(load_config(MMC, ["horizon_days=40000"]))
    assert est.events == pytest.approx(4 * 40000 * 2 + 40000 / 7 + 1)
    assert est.events < MAX_EVENTS / 100  # the benchmarks' M/M/5 run, far below the limit
    short = estimate_work(load_config(MMC))
    one = sim.simulate(load_config(MMC), 1)
    assert 0.8 * one.events <= short.events <= 1.25 * one.events


@pytest.mark.slow  # plans every point of the bundled sweeps (~20 s together)
@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_bundled_configs_far_below_the_limits(path: Path) -> None:
    cfg = load_config(path)
    ests = [check_work(cfg, str(path), warn=False)]
    if cfg.sweep is not None:
        ests.append(check_plan_work(plan_sweep(cfg, str(path)), str(path)))
    for est in ests:
        assert est.events < MAX_EVENTS / 100 and est.rows < MAX_ROWS / 1000
        assert est.days < MAX_HORIZON_DAYS / 100


@pytest.mark.parametrize(("override", "path", "words"), PROBES,
                         ids=["horizon", "review-mean", "max-shipment", "sampling"])
def test_check_work_names_the_field(override: str, path: str, words: str) -> None:
    cfg = load_config(BASELINE, [NO_UNCERTAIN, override])
    with pytest.raises(ConfigError) as info:
        check_work(cfg, "baseline.toml")
    err = info.value
    assert (err.source, err.path, err.remedies) == ("baseline.toml", path, ("force",))
    assert words in err.message
    assert str(err).endswith("(pass force=True to run it anyway)")


def test_the_example_message() -> None:
    # 5,264 kg a week / 1e-300 kg = 5.3e303 applications per order, x 78 orders of
    # us_auto_ev alone; over the seven firms about 6e+305
    with pytest.raises(ConfigError) as info:
        check_work(load_config(BASELINE, [PROBES[2][0]]), "baseline.toml")
    assert str(info.value) == (
        "baseline.toml: suppliers.china.max_shipment_kg: about 6e+305 licence applications per "
        "replication; the limit is 5e+07 events per replication: it would not finish (pass "
        "force=True to run it anyway)")


@pytest.mark.parametrize(("overrides", "path"), [
    (["authority.background.rate_per_day=1e9"], "authority.background.rate_per_day"),
    (["firms.us_auto_ev.ordering.review_period_days=1e-9"],
     "firms.us_auto_ev.ordering.review_period_days"),
    (["firms.us_auto_ev.ordering.target_cover_days=1e300"],
     "firms.us_auto_ev.ordering.target_cover_days"),
    (["firms.us_auto_ev.units_per_day=1e12"], "firms.us_auto_ev.units_per_day"),
    (["firms.us_auto_ev.ordering.in_transit_days=1e12"],
     "firms.us_auto_ev.ordering.in_transit_days"),
    (["authority.information_requests.probability=1",
      "authority.information_requests.max_rounds=100000000"],
     "authority.information_requests.max_rounds"),
    (["authority.decision.approve=0", "authority.decision.refuse=1",
      "authority.refusal.max_attempts=1000000000"], "authority.refusal.max_attempts"),
    # 900,000 days of the baseline: ~1e8 events, but a year of it is ~40,000: the horizon
    (["horizon_days=900000"], "horizon_days"),
    (["output.sample_every_days=0.001"], "output.sample_every_days"),  # 9.3e6 rows
    (['policy.6.delay_days={dist="uniform", low=0, high=3e6}'], "policy.6.delay_days"),
])
def test_check_work_blames_the_dominant_field(overrides: list[str], path: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_work(load_config(BASELINE, overrides), "b.toml")
    assert info.value.path == path, str(info.value)


# --------------------------------------------------------------------------- the model


def test_calendar_add_is_bounded() -> None:
    cal = WorkingCalendar(date(2025, 1, 1), 546)
    days = cal._n  # the day table's length: the work the calendar has done
    assert days == 546 + 3 * 366
    assert cal.add(10.0, 1e308) == math.inf
    assert cal.add(10.0, math.inf) == math.inf
    assert cal._n == days  # work beyond any limit is known to be: the table did not grow
    assert cal.limit_days == 100 * 366  # 546 days + 3 years is less than ~100 years
    assert cal.add(0.0, 30000) == math.inf  # ~115 years of working days: beyond it
    assert days < cal._n <= cal.limit_days  # it grew looking for the end, up to its limit
    # within the range nothing changed: 5 working days from Wednesday 1 January is
    # Wednesday 8 January (no holidays given)
    assert cal.add(0.0, 5.0) == 7.0


def test_model_no_longer_hangs_on_an_endless_review(hang_guard: Any) -> None:
    cfg = load_config(BASELINE, ["horizon_days=150", NO_UNCERTAIN, EXP_1E308])
    with hang_guard(300):  # it returns in about a second
        rep = sim.simulate(cfg, 3)
    # no more work than the guards estimate for this config (no review ever ends, so
    # fewer events than with reviews that do: ~7,800 against ~18,000 estimated)
    assert 0 < rep.events <= estimate_work(cfg).events
    apps = rep.applications
    queued = apps[~apps["general_licence"] & apps["review_start_day"].notna()]
    assert len(queued) > 0 and queued["decided_day"].isna().all()  # no review ever ends


# --------------------------------------------------------------------------- warnings


def test_calendar_days_per_working_day() -> None:
    def cfg(**cal: Any) -> sim.Config:
        data = config_dict(load_config(MMC))
        data["horizon_days"] = 14
        data["calendar"] = {"start": date(2025, 1, 1), "working_days": "mon-fri", **cal}
        return config_from_dict(data)

    # 1-14 January 2025 (from a Wednesday): 10 weekdays
    assert calendar_days_per_working_day(cfg()) == 14 / 10
    # New Year off: 9; plus Saturday 4 January worked: 10 again
    ny = [{"start": date(2025, 1, 1), "end": date(2025, 1, 1)}]
    assert calendar_days_per_working_day(cfg(holidays=ny)) == 14 / 9
    assert calendar_days_per_working_day(
        cfg(holidays=ny, extra_working_days=[date(2025, 1, 4)])) == 14 / 10


def test_baseline_queue_is_stable(baseline: sim.Config, caplog: pytest.LogCaptureFixture
                                  ) -> None:
    with caplog.at_level(logging.WARNING):
        assert check_warnings(baseline, "baseline.toml") == []
    assert queue_stability(baseline) is None and caplog.records == []


def test_unstable_queue_warns(caplog: pytest.LogCaptureFixture) -> None:
    cfg = load_config(BASELINE, ["authority.reviewers=800"])
    # Arrivals once controls start (4 April, day 93): background 25.8/day x 0.8545
    # controlled = 22.05; firms' licence applications per review period: 2/7 for each US
    # auto line and the EU supplier, 1/7 for JP, IN and tech, 1/14 + 1/14 for defence
    # -> 10/7 = 1.43/day; in all ~23.5/day. 800 reviewers at a mean review time of
    # 33.8 working days (April) or 31.7 (June, November) x ~1.48 calendar days each clear
    # at most 800 / 47 = 17/day: short of 23.5 in every period
    q = queue_stability(cfg)
    assert q is not None and q.first_day == 93
    assert q.arrivals == pytest.approx(25.8 * 0.8545 + 10 / 7)
    with caplog.at_level(logging.WARNING, logger="sim.config.workload"):
        check_work(cfg, "b.toml")
    assert [r.getMessage() for r in caplog.records] == [
        f"b.toml: the licence queue is unstable: about 23 applications/day arrive and the "
        f"reviewers clear about {q.capacity:.2g}/day from 2025-04-04 to the end of the run; "
        "the backlog will grow throughout"]


def test_a_policy_event_restores_stability() -> None:
    # 3 reviewers for 4 files/day is unstable; 5 from day 100 on clear 5/day: no warning
    unstable = load_config(MMC, ["authority.reviewers=3"])
    assert queue_stability(unstable) is not None
    data = config_dict(unstable)
    data["policy"] = [{"type": "reviewers", "date": date(2025, 4, 11), "count": 5}]
    assert queue_stability(config_from_dict(data)) is None
    # a slower review from then on (mean 2 days: 5/2 = 2.5/day) keeps it unstable
    data["policy"].append({"type": "review_time", "date": date(2025, 4, 11),
                           "review_time": {"dist": "constant", "value": 2.0}})
    q = queue_stability(config_from_dict(data))
    assert q is not None and q.arrivals == 4
    # capacity averaged over 2,000 days: 100 days at 3/day, 1,900 at 2.5/day
    assert q.capacity == pytest.approx((100 * 3 + 1900 * 2.5) / 2000)


def test_policy_events_after_the_window_warn(caplog: pytest.LogCaptureFixture) -> None:
    # 200 days end on 2025-07-19: policy.6 (2025-09-01) onwards never happen
    cfg = load_config(BASELINE, ["horizon_days=200"])
    assert late_policy_events(cfg) == [6, 7, 8, 9, 10]
    with caplog.at_level(logging.WARNING, logger="sim.config.workload"):
        check_warnings(cfg, "b.toml")
    assert caplog.records[0].getMessage().startswith(
        "b.toml: policy.6, policy.7, policy.8, policy.9, policy.10 are dated after the "
        "simulated window (2025-01-01 to 2025-07-19; the first on 2025-09-01) and never happen")
    marked = load_config(BASELINE, ["horizon_days=200"] + [
        f"policy.{i}.outside_window=true" for i in range(6, 11)])
    assert late_policy_events(marked) == []


# --------------------------------------------------------------------------- precision


class StubStore:
    """A results folder holding two replications of one auto firm: shortfall 10% and 30%."""

    def read(self, table: str) -> dict[str, Any]:
        assert table == "replications"
        return {"replication": [0, 1], "sector": ["auto", "auto"], "value_lost": [10.0, 30.0],
                "planned_value": [100.0, 100.0]}

    def manifest(self) -> dict[str, Any]:
        return {"chunk_size": 1}


def test_precision_growth_is_finite_safe() -> None:
    # shortfall is a share: the Wilson interval of the mean of (0.1, 0.3) on its effective
    # size n = p(1 - p) / (s^2 / 2) = 0.16 / 0.01 = 16, with z = t(0.975, 1) = 12.706:
    # centre (0.2 + z^2 / 32) / (1 + z^2 / 16) = 0.47295, half (z / 11.09) x
    # sqrt(0.01 + z^2 / 1024) = 0.46912, so [0.00383, 0.94207]; its larger half from the
    # mean is 0.94207 - 0.2 = 0.74207
    store: Any = StubStore()
    tiny = PrecisionTarget(1e-300, 2, 10**12)
    assert tiny(store, 2) == 10**12  # (0.74 / 1e-300)^2 overflows: capped, not an error
    assert tiny.worst == pytest.approx(0.74207, rel=1e-4) and tiny.met is False
    # 2 x (0.74207 / 0.5)^2 x 1.1 = 4.85 -> 5
    assert PrecisionTarget(0.5, 2, 1000)(store, 2) == 5
    assert PrecisionTarget(2.0, 2, 1000)(store, 2) is None  # met


# --------------------------------------------------------------------------- policy dates


def _mmc_with(event: dict[str, Any], horizon: float = 2000) -> dict[str, Any]:
    data = config_dict(load_config(MMC))
    data["horizon_days"] = horizon
    data["policy"] = [event]
    return data


def test_policy_date_before_the_start_is_refused() -> None:
    ev = {"type": "reviewers", "date": date(2024, 12, 31), "count": 6}
    with pytest.raises(ConfigError) as info:
        config_from_dict(_mmc_with(ev, horizon=10), "m.toml")
    assert str(info.value) == (
        "m.toml: policy.0.date: 2024-12-31 is before the simulated window (2025-01-01 to "
        "2025-01-10): it would apply at t = 0; set outside_window = true if that is meant")
    assert config_from_dict(_mmc_with(ev | {"outside_window": True})).policy[0].outside_window
    # the first and the last day of the window are inside
    for d in (date(2025, 1, 1), date(2025, 1, 10)):
        config_from_dict(_mmc_with(ev | {"date": d}, horizon=10))


def test_bundled_configs_load_with_their_policy(baseline: sim.Config) -> None:
    start = baseline.calendar.start
    for path in BUNDLED:
        cfg = load_config(path)
        assert all(ev.date >= start for ev in cfg.policy)
        assert late_policy_events(cfg) == []


# --------------------------------------------------------------------------- messages


def test_unknown_supplier_named_before_the_sum(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text(
        f'extends = "{BASELINE.as_posix()}"\n[firms.us_auto_ev.ordering]\n'
        "suppliers = { china = 0.94, nosuch = 0.06 }\n")
    with pytest.raises(ConfigError, match=r"suppliers\.nosuch: unknown supplier 'nosuch'"):
        load_config(tmp_path / "c.toml")
    # the child's shares replace the base's whole (china 0.94, row 0.06): the sum lists
    # every entry the child gives
    (tmp_path / "d.toml").write_text(
        f'extends = "{BASELINE.as_posix()}"\n[firms.us_auto_ev.ordering]\n'
        "suppliers = { china = 0.9, row = 0.06 }\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "d.toml")
    assert info.value.path == "firms.us_auto_ev.ordering.suppliers"
    assert info.value.message == "must sum to 1 (they sum to 0.96: china 0.9, row 0.06)"
    (tmp_path / "e.toml").write_text(
        f'extends = "{BASELINE.as_posix()}"\n[firms.us_auto_ev.ordering]\n'
        "suppliers = { china = 1.0 }\n")
    assert load_config(tmp_path / "e.toml").firms["us_auto_ev"].ordering.suppliers == \
        {"china": 1.0}


@pytest.mark.parametrize(("override", "path"), [
    ("suppliers.china.production_days.mode=100", "suppliers.china.production_days.high"),
    ('destinations={US={}}', "authority.background.destinations.EU"),  # a cross-reference
    ("sweep.N=3", "sweep.method"),  # a sweep table with only N
])
def test_errors_only_overrides_bring_about_name_set(override: str, path: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(BASELINE, [override])
    assert (info.value.source, info.value.path) == ("--set", path)


def test_a_bad_file_is_still_blamed_with_overrides(tmp_path: Path) -> None:
    text = MMC.read_text().replace("reviewers = 5", "reviewers = 0")
    (tmp_path / "m.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "m.toml", ["runs.seed=3"])
    assert (info.value.source, info.value.path) == (str(tmp_path / "m.toml"),
                                                    "authority.reviewers")


def test_extends_chain_of_the_limit_loads(tmp_path: Path) -> None:
    for i in range(MAX_EXTENDS):
        (tmp_path / f"c{i}.toml").write_text(f'extends = "c{i + 1}.toml"\n')
    (tmp_path / f"c{MAX_EXTENDS}.toml").write_text(MMC.read_text())
    assert load_config(tmp_path / "c0.toml").name == "mmc"
    (tmp_path / f"c{MAX_EXTENDS}.toml").write_text(f'extends = "{MMC.as_posix()}"\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "c0.toml")
    assert (info.value.source, info.value.path) == (str(tmp_path / f"c{MAX_EXTENDS}.toml"),
                                                    "extends")


def test_deep_nesting_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "d.toml").write_text('name = "x"\ndescription = ' + "[" * 3000 + "]" * 3000)
    with pytest.raises(ConfigError, match="nested too deep"):
        load_config(tmp_path / "d.toml")


# --------------------------------------------------------------------------- typed arguments


def test_simulate_and_load_config_arguments() -> None:
    with pytest.raises(ArgumentError, match=r"^cfg: must be a Config .*got dict"):
        sim.simulate({"horizon_days": 10}, 1)  # type: ignore[arg-type]
    cfg = load_config(MMC, ["horizon_days=5"])
    for seed in (-1, 1.5, "7", True):
        with pytest.raises(ArgumentError) as info:
            sim.simulate(cfg, seed)  # type: ignore[arg-type]
        assert info.value.argument == "seed"
    with pytest.raises(ArgumentError) as info:
        sim.load_config(MMC, overrides="a=b")  # type: ignore[arg-type]
    assert info.value.argument == "overrides"
    with pytest.raises(ArgumentError, match="^overrides=1: each override must be a "):
        sim.load_config(MMC, overrides=[1])  # type: ignore[list-item]
    with pytest.raises(ArgumentError, match="^path=5: "):
        sim.load_config(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kw", "argument"), [
    ({"replications": "5"}, "replications"), ({"replications": 2.5}, "replications"),
    ({"replications": 0}, "replications"), ({"workers": -1}, "workers"),
    ({"workers": "2"}, "workers"), ({"force": "yes"}, "force"),
    ({"precision": -1}, "precision"), ({"precision": float("nan")}, "precision"),
    ({"precision": 0.01, "max_replications": 2.5}, "max_replications"),
])
def test_run_batch_arguments(tmp_path: Path, kw: dict[str, Any], argument: str) -> None:
    cfg = load_config(BASELINE, ["horizon_days=30"])
    with pytest.raises(ArgumentError) as info:
        sim.run_batch(cfg, tmp_path / "out", **kw)
    assert info.value.argument == argument
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("kw", "argument"), [
    ({"replications": "5"}, "replications"), ({"replications": 2.5}, "replications"),
    ({"workers": -1}, "workers"), ({"force": 1}, "force"),
])
def test_run_sweep_arguments(tmp_path: Path, kw: dict[str, Any], argument: str) -> None:
    cfg = load_config(ROOT / "configs" / "sweeps" / "reviewers.toml", ["horizon_days=30"])
    with pytest.raises(ArgumentError) as info:
        sim.run_sweep(cfg, tmp_path / "out", **kw)
    assert info.value.argument == argument
    assert not (tmp_path / "out").exists()
    with pytest.raises(TypeError):  # a sweep has no precision target
        sim.run_sweep(cfg, tmp_path / "out", precision=0.01)  # type: ignore[call-arg]


def test_api_refuses_runaway_configs_before_writing(tmp_path: Path) -> None:
    cfg = load_config(BASELINE, [PROBES[2][0]])
    with pytest.raises(ConfigError) as info:
        sim.run_batch(cfg, tmp_path / "out", replications=1, workers=1)
    assert info.value.source == "baseline" and info.value.remedies == ("force",)
    assert not (tmp_path / "out").exists()
    sweep = load_config(ROOT / "configs" / "sweeps" / "reviewers.toml", [PROBES[2][0]])
    with pytest.raises(ConfigError, match=r"max_shipment_kg: point 0: about"):
        sim.run_sweep(sweep, tmp_path / "out", replications=1, workers=1, source="s.toml")
    assert not (tmp_path / "out").exists()
