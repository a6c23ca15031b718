"""Other buyers who file ahead of need by the licence lead time they see
(`authority.background.ordering_ahead`): a small world whose filing days are worked out
by hand from the same world without the section (the k-th need is the same shipment in
both, common random numbers)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.config import config_from_dict
from sim.model.records import APPROVED
from sim.model.tables import build_tables
from tests.test_responses_demand import background_world, run

RATE, REVIEW, HORIZON = 20.0, 20.5, 120.0


def world(ahead: dict | None, *, plain: float = 0.0, switch: bool = True) -> dict:
    """Only other buyers, every file approved after a constant REVIEW days (ample
    reviewers: no queue), so every lead time is REVIEW; `plain` of the shipments are of a
    material that needs no licence."""
    raw = background_world(rate=RATE, horizon=HORIZON, deferred=None, review=REVIEW)
    if plain:
        raw["materials"]["p"] = {}
        raw["authority"]["background"]["materials"] = {"m": 1.0 - plain, "p": plain}
    if ahead is not None:
        raw["authority"]["background"]["ordering_ahead"] = ahead
    if not switch:
        raw["responses"] = {"ordering_ahead": False}
    return raw


def filings(w) -> dict[int, tuple[float, float, int]]:
    """key -> (day filed, day decided, outcome) of every licence file."""
    t = w.authority.apps
    key, sub, dec, out = (t.numeric(c) for c in ("key", "submitted", "decided", "outcome"))
    return {int(k): (s, d, o) for k, s, d, o in zip(key, sub, dec, out, strict=True)}


def expected_days(need: dict[int, float], first_approval: float, ahead: float
                  ) -> tuple[float, dict[int, float]]:
    """The filing day of each need, by hand. Buyers see no lead time until the first
    approval; the daily update after it (day T = ceil(first approval)) sets their
    estimate to REVIEW (every file's lead; memory ~0). Until then the stream waits for
    each need's own day, so the first look ahead is at the first need b after T: needs
    up to b + ahead are all filed at b, and every later one `ahead` days before its day."""
    t = math.ceil(first_approval)
    b = min(d for d in need.values() if d > t)
    return b, {k: d if d <= b else (b if d <= b + ahead else d - ahead)
               for k, d in need.items()}


@pytest.mark.parametrize("cap", [None, 8.0])
def test_buyers_file_one_lead_time_ahead_after_they_first_see_it(cap: float | None) -> None:
    ahead_cfg = {"anticipation": 1.0, "memory_days": 1e-3}
    if cap is not None:
        ahead_cfg["max_days"] = cap
    ahead = REVIEW if cap is None else cap
    off = filings(run(world(None)))
    w = run(world(ahead_cfg))
    on = filings(w)
    # without the section every file is filed the day it is needed and decided REVIEW
    # days later
    need = {k: s for k, (s, _, _) in off.items()}
    assert all(d - s == pytest.approx(REVIEW) for s, d, _ in off.values() if d < HORIZON)
    first = np.nanmin([d for _, d, _ in on.values()])
    b, want = expected_days(need, first, ahead)
    # the same shipments are filed (none lost, none added), the later ones earlier
    assert set(on) >= {k for k, d in need.items() if d < HORIZON - ahead}
    for k, d in want.items():
        assert on[k][0] == pytest.approx(d, abs=1e-6), (k, need[k])
    # needs filed by then beyond the old horizon are extra rows, filed ahead of need too
    assert all(s >= HORIZON - ahead - 1.0 for k, (s, _, _) in on.items() if k not in need)
    burst = [k for k, d in need.items() if b < d <= b + ahead]
    assert abs(len(burst) - RATE * ahead) <= 4 * math.sqrt(RATE * ahead)  # Poisson count
    # the buyers' estimate is the lead they saw; once filings are a full lead ahead (no
    # cap) a file is approved on the day its shipment is needed
    assert w.ordering_ahead.lead == pytest.approx(REVIEW)
    if cap is None:
        late = [k for k, d in need.items() if b + ahead < d < HORIZON - ahead]
        assert len(late) > 1000
        assert all(on[k][1] == pytest.approx(need[k]) for k in late)
    # the record: files filed before their need, and by how far on average
    early = [k for k in on if k in need and on[k][0] < need[k] - 1e-9]
    early_days = [need[k] - on[k][0] for k in early]
    extra = [k for k in on if k not in need]
    assert w.ordering_ahead.filed_ahead == len(early) + len(extra)
    row = build_tables(w).columns("authority")
    assert row["background_filed_ahead"][0] == len(early) + len(extra)
    assert 0.0 < row["background_days_ahead_mean"][0] <= ahead + 1e-9
    if not extra:
        assert row["background_days_ahead_mean"][0] == pytest.approx(np.mean(early_days))


def test_a_shipment_needing_no_licence_still_leaves_on_its_day() -> None:
    ahead_cfg = {"anticipation": 1.0, "memory_days": 1e-3}
    off, on = run(world(None, plain=0.5)), run(world(ahead_cfg, plain=0.5))
    assert on.ordering_ahead.filed_ahead > 500
    for log in (off.exports, on.exports):
        assert set(log.material) == {"p"}
    # the same plain shipments, on the same days, whatever the licensed ones do (those
    # needed after the horizon are logged when filed and left out of the tables)
    n = len(off.exports.day)
    assert on.exports.day[:n] == off.exports.day
    assert min(on.exports.day[n:]) >= HORIZON
    assert on.exports.kg[:n] == off.exports.kg

    def plain_kg(w) -> np.ndarray:
        ex = build_tables(w).columns("exports")
        return np.asarray(ex["kg"])[np.asarray(ex["material"]) == "p"]

    np.testing.assert_array_equal(plain_kg(on), plain_kg(off))


def test_switched_off_it_is_the_world_without_the_section() -> None:
    ahead_cfg = {"anticipation": 1.0, "memory_days": 1e-3}
    plain = filings(run(world(None)))
    off = filings(run(world(ahead_cfg, switch=False)))
    assert off.keys() == plain.keys()
    np.testing.assert_array_equal(np.array(list(off.values())), np.array(list(plain.values())))
    # and on, all files are still approved: ordering ahead moves filings, nothing else
    on = filings(run(world(ahead_cfg)))
    assert all(o == APPROVED for _, d, o in on.values() if d < HORIZON)


@pytest.mark.parametrize("field,bad,says", [
    ("anticipation", -0.5, "greater than or equal to 0"),
    ("memory_days", 0.0, "greater than 0"),
    ("max_days", -1.0, "greater than 0"),
])
def test_bad_settings_name_the_field(field: str, bad: float, says: str) -> None:
    from sim.errors import ConfigError
    with pytest.raises(ConfigError) as e:
        config_from_dict(world({field: bad}))
    assert f"authority.background.ordering_ahead.{field}" in str(e.value)
    assert says in str(e.value)
