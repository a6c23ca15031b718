"""The package's architecture holds: layers import only downwards (the import-linter
contract in pyproject.toml), and no module takes another's private names."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = str(Path(sys.executable).with_name("lint-imports"))


def lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LINT, "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_layer_contract_is_kept() -> None:
    r = lint(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 kept, 0 broken" in r.stdout


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
    shutil.copytree(ROOT / "sim", tmp_path / "sim",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    world = tmp_path / "sim" / "model" / "world.py"
    world.write_text(world.read_text() + "\nfrom ..report.text import run_text  # noqa\n")
    r = lint(tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "BROKEN" in r.stdout
    assert "sim.model.world -> sim.report.text" in r.stdout


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
