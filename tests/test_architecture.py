"""The package's architecture holds: layers import only downwards (the import-linter
contracts in pyproject.toml: the packages, and the modules of sim.config), no import cycle
anywhere in sim/ (imports in functions and for type checking counted), and no module takes
another's private names."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from importgraph import cycles, import_graph, imported

ROOT = Path(__file__).resolve().parents[1]
LINT = str(Path(sys.executable).with_name("lint-imports"))


def lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LINT, "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_layer_contract_is_kept() -> None:
    r = lint(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 kept, 0 broken" in r.stdout


def test_cli_contract_catches_a_direct_library_import(tmp_path: Path) -> None:
    """The command line may reach the library only through sim.api: a copy where it
    imports the config layer itself breaks the second contract, which names the import."""
    shutil.copytree(ROOT / "sim", tmp_path / "sim",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    cli = tmp_path / "sim" / "cli.py"
    cli.write_text(cli.read_text() + "\nfrom .config import load_config  # noqa\n")
    r = lint(tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "the command line imports only sim.api and sim.errors BROKEN" in r.stdout
    assert "sim.cli -> sim.config" in r.stdout


def test_layer_contract_catches_an_upward_import(tmp_path: Path) -> None:
    """A copy of the package where the model imports the report layer breaks the contract,
    and lint-imports names the import."""
    world = _copy_tree(tmp_path) / "model" / "world.py"
    world.write_text(world.read_text() + "\nfrom ..report.run.text import run_text  # noqa\n")
    r = lint(tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "BROKEN" in r.stdout
    assert "sim.model.world -> sim.report.run.text" in r.stdout


def _copy_tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "sim", tmp_path / "sim",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path / "sim"


def test_config_layers_and_cycle_check_catch_a_lazy_import_back(tmp_path: Path) -> None:
    """A copy where validation imports uncertain inside a function (the kind of circle
    uncertain -> levers -> loading -> uncertain the config package once had) breaks the
    config layers contract, and the cycle check finds the circle."""
    sim = _copy_tree(tmp_path)
    validation = sim / "config" / "validation.py"
    validation.write_text(validation.read_text() + "\n\ndef _late() -> None:\n"
                          "    from .uncertain import check_uncertain  # noqa\n")
    r = lint(tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "2 kept, 1 broken" in r.stdout
    assert "sim.config.validation -> sim.config.uncertain" in r.stdout
    assert cycles(import_graph(sim)) == [
        ["sim.config.levers", "sim.config.uncertain", "sim.config.validation"]]


def test_config_modules_do_not_import_the_public_face(tmp_path: Path) -> None:
    """`sim.config.schema` gathers the models for the other layers; a config module that
    imports it breaks the contract."""
    sim = _copy_tree(tmp_path)
    levers = sim / "config" / "levers.py"
    levers.write_text(levers.read_text() + "\nfrom .schema import Config as _C  # noqa\n")
    r = lint(tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "sim.config.levers -> sim.config.schema" in r.stdout


def test_no_import_cycle_in_the_package() -> None:
    graph = import_graph()
    assert len(graph) > 60 and sum(map(len, graph.values())) > 200  # the reader found them
    assert cycles(graph) == []


def test_cycle_finder_finds_known_cycles() -> None:
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set()}
    assert sorted(cycles(g)) == [["a", "b", "c"], ["e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_import_reader_sees_every_kind_of_import() -> None:
    """Relative and absolute, `from . import module`, in a function, and for type checking
    only; a name that is not a module counts as its module; other packages do not count."""
    known = {"sim.model", "sim.model.a", "sim.model.b", "sim.model.c", "sim.model.d",
             "sim.model.e", "sim.model.f", "sim.model.g", "sim.config", "sim.config.z"}
    src = ("from typing import TYPE_CHECKING\nimport numpy\nfrom . import b\n"
           "from .c import X\nimport sim.model.d\nfrom sim.model.e import Y\n"
           "from ..config import z, Config\n"
           "if TYPE_CHECKING:\n    from .f import G\n"
           "def late():\n    from .g import H\n")
    assert imported(ast.parse(src), "sim.model.a", False, known) == {
        "sim.model.b", "sim.model.c", "sim.model.d", "sim.model.e", "sim.model.f",
        "sim.model.g", "sim.config", "sim.config.z"}


def _private_imports(path: Path, root: Path = ROOT) -> list[str]:
    """`from <a sim module> import _name` in `path`, a file under `root` (dunders aside)."""
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        if not (module == "sim" or module.startswith("sim.")):
            continue
        for alias in node.names:
            if alias.name.startswith("_") and not alias.name.startswith("__"):
                out.append(f"{path.relative_to(root)}:{node.lineno}: {module}.{alias.name}")
    return out


def test_no_private_names_cross_modules() -> None:
    found = [hit for p in sorted((ROOT / "sim").rglob("*.py")) for hit in _private_imports(p)]
    assert not found, "private names imported across modules:\n" + "\n".join(found)


def test_private_import_check_sees_one(tmp_path: Path) -> None:
    """The check above is not vacuous: it finds a private import where there is one."""
    fake = tmp_path / "sim" / "model" / "probe.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from .clock import _hidden  # noqa\nfrom ..config import loading\n")
    assert _private_imports(fake, tmp_path) == ["sim/model/probe.py:1: sim.model.clock._hidden"]
