"""Firms that respond on the supply side: re-sourcing, other routes, front-running.

Every world here is deterministic (constant durations, calendar days = working days) and
its answer is worked out by hand in the test's docstring."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from worlds import START

import sim
from sim.config.loading import config_from_dict
from sim.errors import ConfigError
from sim.model.world import World


def _const(v: float) -> dict[str, Any]:
    return {"dist": "constant", "value": float(v)}


def _day(d: int) -> Any:
    return START + timedelta(days=d)


def world(horizon: float = 120.0, *, controlled: bool = True,
          alt_capacity: float = 1000.0) -> dict[str, Any]:
    """One firm `f`: 10 units/day x 1 kg = 10 kg/day, 40 days on hand, nothing in transit,
    reviews every 7 days up to 30 days of cover, all from `cn`, a controlled exporter
    whose licences never come (no approval, no refusal, nothing released while pending).
    `alt` is a free supplier of `alt_capacity` kg/day from day 0: no production time, 5
    days' transit, dispatching every day."""
    return {
        "horizon_days": horizon,
        "calendar": {"start": START, "working_days": "all"},
        "output": {"sample_every_days": 30.0},
        "materials": {"m": {"controlled_at_start": controlled}},
        "destinations": {"US": {}},
        "authority": {"reviewers": 1, "review_time": _const(10.0),
                      "decision": {"approve": 0.0, "refuse": 0.0,
                                   "pending_approval_rate_per_day": 0.0}},
        "suppliers": {
            "cn": {"kind": "controlled", "materials": ["m"], "production_days": _const(0.0),
                   "transit_days": _const(10.0)},
            "alt": {"kind": "free", "materials": ["m"], "production_days": _const(0.0),
                    "transit_days": _const(5.0), "capacity_kg_per_day": alt_capacity,
                    "dispatch_every_days": 1.0},
        },
        "firms": {"f": {
            "sector": "auto", "destination": "US", "units_per_day": 10.0, "unit_value": 1.0,
            "bom": {"m": 1.0}, "initial_cover_days": 40.0, "restart_delay_days": 0.0,
            "ordering": {"review_period_days": 7.0, "target_cover_days": 30.0,
                         "suppliers": {"cn": 1.0}},
        }},
    }


def _run(d: dict[str, Any], seed: int = 1) -> Any:
    return sim.simulate(config_from_dict(d), seed)


def _resourcing(d: dict[str, Any], firm: str = "f", **kw: Any) -> dict[str, Any]:
    d = copy.deepcopy(d)
    d["firms"][firm]["ordering"]["resourcing"] = {"to": {"alt": 1.0}, **kw}
    return d


# --------------------------------------------------------------------------- re-sourcing


def test_cover_trigger_first_delivery_and_shortfall_by_hand() -> None:
    """Stock is 400 - 10 d kg (out on day 40). Reviews on days 0, 7, 14, 21...; the orders
    of day 14 (40 kg) and on go to `cn` and stay pending, so they are not usable. Usable
    cover at day 21 is 190 kg = 19 days < 20: the firm decides to switch on day 21.
    Qualification 14 days: the first order to `alt` is at the review of day 35, for
    300 - 50 = 250 kg (the pending files no longer count). `alt` makes to order: idle until
    then, its first dispatch (day 35) has nothing made, its next (day 36) ships the 250 kg,
    which land on day 41 = 21 + 14 + 1 + 5. The line is down from day 40 to 41: 1 day,
    10 units. Every later order (one week's use) lands 6 days after the review, before the
    stock runs out, so there is no second stock-out. Without re-sourcing the line is down
    from day 40 to the horizon (120): 800 units."""
    base = world()
    off = _run(base).firms.set_index("firm").loc["f"]
    assert off["shortfall_units"] == pytest.approx(800.0)
    assert np.isnan(off["resourced_at_days"]) and off["resourced_to"] == ""
    on = _resourcing(base, cover_below_days=20.0, qualification_days=14.0)
    on["output"]["sample_every_days"] = 0.5
    rep = _run(on)
    ts = rep.timeseries
    inv = ts[ts["series"] == "inventory_kg"].set_index("day")["value"]
    # empty from day 40 until the 250 kg land on day 41; 5 kg used by day 41.5
    assert inv[39.5] == pytest.approx(5.0) and inv[40.5] == 0.0
    assert inv[41.5] == pytest.approx(245.0)
    f = rep.firms.set_index("firm").loc["f"]
    assert f["resourced_at_days"] == 21.0
    assert f["resourced_to"] == "alt"
    assert f["shortfall_units"] == pytest.approx(10.0)
    assert f["downtime_days"] == pytest.approx(1.0)
    assert f["stockouts"] == 1
    arcs = rep.arcs.set_index("supplier")
    assert arcs.loc["alt", "first_order_days"] == 35.0
    assert arcs.loc["cn", "first_order_days"] == 14.0
    # cn got the orders of days 14, 21 and 28 (40 + 70 + 70 kg), all still pending
    assert arcs.loc["cn", "backordered"] == pytest.approx(180.0)
    assert arcs.loc["alt", "supplier_kind"] == "free"


