"""The model package's structure, read from its source: the clock attribute is read only
where the clock contract says, and no module of sim/model imports (even for type checking
only) a module that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

MODEL = Path(__file__).resolve().parents[1] / "sim" / "model"
NOW_ALLOWED = {"clock.py", "authority.py"}  # the contract, and the measured hot path


def _trees() -> dict[str, ast.Module]:
    return {p.name: ast.parse(p.read_text(), str(p)) for p in sorted(MODEL.glob("*.py"))}


def now_reads(tree: ast.Module) -> int:
    """Reads of an attribute named `_now` (SimPy's clock) in a module."""
    return sum(isinstance(n, ast.Attribute) and n.attr == "_now" for n in ast.walk(tree))


def local_imports(tree: ast.Module, modules: set[str]) -> set[str]:
    """The sibling modules of sim/model a module imports, wherever the import is (type
    checking blocks and functions included)."""
    out: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and n.level == 1:
            if n.module is not None:
                out.add(n.module.split(".")[0])
            else:  # from . import x
                out.update(a.name for a in n.names)
        elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module is not None:
            parts = n.module.split(".")
            if parts[:2] == ["sim", "model"] and len(parts) > 2:
                out.add(parts[2])
        elif isinstance(n, ast.Import):
            for a in n.names:
                parts = a.name.split(".")
                if parts[:2] == ["sim", "model"] and len(parts) > 2:
                    out.add(parts[2])
    return out & modules


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a module importing
    itself), each sorted: every import cycle lies within one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph[v]:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def model_graph() -> dict[str, set[str]]:
    trees = _trees()
    names = {n.removesuffix(".py") for n in trees} - {"__init__"}
    return {n.removesuffix(".py"): local_imports(t, names) - ({"__init__"})
            for n, t in trees.items() if n != "__init__.py"}


def test_cycle_finder_finds_known_cycles() -> None:
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set()}
    assert sorted(cycles(g)) == [["a", "b", "c"], ["e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_import_reader_sees_type_checking_imports() -> None:
    src = ("from typing import TYPE_CHECKING\nfrom . import b\nfrom .c import X\n"
           "import sim.model.d\nfrom sim.model.e import Y\nfrom ..config import z\n"
           "if TYPE_CHECKING:\n    from .f import G\n")
    assert local_imports(ast.parse(src), set("abcdefz")) == set("bcdef")


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
