"""Elements and Chinese-origin content: controls that name elements, a maker limited by
its feedstock, and the 0.1% rule on tracked content. Worlds small enough to work by hand."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from worlds import START, china_and_free, quiet_authority

import sim
from sim.config.loading import config_from_dict
from sim.errors import ConfigError
from sim.model.records import SHIPMENT_STEPS
from sim.model.world import World

CONST = {"dist": "constant", "value": 1.0}
PART_PRICE = 100.0  # USD a piece
DY_PRICE = 300.0  # USD/kg of Dy oxide (FACTS §5 gives 250-310 before the controls)
NDPR_PRICE = 60.0


def _world(bom: dict[str, float], *, china: float = 1.0, capacity: float = 1e6,
           rule: str | None = "2025-02-20", horizon: float = 200.0) -> dict[str, Any]:
    """A maker outside China making 100 pieces a day (worth 100 USD each) from `bom`, which
    it orders `china` from the Chinese exporter (which needs no licence: nothing is
    controlled) and the rest from a free supplier ("lynas") that makes `capacity` kg a day
    of its inputs in all. One customer buys every piece the maker makes. A
    `foreign_content` rule with the 0.1% threshold starts on the date `rule` (day 50;
    None: no rule)."""
    shares = {n: w for n, w in (("china", china), ("lynas", 1.0 - china)) if w > 0.0}
    return {
        "horizon_days": horizon,
        "calendar": {"start": START},
        "materials": {
            "dy_oxide": {"price_usd_per_kg": DY_PRICE, "elements": {"Dy": 0.87}},
            "ndpr": {"price_usd_per_kg": NDPR_PRICE, "elements": {"Nd": 0.6, "Pr": 0.2}},
            "part": {"unit": "pieces", "price_usd_per_kg": PART_PRICE},
        },
        "destinations": {"JP": {}, "US": {}},
        "authority": {"reviewers": 5, "review_time": {"dist": "constant", "value": 10.0},
                      "background": {"rate_per_day": 0, "quantity_kg": CONST,
                                     "materials": {"dy_oxide": 1.0},
                                     "destinations": {"JP": 1.0}}},
        "suppliers": {
            "china": {"kind": "controlled", "materials": list(bom),
                      "production_days": CONST, "transit_days": CONST},
            "lynas": {"kind": "free", "materials": list(bom), "capacity_kg_per_day": capacity,
                      "dispatch_every_days": 1.0, "transit_days": CONST},
        },
        "firms": {
            "maker": {"sector": "tech", "destination": "JP", "units_per_day": 100,
                      "bom": bom, "initial_cover_days": 20, "output": "part",
                      "ordering": {"review_period_days": 5, "target_cover_days": 20,
                                   "in_transit_days": 0, "suppliers": shares},
                      "shipping": {"transit_days": CONST, "initial_cover_days": 5}},
            "motors": {"sector": "auto", "destination": "US", "units_per_day": 100,
                       "unit_value": 50.0, "bom": {"part": 1.0}, "initial_cover_days": 20,
                       "ordering": {"review_period_days": 5, "target_cover_days": 20,
                                    "in_transit_days": 0, "suppliers": {"maker": 1.0}}},
        },
        "policy": ([{"type": "foreign_content", "date": rule, "materials": ["part"],
                     "threshold": 0.001}] if rule else []),
    }


def _run(d: dict[str, Any]) -> World:
    w = World(config_from_dict(d), 0)
    w.run()
    return w


def _error(d: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as e:
        config_from_dict(d, "w.toml")
    return str(e.value)


# --------------------------------------------------------------------------- elements


def test_controls_may_name_elements() -> None:
    """Dy oxide is 87% Dy; NdPr holds none: a control of Dy covers Dy oxide only, and only
    while `min_content` stays below 0.87. From day 0 every Dy-oxide order from China is a
    licence file, and no NdPr order is."""
    d = _world({"dy_oxide": 0.03, "ndpr": 0.3}, china=0.5, rule=None, horizon=60)
    d["policy"] = [{"type": "controls_start", "date": "2025-01-01", "elements": ["Dy"],
                    "min_content": 0.5}]
    cfg = config_from_dict(d)
    assert cfg.policy[0].covered(cfg.materials) == ["dy_oxide"]
    apps = sim.simulate(cfg, 0).applications
    assert len(apps) > 0 and set(apps["material"]) == {"dy_oxide"}
    d["policy"][0]["min_content"] = 0.9
    assert "no material holds more than 0.9 of Dy" in _error(d)
    d["policy"][0]["elements"] = ["dy"]  # not a rare earth's symbol, nor declared
    assert "policy.0.elements.0: unknown element 'dy' (known: Ce, Dy," in _error(d)
    d["policy"][0]["elements"] = ["Tb"]  # a rare earth no material here holds
    assert "no material holds more than 0.9 of Tb" in _error(d)
    d["policy"][0]["elements"] = []
    assert "names no `materials` and no `elements`" in _error(d)


def test_element_fractions_of_a_kg_material_are_at_most_one() -> None:
    d = _world({"dy_oxide": 0.03}, rule=None)
    d["materials"]["dy_oxide"]["elements"] = {"Dy": 0.87, "O": 0.2}
    assert "materials.dy_oxide" in _error(d) and "add up to 1.07" in _error(d)


# --------------------------------------------------------------------------- feedstock


def test_feedstock_limits_a_maker() -> None:
    """The maker needs 0.03 kg of Dy oxide and 0.3 kg of NdPr a magnet, 0.33 kg in all,
    and buys both from one supplier outside China that makes 16.5 kg a day, then 33 from
    day 120 (a ramp, as Lynas's). It runs at plan on its 20 days of stock (to day 34: the
    supplier makes to order, and capacity no order waits for is lost while the first
    orders are small); then it can make only what arrives, 16.5 / 0.33 = 50 magnets a
    day, and from the ramp on 33 / 0.33 = 100, its plan. Nothing it receives is lost, so
    over whole weeks (the series' step) those are its rates."""
    d = _world({"dy_oxide": 0.03, "ndpr": 0.3}, china=0.0, capacity=16.5, rule=None)
    d["suppliers"]["lynas"]["ramp"] = [{"start": "2025-05-01", "kg_per_day": 33.0}]
    s = sim.simulate(config_from_dict(d), 0).timeseries
    made = s[(s["series"] == "cumulative_units") & (s["firm"] == "maker")].set_index("day")
    made = made["value"]

    def rate(a: float, b: float) -> float:
        return (made.loc[b] - made.loc[a]) / (b - a)

    assert rate(0, 28) == pytest.approx(100.0)  # on its stock
    assert rate(42, 119) == pytest.approx(50.0, rel=0.02)
    assert rate(133, 196) == pytest.approx(100.0, rel=0.02)


# --------------------------------------------------------------------------- the 0.1% rule


@pytest.mark.parametrize(("share", "licensed"), [(0.0009, False), (0.0011, True)])
def test_the_rule_triggers_on_tracked_content(share: float, licensed: bool) -> None:
    """A part worth 100 USD holds `share` x 100 / 300 kg of Dy oxide bought in China at 300
    USD/kg: 0.09 or 0.11 USD of Chinese-origin rare earths, 0.09% or 0.11% of its value.
    Under the 0.1% rule (from day 0) no shipment of the first needs a licence, and every
    shipment of the second does: one file per dispatch to the customer."""
    w = _run(_world({"dy_oxide": share * PART_PRICE / DY_PRICE}, rule="2025-01-01"))
    m = w.makers["maker"]
    assert m.production.origin is not None
    assert m.production.origin.shipped / (m.shipped * PART_PRICE) == pytest.approx(share)
    dispatches = w.streams.keys("maker.motors.dispatch", SHIPMENT_STEPS).count
    assert dispatches > 20
    t = w.authority.apps
    assert t.n == (dispatches if licensed else 0)
    assert all(t.material[i] == "part" and t.firm[i].name == "motors" for i in range(t.n))


def test_the_rule_starts_on_its_date_and_exposure_mixes() -> None:
    """Half of each input from China: a magnet carries 0.5 x (0.03 x 300 + 0.3 x 60) = 13.5
    USD of Chinese-origin value, 13.5% of 100 USD, so once the rule starts (day 50) every
    dispatch needs a licence, and none before. Reported as the maker's
    `china_value_share`."""
    r = sim.simulate(config_from_dict(_world({"dy_oxide": 0.03, "ndpr": 0.3}, china=0.5)), 0)
    f = r.firms.set_index("firm")
    assert f.loc["maker", "china_value_share"] == pytest.approx(0.135)
    assert np.isnan(f.loc["motors", "china_value_share"])
    a = r.applications
    assert len(a) > 0 and set(a["material"]) == {"part"}
    assert a["submitted_day"].min() == 50.0


def test_refused_parts_stay_with_the_maker() -> None:
    """Every file refused: what the maker dispatched after day 50 is sold outside the model,
    the customer's orders are redirected to nobody else and dropped, and both goods and
    Chinese-origin value balance (the run checks them)."""
    d = _world({"dy_oxide": 0.03, "ndpr": 0.3}, china=0.5)
    d["authority"]["decision"] = {"approve": 0.0, "refuse": 1.0}
    d["authority"]["refusal"] = {"max_attempts": 1, "then": "cancel"}
    w = _run(d)
    m = w.makers["maker"]
    assert m.sold > 0
    r = sim.simulate(config_from_dict(d), 0).firms.set_index("firm")
    assert r.loc["motors", "shortfall_frac"] > 0.5  # no parts after its stock and day 50


# --------------------------------------------------------------------------- config


def test_the_rule_on_firms_needs_prices_and_a_threshold() -> None:
    d = _world({"dy_oxide": 0.03}, china=1.0)
    del d["materials"]["dy_oxide"]["price_usd_per_kg"]
    msg = _error(d)
    assert "materials.dy_oxide.price_usd_per_kg" in msg and "firm 'maker'" in msg
    d = _world({"dy_oxide": 0.03}, china=1.0)
    d["policy"][0]["suppliers"] = ["maker"]
    del d["policy"][0]["threshold"]
    assert "policy.0.suppliers.0" in _error(d) and "needs a `threshold`" in _error(d)
    d = _world({"dy_oxide": 0.03}, china=1.0)
    d["policy"][0]["suppliers"] = ["motors"]
    assert "policy.0.suppliers.0" in _error(d)
    d = _world({"dy_oxide": 0.03}, china=1.0)
    d["policy"][0]["suppliers"] = ["china"]
    assert "is controlled" in _error(d)


def test_untracked_worlds_are_unchanged() -> None:
    """Without a rule that needs it, no firm keeps an origin book and the table has no
    `china_value_share` column (the baseline's numbers stay those of the golden file)."""
    d = _world({"dy_oxide": 0.03}, rule=None, horizon=30)
    w = _run(d)
    assert all(f.production.origin is None for f in w.firms)
    assert "china_value_share" not in sim.simulate(config_from_dict(d), 0).firms
    d2 = copy.deepcopy(d)
    d2["materials"]["dy_oxide"]["elements"] = {}
    a = sim.simulate(config_from_dict(d), 3).firms
    b = sim.simulate(config_from_dict(d2), 3).firms
    assert a.equals(b)


def _resourcing_world() -> dict[str, Any]:
    """A plant using 10 kg of magnet a day (30 days on hand) buys it all from the Chinese
    exporter, under licence from the start, whose files are never decided; a magnet maker
    outside China (listed at a share of 0) makes up to 20 kg a day from 0.3 kg of NdPr a
    kg, bought from a free supplier that makes 1.5 kg a day. When the plant's cover falls
    under 20 days it moves its orders to the maker."""
    return {
        "horizon_days": 200.0,
        "calendar": {"start": START},
        "materials": {"magnet": {"controlled_at_start": True}, "ndpr": {}},
        "destinations": {"US": {}, "JP": {}},
        "authority": quiet_authority(1000.0, "magnet", "US"),
        "suppliers": china_and_free(["magnet"], ["ndpr"], 1.5, "lynas"),
        "firms": {
            "nc_maker": {"sector": "tech", "destination": "JP", "units_per_day": 20,
                         "bom": {"ndpr": 0.3}, "initial_cover_days": 5, "output": "magnet",
                         "ordering": {"review_period_days": 5, "target_cover_days": 10,
                                      "in_transit_days": 0, "suppliers": {"lynas": 1.0}},
                         "shipping": {"transit_days": CONST, "initial_cover_days": 0}},
            "plant": {"sector": "auto", "destination": "US", "units_per_day": 10,
                      "unit_value": 1.0, "bom": {"magnet": 1.0}, "initial_cover_days": 30,
                      "ordering": {"review_period_days": 7, "target_cover_days": 30,
                                   "in_transit_days": 0,
                                   "suppliers": {"china": 1.0, "nc_maker": 0.0},
                                   "resourcing": {"to": {"nc_maker": 1.0},
                                                  "cover_below_days": 20}}},
        },
    }


def test_re_sourcing_to_a_maker_limited_by_its_feedstock() -> None:
    """Nothing arrives from China: the plant's cover passes under 20 days after day 10 and
    it switches at its review of day 14. From then on it gets what the maker can make:
    1.5 kg of NdPr a day makes 1.5 / 0.3 = 5 kg of magnet, so late in the run the plant
    makes 5 units a day, half its plan."""
    r = sim.simulate(config_from_dict(_resourcing_world()), 0)
    f = r.firms.set_index("firm")
    assert f.loc["plant", "resourced_at_days"] == 14.0
    assert f.loc["plant", "resourced_to"] == "nc_maker"
    s = r.timeseries
    made = s[(s["series"] == "cumulative_units") & (s["firm"] == "plant")].set_index("day")
    rate = (made.loc[196.0, "value"] - made.loc[98.0, "value"]) / 98.0
    assert rate == pytest.approx(5.0, rel=0.03)


def test_re_sourcing_to_a_firm_needs_it_as_a_source() -> None:
    d = _resourcing_world()
    d["firms"]["plant"]["ordering"]["suppliers"] = {"china": 1.0}
    assert "list it in ordering.suppliers (a share of 0 will do)" in _error(d)
    d = _resourcing_world()
    d["firms"]["plant"]["ordering"]["resourcing"]["to"] = {"plant": 1.0}
    assert "firm 'plant' makes nothing for other firms" in _error(d)