def test_pending_trigger_by_hand() -> None:
    """Only the age of a licence file triggers: the first file to `cn` is placed on day 14;
    at day 21 it has waited 7 days, at day 28 it has waited 14 > 10, so the firm switches on
    day 28 and, with no qualification, orders there at once: 300 - 120 = 180 kg, shipped
    on day 29, landing on day 34 (stock 60 kg then): no stock-out at all."""
    rep = _run(_resourcing(world(), pending_over_days=10.0))
    f = rep.firms.set_index("firm").loc["f"]
    assert f["resourced_at_days"] == 28.0
    assert f["stockouts"] == 0 and f["shortfall_units"] == 0.0
    assert rep.arcs.set_index("supplier").loc["alt", "first_order_days"] == 28.0


def test_stock_awaiting_a_licence_does_not_count_as_cover() -> None:
    """Cover counting the pending files would stay above 20 days for good (position is
    topped up to 30 days every week); counting only stock the firm can use, it switches on
    day 21 as in the first world. With `count_in_transit` off nothing changes here, as
    nothing is in transit from `cn`."""
    for transit in (True, False):
        rep = _run(_resourcing(world(), cover_below_days=20.0, count_in_transit=transit))
        assert rep.firms.set_index("firm").loc["f", "resourced_at_days"] == 21.0


def test_a_trigger_never_reached_changes_nothing() -> None:
    """A trigger that never fires leaves every number as it was without the section."""
    base = world()
    off = _run(base).firms.drop(columns=["resourced_at_days", "resourced_to"])
    on = _run(_resourcing(base, cover_below_days=0.0)).firms
    assert np.isnan(on["resourced_at_days"]).all()
    on = on.drop(columns=["resourced_at_days", "resourced_to"])
    assert off.equals(on)


def test_two_claimants_share_a_capacity_proportionally() -> None:
    """Firm `g` is `f` doubled (20 kg/day, 800 kg on hand). Both switch on day 21 and first
    order from `alt` on day 35: 250 and 500 kg. `alt` makes 30 kg/day, less than they ask
    from then on (after each weekly review they ask to bring their position back to 300
    and 600 kg, so the book never empties), and its proportional rule gives them 1:2 at
    every dispatch. It ships at the dispatches of days 36 to 99: 64 x 30 = 1,920 kg, 640
    to `f` and 1,280 to `g` (delivered or still in transit at the horizon, day 100)."""
    d = _resourcing(world(horizon=100.0, alt_capacity=30.0), cover_below_days=20.0,
                    qualification_days=14.0)
    g = copy.deepcopy(d["firms"]["f"])
    g["units_per_day"] = 20.0
    d["firms"]["g"] = g
    rep = _run(d)
    arcs = rep.arcs[rep.arcs["supplier"] == "alt"].set_index("customer")
    shipped = arcs["delivered"] + arcs["in_transit"]
    assert shipped["f"] == pytest.approx(640.0)
    assert shipped["g"] == pytest.approx(1280.0)
    assert (arcs["first_order_days"] == 35.0).all()
    assert (arcs["backordered"] > 0).all()  # still short at the end: the book never emptied


