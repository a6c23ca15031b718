"""Hostile configs, by class: each class of silent or hanging config is closed by one
mechanism, and each is tried here in several variants.

1. Every name a config uses is checked against what it defines ("did you mean"), in work
   linear in the config's size.
2. A child config's `observed` (data from a file) replaces its parent's whole.
3. A measured window that holds no simulated day is refused.
4. Periods under a minute are refused; the work estimate counts every dispatch cycle and
   holds at the ends of the priors.
5. Every error is reported at once, a line each; an unknown key comes with the key it
   probably meant, and first where it explains a missing field.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from scipy import stats

from sim.config import config_from_dict, load_config, read_toml_tree
from sim.config.workload import (
    HIGH_QUANTILE,
    MAX_EVENTS,
    check_work,
    estimate_work,
    prior_range,
)
from sim.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "data" / "small.toml"
MMC = ROOT / "configs" / "mmc.toml"
# small.toml: 240 days from 2025-01-01, so the last simulated day is 2025-08-28
WINDOW = "the simulated window is 2025-01-01 to 2025-08-28 (horizon_days = 240)"


def child(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    """A config extending tests/data/small.toml with `text`."""
    path = tmp_path / name
    path.write_text(f'extends = "{SMALL.as_posix()}"\n{text}')
    return path


def refused(path: Path, overrides: list[str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides or [])
    return info.value


def lines(err: ConfigError) -> list[tuple[str, str]]:
    """(path, message) of every error reported, the first first."""
    return [(e.path, e.message) for e in (err, *err.more)]


def rareshock(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RARESHOCK_DEBUG"}
    env["MPLBACKEND"] = "Agg"
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def refused_by_cli(tmp_path: Path, *args: str | Path) -> list[str]:
    """`rareshock ARGS` exits 2 with one `file: path: message` line per error, no traceback
    and no results folder; returns the lines without the `rareshock: error: ` prefix."""
    r = rareshock(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert not (tmp_path / "out").exists() and not (tmp_path / "results").exists()
    out = r.stderr.rstrip("\n").splitlines()
    assert out[0].startswith("rareshock: error: ")
    return [out[0].removeprefix("rareshock: error: "), *out[1:]]


# --------------------------------------------------------------------------- 1. names


@pytest.mark.parametrize(("text", "path", "words"), [
    # a priority list that names nothing silently became proportional
    ('[suppliers.row]\nallocation = "priority"\npriority = ["defense"]\n',
     "suppliers.row.priority.0", "unknown sector or firm 'defense'; did you mean 'defence'?"),
    ('[suppliers.row]\nallocation = "priority"\npriority = ["auto", "us_auto_evv"]\n',
     "suppliers.row.priority.1", "did you mean 'us_auto_ev'?"),
    ('[suppliers.row]\nallocation = "priority"\npriority = ["auto", "auto"]\n',
     "suppliers.row.priority.1", "'auto' is listed twice"),
    ('[firms.us_tier1.shipping]\nallocation = "priority"\npriority = ["us_auto_ice", "tehc"]\n',
     "firms.us_tier1.shipping.priority.1", "did you mean 'tech'?"),
    # an arc to a firm that does not order from this maker
    ('[firms.us_tier1.shipping]\ntransit_days_to = { us_auto_ev = '
     '{dist = "constant", value = 1.0} }\n',
     "firms.us_tier1.shipping.transit_days_to.us_auto_ev",
     "firm 'us_auto_ev' does not order from 'us_tier1'"),
    ('[firms.us_tier1.shipping]\ntransit_days_to = { us_auto_icee = '
     '{dist = "constant", value = 1.0} }\n',
     "firms.us_tier1.shipping.transit_days_to.us_auto_icee", "did you mean 'us_auto_ice'?"),
    # shipping settings on a firm that makes nothing for other firms do nothing
    ("[firms.us_auto_ev.shipping]\ndispatch_every_days = 3\n", "firms.us_auto_ev.shipping",
     "has none, so its shipping settings would do nothing"),
    ('branch = "hihg"\n', "branch", "no policy event has branch 'hihg'"),
    ("[calendar]\nextra_working_days = [2025-01-08]\n", "calendar.extra_working_days.0",
     "2025-01-08 is a working day anyway"),
])
def test_every_name_is_checked(tmp_path: Path, text: str, path: str, words: str) -> None:
    err = refused(child(tmp_path, text))
    assert err.path == path, str(err)
    assert words in err.message, err.message


def test_policy_names_are_checked_with_suggestions(tmp_path: Path) -> None:
    cfg = read_toml_tree(SMALL)
    policy = cfg["policy"]
    policy.append({"type": "capacity", "date": cfg["calendar"]["start"], "supplier": "roww",
                   "add_kg_per_day": 1.0})
    policy.append({"type": "general_licence", "date": cfg["calendar"]["start"],
                   "firms": ["us_auto_ev", "us_tech_drive"], "materials": ["ndfeb_magnett"],
                   "destinations": ["JPN"]})
    with pytest.raises(ConfigError) as info:
        config_from_dict(cfg, "p.toml")
    n = len(policy)
    got = dict(lines(info.value))
    assert set(got) == {f"policy.{n - 2}.supplier", f"policy.{n - 1}.firms.1",
                        f"policy.{n - 1}.materials.0", f"policy.{n - 1}.destinations.0"}
    assert "did you mean 'row'?" in got[f"policy.{n - 2}.supplier"]
    assert "did you mean 'us_tech_drives'?" in got[f"policy.{n - 1}.firms.1"]
    assert "did you mean 'ndfeb_magnet'?" in got[f"policy.{n - 1}.materials.0"]
    assert "unknown destination 'JPN'" in got[f"policy.{n - 1}.destinations.0"]


OBSERVED = """
[observed]
name = "2025"
[[observed.exports.series]]
name = "total"
reference_tonnes = 100.0
reference_days = 30.0
months = { "2025-03" = 50.0 }
[[observed.exports.series]]
name = "{second}"
destinations = ["US"]
reference_tonnes = 40.0
reference_days = 30.0
months = { "2025-03" = 20.0 }
[[observed.stoppages]]
firm = "{firm}"
event = "line idled"
date = 2025-05-10
"""


def test_observed_names_are_checked(tmp_path: Path) -> None:
    # two series of one name would fit one's observations to the other's simulation
    err = refused(child(tmp_path, OBSERVED.replace("{second}", "total")
                        .replace("{firm}", "us_auto_ew")))
    assert lines(err) == [
        ("observed.stoppages.0.firm", err.message),
        ("observed.exports.series.1.name", "'total' is already observed.exports.series.0: "
         "each series needs its own name"),
    ]
    assert "unknown firm 'us_auto_ew'; did you mean 'us_auto_ev'?" in err.message
    ok = load_config(child(tmp_path, OBSERVED.replace("{second}", "US")
                           .replace("{firm}", "us_auto_ev")))
    assert [s.name for s in ok.observed.exports.series] == ["total", "US"]


def test_calibration_names_are_checked(tmp_path: Path) -> None:
    text = ('[[uncertain]]\nname = "bg"\npath = "authority.background.rate_per_day"\n'
            'prior = {dist = "uniform", low = 0.5, high = 1.5}\n'
            '[calibration]\nparameters = ["bgr"]\n')
    err = refused(child(tmp_path, text))
    assert err.path == "calibration.parameters.0"
    assert "no uncertain parameter named 'bgr'; did you mean 'bg'?" in err.message


def test_every_unknown_name_is_reported_at_once(tmp_path: Path) -> None:
    text = ("[firms.us_auto_ev]\ndestination = \"USA\"\nbom = { ndfeb_magnit = 0.1 }\n"
            "[suppliers.row]\nmaterials = [\"ndfeb_magnet\", \"smco_magnt\"]\n")
    err = refused(child(tmp_path, text))
    assert [p for p, _ in lines(err)] == [
        "suppliers.row.materials.1", "firms.us_auto_ev.destination",
        "firms.us_auto_ev.bom.ndfeb_magnit"]
    assert "did you mean 'smco_magnet'?" in err.message
    assert len(str(err).splitlines()) == 3


def _firms(n: int) -> dict:
    data = read_toml_tree(SMALL)
    template = data["firms"]["us_auto_ev"]
    for i in range(n):
        data["firms"][f"gen{i}"] = {**template, "ordering": {**template["ordering"]}}
    return data


def _lines_run(data: dict) -> int:
    """Python lines executed validating `data` (work done, not time taken)."""
    count = 0

    def tracer(frame, event, arg):  # noqa: ANN001, ANN202
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        config_from_dict(data)
    finally:
        sys.settrace(None)
    return count


def test_reference_check_is_linear_in_the_firms() -> None:
    # Doubling the firms doubles the lines run checking them (a check of every firm
    # against every firm would quadruple them): 400 and 800 firms, all valid.
    a, b = _lines_run(_firms(400)), _lines_run(_firms(800))
    assert 1.8 < b / a < 2.3, (a, b)


def test_twenty_thousand_firms_validate(tmp_path: Path) -> None:
    # a hang guard only: before the check was linear this took minutes
    body = "\n".join(
        f'[firms.g{i}]\nsector = "auto"\ndestination = "US"\nunits_per_day = 1.0\n'
        f'bom = {{ndfeb_magnet = 0.1}}\ninitial_cover_days = 30\n'
        f'ordering = {{target_cover_days = 60, review_period_days = 30, '
        f'suppliers = {{china = 1.0}}}}\n' for i in range(20_000))
    path = child(tmp_path, "horizon_days = 30\n" + body)
    code = ("import sys, sim; c = sim.load_config(sys.argv[1]); "
            "print(len(c.firms))")
    r = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(20_000 + len(load_config(SMALL).firms))


# --------------------------------------------------------------------------- 2. extends


def _mmc_with(observed: str) -> str:
    return MMC.read_text() + observed


SERIES = """
[[observed.exports.series]]
name = "{name}"
reference_tonnes = 10.0
reference_days = 30.0
months = {{ "2025-02" = {t} }}
"""


def test_a_child_observed_file_replaces_the_parents(tmp_path: Path) -> None:
    (tmp_path / "parent.toml").write_text(_mmc_with(
        '[observed]\nname = "parent"\nsource = "parent data"\nfit_months = ["2025-02"]\n'
        + SERIES.format(name="total", t=5.0) + SERIES.format(name="ROW", t=3.0)))
    (tmp_path / "obs.toml").write_text('name = "child"\n' + SERIES.format(name="total", t=7.0)
                                      .replace("observed.", ""))
    (tmp_path / "child.toml").write_text('extends = "parent.toml"\nobserved = "obs.toml"\n')
    obs = load_config(tmp_path / "child.toml").observed
    # only what the child's file says: no parent series, source or fit months leak in
    assert [(s.name, s.months) for s in obs.exports.series] == [("total", {"2025-02": 7.0})]
    assert (obs.name, obs.source, obs.fit_months) == ("child", "", [])
    # the same with the table written in the child
    (tmp_path / "child2.toml").write_text('extends = "parent.toml"\n[observed]\nname = "c2"\n')
    assert load_config(tmp_path / "child2.toml").observed.exports is None
    # other tables still merge key by key
    (tmp_path / "child3.toml").write_text('extends = "parent.toml"\n[authority]\nreviewers = 7\n')
    cfg = load_config(tmp_path / "child3.toml")
    assert cfg.authority.reviewers == 7 and cfg.authority.background.rate_per_day == 4
    assert [s.name for s in cfg.observed.exports.series] == ["total", "ROW"]


def test_a_child_prior_replaces_the_parents(tmp_path: Path) -> None:
    (tmp_path / "parent.toml").write_text(MMC.read_text() + (
        '[[uncertain]]\nname = "r"\npath = "authority.background.rate_per_day"\n'
        'prior = {dist = "normal", mean = 4.0, sd = 0.1, low = 3.0}\n'))
    (tmp_path / "child.toml").write_text(
        'extends = "parent.toml"\n[authority.review_time]\ndist = "constant"\nvalue = 1.0\n')
    cfg = load_config(tmp_path / "child.toml")  # no `mean` of the exponential left over
    assert cfg.authority.review_time.expected == 1.0


# --------------------------------------------------------------------------- 3. windows


@pytest.mark.parametrize(("text", "path", "words"), [
    ("measure_from = 2025-09-01", "output.measure_from",
     f"2025-09-01 is not before the end: nothing would be measured; {WINDOW}"),
    ("measure_from = 2025-08-29", "output.measure_from", "is not before the end"),  # day 240
    ("measure_from = 2030-01-01\nmeasure_until = 2031-01-01", "output.measure_from",
     "is not before the end"),
    ("measure_until = 2025-01-01", "output.measure_until",
     f"2025-01-01 is not after the start: nothing would be measured; {WINDOW}"),
    ("measure_until = 2024-06-01", "output.measure_until", "is not after the start"),
    ("measure_from = 2025-03-01\nmeasure_until = 2025-03-01", "output.measure_until",
     "is not after measure_from 2025-03-01: nothing would be measured"),
    ("measure_from = 2025-04-01\nmeasure_until = 2025-03-01", "output.measure_until",
     "is not after measure_from"),
    ("measure_from = 2024-12-01", "output.measure_from", "is before the start"),
])
def test_a_window_that_measures_nothing_is_refused(tmp_path: Path, text: str, path: str,
                                                   words: str) -> None:
    err = refused(child(tmp_path, f"[output]\n{text}\n"))
    assert (err.path, err.more) == (path, ()), str(err)
    assert words in err.message, err.message


def test_a_window_with_one_day_in_it_is_kept(tmp_path: Path) -> None:
    cfg = load_config(child(tmp_path, "[output]\nmeasure_from = 2025-08-28\n"
                            "measure_until = 2026-01-01\n"))
    assert str(cfg.output.measure_from) == "2025-08-28"


@pytest.mark.parametrize(("window", "path", "words"), [
    ("until = 2024-12-31", "observed.downtimes.0.until",
     "2024-12-31 is before the start: nothing would be counted"),
    ("since = 2025-09-01\nuntil = 2025-12-31", "observed.downtimes.0.since",
     "2025-09-01 is after the end: nothing would be counted"),
    ("since = 2025-05-01\nuntil = 2025-05-06", "observed.downtimes.0",
     "days.low: 7 days is more than the window from 2025-05-01 to 2025-05-06 holds (6)"),
    ("until = 2025-01-06", "observed.downtimes.0.days.low",
     "7 days is more than the window from the start, 2025-01-01, to 2025-01-06 holds (6)"),
])
def test_a_downtime_window_outside_the_run_or_too_short_is_refused(
        tmp_path: Path, window: str, path: str, words: str) -> None:
    """A reported downtime compared over days the run never simulates, or whose fewest
    days are more than its window holds, could only ever miss: refused, naming the file
    it is in. (A range whose most days exceed the window can still be met.)"""
    (tmp_path / "obs.toml").write_text(
        f'[[downtimes]]\nfirm = "us_auto_ev"\nevent = "x"\ndays = {{ low = 7, high = 21 }}\n'
        f"{window}\n")
    err = refused(child(tmp_path, 'observed = "obs.toml"\n'))
    where = path.removeprefix("observed.")
    assert (err.source, err.path) == (str(tmp_path / "obs.toml"), where), str(err)
    assert words in err.message, err.message


def test_a_horizon_prior_that_leaves_the_window_out_is_refused(tmp_path: Path) -> None:
    # at its low end (100 days: to 2025-04-10) the window from 1 June holds nothing
    err = refused(child(tmp_path, "[output]\nmeasure_from = 2025-06-01\n[[uncertain]]\n"
                        'name = "h"\npath = "horizon_days"\n'
                        'prior = {dist = "uniform", low = 100, high = 300}\n'))
    assert err.path == "uncertain.0.prior (h)"
    assert "output.measure_from" in err.message and "not before the end" in err.message


def test_cli_refuses_an_empty_window_and_writes_nothing(tmp_path: Path) -> None:
    out = refused_by_cli(tmp_path, "run", SMALL, "--set", "output.measure_from=2026-01-01",
                         "-j", "1", "-n", "1", "-o", "out")
    assert out == [f"--set: output.measure_from: 2026-01-01 is not before the end: nothing "
                   f"would be measured; {WINDOW}"]


# --------------------------------------------------------------------------- 4. work


@pytest.mark.parametrize("override", [
    "suppliers.row.dispatch_every_days=1e-9",
    "firms.us_tier1.shipping.dispatch_every_days=1e-9",
    "firms.us_auto_ev.ordering.review_period_days=1e-6",
    "output.sample_every_days=0.0001",
])
def test_a_period_under_a_minute_is_refused(override: str) -> None:
    err = refused(SMALL, [override])
    assert (err.source, err.path) == ("--set", override.split("=")[0])
    assert err.message.startswith("must be at least 0.000694 days (one minute)")


def test_every_dispatch_cycle_is_counted() -> None:
    base = load_config(SMALL)

    def dispatches(cfg: object) -> dict[str, float]:
        return {t.path: t.count for t in estimate_work(cfg).terms if t.what == "dispatches"}

    # one cycle per order book with customers: the free supplier `row` and the four makers,
    # each horizon / period + 1 (240 / 1 + 1 = 241 at the default period of a day)
    got = dispatches(base)
    assert got == {"suppliers.row.dispatch_every_days": 241.0,
                   **{f"firms.{n}.shipping.dispatch_every_days": 241.0
                      for n in ("us_tier1", "eu_motor_supplier", "jp_tier1",
                                "us_defence_subtier")}}
    fast = load_config(SMALL, ["suppliers.row.dispatch_every_days=0.001"])
    assert dispatches(fast)["suppliers.row.dispatch_every_days"] == 240 / 0.001 + 1
    assert estimate_work(fast).events - estimate_work(base).events == pytest.approx(
        240 / 0.001 - 240)


def test_a_fast_dispatch_over_a_long_horizon_is_refused() -> None:
    # 90,000 days / 0.001 = 9e7 dispatches of `row` alone: past 5e7 events
    cfg = load_config(SMALL, ["horizon_days=90000", "suppliers.row.dispatch_every_days=0.001"])
    with pytest.raises(ConfigError) as info:
        check_work(cfg, "c.toml", warn=False)
    assert info.value.remedies == ("force",)
    assert "9e+07 events" in info.value.message or "events per replication" in \
        info.value.message


def test_prior_ranges() -> None:
    from sim.config.priors import LognormalPrior, NormalPrior, UniformPrior

    assert prior_range(UniformPrior(low=1.0, high=5.0)) == (1.0, 5.0)
    ln = LognormalPrior(median=300.0, sigma=2.0)
    ref = stats.lognorm(s=2.0, scale=300.0)
    assert prior_range(ln) == pytest.approx((ref.ppf(1 - HIGH_QUANTILE),
                                             ref.ppf(HIGH_QUANTILE)), rel=1e-9)
    half = NormalPrior(mean=10.0, sd=2.0, low=5.0)
    assert prior_range(half) == pytest.approx(
        (5.0, stats.truncnorm((5 - 10) / 2, float("inf"), 10, 2).ppf(HIGH_QUANTILE)), rel=1e-6)


@pytest.mark.parametrize(("prior", "path", "refuse"), [
    # a lognormal horizon: median 300 days, but its 0.999 quantile is ~2.9e6 days
    ('{dist = "lognormal", median = 300, sigma = 3}', "horizon_days", True),
    ('{dist = "lognormal", median = 300, sigma = 0.1}', "horizon_days", False),
    # 1e6 a day at the top: 2.4e8 background applications in 240 days
    ('{dist = "uniform", low = 0.5, high = 1e6}', "authority.background.rate_per_day", True),
    ('{dist = "loguniform", low = 0.5, high = 2}', "authority.background.rate_per_day", False),
    # a normal scale on every review period reaching down to a minute at its low end
    ('{dist = "normal", mean = 7, sd = 2.2, low = 0.0007}',
     "firms.us_auto_ev.ordering.review_period_days", False),
])
def test_limits_hold_over_the_priors(tmp_path: Path, prior: str, path: str,
                                     refuse: bool) -> None:
    cfg = load_config(child(tmp_path, f'[[uncertain]]\nname = "u"\npath = "{path}"\n'
                            f"prior = {prior}\n"))
    point = estimate_work(cfg)
    assert point.events < MAX_EVENTS  # the config as written is fine
    if not refuse:
        check_work(cfg, "c.toml", warn=False)
        return
    with pytest.raises(ConfigError) as info:
        check_work(cfg, "c.toml", warn=False)
    assert info.value.path == "uncertain.0.prior (u)"
    assert info.value.remedies == ("force",)


def test_the_worst_ends_are_taken_together(tmp_path: Path) -> None:
    # each alone stays under 5e7 events; both at their top ends (1,000 days x 40,000 a day
    # x 2+ events) go over
    text = ('[[uncertain]]\nname = "h"\npath = "horizon_days"\n'
            'prior = {dist = "uniform", low = 200, high = 1000}\n'
            '[[uncertain]]\nname = "bg"\npath = "authority.background.rate_per_day"\n'
            'prior = {dist = "uniform", low = 0.5, high = 40000}\n')
    cfg = load_config(child(tmp_path, text))
    alone = load_config(SMALL, ["horizon_days=1000"])
    assert estimate_work(alone).events < MAX_EVENTS
    assert estimate_work(load_config(
        SMALL, ["authority.background.rate_per_day=40000"])).events < MAX_EVENTS
    with pytest.raises(ConfigError) as info:
        check_work(cfg, "c.toml", warn=False)
    assert info.value.path.startswith("uncertain.")


# --------------------------------------------------------------------------- 5. errors


def test_a_typo_comes_first_with_its_suggestion(tmp_path: Path) -> None:
    text = MMC.read_text().replace("review_time = {", "reveiw_time = {").replace(
        "reviewers = 5", "reviewers = 0")
    (tmp_path / "c.toml").write_text(text)
    err = refused(tmp_path / "c.toml")
    assert lines(err) == [
        ("authority.reveiw_time", "unknown key (did you mean 'review_time'?)"),
        ("authority.reviewers", "should be greater than or equal to 1 (got 0)"),
        ("authority.review_time", "required field is missing"),
    ]


@pytest.mark.parametrize(("old", "new", "path", "hint"), [
    ("horizon_days = 2000", "horizon_day = 2000", "horizon_day", "'horizon_days'"),
    ("warmup_days = 100", "warmup_dyas = 100", "runs.warmup_dyas", "'warmup_days'"),
    ('mean = 1.0 }', 'mean = 1.0, men = 2 }', "authority.review_time.men", "'mean'"),
    ("rate_per_day = 4", "rate_per_dya = 4\nrate_per_day = 4",
     "authority.background.rate_per_dya", "'rate_per_day'"),
    ("[destinations.ROW]", "[destinations.ROW]\npriorty = 1", "destinations.ROW.priorty",
     "'priority'"),
])
def test_unknown_keys_suggest_the_nearest(tmp_path: Path, old: str, new: str, path: str,
                                          hint: str) -> None:
    text = MMC.read_text()
    assert text.count(old) == 1
    (tmp_path / "c.toml").write_text(text.replace(old, new))
    err = refused(tmp_path / "c.toml")
    assert err.path == path and err.message == f"unknown key (did you mean {hint}?)"


def test_unknown_keys_in_policy_events_and_priors_suggest_too(tmp_path: Path) -> None:
    text = MMC.read_text() + (
        '[[policy]]\ntype = "controls_start"\ndate = 2025-03-01\nmatrials = ["ndfeb_magnet"]\n'
        '[[uncertain]]\nname = "r"\npath = "authority.reviewers"\n'
        'prior = {dist = "uniform", low = 1, hihg = 2}\n')
    (tmp_path / "c.toml").write_text(text)
    got = lines(refused(tmp_path / "c.toml"))
    # (an event may name `elements` instead of `materials`: neither is required alone)
    assert set(got[:2]) == {("policy.0.matrials", "unknown key (did you mean 'materials'?)"),
                            ("uncertain.0.prior.hihg", "unknown key (did you mean 'high'?)")}
    assert {p for p, _ in got[2:]} == {"uncertain.0.prior.high"}


def test_background_is_optional(tmp_path: Path) -> None:
    text = MMC.read_text()
    no_bg = text[:text.index("[authority.background]")]
    (tmp_path / "a.toml").write_text(no_bg)
    assert load_config(tmp_path / "a.toml").authority.background.rate_per_day == 0
    (tmp_path / "b.toml").write_text(no_bg + "[authority.background]\nrate_per_day = 0\n")
    assert load_config(tmp_path / "b.toml").authority.background.materials == {}
    (tmp_path / "c.toml").write_text(no_bg + "[authority.background]\nrate_per_day = 2\n")
    err = refused(tmp_path / "c.toml")
    assert err.path == "authority.background.quantity_kg"
    assert err.message == "is required when rate_per_day > 0 (got 2)"


def test_cli_prints_every_error_a_line_each(tmp_path: Path) -> None:
    text = MMC.read_text().replace("reviewers = 5", "reviewerz = 5").replace(
        "horizon_days = 2000", "horizon_days = -3")
    (tmp_path / "c.toml").write_text(text)
    out = refused_by_cli(tmp_path, "run", "c.toml", "-j", "1", "-o", "out")
    assert out == [
        "c.toml: authority.reviewerz: unknown key (did you mean 'reviewers'?)",
        "c.toml: horizon_days: should be greater than 0 (got -3)",
        "c.toml: authority.reviewers: required field is missing",
    ]


@pytest.mark.parametrize(("override", "path", "words"), [
    ('uncertain=[{name="r", path="firms.us_auto_ew.units_per_day", '
     'prior={dist="uniform", low=1, high=3}}]', "uncertain.0.path",
     "no 'us_auto_ew' in firms; did you mean 'us_auto_ev'?"),
    ('uncertain=[{name="r", path="authority.reviewrs", prior={dist="uniform", low=1, '
     'high=3}}]', "uncertain.0.path", "authority has no key 'reviewrs'; did you mean "
     "'reviewers'?"),
    ('sweep={method="grid", parameters=[{path="suppliers.roww.capacity_kg_per_day", '
     'values=[1.0, 2.0]}]}', "sweep.parameters.0.path", "did you mean 'row'?"),
])
def test_lever_paths_suggest_the_nearest(override: str, path: str, words: str) -> None:
    from sim.sweep.plan import plan_sweep

    if override.startswith("sweep"):
        with pytest.raises(ConfigError) as info:
            plan_sweep(load_config(SMALL, [override]), "--set")
        err = info.value
    else:
        err = refused(SMALL, [override])
    assert err.path == path and words in err.message, str(err)


@pytest.mark.parametrize(("override", "words"), [
    ("firms.us_auto_ev.sector=defense", "(got 'defense'; did you mean 'defence'?)"),
    ('authority.review_time={dist="lognormall", median=1, sigma=1}',
     "unknown dist 'lognormall'; did you mean 'lognormal'?"),
    ("policy.0.type=controls_strat", "unknown type 'controls_strat'; did you mean "
     "'controls_start'?"),
])
def test_misspelt_choices_suggest_the_nearest(override: str, words: str) -> None:
    err = refused(SMALL, [override])
    assert words in err.message, str(err)


@pytest.mark.parametrize(("override", "path", "words"), [
    ('firms.us_tier1.ordering.front_running={materials=["smco_magnet"], target_cover_days=90}',
     "firms.us_tier1.ordering.front_running.materials.0",
     "the firm uses no smco_magnet (its bill of materials: ndfeb_magnet)"),
    ("suppliers.china_motors.capacity_kg_per_day=0",
     "firms.us_auto_ev.ordering.resourcing.to.china_motors",
     "has no capacity now or later"),
    ("suppliers.row.ramp=[{start=2024-12-01, kg_per_day=600.0}]",
     "suppliers.row.ramp.0.start", "2024-12-01 is before the start, 2025-01-01"),
    ('suppliers.row.materials=["ndfeb_magnet", "ndfeb_magnet"]', "suppliers.row",
     "materials lists 'ndfeb_magnet' twice"),
    ('suppliers.china_motors.route.assembly=""', "suppliers.china_motors.route.assembly",
     "at least 1 character"),
])
def test_settings_that_could_only_do_nothing_are_refused(override: str, path: str,
                                                         words: str) -> None:
    """Ordering ahead a material the firm does not use, re-sourcing to a supplier that
    never has capacity, a ramp step before the run: each silently did nothing."""
    err = refused(SMALL, [override])
    assert (err.source, err.path) == ("--set", path), str(err)
    assert words in err.message, err.message


def test_a_zero_capacity_target_that_a_capacity_event_opens_is_kept() -> None:
    cfg = load_config(SMALL, ["suppliers.china_motors.capacity_kg_per_day=0",
                              'policy=[{type="capacity", date=2025-06-01, '
                              'supplier="china_motors", add_kg_per_day=100.0}]'])
    assert cfg.suppliers["china_motors"].capacity_kg_per_day == 0
