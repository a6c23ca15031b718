"""Small worlds shared by several test files."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

START = date(2025, 1, 1)


def _const(v: float) -> dict[str, Any]:
    return {"dist": "constant", "value": float(v)}


def cover_world(cover: float, *, random: bool, review_days: float = 45.0,
                 target: float = 20.0, in_transit: float = 15.0) -> dict[str, Any]:
    """One firm (100 units/day, 0.5 kg/unit) supplied only by a controlled exporter.
    Controls start on day 14, after the first order reviews; review takes ~45 working
    days. Target cover 20 days, 15 days in transit at t = 0, so a firm with cover c
    places no order until about day c - 5: from cover 20 up, the extra stock is still on
    hand when controls start and every cover step is a real difference.

    `random=False`: every duration constant, all files approved (a deterministic model).
    `random=True`: random review, pre-acceptance, production, transit, customs holds,
    approvals/refusals/pending files, split shipments, and background applications."""
    rt = ({"dist": "triangular", "low": 20, "mode": review_days, "high": 70} if random
          else _const(review_days))
    return {
        "horizon_days": 180,
        "calendar": {"start": START, "working_days": "mon-fri"},
        "materials": {"m": {}},
        "destinations": {"US": {}},
        "authority": {
            "reviewers": 40,
            "review_time": rt,
            **({"pre_acceptance": {"dist": "uniform", "low": 2, "high": 6}} if random else {}),
            "decision": {"approve": 0.7 if random else 1.0, "refuse": 0.05 if random else 0.0,
                         "pending_approval_rate_per_day": 0.02},
            "refusal": {"max_attempts": 2, "then": "cancel",
                        "resubmit_after_days": _const(10.0)},
            "background": {"rate_per_day": 0.5 if random else 0.0,
                           "quantity_kg": {"dist": "lognormal", "median": 500.0, "sigma": 1.0},
                           "materials": {"m": 1.0}, "destinations": {"US": 1.0}},
        },
        "suppliers": {"cn": {
            "kind": "controlled",
            "materials": ["m"],
            "production_days": ({"dist": "uniform", "low": 3, "high": 10} if random
                                else _const(6.0)),
            "transit_days": ({"dist": "lognormal", "median": 16.0, "sigma": 0.2} if random
                             else _const(16.0)),
            **({"max_shipment_kg": 500.0,
                "customs_hold": {"probability": 0.1,
                                 "days": {"dist": "uniform", "low": 5, "high": 20}}}
               if random else {}),
        }},
        "firms": {"f": {
            "sector": "auto", "destination": "US", "units_per_day": 100, "unit_value": 10,
            "bom": {"m": 0.5}, "initial_cover_days": cover, "restart_delay_days": 3,
            "ordering": {"review_period_days": 7, "target_cover_days": target,
                         "in_transit_days": in_transit, "suppliers": {"cn": 1.0}},
        }},
        "policy": [{"type": "controls_start", "date": START + timedelta(days=14),
                    "materials": ["m"]}],
    }


def buffer_world(cover: float = 20.0, *, low: float = 10.0, high: float = 30.0,
                 horizon: float = 60.0) -> dict[str, Any]:
    """One firm (100 units/day, 0.5 kg/unit, 10 USD/unit) with `cover` days of stock and
    nothing in transit, and one supplier needing no licence (no controls) whose transit
    time is uniform on [low, high] days. The firm orders once, at t = 0 (review period
    1,000 days, target cover 200 days), so its stock runs out at t = cover and the order
    arrives at T ~ U(low, high): it stocks out iff T > cover, with probability
    (high - cover) / (high - low) on [low, high], and loses (T - cover) x 100 units
    (restart delay 0). Simulated with 1,500 replications: 0.887, 0.495 and 0.089 stock
    out at cover 12, 20 and 28, against 0.9, 0.5 and 0.1."""
    return {
        "horizon_days": horizon,
        "calendar": {"start": START, "working_days": "all"},
        "materials": {"m": {}},
        "destinations": {"US": {}},
        "authority": {"reviewers": 1, "review_time": _const(1.0)},
        "suppliers": {"cn": {"kind": "controlled", "materials": ["m"],
                             "transit_days": {"dist": "uniform", "low": low, "high": high}}},
        "firms": {"f": {
            "sector": "auto", "destination": "US", "units_per_day": 100, "unit_value": 10,
            "bom": {"m": 0.5}, "initial_cover_days": cover, "restart_delay_days": 0,
            "ordering": {"review_period_days": 1000, "target_cover_days": 200,
                         "in_transit_days": 0, "suppliers": {"cn": 1.0}}}},
    }


def quiet_authority(review_days: float, material: str, destination: str,
                    reviewers: int = 5) -> dict[str, Any]:
    """An authority that reviews the modelled firms' files in a constant `review_days` and
    has no other buyers' files (a world worked by hand)."""
    return {"reviewers": reviewers, "review_time": _const(review_days),
            "background": {"rate_per_day": 0, "quantity_kg": _const(1.0),
                           "materials": {material: 1.0}, "destinations": {destination: 1.0}}}


def china_and_free(china_materials: list[str], free_materials: list[str],
                   capacity: float, free: str = "row") -> dict[str, Any]:
    """The Chinese exporter and one free supplier (`free`, `capacity` kg/day, dispatching
    daily), production and transit a day each."""
    one = _const(1.0)
    return {"china": {"kind": "controlled", "materials": china_materials,
                      "production_days": one, "transit_days": one},
            free: {"kind": "free", "materials": free_materials, "capacity_kg_per_day": capacity,
                   "dispatch_every_days": 1.0, "transit_days": one}}