def _shares_by_review(d: dict[str, Any]) -> dict[float, float]:
    """Day of each review that ordered -> the share of its order that went to `cn`."""
    w = World(config_from_dict(d), 1)
    w.run()
    o = w.firms[0].ordering
    cn, alt = o.placed["cn", "m"], o.placed["alt", "m"]
    return {k * 7.0: c / (c + a) for k, (c, a) in enumerate(zip(cn, alt, strict=True))
            if c + a > 0}


def test_shares_drift_back_after_controls_lift() -> None:
    """Controls lift on day 50. The firm switches on day 21 (no qualification): from then
    on it orders from `alt` only. Once controls are off it keeps doing so (`stay`), or
    drifts back over 28 days from the first review after the lift (day 56): `cn`'s share of
    each order is 0, 0.25, 0.5, 0.75 at days 56, 63, 70, 77 and 1 from day 84 on."""
    d = world(horizon=100.0)
    d["policy"] = [{"type": "controls_lift", "date": _day(50), "materials": ["m"]}]
    stay = _shares_by_review(_resourcing(d, cover_below_days=20.0))
    back = _shares_by_review(_resourcing(d, cover_below_days=20.0, after="drift_back",
                                         drift_back_days=28.0))
    assert stay[14.0] == 1.0 and back[14.0] == 1.0  # before the switch: all to cn
    assert all(v == 0.0 for day, v in stay.items() if day >= 21.0)
    want = {56.0: 0.0, 63.0: 0.25, 70.0: 0.5, 77.0: 0.75, 84.0: 1.0, 91.0: 1.0, 98.0: 1.0}
    got = {day: v for day, v in back.items() if day >= 56.0}
    assert set(got) <= set(want) and len(got) >= 4
    for day, v in got.items():
        assert v == pytest.approx(want[day]), day
    assert all(v == 0.0 for day, v in back.items() if 21.0 <= day < 56.0)


def test_bad_resourcing_names_the_path() -> None:
    for bad, path in ((("nowhere", 1.0), "resourcing.to.nowhere: unknown supplier"),
                      (("cn", 1.0), "resourcing.to.cn")):
        d = world()
        d["firms"]["f"]["ordering"]["resourcing"] = {"to": dict([bad]),
                                                     "cover_below_days": 5.0}
        with pytest.raises(ConfigError, match=path):
            config_from_dict(d)
    d = world()
    d["firms"]["f"]["ordering"]["resourcing"] = {"to": {"alt": 1.0}}
    with pytest.raises(ConfigError, match="needs a trigger"):
        config_from_dict(d)


# --------------------------------------------------------------------------- routes


def route_world(close_day: float) -> dict[str, Any]:
    """The firm buys everything through `motor`, a route (assembled motors carrying the
    magnet): 20 kg/day, 3 days' transit, a premium of 50 USD per kg; a rule closes it on
    `close_day`."""
    d = world(horizon=120.0, controlled=False)
    d["suppliers"]["motor"] = {
        "kind": "free", "materials": ["m"], "production_days": _const(0.0),
        "transit_days": _const(3.0), "capacity_kg_per_day": 20.0, "dispatch_every_days": 1.0,
        "route": {"assembly": "motor", "kg_per_assembly": 1.5, "premium_per_kg": 50.0}}
    d["firms"]["f"]["initial_cover_days"] = 30.0
    d["firms"]["f"]["ordering"]["suppliers"] = {"motor": 1.0}
    whole = int(close_day)
    d["policy"] = [{"type": "close_route", "date": _day(whole), "supplier": "motor",
                    "delay_days": _const(close_day - whole)}]
    return d


