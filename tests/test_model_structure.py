"""The model package's structure, read from its source: the clock attribute is read only
where the clock contract says, and no module of sim/model imports (even for type checking
only) a module that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from importgraph import cycles, import_graph

from sim import load_config
from sim.model.world import World

MODEL = Path(__file__).resolve().parents[1] / "sim" / "model"
NOW_ALLOWED = {"clock.py", "authority.py"}  # the contract, and the measured hot path


def _trees() -> dict[str, ast.Module]:
    return {p.name: ast.parse(p.read_text(), str(p)) for p in sorted(MODEL.glob("*.py"))}


def now_reads(tree: ast.Module) -> int:
    """Reads of an attribute named `_now` (SimPy's clock) in a module."""
    return sum(isinstance(n, ast.Attribute) and n.attr == "_now" for n in ast.walk(tree))


def model_graph() -> dict[str, set[str]]:
    """The import graph of sim/model alone (its modules, and their imports of each other)."""
    graph = import_graph()
    return {m: {n for n in graph[m] if n.startswith("sim.model.")}
            for m in graph if m.startswith("sim.model.")}


def test_no_import_cycle_in_the_model() -> None:
    graph = model_graph()
    assert len(graph) >= 10  # the reader found the modules
    assert cycles(graph) == []


def test_now_counter_counts_attribute_reads() -> None:
    src = "a = env._now\nb = self.env._now + x._now\nreview_now = 1\n'env._now'\n"
    assert now_reads(ast.parse(src)) == 3


def test_clock_attribute_read_only_by_the_clock_and_the_authority() -> None:
    counts = {n: now_reads(t) for n, t in _trees().items()}
    assert counts["clock.py"] >= 1 and counts["authority.py"] >= 1  # the reader works
    assert {n: c for n, c in counts.items() if c and n not in NOW_ALLOWED} == {}


@pytest.fixture(scope="module")
def finished_world() -> World:
    """A baseline replication run to its horizon (it has makers: firms buy from firms)."""
    w = World(load_config(Path(__file__).resolve().parents[1] / "configs" / "baseline.toml"), 3)
    w.run()
    return w


def test_parts_balance_after_a_run(finished_world: World) -> None:
    w = finished_world
    assert w.makers  # the check covers finished goods too
    assert [p for f in w.firms for p in f.check_conservation()] == []
    assert [p for m in w.makers.values() for p in m.check_conservation()] == []


@pytest.mark.parametrize("tamper, message", [
    (lambda f, m: f.production.stock.__setitem__(m, f.production.stock[m] + 1.0),
     "initial + received - consumed - on hand"),
    (lambda f, m: f.production.consumed.__setitem__(m, f.production.consumed[m] + 1.0),
     "consumed"),
    (lambda f, m: f.ledger.ordered.__setitem__(m, f.ledger.ordered[m] + 1.0), "ordered"),
    (lambda f, m: f.ledger.by_state[m].__setitem__(0, f.ledger.by_state[m][0] + 1.0),
     "ledger"),
    (lambda f, m: f.ledger.shipments[0].__setattr__("kg", -1e9), "negative quantity"),
])
def test_each_part_catches_a_broken_balance(finished_world: World, tamper, message: str
                                            ) -> None:  # noqa: ANN001
    """Each identity, broken by 1 kg in one part, is reported with the firm and material
    (the tolerance is 1e-6 of the larger of 1 kg, the kg ordered and the initial stock)."""
    f = finished_world.firms[0]
    m = f.ledger.shipments[0].material
    assert 1e-6 * max(1.0, f.ledger.ordered[m], f.production.initial_stock[m]) < 0.5
    saved = (dict(f.production.stock), dict(f.production.consumed), dict(f.ledger.ordered),
             list(f.ledger.by_state[m]), f.ledger.shipments[0].kg)
    try:
        tamper(f, m)
        problems = f.check_conservation()
        assert any(p.startswith(f"{f.name}/{m}: ") and message in p for p in problems), problems
    finally:
        f.production.stock.update(saved[0])
        f.production.consumed.update(saved[1])
        f.ledger.ordered.update(saved[2])
        f.ledger.by_state[m][:] = saved[3]
        f.ledger.shipments[0].kg = saved[4]
    assert f.check_conservation() == []


def test_finished_goods_balance_is_checked(finished_world: World) -> None:
    maker = next(iter(finished_world.makers.values()))
    assert maker.check_conservation() == []
    extra = 1e-4 * max(1.0, maker.production.produced, maker.goods.initial)  # 100 x tolerance
    shipped = maker.shipped
    maker.shipped += extra  # units shipped that were never made
    try:
        assert any("initial + made - shipped - on hand" in p for p in maker.check_conservation())
    finally:
        maker.shipped = shipped
