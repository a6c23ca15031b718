"""The run path's fixed cost: building a config, running replications and writing their
parquet parts must not import scipy.stats or pandas (each takes from a few tenths of a
second to a second to import, which a one-replication run pays as a whole process).

Each check runs in a fresh interpreter and reads `sys.modules` after the work: an import
check, not a timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy.stats", "pandas")

RUN_PATH = """
from sim.config import load_config
from sim.run.batch import run_batch
from sim.run.execution import Execution

cfg = load_config({config!r})
run_batch(cfg, {out!r}, Execution(workers=1), replications=1)
"""

SUMMARY = """
from sim.analysis.stored import StoredRun

StoredRun({out!r}).write_summary()
"""


def _heavy_after(code: str) -> list[str]:
    """Run `code` in a fresh interpreter; the HEAVY modules it left in `sys.modules`."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n")
    res = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("config", ["configs/baseline.toml", "configs/mmc.toml"])
def test_run_path_imports_neither_scipy_stats_nor_pandas(tmp_path: Path,
                                                         config: str) -> None:
    # baseline draws uncertain parameters from a posterior sample (the priors' and the
    # distributions' quantile functions); mmc is the bare queue.
    out = tmp_path / "run"
    assert _heavy_after(RUN_PATH.format(config=config, out=str(out))) == []
    assert (out / "manifest.json").is_file()


def test_one_replication_summary_imports_neither(tmp_path: Path) -> None:
    # One replication has no spread to correlate: the summary and uncertainty.csv are
    # written without scipy.stats or pandas (the spread table's rows are built directly).
    out = tmp_path / "run"
    code = RUN_PATH.format(config="configs/baseline.toml", out=str(out)) + \
        SUMMARY.format(out=str(out))
    assert _heavy_after(code) == []
    assert (out / "summary.csv").is_file() and (out / "uncertainty.csv").is_file()


def test_one_replication_spread_table_is_the_analysis_own(tmp_path: Path) -> None:
    # The rows written without pandas are, byte for byte, what the analysis itself gives
    # for one case; and the config a folder's writer keeps is the one config.toml holds.
    import tomllib

    from sim.analysis.stored import StoredRun
    from sim.config import load_config
    from sim.config.loading import config_from_dict
    from sim.run.batch import run_batch
    from sim.run.execution import Execution

    out = tmp_path / "run"
    run_batch(load_config(ROOT / "configs/baseline.toml"), out, Execution(workers=1),
              replications=1)
    res = StoredRun(out)
    res.write_summary()
    assert (out / "uncertainty.csv").read_bytes() == \
        res._explain().to_csv(index=False).encode()
    parsed = config_from_dict(tomllib.loads((out / "config.toml").read_text()), "x")
    assert res.config == parsed


def test_one_replication_through_the_command_line_imports_neither(tmp_path: Path) -> None:
    # What `rareshock run` prints (not quiet) for one replication: the summary table and
    # "delta needs at least 30 replications", said without reading the spread table back.
    out = tmp_path / "run"
    code = ("from sim.cli import main\n"
            f"assert main(['run', 'configs/baseline.toml', '-n', '1', '-j', '1', "
            f"'--no-plots', '-o', {str(out)!r}]) == 0\n")
    assert _heavy_after(code) == []
    assert (out / "summary.csv").is_file()


def test_the_command_line_and_the_api_import_neither_at_load() -> None:
    # What every command pays before it parses its arguments.
    assert _heavy_after("import sim.api\nimport sim.cli") == []


@pytest.mark.parametrize("module", HEAVY)
def test_the_check_sees_a_heavy_import(module: str) -> None:
    # The probe itself: a run path that did import one of them is reported.
    assert _heavy_after(f"import {module}") == [module]
