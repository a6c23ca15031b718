"""Rationing inside a firm: a short firm keeps its highest-value lines running.

The worlds are deterministic (constant durations) and each answer is worked out by hand
in the test's docstring. The firm makes 10 units/day of 1 kg each, in two lines: `ice`
(70% of the plan, 10 USD a unit) and `ev` (30%, 100 USD), so its unit value is the
plan-weighted mean 0.7 x 10 + 0.3 x 100 = 37 USD and its planned value over 60 days is
600 x 37 = 22,200 USD."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from test_responses_sourcing import world
from worlds import cover_world

import sim
from sim.config.loading import config_from_dict
from sim.errors import ConfigError
from sim.model.world import World

LINES = [{"name": "ice", "share": 0.7, "value": 10.0},
         {"name": "ev", "share": 0.3, "value": 100.0}]


def ration(d: dict[str, Any], min_cover: float, firm: str = "f") -> dict[str, Any]:
    d = copy.deepcopy(d)
    d["firms"][firm]["rationing"] = {"lines": copy.deepcopy(LINES),
                                     "min_cover_days": min_cover}
    return d


def stranded(horizon: float = 60.0) -> dict[str, Any]:
    """100 kg on hand (10 days at plan) and nothing ever delivered: every order goes to a
    controlled exporter that never decides."""
    d = world(horizon=horizon)
    d["firms"]["f"].update(initial_cover_days=10.0, unit_value=37.0)
    return d


def resupplied() -> dict[str, Any]:
    """100 kg on hand; one order, at day 0, to the free supplier `alt` for 300 - 100 =
    200 kg, shipped on day 1 and landing on day 6 (reviews every 100 days: no other);
    lines restart 2 days after material comes back."""
    d = world(horizon=60.0, controlled=False)
    f = d["firms"]["f"]
    f.update(initial_cover_days=10.0, unit_value=37.0, restart_delay_days=2.0)
    f["ordering"].update(review_period_days=100.0, suppliers={"alt": 1.0})
    return d


def _firm(d: dict[str, Any]) -> Any:
    return sim.simulate(config_from_dict(d), 1).firms.set_index("firm").loc["f"]


def test_all_stock_to_the_top_line_by_hand() -> None:
    """Without rationing the firm makes 100 units in 10 days, worth 3,700: it loses
    18,500. With a minimum cover of 14 days, 100 kg cover both lines 10 days (< 14) but
    `ev` alone (3 kg/day) 33.3 days, so from day 0 only `ev` runs, for 100/3 = 33.3 days:
    100 units worth 10,000, a loss of 12,200. Below plan from day 0 (one stock-out, tts
    0), every line stopped from day 33.3 (26.7 days)."""
    off = _firm(stranded())
    assert off["produced_units"] == pytest.approx(100.0)
    assert off["value_lost"] == pytest.approx(18500.0)
    assert off["downtime_days"] == pytest.approx(50.0)
    assert off["stopped_days"] == pytest.approx(50.0)
    on = _firm(ration(stranded(), 14.0))
    assert on["produced_units"] == pytest.approx(100.0)
    assert on["shortfall_units"] == pytest.approx(500.0)
    assert on["planned_value"] == pytest.approx(22200.0)
    assert on["value_lost"] == pytest.approx(12200.0)
    assert on["tts_days"] == 0.0 and on["stockouts"] == 1
    assert on["downtime_days"] == pytest.approx(60.0)
    assert on["stopped_days"] == pytest.approx(60.0 - 100.0 / 3.0)


def test_both_lines_until_the_minimum_cover_by_hand() -> None:
    """Minimum cover 5 days: both lines run until 50 kg are left (day 5; 15 `ev` units and
    35 `ice`, worth 1,850), then `ev` alone for 50/3 = 16.7 days (5,000): 6,850 made, a
    loss of 15,350; the first stock-out (a line stopped) is on day 5."""
    on = _firm(ration(stranded(), 5.0))
    assert on["value_lost"] == pytest.approx(15350.0)
    assert on["tts_days"] == pytest.approx(5.0)
    assert on["downtime_days"] == pytest.approx(55.0)
    assert on["stopped_days"] == pytest.approx(60.0 - 5.0 - 50.0 / 3.0)


@pytest.mark.parametrize("n", [0.5, 2.0, 5.0, 9.0, 10.0, 20.0])
def test_value_lost_falls_with_the_minimum_cover_by_hand(n: float) -> None:
    """With minimum cover N < 10 days both lines run until day 10 - N (worth 370 USD a
    day), then `ev` alone uses the 10 N kg left (1,000 USD per day of cover): the value
    made is 3,700 + 630 N and the loss 18,500 - 630 N, down to 12,200 from N = 10 on,
    when all the stock goes to `ev` from day 0. The units made are 100 whatever N."""
    on = _firm(ration(stranded(), n))
    assert on["value_lost"] == pytest.approx(18500.0 - 630.0 * min(n, 10.0))
    assert on["produced_units"] == pytest.approx(100.0)


def test_lines_restart_when_material_arrives_by_hand() -> None:
    """Minimum cover 14 days. Days 0-6: `ev` alone (18 kg): 82 kg left, +200 = 282 kg on
    day 6, 28.2 days for both lines; they restart on day 8 (276 kg) and run at plan until
    140 kg are left (14 days), day 21.6; then `ev` alone, which 140 kg carry past the
    horizon (day 60). Made: `ev` 3 x 60 = 180 units, `ice` 7 x 13.6 = 95.2, worth 18,952:
    a loss of 3,248 (without rationing: 300 units by day 30, a loss of 11,100). Below
    plan on days 0-8 and 21.6-60 (46.4 days), never stopped; two stock-outs, and no
    recovery (13.6 days at plan, less than the 28-day window)."""
    off = _firm(resupplied())
    assert off["value_lost"] == pytest.approx(11100.0)
    w = World(config_from_dict(ration(resupplied(), 14.0)), 1)
    w.run()  # raises ConservationError if the books do not balance
    p = w.firms[0].production
    assert p.line_made == pytest.approx([180.0, 95.2])  # highest value first: ev, ice
    assert p.stock["m"] == pytest.approx(300.0 - 275.2)
    assert p.consumed["m"] == pytest.approx(p.produced_std)  # 1 kg a unit
    on = _firm(ration(resupplied(), 14.0))
    assert on["produced_units"] == pytest.approx(275.2)
    assert on["value_lost"] == pytest.approx(3248.0)
    assert on["downtime_days"] == pytest.approx(46.4)
    assert on["stopped_days"] == 0.0
    assert on["stockouts"] == 2
    assert on["ttr_days"] != on["ttr_days"]  # NaN: never 28 days back at plan


def test_random_world_conserves_material_and_value() -> None:
    """A random world (random review, transit, refusals, split shipments) with three lines
    and substitution: material and the lines' units and values balance (World.run checks
    them and raises otherwise), and the firm's planned value is unchanged."""
    d = cover_world(20.0, random=True)
    f = d["firms"]["f"]
    f["substitution"] = {"after_days": 20.0, "fraction": 0.4}
    f["unit_value"] = 0.5 * 30.0 + 0.3 * 10.0 + 0.2 * 5.0
    f["rationing"] = {"lines": [{"name": "a", "share": 0.3, "value": 10.0},
                                {"name": "b", "share": 0.5, "value": 30.0},
                                {"name": "c", "share": 0.2, "value": 5.0}],
                      "min_cover_days": 10.0}
    for seed in (1, 2, 3):
        w = World(config_from_dict(d), seed)
        w.run()
        p = w.firms[0].production
        assert p.produced == pytest.approx(sum(p.line_made) + p.sub_made)
        assert p.values == [30.0, 10.0, 5.0]  # lines by value, highest first
        assert p.line_made[0] >= p.line_made[1] * 0.5 / 0.3 - 1e-6  # b never runs less
        assert p.line_made[2] < p.line_made[0] * 0.2 / 0.5  # c was rationed: it stopped first
        assert p.sub_made > 0.0 and p.outages.stopped_days > 0.0  # and every line stopped
        f_row = w.firms[0]
        assert f_row.check_conservation() == []


@pytest.mark.parametrize(("edit", "match"), [
    (lambda r, f: r["lines"][1].update(share=0.2), r"firms\.f\.rationing.*sum to 1"),
    (lambda r, f: f.update(unit_value=40.0),
     r"firms\.f\.unit_value: is 40 but must be .*0\.7 x 10 \+ 0\.3 x 100 = 37"),
    (lambda r, f: r["lines"][1].update(name="ice"), r"'ice' is listed twice"),
    (lambda r, f: r.update(lines=r["lines"][:1]), r"firms\.f\.rationing\.lines"),
    (lambda r, f: r.update(min_cover_days=0.0), r"firms\.f\.rationing\.min_cover_days"),
])
def test_bad_rationing_is_refused_with_its_path(edit: Any, match: str) -> None:
    d = ration(stranded(), 14.0)
    f = d["firms"]["f"]
    edit(f["rationing"], f)
    with pytest.raises(ConfigError, match=match):
        config_from_dict(d)
