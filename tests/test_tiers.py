"""Supply tiers: firms that make parts for other firms, allocation of short supply, the
arcs dataset, tiers and ripple lags. Numbers from hand calculations and conservation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from worlds import START

import sim
from sim.config.loading import config_from_dict
from sim.errors import ConfigError
from sim.model.allocation import allocate, levels_of

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "three-tier.toml"


# --------------------------------------------------------------------------- allocation


def test_allocation_by_hand() -> None:
    asks = [30.0, 10.0, 60.0]
    assert allocate(200.0, asks, "proportional") == asks  # enough for everyone
    assert allocate(50.0, asks, "proportional") == pytest.approx([15.0, 5.0, 30.0])
    assert allocate(50.0, asks, "fifo") == pytest.approx([30.0, 10.0, 10.0])
    # levels: the 2nd order first, then the 1st and 3rd share what is left (40) 30:60
    assert allocate(50.0, asks, "priority", [1, 0, 1]) == pytest.approx([40 / 3, 10.0, 80 / 3])
    assert allocate(0.0, asks, "fifo") == [0.0, 0.0, 0.0]
    assert levels_of(["defence", "jp_auto"], ["us_auto", "jp_auto", "prime"],
                     ["auto", "auto", "defence"]) == [2, 1, 0]


# --------------------------------------------------------------------------- schema


def _two_customers(allocation: str = "proportional", horizon: float = 400.0,
                   inflation: float = 1.0) -> dict[str, Any]:
    """A maker that can make 100 parts a day (its input is never short) and two customers
    that each need 80 a day: demand 160 a day against supply 100."""
    const = {"dist": "constant", "value": 1.0}
    customer = {"destination": "US", "units_per_day": 80, "unit_value": 1.0,
                "bom": {"part": 1.0}, "initial_cover_days": 2,
                "ordering": {"review_period_days": 7, "target_cover_days": 14,
                             "suppliers": {"maker": 1.0}, "cut_inflation": inflation}}
    return {
        "horizon_days": horizon,
        "calendar": {"start": START},
        "materials": {"m": {}, "part": {"unit": "pieces"}},
        "destinations": {"US": {}},
        "authority": {"reviewers": 1, "review_time": const,
                      "background": {"rate_per_day": 0, "quantity_kg": const,
                                     "materials": {"m": 1.0}, "destinations": {"US": 1.0}}},
        "suppliers": {"row": {"kind": "free", "materials": ["m"],
                              "capacity_kg_per_day": 1e6, "transit_days": const}},
        "firms": {
            "maker": {"sector": "auto", "destination": "US", "units_per_day": 100,
                      "bom": {"m": 1.0}, "initial_cover_days": 30, "output": "part",
                      "ordering": {"review_period_days": 7, "target_cover_days": 30,
                                   "in_transit_days": 1, "suppliers": {"row": 1.0}},
                      "shipping": {"allocation": allocation, "priority": ["defence"],
                                   "transit_days": const}},
            "car": {"sector": "auto", **copy.deepcopy(customer)},
            "tank": {"sector": "defence", **copy.deepcopy(customer)},
        },
    }


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as e:
        config_from_dict(data, "net.toml")
    return str(e.value)


def test_schema_refuses_loops_and_wrong_arcs() -> None:
    d = _two_customers()
    d["firms"]["maker"]["ordering"]["suppliers"] = {"car": 1.0}
    d["firms"]["car"]["output"] = "m"
    msg = _error(d)
    assert "loop" in msg and "maker -> car -> maker" in msg
    d = _two_customers()
    d["firms"]["car"]["ordering"]["suppliers"] = {"tank": 1.0}
    assert "firm 'tank' makes nothing for other firms" in _error(d)
    d = _two_customers()
    d["firms"]["car"]["bom"] = {"m": 1.0}
    assert "makes 'part', which is not in the bill of materials" in _error(d)
    d = _two_customers()
    d["suppliers"]["car"] = d["suppliers"]["row"]
    assert "names a supplier too" in _error(d)
    d = _two_customers()
    d["firms"]["car"]["ordering"]["suppliers"] = {"maker": 0.6}
    assert "shares summing to 1" in _error(d)


def test_tiers_of_the_example() -> None:
    cfg = sim.load_config(EXAMPLE)
    assert cfg.tiers() == {"rotor_maker": 2, "motor_maker": 1, "automaker": 0,
                           "defence_prime": 0}


# --------------------------------------------------------------------------- in the model


def test_priority_against_proportional_by_hand() -> None:
    """Supply 100 a day, demand 80 + 80. Defence first: the tank gets its 80 and the car
    the 20 left, so the car loses 1 - 20/80 = 75% of its plan and the tank nothing.
    Proportional: each gets 50, so both lose 1 - 50/80 = 37.5%. Less the first days on
    initial stock, over 400 days."""
    pri = sim.simulate(config_from_dict(_two_customers("priority")), 1).firms.set_index("firm")
    pro = sim.simulate(config_from_dict(_two_customers("proportional")), 1).firms.set_index(
        "firm")
    assert pri.loc["tank", "shortfall_frac"] < 0.02
    assert pri.loc["car", "shortfall_frac"] == pytest.approx(0.75, abs=0.04)
    for f in ("car", "tank"):
        assert pro.loc[f, "shortfall_frac"] == pytest.approx(0.375, abs=0.04)
    # the maker ran flat out in both: it shipped what it made
    for t in (pri, pro):
        assert t.loc["maker", "shortfall_frac"] < 0.01
        assert t.loc["maker", "tier"] == 1 and t.loc["car", "tier"] == 0


def test_order_inflation_raises_the_bullwhip() -> None:
    """Shortage gaming: customers that inflate their orders after a cut order in bigger,
    lumpier amounts than the demand they see, on the same seeds."""
    def ratios(inflation: float) -> list[float]:
        cfg = config_from_dict(_two_customers("proportional", 200, inflation))
        out = []
        for seed in range(3):
            a = sim.simulate(cfg, seed).arcs
            out += a.loc[a["supplier"] == "maker", "bullwhip"].tolist()
        return out

    plain, gamed = ratios(1.0), ratios(2.0)
    assert np.nanmean(gamed) > 1.5 * np.nanmean(plain)


# --------------------------------------------------------------------------- conservation


@pytest.mark.slow
def test_conservation_and_ripple_in_the_example() -> None:
    """40 replications of the three-tier example: per arc, ordered = delivered + in
    transit + back-ordered + cancelled; per maker, what it shipped is what its customers'
    arcs received or have in transit, and no more than it made plus its initial goods
    (the model checks initial + made = shipped + on hand itself, or raises). Shortages
    ripple down: the customer runs out after its supplier."""
    cfg = sim.load_config(EXAMPLE)
    lags = []
    for seed in range(40):
        rep = sim.simulate(cfg, seed)
        a, f = rep.arcs, rep.firms.set_index("firm")
        parts = a["delivered"] + a["in_transit"] + a["backordered"] + a["cancelled"]
        assert np.allclose(a["ordered"], parts, rtol=1e-9, atol=1e-6)
        assert ((a["fill_rate"] >= 0) & (a["fill_rate"] <= 1)).all()
        for maker in ("rotor_maker", "motor_maker"):
            out = a[a["supplier"] == maker]
            shipped = (out["delivered"] + out["in_transit"]).sum()
            fg0 = cfg.firms[maker].shipping.initial_cover_days * cfg.firms[maker].units_per_day
            assert shipped <= f.loc[maker, "produced_units"] + fg0 + 1e-6
            assert f.loc[maker, "fill_rate"] == pytest.approx(
                shipped / out["ordered"].sum(), rel=1e-9)
        lags += a["ripple_lag_days"].dropna().tolist()
    assert len(lags) > 40 and np.median(lags) > 0


# --------------------------------------------------------------------------- foreign content


def test_foreign_content_rule_sends_that_share_to_the_licence_queue() -> None:
    """A free supplier whose shipments carry Chinese-origin content in a share s: before
    the rule none of its orders files a licence, after it each does with probability s
    (every one for s = 1), at the same authority as everyone else."""
    def files(share: float) -> tuple[int, int, int]:
        d = _two_customers()
        d["suppliers"]["row"]["china_content_share"] = share
        d["policy"] = [{"type": "foreign_content", "date": "2025-03-01", "materials": ["m"]}]
        cfg = config_from_dict(d)
        rep = sim.simulate(cfg, 3)
        apps = rep.applications
        mine = apps[apps["firm"] == "maker"]
        rule = (np.datetime64("2025-03-01") - np.datetime64("2025-01-01")).astype(int)
        assert (mine["submitted_day"] >= rule).all()
        after = (400 - rule) / 7  # the maker's weekly reviews under the rule
        return len(mine), int(after)

    assert files(0.0)[0] == 0
    n, after = files(1.0)
    assert abs(n - after) <= 2  # every order under the rule (less any review with none)
    n, after = files(0.5)
    assert 0.3 * after < n < 0.7 * after


# --------------------------------------------------------------------------- branches, windows


def test_branches_measure_window_and_end_use() -> None:
    """A branch's events happen only in it (and draw nothing elsewhere); the measured
    window counts plan and output between its dates; a decision by end use touches only
    those files."""
    d = _two_customers()
    d["policy"] = [
        {"type": "decision", "date": "2025-03-01", "approve_factor": 0.5, "branch": "a"},
        {"type": "decision", "date": "2025-03-01", "approve_factor": 0.0, "branch": "b",
         "end_use": "military"},
    ]
    d["branch"] = "a"
    d["output"] = {"measure_from": "2025-02-01", "measure_until": "2025-03-01"}
    rep = sim.simulate(config_from_dict(d), 1)
    assert rep.policy["happened"].tolist() == [True, False]
    f = rep.firms.set_index("firm")
    assert f.loc["car", "planned_units"] == pytest.approx(80 * 28)  # February
    assert 0 <= f.loc["car", "produced_units"] <= 80 * 28 + 1e-6
    d["branch"] = "c"
    assert "no policy event has branch 'c' (branches: a, b)" in _error(d)
    d["branch"] = ""
    d["output"] = {"measure_from": "2025-03-01", "measure_until": "2025-02-01"}
    assert "is not after measure_from" in _error(d)


def test_decision_factor_by_end_use() -> None:
    """The October-measures branch refuses military end users from 10 November 2026:
    no military file filed after it is approved, while civil files still are."""
    cfg = sim.load_config(ROOT / "configs" / "scenarios" / "2026-october-measures.toml",
                          ["uncertain=[]"])
    rep = sim.simulate(cfg, 2)
    apps = rep.applications
    nov = (np.datetime64("2026-11-10") - np.datetime64("2025-01-01")).astype(int)
    # decided after the rule, military files: none approved
    mil = apps[(apps["end_use"] == "military") & (apps["submitted_day"] > nov)
               & apps["decided_day"].notna()]
    assert len(mil) > 0 and (mil["outcome"] != "approved").all()
    civ = apps[(apps["end_use"] == "civil") & (apps["submitted_day"] > nov)]
    assert (civ["outcome"] == "approved").any()


@pytest.mark.slow  # a replication of every bundled scenario: tens of seconds
@pytest.mark.parametrize("path", sorted(
    [p for p in (ROOT / "configs").rglob("*.toml")
     if "sweeps" not in p.parts and "observed" not in p.parts and p.name != "mmc.toml"
     and "posterior" not in p.parts]), ids=lambda p: p.stem)
def test_every_bundled_scenario_conserves_material(path: Path) -> None:
    """Three replications of each bundled config: the model checks that material is
    neither created nor lost (or raises), and every arc's orders are accounted for.
    (tests/benchmarks/conservation.py runs 40 of each.)"""
    cfg = sim.load_config(path)
    for seed in range(3):
        a = sim.simulate(cfg, seed).arcs
        held = a["delivered"] + a["in_transit"] + a["backordered"] + a["cancelled"]
        assert np.allclose(a["ordered"], held, rtol=1e-9, atol=1e-6)
