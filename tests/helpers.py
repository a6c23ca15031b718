"""What several test modules share: the repository's paths and configs, the command line
run as a process, and comparing the tables of two results folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

import sim

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
MMC = CONFIGS / "mmc.toml"
BASELINE = CONFIGS / "baseline.toml"
SMALL = ROOT / "tests" / "data" / "small.toml"  # baseline world, 240 days, 10 firms
DATASETS = ("replications", "applications", "exports", "timeseries")
ALL_TABLES = (*DATASETS, "authority", "policy")


def cli_env() -> dict[str, str]:
    """The environment a command runs in: no debug tracebacks, plots without a display."""
    env = {k: v for k, v in os.environ.items() if k != "RARESHOCK_DEBUG"}
    env["MPLBACKEND"] = "Agg"
    return env


def rareshock(*args: str | Path, cwd: Path, timeout: float = 120,
              **kw) -> subprocess.CompletedProcess[str]:
    """`rareshock ARGS` as a process (`python -m sim`), its output captured as text."""
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd,
                          env=cli_env(), capture_output=True, text=True, timeout=timeout,
                          **kw)


def ok(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`rareshock ARGS`, which must exit 0 without a traceback."""
    r = rareshock(*args, cwd=cwd)
    assert r.returncode == 0, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    assert "Traceback" not in r.stderr
    return r


def tables_of(path: Path, names=ALL_TABLES) -> dict[str, pd.DataFrame]:
    """Each table, stably sorted by replication (the natural row order kept within one)."""
    res = sim.Results(path)
    return {n: res.table(n).sort_values("replication", kind="mergesort").reset_index(drop=True)
            for n in names}


def assert_same_tables(a: Path, b: Path, names=ALL_TABLES, may_be_empty=("policy",)) -> None:
    """The two folders hold exactly the same tables (none empty but `may_be_empty`)."""
    ta, tb = tables_of(a, names), tables_of(b, names)
    for n in names:
        assert len(ta[n]) > 0 or n in may_be_empty, f"{n} is empty in {a}"
        pd.testing.assert_frame_equal(ta[n], tb[n], check_exact=True, obj=f"{n} table")