def test_a_closed_route_carries_nothing_after_it_closes() -> None:
    """300 kg on hand = the target: the first order is day 7's, 70 kg; then 70 kg every
    week. Each is dispatched over the next days (nothing at the review's own dispatch, the
    route being idle, then 20, 20, 20, 10 kg). Closed at day 50.5: the orders of days 7 to
    42 (6 x 70 = 420 kg) left, and of day 49's only the 20 kg of day 50; the other 50 kg,
    and every later order, are cancelled. The premium is paid on what was delivered."""
    rep = _run(route_world(50.5))
    a = rep.arcs.set_index("supplier").loc["motor"]
    assert a["supplier_kind"] == "route"
    assert a["delivered"] + a["in_transit"] == pytest.approx(440.0)
    assert a["backordered"] == 0.0
    assert a["cancelled"] == pytest.approx(a["ordered"] - 440.0)
    assert a["premium_usd"] == pytest.approx(50.0 * a["delivered"])
    # the line runs on what came: out when the 440 + 300 kg are used, on day 74
    f = rep.firms.set_index("firm").loc["f"]
    assert f["shortfall_units"] == pytest.approx((120.0 - 74.0) * 10.0)


def test_route_as_a_resourcing_target() -> None:
    """Re-sourcing may go to a route as to any free supplier."""
    d = route_world(200.5)  # never closes within the horizon
    d["materials"]["m"]["controlled_at_start"] = True
    d["firms"]["f"]["ordering"]["suppliers"] = {"cn": 1.0}
    d["firms"]["f"]["initial_cover_days"] = 40.0
    d["firms"]["f"]["ordering"]["resourcing"] = {"to": {"motor": 1.0},
                                                 "cover_below_days": 20.0}
    rep = _run(d)
    f = rep.firms.set_index("firm").loc["f"]
    assert f["resourced_at_days"] == 21.0 and f["resourced_to"] == "motor"


def test_close_route_needs_a_route() -> None:
    d = route_world(50.5)
    d["policy"][0]["supplier"] = "alt"
    with pytest.raises(ConfigError, match=r"policy\.0\.supplier"):
        config_from_dict(d)


# --------------------------------------------------------------------------- front-running


def front_world(factor: float | None) -> dict[str, Any]:
    """Not controlled at first: `cn` ships at once and its goods land 10 days later.
    Controls start on day 60, announced on day 30."""
    d = world(horizon=150.0, controlled=False)
    d["firms"]["f"]["initial_cover_days"] = 30.0
    d["policy"] = [{"type": "controls_start", "date": _day(60), "announced": _day(30),
                    "materials": ["m"]}]
    if factor is not None:
        d["front_running"] = {"cover_factor": factor}
    return d


def test_front_running_cover_at_the_control_by_hand() -> None:
    """Without front-running every review from day 7 brings the position (on hand + in
    transit) back to 300 kg. With factor 2 the reviews of days 35, 42, 49 and 56 (inside
    [30, 60)) order up to 600 kg: 370, 70, 70, 70 kg instead of 70 each. At day 60 the
    position is 600 - 40 = 560 kg (56 days) against 300 - 40 = 260 kg (26 days); day 56's
    70 kg are still in transit, so on hand 490 against 190 kg. After day 60 every order is
    pending for good, so the line stops when the 560 (260) kg are used: day 116 (86)."""
    off = _run(front_world(None))
    on = _run(front_world(2.0))
    for rep, on_hand, out in ((off, 190.0, 86.0), (on, 490.0, 116.0)):
        ts = rep.timeseries
        inv = ts[(ts["series"] == "inventory_kg") & (ts["day"] == 60.0)]["value"]
        assert float(inv.iloc[0]) == pytest.approx(on_hand)
        f = rep.firms.set_index("firm").loc["f"]
        assert f["tts_days"] == pytest.approx(out - 60.0)
    ordered = [r.arcs.set_index("supplier").loc["cn", "ordered"] for r in (off, on)]
    # 300 kg more were ordered: the raised target, 30 days x 10 kg/day x (2 - 1)
    assert ordered[1] - ordered[0] == pytest.approx(300.0)


