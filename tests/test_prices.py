"""Price indices that move with scarcity, and the premiums firms pay (`[prices]`): a price
path worked by hand, and the premiums' bookkeeping."""

from __future__ import annotations

from typing import Any

import pytest
from worlds import START, china_and_free, quiet_authority

import sim
from sim.config.loading import config_from_dict
from sim.errors import ConfigError
from sim.model.prices import Prices

CONST = {"dist": "constant", "value": 1.0}
BASE = 50.0  # USD/kg of magnet before the controls (FACTS §5: ~6x in Europe at the peak)


def _plant(free_share: float = 0.0, elasticity: float = 1.5) -> dict[str, Any]:
    """A plant using 10 kg of magnet a day with 100 days on hand, ordering up to 100 days
    of cover every 10 days from the Chinese exporter (controlled from the start, reviews
    that take 1,000 working days: no file is decided) and `free_share` from a free
    supplier."""
    shares = {"china": 1.0 - free_share, "row": free_share}
    return {
        "horizon_days": 90.0,
        "calendar": {"start": START},
        "materials": {"magnet": {"controlled_at_start": True, "price_usd_per_kg": BASE}},
        "destinations": {"US": {}},
        "authority": quiet_authority(1000.0, "magnet", "US"),
        "suppliers": china_and_free(["magnet"], ["magnet"], 1e6),
        "firms": {
            "plant": {"sector": "auto", "destination": "US", "units_per_day": 10,
                      "unit_value": 1.0, "bom": {"magnet": 1.0}, "initial_cover_days": 100,
                      "ordering": {"review_period_days": 10, "target_cover_days": 100,
                                   "in_transit_days": 0,
                                   "suppliers": {k: v for k, v in shares.items() if v}}},
        },
        "prices": {"elasticity": {"magnet": elasticity}, "cover_days": 0.0},
    }


def test_a_price_path_by_hand() -> None:
    """Every review orders back the 100 kg used since the last, and no file is decided: on
    day t after the review of day 10k the gap is 100k kg and the plant holds 1,000 - 10t.
    Sampled weekly: day 7, nothing waits (index 1); day 14, (1 + 100/860)^1.5; day 56,
    (1 + 500/440)^1.5 = 3.12; day 84, (1 + 800/160)^1.5 = 14.7, capped at 10."""
    r = sim.simulate(config_from_dict(_plant()), 0)
    s = r.timeseries
    idx = s[s["series"] == "price_index"].set_index("day")["value"]
    assert idx.loc[7.0] == 1.0
    assert idx.loc[14.0] == pytest.approx((1 + 100 / 860) ** 1.5)
    assert idx.loc[56.0] == pytest.approx((1 + 500 / 440) ** 1.5)
    assert idx.loc[84.0] == 10.0
    assert r.firms["cost_premium"].iloc[0] == 0.0  # nothing arrived, nothing paid
    # with 30 days of use (300 kg) counted beside the stock: day 56, (1 + 500/740)^1.5
    d = _plant()
    d["prices"]["cover_days"] = 30.0
    s = sim.simulate(config_from_dict(d), 0).timeseries
    idx = s[s["series"] == "price_index"].set_index("day")["value"]
    assert idx.loc[56.0] == pytest.approx((1 + 500 / 740) ** 1.5)
    assert idx.loc[84.0] == pytest.approx((1 + 800 / 460) ** 1.5)  # 2.7: no cap
    assert r.firms["total_cost"].iloc[0] == r.firms["value_lost"].iloc[0]


def test_premiums_are_paid_at_the_index_of_the_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """Half from a free supplier: each of its deliveries is paid at kg x 50 USD x (index -
    1), the index read the moment it arrives, summed over the measured window; and
    total cost = value lost + premiums."""
    seen: list[tuple[str, float, float]] = []
    receive = Prices.receive

    def spy(self: Prices, firm: str, material: str, kg: float) -> None:
        seen.append((material, kg, self.index(material)))
        receive(self, firm, material, kg)

    monkeypatch.setattr(Prices, "receive", spy)
    r = sim.simulate(config_from_dict(_plant(free_share=0.5)), 0).firms.iloc[0]
    assert len(seen) >= 7
    assert any(i > 1.0 for _, _, i in seen)
    assert r["cost_premium"] == pytest.approx(sum(kg * BASE * (i - 1) for _, kg, i in seen))
    assert r["total_cost"] == pytest.approx(r["value_lost"] + r["cost_premium"])


