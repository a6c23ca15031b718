"""Routes for firms whose bill of materials is a part other firms make: a free supplier
selling the part itself (motor sets assembled outside the model) beside the tier-1 that
makes it, as an ordering source and as a re-sourcing target.

Every world is deterministic and its answer worked out by hand in the docstrings. The
tier-1 `t1` makes `part` (pieces) from `m` (kg), which it orders from `cn`, a controlled
exporter that never decides, and has none on hand: it makes nothing. The carmaker `oem`
makes 10 units/day of 1 part each, has 200 parts (20 days) on hand, and reviews every 7
days up to 30 days of cover. `motor_cn` is a free supplier (a route) selling `part`:
1,000 pieces/day, 5 days' transit, making to order (an order placed on day d ships on
day d + 1 and lands on day d + 6), a premium of 12 USD a piece."""

from __future__ import annotations

import math
from typing import Any

import pytest
from worlds import START

import sim
from sim.config.loading import config_from_dict
from sim.errors import ConfigError


def _const(v: float) -> dict[str, Any]:
    return {"dist": "constant", "value": float(v)}


def part_world(horizon: float, shares: dict[str, float],
               resourcing: dict[str, Any] | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {
        "horizon_days": horizon,
        "calendar": {"start": START, "working_days": "all"},
        "output": {"sample_every_days": 30.0},
        "materials": {"m": {"controlled_at_start": True}, "part": {"unit": "pieces"}},
        "destinations": {"US": {}},
        "authority": {"reviewers": 1, "review_time": _const(10.0),
                      "decision": {"approve": 0.0, "refuse": 0.0,
                                   "pending_approval_rate_per_day": 0.0}},
        "suppliers": {
            "cn": {"kind": "controlled", "materials": ["m"], "transit_days": _const(10.0)},
            "motor_cn": {"kind": "free", "materials": ["part"], "transit_days": _const(5.0),
                         "capacity_kg_per_day": 1000.0, "dispatch_every_days": 1.0,
                         "route": {"assembly": "motor", "premium_per_kg": 12.0}},
        },
        "firms": {
            "t1": {"sector": "auto", "destination": "US", "units_per_day": 10.0,
                   "output": "part", "bom": {"m": 1.0}, "initial_cover_days": 0.0,
                   "ordering": {"review_period_days": 7.0, "target_cover_days": 30.0,
                                "suppliers": {"cn": 1.0}}},
            "oem": {"sector": "auto", "destination": "US", "units_per_day": 10.0,
                    "unit_value": 1.0, "bom": {"part": 1.0}, "initial_cover_days": 20.0,
                    "ordering": {"review_period_days": 7.0, "target_cover_days": 30.0,
                                 "suppliers": shares}},
        },
    }
    if resourcing is not None:
        d["firms"]["oem"]["ordering"]["resourcing"] = resourcing
    return d


def _run(d: dict[str, Any]) -> tuple[Any, Any]:
    rep = sim.simulate(config_from_dict(d), 1)
    return rep.firms.set_index("firm").loc["oem"], rep.arcs.set_index(["supplier", "customer"])


def test_half_the_parts_through_a_route_by_hand() -> None:
    """From `t1` alone nothing comes: out on day 20. Half from `motor_cn`: day 0 orders
    100 (50 each), day 7 and every week after 70 (35 each; `t1`'s back-orders count in
    the position); the route's 50 land on day 6 and each 35 on day 7j + 6. Stock on hand is
    250 + 35 x 4 - 10 t before day 41, which is 0 on day 39. To day 42: the route got and
    delivered 50 + 5 x 35 = 225 pieces (premium 2,700 USD), `t1` owes 225 and the line made
    390 + 10 (the 35 of day 41 last it a day) = 400 units."""
    alone, _ = _run(part_world(60.0, {"t1": 1.0}))
    assert alone["tts_days"] == pytest.approx(20.0)
    f, arcs = _run(part_world(42.0, {"t1": 0.5, "motor_cn": 0.5}))
    route = arcs.loc[("motor_cn", "oem")]
    assert route["supplier_kind"] == "route" and route["unit"] == "pieces"
    assert route["ordered"] == pytest.approx(225.0)
    assert route["delivered"] == pytest.approx(225.0)
    assert route["premium_usd"] == pytest.approx(2700.0)
    assert arcs.loc[("t1", "oem"), "backordered"] == pytest.approx(225.0)
    assert f["tts_days"] == pytest.approx(39.0)
    assert f["produced_units"] == pytest.approx(400.0)


def test_resourcing_away_from_a_starved_tier1_by_hand() -> None:
    """All from `t1`; re-sourcing moves its orders to `motor_cn` below 15 days of usable
    cover, while `m` (upstream of `part`) is controlled. Day 0: 100 ordered from `t1`.
    Day 7: 130 on hand < 150, so it switches, writes off the 100 `t1` owes and orders
    300 - 130 = 170 from the route (landing day 13: 240 on hand); then 70 a week, each
    landing 6 days later, before it is needed: no stock-out. To day 60 the route got 170 +
    7 x 70 = 660 pieces, 590 delivered and day 56's 70 in transit."""
    f, arcs = _run(part_world(60.0, {"t1": 1.0},
                              {"to": {"motor_cn": 1.0}, "away_from": ["t1"],
                               "cover_below_days": 15.0}))
    assert f["resourced_at_days"] == 7.0 and f["resourced_to"] == "motor_cn"
    assert f["stockouts"] == 0 and f["produced_units"] == pytest.approx(600.0)
    route = arcs.loc[("motor_cn", "oem")]
    assert route["first_order_days"] == 7.0
    assert route["ordered"] == pytest.approx(660.0)
    assert route["delivered"] == pytest.approx(590.0)
    assert route["in_transit"] == pytest.approx(70.0)
    assert arcs.loc[("t1", "oem"), "ordered"] == pytest.approx(100.0)


def test_no_switch_while_nothing_upstream_is_controlled() -> None:
    """With `m` never controlled, `t1` is supplied (its first magnets land on day 10, its
    first parts ship after that) and the same trigger never fires: re-sourcing away from
    a tier-1 waits for a control upstream of its part."""
    d = part_world(60.0, {"t1": 1.0}, {"to": {"motor_cn": 1.0}, "away_from": ["t1"],
                                        "cover_below_days": 15.0})
    d["materials"]["m"]["controlled_at_start"] = False
    f, arcs = _run(d)
    assert math.isnan(f["resourced_at_days"])
    assert ("motor_cn", "oem") not in arcs.index  # it never ordered there
    assert arcs.loc[("t1", "oem"), "delivered"] > 0.0


def _refused(edit: Any, match: str) -> None:
    d = part_world(60.0, {"t1": 0.5, "motor_cn": 0.5})
    edit(d)
    with pytest.raises(ConfigError, match=match):
        config_from_dict(d)


@pytest.mark.parametrize(("edit", "match"), [
    (lambda d: d["firms"]["oem"]["ordering"].update(suppliers={"t1": 0.5, "motor_cn": 0.4}),
     r"firms\.oem\.ordering\.suppliers: the firms making and suppliers selling 'part' must "
     r"have shares summing to 1"),
    (lambda d: d["firms"]["oem"]["ordering"].update(suppliers={"t1": 0.5, "motor_kn": 0.5}),
     r"firms\.oem\.ordering\.suppliers\.motor_kn: unknown supplier 'motor_kn'; did you mean "
     r"'motor_cn'"),
    (lambda d: d["suppliers"]["motor_cn"].update(materials=["part", "m"]),
     r"suppliers\.motor_cn\.materials: mixes materials in kg \(m\) and in pieces \(part\)"),
    (lambda d: d["suppliers"]["cn"].update(materials=["m"]) or d["suppliers"].update(
        cn_part={"kind": "controlled", "materials": ["part"], "transit_days": _const(1.0)}),
     r"suppliers\.cn_part\.materials\.0: 'part' is counted in pieces"),
    (lambda d: d["suppliers"]["motor_cn"].update(china_content_share=0.5),
     r"suppliers\.motor_cn\.china_content_share: sells parts counted in pieces"),
    (lambda d: d["firms"]["oem"]["ordering"].update(
        resourcing={"to": {"motor_cn": 1.0}, "away_from": ["t11"], "cover_below_days": 5.0}),
     r"resourcing\.away_from\.0: unknown source 't11'; did you mean 't1'"),
    (lambda d: d["firms"]["oem"]["ordering"].update(
        resourcing={"to": {"motor_cn": 1.0}, "away_from": ["motor_cn"],
                    "cover_below_days": 5.0}),
     r"resourcing\.away_from\.0: 'motor_cn' is also in `to`"),
    (lambda d: d["firms"]["oem"]["ordering"].update(
        resourcing={"to": {"motor_cn": 1.0}, "cover_below_days": 5.0}),
     r"resourcing\.to: .*nothing would move"),
])
def test_bad_part_sources_are_refused_with_their_path(edit: Any, match: str) -> None:
    _refused(edit, match)