def test_front_running_only_in_the_last_lead_days_by_hand() -> None:
    """Announced on day 30, effective day 60, buyers act only in the last 10 days: of the
    reviews inside [30, 60) only day 56's is inside [50, 60), and it orders up to 600 kg:
    370 kg instead of 70. The position at day 60 is 560 kg as with the whole window (the
    last review catches up), but only 70 + 370 kg arrive after day 56 -- day 56's order
    is still in transit on day 60 (10 days), so on hand is 600 - 40 - 370 = 190 kg, as
    without front-running, and the line stops at day 116 as with the whole window."""
    d = front_world(2.0)
    d["front_running"]["lead_days"] = 10.0
    rep = _run(d)
    ts = rep.timeseries
    inv = ts[(ts["series"] == "inventory_kg") & (ts["day"] == 60.0)]["value"]
    assert float(inv.iloc[0]) == pytest.approx(190.0)
    f = rep.firms.set_index("firm").loc["f"]
    assert f["tts_days"] == pytest.approx(116.0 - 60.0)
    whole = _run(front_world(2.0)).arcs.set_index("supplier").loc["cn", "ordered"]
    assert rep.arcs.set_index("supplier").loc["cn", "ordered"] == pytest.approx(whole)


def test_front_running_target_cover_per_firm() -> None:
    """A firm's own section (a target cover of 45 days) overrides the global one: the
    position at day 60 is 450 - 40 = 410 kg, 70 kg of it in transit."""
    d = front_world(3.0)
    d["firms"]["f"]["ordering"]["front_running"] = {"target_cover_days": 45.0}
    ts = _run(d).timeseries
    inv = ts[(ts["series"] == "inventory_kg") & (ts["day"] == 60.0)]["value"]
    assert float(inv.iloc[0]) == pytest.approx(340.0)


def test_an_event_that_does_not_happen_is_not_front_run() -> None:
    """Buyers front-run only an event that happens: with probability 0, the orders are
    those of the same world without front-running."""
    d, base = front_world(2.0), front_world(None)
    for x in (d, base):
        x["policy"][0]["probability"] = 0.0
    assert _run(d).arcs["ordered"].sum() == pytest.approx(_run(base).arcs["ordered"].sum())


def test_announced_after_the_date_is_refused() -> None:
    d = front_world(2.0)
    d["policy"][0]["announced"] = _day(61)
    with pytest.raises(ConfigError, match=r"policy\.0\.announced"):
        config_from_dict(d)


def test_announced_on_an_event_that_eases_supply_is_refused() -> None:
    # Front-running a lift would stockpile ahead of plenty (the firms did order ahead of
    # it before the check): only events that restrict supply may be announced.
    d = front_world(2.0)
    d["policy"].append({"type": "controls_lift", "date": _day(120), "announced": _day(90),
                        "materials": ["m"]})
    with pytest.raises(ConfigError, match=r"policy\.1\.announced: .*controls_lift eases"):
        config_from_dict(d)
    d["policy"][1].pop("announced")
    config_from_dict(d)  # the same lift, unannounced, is a config


@pytest.mark.parametrize(("edit", "path"), [
    (lambda d: d["suppliers"]["cn"].update(route={"assembly": "motor"}), r"suppliers\.cn\.route"),
    (lambda d: d.update(front_running={"materials": ["nd"]}), r"front_running\.materials\.0"),
    (lambda d: d.update(front_running={"materials": []}), r"front_running\.materials"),
    (lambda d: d["firms"]["f"]["ordering"].update(front_running={"materials": ["m", "x"]}),
     r"firms\.f\.ordering\.front_running\.materials\.1"),
    (lambda d: d["firms"]["f"]["ordering"].update(
        resourcing={"to": {"alt": 0.5}, "cover_below_days": 5.0}), "sum to 1"),
    (lambda d: d.update(front_running={"cover_factor": 0.5}), "front_running.cover_factor"),
    (lambda d: d["firms"]["f"]["ordering"].update(
        suppliers={"alt": 1.0}, resourcing={"to": {"alt": 1.0}, "cover_below_days": 5.0}),
     "nothing would move"),
])
def test_bad_sourcing_sections_are_refused_with_their_path(edit: Any, path: str) -> None:
    d = world()
    edit(d)
    with pytest.raises(ConfigError, match=path):
        config_from_dict(d)
