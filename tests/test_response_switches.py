"""`[responses]` switches: a mechanism switched off gives exactly the run of the same config
without its settings (same seed, same tables), and on it changes something."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_responses_sourcing import front_world

import sim
from sim.config.loading import config_from_dict, read_toml_tree
from tests.helpers import ROOT


def _baseline(**over: Any) -> dict[str, Any]:
    raw = read_toml_tree(ROOT / "configs" / "baseline.toml")
    raw["observed"] = None
    raw.update(horizon_days=300.0, uncertain=[], **over)
    return raw


def _tables(raw: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rep = sim.simulate(config_from_dict(raw), np.random.SeedSequence(3))
    return rep.firms, rep.exports


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    (fa, ea), (fb, eb) = _tables(a), _tables(b)
    return fa.equals(fb) and ea.equals(eb)


def _without_resourcing(raw: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    for f in raw["firms"].values():
        f["ordering"].pop("resourcing", None)
    return raw


@pytest.mark.parametrize("switch,strip", [
    ("resourcing", _without_resourcing),
    ("deferred_demand", lambda r: (r := copy.deepcopy(r), r["authority"]["background"].pop(
        "deferred"))[0]),
])
def test_a_switch_off_is_the_config_without_the_mechanism(switch: str, strip: Any) -> None:
    raw = _baseline()
    off = _baseline(responses={switch: False})
    assert _same(off, strip(raw))
    assert not _same(raw, strip(raw))  # and the mechanism does something here


def test_licence_cover_switch() -> None:
    raw = _baseline()
    raw["authority"]["licence_cover"] = {"granted_from": "2025-06-10"}
    off = copy.deepcopy(raw)
    off["responses"] = {"licence_cover": False}
    bare = copy.deepcopy(raw)
    del bare["authority"]["licence_cover"]
    assert _same(off, bare)
    assert not _same(raw, bare)


def test_front_running_switch() -> None:
    on = front_world(2.0)
    off = front_world(2.0)
    off["responses"] = {"front_running": False}
    ordered = [sim.simulate(config_from_dict(d), 1).arcs["ordered"].sum()
               for d in (on, off, front_world(None))]
    # 300 kg more with front-running (tests/test_responses_sourcing.py, by hand); none off
    assert ordered[0] - ordered[2] == pytest.approx(300.0)
    assert ordered[1] == pytest.approx(ordered[2])