def test_a_price_needs_a_base_and_a_user() -> None:
    d = _plant()
    del d["materials"]["magnet"]["price_usd_per_kg"]
    with pytest.raises(ConfigError, match=r"materials\.magnet\.price_usd_per_kg"):
        config_from_dict(d)
    d = _plant()
    d["prices"]["elasticity"] = {"dy": 1.0}
    with pytest.raises(ConfigError, match=r"prices\.elasticity\.dy: unknown material"):
        config_from_dict(d)
    d = _plant()
    d["materials"]["spare"] = {"price_usd_per_kg": 1.0}
    d["prices"]["elasticity"]["spare"] = 1.0
    with pytest.raises(ConfigError, match=r"prices\.elasticity\.spare: no firm uses spare"):
        config_from_dict(d)


def test_a_price_can_trigger_re_sourcing() -> None:
    """Re-sourcing on price alone. At the review of day 10k, before it orders, the gap is
    the 100(k - 1) kg of the earlier reviews' files and the plant holds 1,000 - 100k: day
    40, 300 on 600 (index 1.5^1.5 = 1.84); day 50, 400 on 500 (1.8^1.5 = 2.41); day 60,
    500 on 400 (2.25^1.5 = 3.38). With the trigger at 2 the firm switches at day 50, at 3
    on day 60."""
    def switched(above: float) -> float:
        d = _plant(free_share=0.0)
        d["horizon_days"] = 80.0
        d["firms"]["plant"]["ordering"]["suppliers"] = {"china": 1.0, "row": 0.0}
        d["firms"]["plant"]["ordering"]["resourcing"] = {"to": {"row": 1.0},
                                                         "price_above": above}
        return float(sim.simulate(config_from_dict(d), 0).firms["resourced_at_days"].iloc[0])

    assert switched(2.0) == 50.0
    assert switched(3.0) == 60.0
    d = _plant()
    d["prices"]["elasticity"] = {"magnet": 1.0}
    d["materials"]["other"] = {"price_usd_per_kg": 1.0}
    d["firms"]["plant"]["ordering"]["resourcing"] = {"to": {"row": 1.0}, "price_above": 2}
    del d["prices"]
    with pytest.raises(ConfigError, match="resourcing.price_above: no price index"):
        config_from_dict(d)


def _observed_plant() -> dict[str, Any]:
    """The plant with its controls dated (calibration measures from a controls_start) and
    a reported peak of 2.5-3.5x by day 56 (2025-02-26)."""
    d = _plant()
    d["materials"]["magnet"]["controlled_at_start"] = False
    d["policy"] = [{"type": "controls_start", "date": "2025-01-01", "materials": ["magnet"]}]
    d["observed"] = {"fit_months": ["2025-02"],
                     "stoppages": [{"firm": "plant", "event": "x", "date": "2025-02-20"}],
                     "prices": [{"material": "magnet", "event": "magnet prices up 2.5-3.5x",
                                 "ratio": {"low": 2.5, "high": 3.5},
                                 "until": "2025-02-26"}]}
    return d


def test_a_reported_peak_price_is_a_target_and_a_backtest() -> None:
    """The peak of the weekly index up to day 56 is its value on day 56, (1 + 500/440)^1.5
    = 3.12 (see the path above): the target's figure, inside the reported 2.5-3.5."""
    from sim.calibration.backtest import price_table
    from sim.calibration.targets import fit_targets, statistics

    cfg = config_from_dict(_observed_plant())
    targets = fit_targets(cfg)
    price = [t for t in targets if t.group == "prices"]
    assert [(t.key, t.observed, t.until_day) for t in price] == [("price magnet", 3.0, 57.0)]
    rep = sim.simulate(cfg, 0)
    assert statistics(rep, cfg, price)["price magnet"] == pytest.approx((1 + 500 / 440) ** 1.5)
    ts = rep.timeseries.assign(replication=0)
    row = price_table(ts, cfg.observed, cfg.calendar.start).iloc[0]
    assert row["sim_p50"] == pytest.approx((1 + 500 / 440) ** 1.5)
    assert row["share_within_reported"] == 1.0 and row["overlaps_p5_p95"]


def test_a_reported_price_needs_an_index() -> None:
    """A [prices] table that does not index the material is refused; with no [prices] at
    all (a config sharing the observations without prices) the report is left out."""
    from sim.calibration.targets import fit_targets

    d = _observed_plant()
    d["materials"]["other"] = {"price_usd_per_kg": 1.0}
    d["observed"]["prices"][0]["material"] = "other"
    with pytest.raises(ConfigError, match=r"observed\.prices\.0\.material: 'other' has no "
                       "price index"):
        config_from_dict(d)
    d = _observed_plant()
    del d["prices"]
    assert [t.group for t in fit_targets(config_from_dict(d))] == ["stoppages"]
