"""The `[costs]` table (issue #25): each firm's holding, premium, shortfall and stockpile
costs per replication, checked by hand on worlds whose stock levels are known.

The world (`worlds.buffer_world` with a constant transit of 25 days): one firm using 50
kg/day starts with 1,000 kg (20 days) and orders once at t = 0, 10,000 kg of target less
the 1,000 on hand, which arrives on day 25; it runs out on day 20, stops 5 days (500
units short), then holds 9,000 kg falling at 50 kg/day to the horizon, day 60. So it
holds 1,000 x 20 / 2 + 35 x (9,000 - 50 x 35 / 2) = 294,375 kg-days."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from worlds import START, buffer_world

import sim
from sim.analysis.stats import sector_columns, summary_rows
from sim.config import config_from_dict
from sim.errors import ConfigError

HELD_KG_DAYS = 1000 * 20 / 2 + 35 * (9000 - 50 * 35 / 2)
COSTS = {"holding_usd_per_kg_day": {"m": 0.5}, "premium_usd_per_kg": {"cn": 2.0},
         "shortfall_usd_per_unit": {"f": 7.0}}


def _world(**costs: Any) -> dict[str, Any]:
    d = buffer_world(20.0)
    d["suppliers"]["cn"]["transit_days"] = {"dist": "constant", "value": 25.0}
    d["costs"] = costs
    return d


def _firms(d: dict[str, Any]) -> dict[str, np.ndarray]:
    return sim.simulate(config_from_dict(d, "t.toml"), 0).columns("firms")


def test_each_cost_is_the_hand_calculation() -> None:
    f = _firms(_world(**COSTS))
    assert f["stopped_days"][0] == 5.0 and f["shortfall_units"][0] == 500.0  # the story
    assert f["holding_cost"][0] == pytest.approx(0.5 * HELD_KG_DAYS, rel=1e-12)
    assert f["premium_cost"][0] == pytest.approx(2.0 * 9000, rel=1e-12)
    assert f["shortfall_cost"][0] == pytest.approx(7.0 * 500, rel=1e-12)
    assert f["stockpile_cost"][0] == 0.0
    assert f["total_cost"][0] == pytest.approx(0.5 * HELD_KG_DAYS + 18000 + 3500, rel=1e-12)


def test_costs_count_in_the_measured_window_only() -> None:
    """From day 10 to day 50: 500 kg falling to 0 over days 10-20, then 9,000 kg from day
    25 to day 50; the 500 units lost fall inside, and so does the receipt."""
    d = _world(**COSTS)
    d["output"] = {"measure_from": START + timedelta(days=10),
                   "measure_until": START + timedelta(days=50)}
    f = _firms(d)
    held = 500 * 10 / 2 + 25 * (9000 - 50 * 25 / 2)
    assert f["holding_cost"][0] == pytest.approx(0.5 * held, rel=1e-12)
    assert f["premium_cost"][0] == pytest.approx(18000.0, rel=1e-12)
    d["output"] = {"measure_from": START + timedelta(days=30)}  # after the receipt
    assert _firms(d)["premium_cost"][0] == 0.0


def test_without_per_unit_cost_a_shortfall_costs_its_value_and_nothing_else_moves() -> None:
    d = _world(holding_usd_per_kg_day={"m": 0.5})
    f = _firms(d)
    assert f["shortfall_cost"][0] == f["value_lost"][0] == 500 * 10.0
    assert f["premium_cost"][0] == 0.0
    bare = copy.deepcopy(d)
    del bare["costs"]
    g = _firms(bare)
    assert not any(c in g for c in ("holding_cost", "total_cost"))
    for col in ("shortfall_units", "value_lost", "downtime_days", "tts_days"):
        np.testing.assert_array_equal(f[col], g[col])


def _reserve_world() -> dict[str, Any]:
    """Two defence firms using 50 and 150 kg/day of m and an auto firm using 50; a reserve
    of 1,000 kg of m at 3 USD/kg serves defence: 750 and 2,250 USD, the auto firm none."""
    d = _world(stockpile_usd_per_kg={"m": 3.0})
    f = d["firms"]["f"]
    f["sector"] = "defence"
    big = copy.deepcopy(f)
    big["units_per_day"] = 300
    car = copy.deepcopy(f)
    car["sector"] = "auto"
    d["firms"].update(big=big, car=car)
    d["stockpile"] = {"sectors": ["defence"], "stock_kg": {"m": 1000.0},
                      "available_from_start": True}
    return d


def test_the_reserve_is_shared_by_planned_use_and_sums_in_the_sector() -> None:
    r = sim.simulate(config_from_dict(_reserve_world(), "t.toml"), 0)
    f = r.columns("firms") | {"replication": np.zeros(3, dtype=np.int64)}
    kept = dict(zip(f["firm"], f["stockpile_cost"], strict=True))
    assert kept == pytest.approx({"f": 750.0, "big": 2250.0, "car": 0.0}, rel=1e-12)
    sec = sector_columns(f)
    by = dict(zip(sec["sector"], sec["total_cost"], strict=True))
    assert by["defence"] == pytest.approx(sum(t for t, s in zip(f["total_cost"], f["sector"],
                                                                strict=True)
                                              if s == "defence"), rel=1e-12)
    rows = {(r_["level"], r_["name"], r_["metric"]): r_ for r_ in summary_rows(f, {})}
    assert rows["sector", "defence", "stockpile_cost"]["mean"] == pytest.approx(3000.0)
    assert ("firm", "car", "total_cost") in rows


@pytest.mark.parametrize(("change", "path", "words"), [
    (lambda d: d["costs"].update(holding_usd_per_kg_day={"mm": 1.0}),
     "costs.holding_usd_per_kg_day.mm", "unknown material"),
    (lambda d: d["costs"].update(shortfall_usd_per_unit={"g": 1.0}),
     "costs.shortfall_usd_per_unit.g", "unknown firm"),
    (lambda d: d["costs"].update(premium_usd_per_kg={"row": 1.0}),
     "costs.premium_usd_per_kg.row", "unknown supplier"),
    (lambda d: d.pop("stockpile"), "costs.stockpile_usd_per_kg.m", "no [stockpile]"),
    (lambda d: d["stockpile"].update(stock_kg={}), "costs.stockpile_usd_per_kg.m",
     "holds no m"),
    (lambda d: d["stockpile"].update(sectors=["tech"]), "costs.stockpile_usd_per_kg.m",
     "no firm the stockpile serves uses m"),
    (lambda d: d["costs"].update(holding_usd_per_kg_day={"m": -1.0}),
     "costs.holding_usd_per_kg_day.m", "greater than or equal to 0"),
])
def test_bad_costs_name_the_field(change: Any, path: str, words: str) -> None:
    d = _reserve_world()
    change(d)
    with pytest.raises(ConfigError) as e:
        config_from_dict(d, "t.toml")
    assert e.value.path == path
    assert words in e.value.message


def test_a_cost_objective_needs_the_costs_table() -> None:
    d = _world(**COSTS)
    d["optimize"] = {"levers": [{"path": "firms.f.initial_cover_days",
                                 "values": [10.0, 20.0]}],
                     "objective": {"kind": "mean",
                                   "output": {"metric": "total_cost", "firm": "f"}},
                     "indifference": 100.0}
    assert config_from_dict(d, "t.toml").optimize is not None
    del d["costs"]
    with pytest.raises(ConfigError) as e:
        config_from_dict(d, "t.toml")
    assert e.value.path == "optimize.objective.output.metric"
    assert "needs a [costs] table" in e.value.message


def test_a_run_summarises_and_reports_the_costs(tmp_path: Any) -> None:
    """summary.csv's sector cost rows are the means of the sector sums over the stored
    replications, and the page's headline carries each sector's total cost."""
    import pandas as pd

    import sim.api as api

    cfg = config_from_dict(_reserve_world(), "t.toml")
    res = api.run_batch(cfg, tmp_path / "r", replications=4, workers=1)
    rep = pd.read_parquet(tmp_path / "r" / "replications")
    summary = pd.read_csv(tmp_path / "r" / "summary.csv")
    got = summary.set_index(["level", "name", "metric"])["mean"]
    for sector, g in rep.groupby("sector"):
        for c in ("holding_cost", "stockpile_cost", "total_cost"):
            assert got["sector", sector, c] == pytest.approx(
                g.groupby("replication")[c].sum().mean(), rel=1e-12)
    assert got["firm", "big", "total_cost"] == pytest.approx(
        rep.loc[rep.firm == "big", "total_cost"].mean(), rel=1e-12)
    page = api.report(res.path).read_text()
    assert 'data-key="defence/total_cost/mean"' in page


def test_optimize_reads_the_costs_per_replication() -> None:
    """What `rareshock optimize` minimises: the sector's total cost per replication,
    read in the worker from the replications table, as summed by hand."""
    from sim.optimize.evaluate import evaluate_chunk

    cfg = config_from_dict(_reserve_world(), "t.toml")
    d = copy.deepcopy(_reserve_world())
    d["optimize"] = {"levers": [{"path": "stockpile.stock_kg.m", "values": [500.0, 1000.0]}],
                     "objective": {"kind": "mean",
                                   "output": {"metric": "total_cost", "sector": "defence"}},
                     "indifference": 100.0}
    out = config_from_dict(d, "t.toml").optimize.objective.output
    got = evaluate_chunk(cfg.runs.seed, cfg, 0, 2, (out,))["total_cost[defence]"]
    for i in range(2):
        f = sim.simulate(cfg, np.random.SeedSequence(cfg.runs.seed, spawn_key=(i,))) \
            .columns("firms")
        assert got[i] == pytest.approx(f["total_cost"][f["sector"] == "defence"].sum(),
                                       rel=1e-12)
