"""Deferred demand of other buyers and licences that cover further shipments: small
worlds whose answers are worked out by hand, and the conservation of files."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta

import numpy as np
import pytest
import simpy

from sim.config import config_from_dict
from sim.config.responses import LicenceCover
from sim.errors import ConfigError
from sim.model.authority import Authority
from sim.model.calendar import WorkingCalendar
from sim.model.clock import post_call
from sim.model.cover import LicenceCovers
from sim.model.deferred import GIVEN_UP, REFILED
from sim.model.licensing import Licensing
from sim.model.records import APPROVED, AWAITING, UNDECIDED, Shipment
from sim.model.rng import Streams
from sim.model.tables import build_tables
from sim.model.world import World

START = date(2025, 1, 6)


def _const(v: float) -> dict:
    return {"dist": "constant", "value": float(v)}


def background_world(*, rate: float, horizon: float, deferred: dict | None,
                     decision: dict | None = None, policy: list | None = None,
                     review: float | dict = 0.0, **authority) -> dict:
    """Only other buyers: one material under control from the start, a Poisson stream of
    10 kg files, ample reviewers (no queue unless approvals are suspended)."""
    bg = {"rate_per_day": rate, "quantity_kg": _const(10.0), "materials": {"m": 1.0},
          "destinations": {"X": 1.0}}
    if deferred is not None:
        bg["deferred"] = deferred
    return {
        "horizon_days": horizon,
        "calendar": {"start": START, "working_days": "all"},
        "materials": {"m": {"controlled_at_start": True}},
        "destinations": {"X": {}},
        "authority": {"reviewers": 10_000,
                      "review_time": review if isinstance(review, dict) else _const(review),
                      "decision": decision or {"approve": 1.0, "refuse": 0.0},
                      "background": bg, **authority},
        "policy": policy or [],
    }


def run(raw: dict, seed: int = 1) -> World:
    w = World(config_from_dict(raw), seed)
    w.run()
    return w


def rows(w: World) -> dict[str, np.ndarray]:
    t = w.authority.apps
    return {c: t.numeric(c) for c in ("key", "attempt", "submitted", "decided", "outcome",
                                       "kg")}


def suspension(d0: float, d1: float) -> list[dict]:
    return [{"type": "suspend_approvals", "date": START + timedelta(days=d0)},
            {"type": "resume_approvals", "date": START + timedelta(days=d1)}]


# --------------------------------------------------------------------- deferred demand

# Approvals suspended on day 10 and resumed on day 50 (D = 40 days); patience 30 days.
# A file filed at a in [10, 20) is withdrawn at a + 30 < 50, meets its fate once (re-filed
# at once, it waits until 50 < a + 60 and is approved then); a file filed in [20, 50) is
# approved on day 50 before its patience runs out. Reviews take no time, so every file
# filed outside the suspension is approved the moment it is filed.
SUSPEND, RESUME, PATIENCE = 10.0, 50.0, 30.0


def squeeze(give_up: float, patience: float | str = PATIENCE, seed: int = 1) -> World:
    return run(background_world(
        rate=20.0, horizon=80.0, policy=suspension(SUSPEND, RESUME),
        deferred={"patience_days": patience, "refile_share": 1.0 - give_up,
                  "elsewhere_share": 0.0, "give_up_share": give_up,
                  "refile_after_days": _const(0.0), "max_attempts": 5}), seed)


@pytest.mark.parametrize("patience", ["never", PATIENCE])
def test_refiled_backlog_all_comes_back_in_the_catch_up(patience: float | str) -> None:
    w = squeeze(0.0, patience)
    r = rows(w)
    first = r["attempt"] == 1
    held = first & (r["submitted"] >= SUSPEND) & (r["submitted"] < RESUME)
    catch_up = (r["outcome"] == APPROVED) & (r["decided"] == RESUME)
    # every file held back is approved on the day approvals resume, once
    assert held.sum() > 600  # 20/day for 40 days
    assert sorted(r["key"][catch_up]) == sorted(r["key"][held])
    assert r["kg"][catch_up].sum() == pytest.approx(r["kg"][held].sum())
    early = held & (r["submitted"] < RESUME - PATIENCE)
    refiled = w.deferred.fate
    assert len(refiled) == (early.sum() if patience != "never" else 0)
    assert all(v == REFILED for v in refiled.values())
    assert w.deferred.check_conservation() == []
    # the catch-up reaches the exports table: day 50 is 2025-02-25, and nothing is
    # approved in February before it (approvals are suspended from 16 January)
    ex = build_tables(w).columns("exports")
    feb = np.asarray(ex["month"]) == "2025-02"
    in_feb = (r["outcome"] == APPROVED) & (r["decided"] >= 26.0) & (r["decided"] < 54.0)
    assert in_feb.sum() > held.sum()
    assert ex["kg"][feb].sum() == pytest.approx(r["kg"][in_feb].sum())


def test_lost_demand_is_the_give_up_share_of_the_impatient_backlog() -> None:
    g = 0.3
    w = squeeze(g, seed=7)
    r = rows(w)
    first = r["attempt"] == 1
    # files filed in [10, 20): patience ends before approvals resume
    impatient = first & (r["submitted"] >= SUSPEND) & (r["submitted"] < RESUME - PATIENCE)
    n = int(impatient.sum())
    given_up = [i for i, f in w.deferred.fate.items() if f == GIVEN_UP]
    lost_kg = sum(r["kg"][i] for i in given_up)
    held_kg = r["kg"][impatient].sum()
    # each impatient file gives up with probability g, once: Binomial(n, g)
    sd = math.sqrt(n * g * (1 - g))
    assert abs(len(given_up) - g * n) <= 4 * sd
    assert abs(lost_kg - g * held_kg) <= 4 * sd * 10.0
    # exactly the files whose own fate uniform says so (keyed to the arrival)
    fate = Streams(7).keys("fate.background.1", 2, block=1024)
    keys = r["key"][impatient]
    assert sorted(r["key"][given_up]) == sorted(k for k in keys if fate.u(int(k), 0) >= 1 - g)
    # the rest come back on the day approvals resume
    catch_up = (r["outcome"] == APPROVED) & (r["decided"] == RESUME)
    held = first & (r["submitted"] >= SUSPEND) & (r["submitted"] < RESUME)
    assert catch_up.sum() == held.sum() - len(given_up)
    row = w_table(w)
    assert row["background_given_up"] == len(given_up)
    assert row["background_given_up_kg"] == pytest.approx(lost_kg)
    assert row["background_refiled"] == n - len(given_up)


def w_table(w: World) -> dict[str, float]:
    a = build_tables(w).columns("authority")
    return {k: float(v[0]) for k, v in a.items()}


def test_refusals_are_refiled_until_approved() -> None:
    """Approve 1/2, refuse 1/2, re-file share 1: a file is approved at its A-th filing,
    A ~ Geometric(1/2), so filings per arrival average 2 and (with 30 attempts allowed)
    every arrival filed a few days before the end is approved in the end."""
    w = run(background_world(
        rate=10.0, horizon=200.0, review=1.0, decision={"approve": 0.5, "refuse": 0.5},
        deferred={"patience_days": "never", "refile_share": 1.0, "elsewhere_share": 0.0,
                  "give_up_share": 0.0, "refile_after_days": _const(1.0),
                  "max_attempts": 30}))
    r = rows(w)
    first = r["attempt"] == 1
    done_by = 150.0  # 25 filings of two days each at most before the horizon
    early = set(r["key"][first & (r["submitted"] < done_by)].tolist())
    approved = set(r["key"][(r["outcome"] == APPROVED)].tolist())
    assert early <= approved
    n = len(early)
    filings = np.isin(r["key"], list(early)).sum()
    # mean filings 2, variance (1 - p)/p^2 = 2 per arrival
    assert abs(filings / n - 2.0) <= 4 * math.sqrt(2.0 / n)
    # without the response half of them would simply be lost
    off = run(background_world(rate=10.0, horizon=200.0, review=1.0,
                               decision={"approve": 0.5, "refuse": 0.5}, deferred=None))
    o = rows(off)
    assert (o["outcome"] == APPROVED).sum() < 0.6 * first.sum()


def test_last_attempt_shares_the_refile_share_out() -> None:
    """At the last attempt the re-file share goes to elsewhere and give-up in proportion:
    with max_attempts 1, refile 0.5, elsewhere 0.25, give up 0.25, every refusal is
    bought elsewhere or given up, half each."""
    w = run(background_world(
        rate=20.0, horizon=100.0, decision={"approve": 0.0, "refuse": 1.0},
        deferred={"patience_days": "never", "refile_share": 0.5, "elsewhere_share": 0.25,
                  "give_up_share": 0.25, "max_attempts": 1}))
    fates = list(w.deferred.fate.values())
    n = len(fates)
    assert n > 1500 and REFILED not in fates
    assert abs(fates.count(GIVEN_UP) - n / 2) <= 4 * math.sqrt(n / 4)
    assert w.deferred.check_conservation() == []


def test_last_attempt_with_only_refiling_gives_up() -> None:
    w = run(background_world(
        rate=5.0, horizon=50.0, decision={"approve": 0.0, "refuse": 1.0},
        deferred={"patience_days": "never", "refile_share": 1.0, "elsewhere_share": 0.0,
                  "give_up_share": 0.0, "refile_after_days": _const(0.0), "max_attempts": 4}))
    r = rows(w)
    # every arrival is filed four times at the same instant, then given up
    assert r["attempt"].max() == 4
    for a in range(1, 5):
        np.testing.assert_array_equal(r["submitted"][r["attempt"] == a],
                                      r["submitted"][r["attempt"] == 1])
    last = np.flatnonzero(r["attempt"] == 4)
    assert sorted(i for i, f in w.deferred.fate.items() if f == GIVEN_UP) == last.tolist()
    assert w.deferred.check_conservation() == []


def test_fates_draw_nothing_from_the_other_streams() -> None:
    """With ample reviewers the first filings are the same rows with the response on as
    off: its draws come from tables of its own."""
    base = dict(rate=10.0, horizon=120.0, review=3.0,
                decision={"approve": 0.4, "refuse": 0.3, "pending_approval_rate_per_day": 0.02})
    off = rows(run(background_world(deferred=None, **base), seed=3))
    on = rows(run(background_world(deferred={"patience_days": 40.0}, **base), seed=3))
    first = on["attempt"] == 1
    n = len(off["key"])
    assert first.sum() == n
    for c in ("key", "submitted", "kg"):
        np.testing.assert_array_equal(on[c][first], off[c])
    # a file decided before its buyer's patience ran out is decided alike
    kept = on["outcome"][first] != 3
    np.testing.assert_array_equal(on["outcome"][first][kept], off["outcome"][kept])
    # (the pending clock's hazard is summed over other instants: equal to rounding)
    np.testing.assert_allclose(on["decided"][first][kept], off["decided"][kept], rtol=1e-12)


def chains(w: World) -> dict[str, int]:
    """Each arrival's end, read from its rows and the fates: the conservation identity
    worked out again from the table."""
    t = w.authority.apps
    r = rows(w)
    last: dict[int, int] = {}
    for i in range(t.n):
        k = int(r["key"][i])
        if k not in last or r["attempt"][i] > r["attempt"][last[k]]:
            last[k] = i
    out: dict[str, int] = defaultdict(int)
    fate = w.deferred.fate
    for i in last.values():
        if r["outcome"][i] == APPROVED:
            out["approved"] += 1
        elif r["outcome"][i] == UNDECIDED:
            out["open"] += 1
        elif fate[i] == REFILED:
            out["refiling"] += 1  # waiting, or exported after the controls lifted
        else:
            out["elsewhere" if fate[i] == 1 else "given_up"] += 1
    out["arrivals"] = len(last)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("lift", [False, True])
def test_every_background_file_ends_in_exactly_one_fate(seed: int, lift: bool) -> None:
    policy = suspension(20.0, 60.0)
    if lift:
        policy.append({"type": "controls_lift", "date": START + timedelta(days=90),
                       "materials": ["m"]})
    w = run(background_world(
        rate=6.0, horizon=150.0, policy=policy,
        review={"dist": "uniform", "low": 1.0, "high": 20.0},
        decision={"approve": 0.5, "refuse": 0.2, "pending_approval_rate_per_day": 0.03},
        information_requests={"probability": 0.2, "max_rounds": 2,
                              "response_days": _const(5.0)},
        pre_acceptance=_const(2.0),
        deferred={"patience_days": 25.0, "refile_share": 0.6, "elsewhere_share": 0.2,
                  "give_up_share": 0.2, "refile_after_days": {"dist": "uniform", "low": 0.0,
                                                              "high": 10.0},
                  "max_attempts": 3}), seed)
    d = w.deferred
    assert d.check_conservation() == []
    c = chains(w)
    assert c["arrivals"] == (c["approved"] + c["open"] + c["refiling"] + c["elsewhere"]
                             + c["given_up"])
    assert c["refiling"] == d.waiting + d.freed
    assert (d.freed > 0) if lift else (d.freed == 0)
    assert c["given_up"] > 0 and c["elsewhere"] > 0
    # no file is left open on the authority's books that the table does not show
    assert w.authority.open == c["open"]


def test_shares_must_sum_to_one() -> None:
    raw = background_world(rate=1.0, horizon=10.0, deferred={
        "refile_share": 0.5, "elsewhere_share": 0.2, "give_up_share": 0.2})
    with pytest.raises(ConfigError, match=r"authority\.background\.deferred.*sum to 1"):
        config_from_dict(raw)


@pytest.mark.parametrize("bad", ["sometimes", -3, 0, True, float("nan")])
def test_patience_is_days_or_never(bad: object) -> None:
    raw = background_world(rate=1.0, horizon=10.0, deferred={"patience_days": bad})
    with pytest.raises(ConfigError) as ei:
        config_from_dict(raw)
    msg = str(ei.value)
    assert "\n" not in msg
    assert 'authority.background.deferred.patience_days: should be a number of days above 0 ' \
        'or "never"' in msg


def test_off_by_default_records_zeros() -> None:
    w = run(background_world(rate=5.0, horizon=30.0, deferred=None,
                             decision={"approve": 0.5, "refuse": 0.5}))
    assert w.deferred is None
    row = w_table(w)
    assert row["background_refiled"] == row["background_given_up"] == 0
    assert row["covered_shipments"] == 0


# --------------------------------------------------------------------- licence cover


def covers(q: float = 100.0, days: float = 30.0, **kw) -> LicenceCovers:
    cal = WorkingCalendar(START, 400.0, "all", [])
    return LicenceCovers(LicenceCover(quantity_kg=q, validity_days=days, **kw), cal)


@pytest.mark.parametrize("q, size", [(100.0, 30.0), (100.0, 25.0), (90.0, 30.0),
                                     (10.0, 30.0)])
def test_licence_covers_floor_q_over_size_shipments(q: float, size: float) -> None:
    c = covers(q)
    c.grant("cn", "f", "m", "auto", 0.0)
    got = [c.covers("cn", "f", "m", size, 1.0 + j) for j in range(10)]
    n = math.floor(q / size)
    assert got == [True] * n + [False] * (10 - n)
    assert c.shipments == n and c.kg == pytest.approx(n * size)


def test_licence_expires_after_its_validity() -> None:
    c = covers(1000.0, 30.0)
    c.grant("cn", "f", "m", "auto", 5.0)
    assert c.covers("cn", "f", "m", 1.0, 34.9)
    assert not c.covers("cn", "f", "m", 1.0, 35.0)


def test_licence_is_for_its_pair_date_and_sector() -> None:
    c = covers(1000.0, 100.0, granted_from=START + timedelta(days=10), sectors=["auto"])
    c.grant("cn", "f", "m", "auto", 9.0)  # before the first such licences
    assert not c.covers("cn", "f", "m", 1.0, 9.5)
    c.grant("cn", "f", "m", "tech", 12.0)  # a sector that gets none
    assert not c.covers("cn", "f", "m", 1.0, 12.5)
    c.grant("cn", "f", "m", "auto", 12.0)
    assert c.covers("cn", "f", "m", 1.0, 13.0)
    for other in (("cn2", "f", "m"), ("cn", "g", "m"), ("cn", "f", "m2")):
        assert not c.covers(*other, 1.0, 13.0)
    # a new grant replaces the old licence: full quantity, new expiry
    c.grant("cn", "f", "m", "auto", 50.0)
    assert c.held["cn", "f", "m"] == [150.0, 1000.0]


class _Firm:
    name, sector, destination, end_use = "f", "auto", "X", "civil"

    def __init__(self) -> None:
        self.cut: dict[str, bool] = {}


class _Holder:
    """A supplier stub: licences filed through Licensing, decisions handed back."""

    def __init__(self, licensing: Licensing, env: simpy.Environment) -> None:
        self.licensing = licensing
        self.env = env
        self.dispatched: list[tuple[float, Shipment]] = []

    def decided(self, i: int) -> None:
        self.licensing.decided(i, self)

    def licensed(self, sh: Shipment) -> None:
        self.dispatched.append((self.env.now, sh))


def test_covered_shipments_skip_the_queue_then_the_next_one_queues() -> None:
    """Review takes 5 days; the first shipment (day 0) is licensed on day 5 with Q = 30
    kg and 20 days' validity. Shipments of 10 kg on days 6, 7, 8 are covered (licensed the
    day they are filed, no application); the one on day 9 finds 0 kg left and queues
    (licensed on 14, renewing the licence to day 34); day 33 is covered, day 40 queues."""
    raw = background_world(rate=0.0, horizon=100.0, deferred=None, review=5.0)
    raw["authority"]["licence_cover"] = {"quantity_kg": 30.0, "validity_days": 20.0}
    cfg = config_from_dict(raw)
    env = simpy.Environment()
    cal = WorkingCalendar(START, 100.0, "all", [])
    streams = Streams(0)
    authority = Authority(env, cal, cfg.authority, streams)
    lic = Licensing(env, cfg, authority, streams)
    holder = _Holder(lic, env)
    firm = _Firm()
    days = [0.0, 6.0, 7.0, 8.0, 9.0, 33.0, 40.0]
    shipments = [Shipment(firm, "m", 10.0, "cn", AWAITING, None, k, "cn.f.m.0")  # type: ignore[arg-type]
                 for k in range(len(days))]
    for d, sh in zip(days, shipments, strict=True):
        post_call(env, d, lambda s: lic.apply(s, 1, holder), sh)
    env.run(until=100.0)
    when = {id(sh): t for t, sh in holder.dispatched}
    assert [when[id(sh)] for sh in shipments] == [5.0, 6.0, 7.0, 8.0, 14.0, 33.0, 45.0]
    assert [sh.covered for sh in shipments] == [False, True, True, True, False, True, False]
    assert authority.apps.n == 3
    assert lic.cover.shipments == 4 and lic.cover.kg == 40.0


def test_cover_in_a_firm_world_keeps_its_books() -> None:
    """A deterministic firm world (every file approved): every shipment of the firm's
    exporter left either on an application's licence or under a cover, and the firm's
    material balance holds (World.run checks it)."""
    from tests.worlds import cover_world

    raw = cover_world(30.0, random=False)
    off = run(raw)
    raw["authority"]["licence_cover"] = {"quantity_kg": 5000.0, "validity_days": 60.0}
    on = run(raw)
    c = on.licensing.cover
    assert c.shipments > 0

    def unlicensed(w: World, covered: int) -> int:
        """Dispatches on no licence: the orders placed before the controls began."""
        t = w.authority.apps
        approved = sum(1 for i in range(t.n) if t.outcome[i] == APPROVED)
        return len(w.exports.day) - approved - covered

    assert unlicensed(on, c.shipments) == unlicensed(off, 0)
    assert on.authority.apps.n < off.authority.apps.n
    assert w_table(on)["covered_shipments"] == c.shipments
