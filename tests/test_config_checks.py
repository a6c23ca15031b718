"""The cross-reference checks are methods of the models: every policy event that names
things checks its own names, and the misses of every kind of event are reported at once,
each at its own path, worded as before the checks moved onto the models."""

from __future__ import annotations

import typing
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from sim.config import config_from_dict, read_toml_tree
from sim.config.policy import PolicyEvent, PolicyEventBase
from sim.errors import ConfigError

BASELINE = Path(__file__).resolve().parents[1] / "configs" / "baseline.toml"
NAMING = {"materials", "material", "destinations", "destination", "firms", "firm",
          "suppliers", "supplier", "rules"}
"""Fields of an event that hold names the config must define."""

DAY = date(2025, 6, 2)


def _events() -> list[type[PolicyEventBase]]:
    union = typing.get_args(PolicyEvent)[0]
    return list(typing.get_args(union))


def test_every_event_that_names_things_checks_its_names() -> None:
    events = _events()
    assert len(events) >= 12  # the reader found the union's members
    naming = [e for e in events if NAMING & set(e.model_fields)]
    assert len(naming) >= 7
    # its own check_names, or one of a base of its own (CoversMaterials): not the default
    missing = [e.__name__ for e in naming if e.check_names is PolicyEventBase.check_names]
    assert not missing, f"events naming things without their own check_names: {missing}"


def _baseline() -> dict[str, Any]:
    return read_toml_tree(BASELINE)


def _errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data, "b.toml")
    exc = info.value
    return [(e.path, e.message) for e in (exc, *exc.more)]


EVENTS = [
    ({"type": "controls_start", "materials": ["ndfeb_magnet", "ndfeb_magnett"]},
     "materials.1", "unknown material 'ndfeb_magnett'; did you mean 'ndfeb_magnet'?"),
    ({"type": "controls_lift", "materials": ["smco"]},
     "materials.0", "unknown material 'smco'"),
    ({"type": "decision", "destinations": ["US", "XX"], "approve_factor": 0.5},
     "destinations.1", "unknown destination 'XX'"),
    ({"type": "decision", "rules": [{"destination": "EUU", "material": "ndfeb_magnet",
                                      "approve": 0.5, "refuse": 0.1}]},
     "rules.0.destination", "unknown destination 'EUU'; did you mean 'EU'?"),
    ({"type": "general_licence", "firms": ["us_auto_evv"]},
     "firms.0", "unknown firm 'us_auto_evv'; did you mean 'us_auto_ev'?"),
    ({"type": "general_licence", "destinations": ["JPN"]},
     "destinations.0", "unknown destination 'JPN'"),
    ({"type": "capacity", "supplier": "roww", "add_kg_per_day": 10.0},
     "supplier", "unknown supplier 'roww'; did you mean 'row'?"),
    ({"type": "foreign_content", "materials": ["ndfeb_magnet"], "suppliers": ["rw"]},
     "suppliers.0", "unknown supplier 'rw'; did you mean 'row'?"),
    ({"type": "close_route", "supplier": "nowhere"},
     "supplier", "unknown supplier 'nowhere'"),
]


@pytest.mark.parametrize(("event", "at", "start"), EVENTS,
                         ids=[f"{e['type']}-{at}" for e, at, _ in EVENTS])
def test_each_event_reports_its_unknown_name(event: dict[str, Any], at: str,
                                             start: str) -> None:
    data = _baseline()
    data["policy"] = [{"date": DAY, **event}]
    errors = _errors(data)
    assert len(errors) == 1
    path, message = errors[0]
    assert path == f"policy.0.{at}"
    assert message.startswith(start)
    assert "(known: " in message


def test_every_event_miss_is_reported_at_once_in_order() -> None:
    """One config with all the misses above: each reported, at its event's index, in the
    order of the events, after a world miss found earlier in the config."""
    data = _baseline()
    data["suppliers"]["row"]["materials"] = ["ndfeb_magnet", "cobalt"]
    data["policy"] = [{"date": DAY, **e} for e, _, _ in EVENTS]
    errors = _errors(data)
    assert errors[0][0] == "suppliers.row.materials.1"
    assert errors[0][1].startswith("unknown material 'cobalt'")
    assert [p for p, _ in errors[1:]] == [f"policy.{i}.{at}" for i, (_, at, _) in
                                          enumerate(EVENTS)]
    for (_, message), (_, _, start) in zip(errors[1:], EVENTS, strict=True):
        assert message.startswith(start)
