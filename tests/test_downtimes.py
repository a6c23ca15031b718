"""Observed downtimes: a firm's days below plan within a window, in the firms table, as a
calibration target and in the back-test, against hand figures."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from worlds import START

import sim
from sim.calibration.backtest import downtime_table
from sim.calibration.targets import fit_targets, horizon_for, statistics
from sim.config.loading import config_from_dict
from sim.config.observed import ObservedData
from sim.errors import ConfigError


def _const(v: float) -> dict[str, Any]:
    return {"dist": "constant", "value": float(v)}


def _day(d: int) -> Any:
    return START + timedelta(days=d)


def stopped_world(downtimes: list[dict[str, Any]]) -> dict[str, Any]:
    """Firm `f` (10 kg/day) has 40 days on hand and nothing else ever: its only supplier
    is controlled from the start and never decides a file. So it runs at plan on days
    [0, 40) and is stopped on [40, 120). Firm `g` buys from a free supplier and never
    stops."""
    return {
        "horizon_days": 120.0,
        "calendar": {"start": START, "working_days": "all"},
        "output": {"sample_every_days": 30.0},
        "materials": {"m": {"controlled_at_start": True}, "n": {}},
        "destinations": {"US": {}},
        "authority": {"reviewers": 1, "review_time": _const(10.0),
                      "decision": {"approve": 0.0, "refuse": 0.0,
                                   "pending_approval_rate_per_day": 0.0}},
        "suppliers": {
            "cn": {"kind": "controlled", "materials": ["m"], "production_days": _const(0.0),
                   "transit_days": _const(10.0)},
            "free": {"kind": "free", "materials": ["n"], "production_days": _const(0.0),
                     "transit_days": _const(5.0), "capacity_kg_per_day": 1000.0,
                     "dispatch_every_days": 1.0},
        },
        "firms": {
            "f": {"sector": "auto", "destination": "US", "units_per_day": 10.0,
                  "unit_value": 1.0, "bom": {"m": 1.0}, "initial_cover_days": 40.0,
                  "restart_delay_days": 0.0,
                  "ordering": {"review_period_days": 7.0, "target_cover_days": 30.0,
                               "suppliers": {"cn": 1.0}}},
            "g": {"sector": "auto", "destination": "US", "units_per_day": 10.0,
                  "unit_value": 1.0, "bom": {"n": 1.0}, "initial_cover_days": 40.0,
                  "restart_delay_days": 0.0,
                  "ordering": {"review_period_days": 7.0, "target_cover_days": 30.0,
                               "in_transit_days": 5.0, "suppliers": {"free": 1.0}}},
        },
        "policy": [{"type": "controls_start", "date": START, "materials": ["m"]}],
        "observed": {"downtimes": downtimes, "fit_months": ["2025-02"],
                     "exports": {"series": [{"name": "total", "reference_tonnes": 1.0,
                                             "reference_days": 1.0,
                                             "months": {"2025-02": 0.0}}]}},
    }


def _down(firm: str, until: int, since: int | None = None, low: float = 5.0,
          high: float = 25.0) -> dict[str, Any]:
    d: dict[str, Any] = {"firm": firm, "event": "reported", "days": {"low": low, "high": high},
                         "until": _day(until)}
    if since is not None:
        d["since"] = _day(since)
    return d


def test_windowed_downtime_by_hand() -> None:
    """f stops on day 40 for good. Until the end of day 59 (window [0, 60)): 60 - 40 = 20
    days below plan, of the run's 120 - 40 = 80. g never stops: 0 in the window. A firm
    without an observed window gets NaN."""
    rep = sim.simulate(config_from_dict(stopped_world([_down("f", 59), _down("g", 59)])), 1)
    f = rep.firms.set_index("firm")
    assert f.loc["f", "tts_days"] == pytest.approx(40.0)
    assert f.loc["f", "downtime_days"] == pytest.approx(80.0)
    assert f.loc["f", "downtime_window_days"] == pytest.approx(20.0)
    assert f.loc["g", "downtime_days"] == 0.0
    assert f.loc["g", "downtime_window_days"] == 0.0
    none = sim.simulate(config_from_dict(stopped_world([_down("g", 59)])), 1)
    assert np.isnan(none.firms.set_index("firm").loc["f", "downtime_window_days"])


@pytest.mark.parametrize(("since", "until", "want"), [
    (None, 30, 0.0),     # [0, 31): before the stock-out
    (35, 44, 5.0),       # [35, 45): stopped from 40
    (50, 69, 20.0),      # [50, 70): stopped throughout
    (100, 119, 20.0),    # [100, 120): to the end of the run
])
def test_window_edges_by_hand(since: int | None, until: int, want: float) -> None:
    rep = sim.simulate(config_from_dict(stopped_world([_down("f", until, since)])), 1)
    assert rep.firms.set_index("firm").loc["f", "downtime_window_days"] == pytest.approx(want)


def test_downtime_target_and_statistic() -> None:
    """The target is the reported range's midpoint (5 + 25) / 2 = 15, fitted although the
    window (to day 59, the end of February) runs past no fit month; the run must reach
    day 60. The statistic is the windowed downtime: 20 days."""
    cfg = config_from_dict(stopped_world([_down("f", 59)]))
    targets = fit_targets(cfg)
    down = [t for t in targets if t.group == "downtimes"]
    assert [(t.key, t.observed, t.until_day) for t in down] == [("downtime f", 15.0, 60.0)]
    assert horizon_for(down) == 60.0
    stats = statistics(sim.simulate(cfg, 1), cfg, targets)
    assert stats["downtime f"] == pytest.approx(20.0)
    off = copy.deepcopy(stopped_world([_down("f", 59)]))
    off["calibration"] = {"weights": {"exports": 1.0, "downtimes": 0.0}}
    assert not [t for t in fit_targets(config_from_dict(off)) if t.group == "downtimes"]


def test_window_past_the_run_is_refused() -> None:
    cfg = config_from_dict(stopped_world([_down("f", 130)]))
    with pytest.raises(ConfigError, match=r"observed.downtimes.0.until"):
        fit_targets(cfg)


def test_observed_downtime_checks() -> None:
    with pytest.raises(ConfigError, match=r"high \(3\) is below low \(5\)"):
        config_from_dict(stopped_world([_down("f", 59, low=5, high=3)]))
    with pytest.raises(ConfigError, match=r"observed.downtimes.1.firm"):
        config_from_dict(stopped_world([_down("f", 59), _down("f", 80)]))
    with pytest.raises(ConfigError, match=r"observed.downtimes.0.firm"):
        config_from_dict(stopped_world([_down("nobody", 59)]))


def test_downtime_table_by_hand() -> None:
    """Ten replications with 0, 2, ..., 18 days: P5 = 0.9, P50 = 9, P95 = 17.1 (linear
    interpolation); reported 7-21 overlaps; 7 <= d <= 21 holds for 8, ..., 18: 6 of 10."""
    obs = ObservedData.model_validate({"downtimes": [
        {"firm": "a", "event": "e", "days": {"low": 7, "high": 21}, "until": "2025-12-31"},
        {"firm": "b", "event": "e", "days": {"low": 30, "high": 40}, "until": "2025-12-31"}]})
    firms = pd.DataFrame({"firm": ["a"] * 10 + ["b"] * 10,
                          "downtime_window_days": [*range(0, 20, 2), *range(0, 20, 2)]})
    t = downtime_table(firms, obs).set_index("firm")
    assert t.loc["a", ["sim_p5", "sim_p50", "sim_p95"]].tolist() == pytest.approx(
        [0.9, 9.0, 17.1])
    assert bool(t.loc["a", "overlaps_p5_p95"]) and t.loc["a", "share_within_reported"] == 0.6
    assert not bool(t.loc["b", "overlaps_p5_p95"]) and t.loc["b", "share_within_reported"] == 0
