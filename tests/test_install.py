"""Installed works like editable: the wheel, installed (not editable) into a fresh virtual
environment, runs `run`, `sweep`, `backtest` and `validate-model` from an empty folder with
configs given by path, and imports itself from the environment, not from this checkout."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"

pytestmark = pytest.mark.slow  # builds a wheel and a virtual environment: minutes


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel built from this checkout (its dependencies are taken
    from the test environment through a .pth file, so nothing is downloaded)."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp / "dist"), str(ROOT)], check=True, timeout=300)
    wheels = list((tmp / "dist").glob("rareshock-*.whl"))
    assert len(wheels) == 1, wheels
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # The test environment's packages, as a plain path: its .pth files (the editable
    # install of this checkout among them) are not processed from there.
    Path(site, "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
                    "--no-index", "-q", str(wheels[0])], check=True, timeout=300)
    return venv


def _run(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([str(venv / "bin" / "rareshock"), *args], cwd=cwd, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, f"{args}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def test_installed_package_is_the_wheel(installed: Path, tmp_path: Path) -> None:
    r = subprocess.run([str(installed / "bin" / "python"), "-c",
                        "import sim, sim.config.reference; print(sim.__file__)"],
                       cwd=tmp_path, capture_output=True, text=True, check=True)
    where = Path(r.stdout.strip())
    assert "site-packages" in where.parts and ROOT not in where.parents


@pytest.mark.long
def test_installed_commands_run_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    base = str(CONFIGS / "baseline.toml")
    r = _run(installed, tmp_path, "run", base, "-n", "2", "-j", "1", "--no-plots", "-q",
             "-o", "run")
    assert (tmp_path / "run" / "summary.csv").is_file() and r.stderr == ""
    # the report's templates are package data, installed with the wheel
    r = _run(installed, tmp_path, "report", "run")
    assert "<table" in (tmp_path / "run" / "report.html").read_text()
    _run(installed, tmp_path, "sweep", str(CONFIGS / "sweeps" / "reviewers.toml"), "-n", "1",
         "-j", "1", "--no-plots", "-q", "--set", "sweep.parameters.0.values=[1200, 1600]",
         "-o", "sweep")
    assert (tmp_path / "sweep" / "points.csv").is_file()
    r = _run(installed, tmp_path, "backtest", base, "-n", "2", "-j", "1", "-o", "bt")
    assert (tmp_path / "bt" / "backtest.md").is_file() and "Monthly exports" in r.stdout
    _run(installed, tmp_path, "validate-model", "--small", "-j", "1", "--configs",
         str(CONFIGS), "--doc", str(tmp_path / "doc" / "validation.md"))
    assert "Erlang C" in (tmp_path / "doc" / "validation.md").read_text()
