"""The `rareshock` command, run for real (`python -m sim` in a subprocess, cwd = tmp_path).

Bad input: exit 2, one line `rareshock: error: SOURCE: field.path: what is wrong`, no
traceback, nothing written. Good input: the results folder, its manifest, summary and
parquet datasets; the same tables whatever the workers, chunk size or executor; a run
killed with SIGKILL and resumed equals one that was never interrupted; --precision.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import ALL_TABLES, DATASETS, MMC, SMALL, assert_same_tables, ok, rareshock

import sim
from sim.analysis.stats import COLUMNS, sector_halfwidths
from sim.errors import FolderError
from sim.run.store import ResultsDir


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under `root` with its content hash and mtime (None for folders)."""
    out: dict[str, tuple] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_dir():
            out[rel] = ("dir",)
        else:
            st = p.stat()
            out[rel] = (hashlib.sha256(p.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_mode)
    return out


def parts(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes()
            for t in ALL_TABLES for p in sorted((path / t).glob("part-*.parquet"))}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def mmc_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 2-replication mmc run (copied into tests that need an existing folder)."""
    d = tmp_path_factory.mktemp("mmc_run")
    ok("run", MMC, "-n", "2", "--workers", "1", "--out", "prev", "-q", "--no-plots", cwd=d)
    return d / "prev"


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 4-replication run of the small config with firms."""
    d = tmp_path_factory.mktemp("small_run")
    ok("run", SMALL, "-n", "4", "--workers", "1", "--out", "S", "-q", "--no-plots", cwd=d)
    return d / "S"


# --------------------------------------------------------------------------- bad input

BAD_TOML = 'name = "x"\n[authority\nreviewers = 5\n'
EXT = f'extends = "{MMC.as_posix()}"\n'
EXT_SMALL = f'extends = "{SMALL.as_posix()}"\n'

# id, files to create ({name: text | bytes | None for a folder}), needs the stored mmc run
# at ./prev, argv (CONFIG/M = configs/mmc.toml), substrings the one-line message must hold.
CASES = [
    # ---- the config file itself
    ("malformed-toml", {"bad.toml": BAD_TOML}, ["run", "bad.toml"],
     ["bad.toml", "invalid TOML", "line 2"]),
    ("empty-file", {"empty.toml": ""}, ["run", "empty.toml"], ["empty.toml", "empty"]),
    ("whitespace-only", {"blank.toml": "  \n\n\t\n"}, ["run", "blank.toml"],
     ["blank.toml", "empty"]),
    ("binary-file", {"bin.toml": b"\x00\x01\xff\xfe\x89PNG"}, ["run", "bin.toml"],
     ["bin.toml", "not a text file"]),
    ("folder-as-config", {"dir.toml": None}, ["run", "dir.toml"], ["dir.toml", "folder"]),
    ("missing-file", {}, ["run", "nosuch.toml"], ["nosuch.toml", "no such file"]),
    ("unknown-key", {"c.toml": EXT + "nosuch = 1\n"}, ["run", "c.toml"],
     ["c.toml: nosuch:", "unknown key"]),
    ("unknown-nested-key", {"c.toml": EXT + "[authority]\nnosuch = 1\n"}, ["run", "c.toml"],
     ["c.toml: authority.nosuch:", "unknown key"]),
    ("wrong-type", {"c.toml": EXT + '[authority]\nreviewers = "five"\n'}, ["run", "c.toml"],
     ["c.toml: authority.reviewers:", "whole number"]),
    ("negative", {"c.toml": EXT + "[authority]\nreviewers = -3\n"}, ["run", "c.toml"],
     ["c.toml: authority.reviewers:", "-3"]),
    ("zero-horizon", {"c.toml": EXT + "horizon_days = 0\n"}, ["run", "c.toml"],
     ["c.toml: horizon_days:", "0"]),
    ("nan", {"c.toml": EXT + "[authority.background]\nrate_per_day = nan\n"},
     ["run", "c.toml"], ["c.toml: authority.background.rate_per_day:", "finite"]),
    ("inf", {"c.toml": EXT + "[authority.background]\nrate_per_day = inf\n"},
     ["run", "c.toml"], ["c.toml: authority.background.rate_per_day:", "finite"]),
    ("bool-as-number", {"c.toml": EXT + "[authority]\nreviewers = true\n"},
     ["run", "c.toml"], ["c.toml: authority.reviewers:"]),
    ("bad-date-text", {"c.toml": EXT + '[calendar]\nstart = "tomorrow"\n'},
     ["run", "c.toml"], ["c.toml: calendar.start:", "date"]),
    ("bad-date-value", {"c.toml": EXT + "[calendar]\nstart = 2025-02-30\n"},
     ["run", "c.toml"], ["c.toml", "invalid TOML", "line 3"]),
    ("triangular-low-above-mode",
     {"c.toml": EXT + '[authority]\nreview_time = { dist = "triangular", low = 5, mode = 3, '
      "high = 9 }\n"}, ["run", "c.toml"], ["c.toml: authority.review_time", "low"]),
    ("bom-unknown-material",
     {"c.toml": EXT_SMALL + "[firms.us_auto_ev]\nbom = { unobtainium = 1.0 }\n"},
     ["run", "c.toml"], ["c.toml: firms.us_auto_ev.bom.unobtainium:", "unknown material"]),
    ("missing-extends", {"c.toml": 'extends = "nosuch.toml"\n'}, ["run", "c.toml"],
     ["c.toml: extends:", "nosuch.toml"]),
    ("cyclic-extends", {"a.toml": 'extends = "b.toml"\n', "b.toml": 'extends = "a.toml"\n'},
     ["run", "a.toml"], ["extends:", "cyclic", "a.toml", "b.toml"]),
    ("validate-unknown-key", {"c.toml": EXT + "nosuch = 1\n"}, ["validate", "c.toml"],
     ["c.toml: nosuch:", "unknown key"]),
    # ---- --set overrides
    ("set-without-equals", {}, ["run", "M", "--set", "authority.reviewers"],
     ["--set", "authority.reviewers", "path=value"]),
    ("set-unknown-path", {}, ["run", "M", "--set", "authority.nosuch.x=1"],
     ["--set: authority.nosuch", "unknown key"]),
    ("set-bad-value", {}, ["run", "M", "--set", "authority.reviewers=abc"],
     ["--set: authority.reviewers:", "whole number"]),
    ("set-unreadable-toml", {}, ["run", "M", "--set", "authority.reviewers=[1"],
     ["--set: authority.reviewers:", "TOML"]),
    ("set-negative-seed", {}, ["run", "M", "--set", "runs.seed=-1"], ["--set: runs.seed:"]),
    ("validate-set-nan", {}, ["validate", "M", "--set", "horizon_days=nan"],
     ["--set: horizon_days:", "finite"]),
    # ---- options
    ("replications-0", {}, ["run", "M", "--replications", "0"], ["--replications", "0"]),
    ("replications-x", {}, ["run", "M", "--replications", "x"], ["--replications", "'x'"]),
    ("replications-float", {}, ["run", "M", "-n", "2.5"], ["--replications", "2.5"]),
    ("workers-0", {}, ["run", "M", "--workers", "0"], ["--workers", "0"]),
    ("chunk-size-negative", {}, ["run", "M", "--chunk-size", "-1"], ["--chunk-size", "-1"]),
    ("seed-negative", {}, ["run", "M", "--seed", "-1"], ["--seed", "-1"]),
    ("precision-0", {}, ["run", "M", "--precision", "0"], ["--precision", "0"]),
    ("precision-nan", {}, ["run", "M", "--precision", "nan"], ["--precision", "nan"]),
    ("precision-inf", {}, ["run", "M", "--precision", "inf"], ["--precision", "inf"]),
    ("max-replications-0", {}, ["run", "M", "--precision", "0.1", "--max-replications", "0"],
     ["--max-replications", "0"]),
    ("executor-unknown", {}, ["run", "M", "--executor", "nosuch"], ["--executor", "nosuch"]),
    ("scheduler-without-dask", {}, ["run", "M", "--scheduler", "tcp://127.0.0.1:1"],
     ["--scheduler", "--executor dask"]),
    ("scheduler-bad-address", {},
     ["run", "M", "--executor", "dask", "--scheduler", "nosuch://x:1", "--out", "new"],
     ["--scheduler: nosuch://x:1:", "cannot connect"]),
    ("resume-with-overwrite", {}, ["run", "M", "--resume", "--overwrite", "--out", "new"],
     ["--resume", "--overwrite"]),
    ("unknown-option", {}, ["run", "M", "--frobnicate"], ["--frobnicate"]),
    ("no-command", {}, [], ["COMMAND"]),
    ("unknown-command", {}, ["frobnicate"], ["frobnicate"]),
    # ---- results folders
    ("summary-empty-folder", {"emp": None}, ["summary", "emp"], ["emp", "no rareshock results"]),
    ("summary-missing-folder", {}, ["summary", "gone"], ["gone", "no such folder"]),
    ("summary-of-a-file", {"f.txt": "x"}, ["summary", "f.txt"], ["f.txt", "not a folder"]),
    ("plot-without-results", {"emp": None, "emp/notes.txt": "hi"}, ["plot", "emp"],
     ["emp", "no rareshock results"]),
    ("out-is-a-file", {"taken": "x"}, ["run", "M", "--out", "taken"],
     ["taken:", "exists and is not a folder"]),
    ("run-into-existing-folder", {"prev": "RUN"}, ["run", "M", "-n", "2", "--out", "prev"],
     ["prev: results folder exists", "--resume", "--overwrite"]),
    ("resume-different-config", {"prev": "RUN"},
     ["run", "M", "-n", "2", "--out", "prev", "--resume", "--set", "authority.reviewers=6"],
     ["prev: cannot resume:", "config differs", "--overwrite"]),
    ("resume-different-seed", {"prev": "RUN"},
     ["run", "M", "-n", "2", "--out", "prev", "--resume", "--seed", "6"],
     ["prev: cannot resume:", "differs"]),
    ("resume-different-chunk-size", {"prev": "RUN"},
     ["run", "M", "-n", "2", "--out", "prev", "--resume", "--chunk-size", "2"],
     ["prev: cannot resume:", "chunk_size"]),
    ("resume-without-manifest", {"half": None, "half/config.toml": "x"},
     ["run", "M", "--out", "half", "--resume"], ["half: cannot resume:", "manifest"]),
    ("resume-fewer-replications", {"prev": "RUN"},
     ["run", "M", "-n", "1", "--out", "prev", "--resume"],
     ["prev: cannot resume with fewer replications", "the 2"]),
    ("precision-without-firms", {}, ["run", "M", "--precision", "0.01"],
     ["firms", "--precision", "no firms"]),
    ("max-replications-without-precision", {}, ["run", "M", "--max-replications", "9"],
     ["--max-replications", "only applies with --precision"]),
]


@pytest.mark.parametrize("files,argv,expect", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input(tmp_path: Path, mmc_run: Path, files: dict, argv: list[str],
                   expect: list[str]) -> None:
    for name, content in files.items():
        p = tmp_path / name
        if content == "RUN":
            shutil.copytree(mmc_run, p)
        elif content is None:
            p.mkdir()
        elif isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
    before = snapshot(tmp_path)
    r = rareshock(*[str(MMC) if a == "M" else a for a in argv], cwd=tmp_path)
    assert r.returncode == 2, f"exit {r.returncode}: {r.stderr}"
    assert "Traceback" not in r.stderr
    assert r.stdout == ""
    assert r.stderr.endswith("\n") and r.stderr.count("\n") == 1, repr(r.stderr)
    msg = r.stderr.rstrip("\n")
    assert msg.startswith("rareshock: error: "), msg
    for s in expect:
        assert s in msg, f"{s!r} not in {msg!r}"
    # nothing written: no results/ (the default folder), no --out folder, every file that
    # was there (an existing results folder included) untouched
    assert not (tmp_path / "results").exists()
    assert snapshot(tmp_path) == before


# --------------------------------------------------------------------------- happy path


def test_help_and_version(tmp_path: Path) -> None:
    r = ok("--help", cwd=tmp_path)
    for cmd in ("run", "validate", "summary", "plot", "schema"):
        assert cmd in r.stdout
    assert "--precision" in ok("run", "--help", cwd=tmp_path).stdout
    assert ok("--version", cwd=tmp_path).stdout.strip() == f"rareshock {sim.__version__}"


def test_validate_and_schema(tmp_path: Path) -> None:
    r = ok("validate", MMC, cwd=tmp_path)
    assert r.stdout.startswith(f"{MMC}: ok")
    r = ok("validate", SMALL, "--set", "authority.reviewers=6", cwd=tmp_path)
    assert ": ok" in r.stdout and "6 reviewers" in r.stdout and "10 firms" in r.stdout
    schema = json.loads(ok("schema", cwd=tmp_path).stdout)
    assert "authority" in schema["properties"]
    assert not any(tmp_path.iterdir())  # neither writes anything


def test_run_mmc(tmp_path: Path) -> None:
    r = rareshock("run", MMC, "-n", "4", "--out", "X", "-q", "--no-plots", cwd=tmp_path,
                  preexec_fn=lambda: os.umask(0o022))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""  # -q: only errors
    out = tmp_path / "X"
    assert not (tmp_path / "results").exists()
    for f in ("config.toml", "manifest.json", "summary.csv"):
        assert (out / f).is_file(), f
    assert not (out / "plots").exists()
    man = json.loads((out / "manifest.json").read_text())
    assert man["version"] == sim.__version__
    assert man["seed"] == 5 and man["replications"] == 4
    assert done_chunks(out) == list(range(math.ceil(4 / man["chunk_size"])))
    assert man["state"] == "complete" and man["replications_done"] == 4
    assert man["events_processed"] > 0 and man["wall_seconds"] > 0
    assert len(man["config_sha256"]) == 64
    assert (out / "summary.csv").read_text().splitlines()[0] == ",".join(COLUMNS)
    assert COLUMNS == ["level", "name", "metric", "n", "mean", "ci_low", "ci_high", "p5",
                       "p50", "p90", "p95", "p99", "p_positive", "cvar95", "p_positive_low",
                       "p_positive_high", "interval"]
    summary = pd.read_csv(out / "summary.csv")
    assert (summary["n"] == 4).all() and set(summary["level"]) == {"authority"}
    res = sim.Results(out)
    for name in DATASETS:
        assert list((out / name).glob("part-*.parquet")), name
        df = res.table(name)
        assert "replication" in df.columns, name
        assert set(df["replication"]) == {0, 1, 2, 3} or (name == "replications"
                                                          and df.empty)  # mmc has no firms
    # the stored config reloads to the config that ran
    assert sim.load_config(out / "config.toml").authority.reviewers == 5
    # files get the usual permissions (umask 022), not mkstemp's private 0600
    assert (out / "manifest.json").stat().st_mode & 0o777 == 0o644
    assert (out / "replications" / "part-00000.parquet").stat().st_mode & 0o777 == 0o644


def test_summary_prints_sector_table(small_run: Path) -> None:
    r = ok("summary", small_run.name, cwd=small_run.parent)
    lines = r.stdout.splitlines()
    assert lines[0] == "small: 4 replications"
    assert lines[1].split()[:3] == ["sector", "metric", "mean"]
    sector_lines = lines[2:8]  # 3 sectors x 2 metrics, 2 tiers x 2 metrics, then what
    rows = {(ln.split()[0], ln.split()[1]) for ln in sector_lines}  # the intervals mean
    tier_lines = lines[8:12]
    assert lines[12].startswith("95% CI of the mean: Monte Carlo error")
    assert "this config draws no uncertain parameters" in " ".join(lines[12:lines.index("")])
    assert rows == {(s, m) for s in ("auto", "defence", "tech")
                    for m in ("shortfall_frac", "value_lost")}
    assert [ln.split()[:3] for ln in tier_lines] == [
        ["tier", "0", "shortfall_frac"], ["tier", "0", "value_lost"],
        ["tier", "1", "shortfall_frac"], ["tier", "1", "value_lost"]]
    # then the authority table
    authority = lines[lines.index("") + 1:]
    assert authority[0].split()[:2] == ["authority", "mean"]
    assert {ln.split()[0] for ln in authority[1:]} >= {"queue_wait_days", "over_limit_share"}
    csv = ok("summary", small_run.name, "--csv", cwd=small_run.parent).stdout
    assert csv.splitlines()[0] == ",".join(COLUMNS)
    assert csv == (small_run / "summary.csv").read_text()


def test_plot_writes_pngs(small_run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "S"
    shutil.copytree(small_run, folder)
    r = ok("plot", "S", cwd=tmp_path)
    pngs = sorted((folder / "plots").glob("*.png"))
    assert len(pngs) >= 3
    assert r.stdout.strip() == f"{len(pngs)} plots in {Path('S') / 'plots'}"
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000, p.name


def test_run_prints_table_and_overwrites(small_run: Path, tmp_path: Path) -> None:
    shutil.copytree(small_run, tmp_path / "S")
    r = ok("run", SMALL, "-n", "2", "--out", "S", "--overwrite", "--workers", "1",
           "--no-plots", cwd=tmp_path)
    assert r.stdout.splitlines()[0] == "small: 2 replications"
    assert "2 replications in" in r.stdout and "-> S" in r.stdout
    assert len(sim.Results(tmp_path / "S").firms) == 2 * 10
    assert len(list((tmp_path / "S" / "replications").glob("*.parquet"))) == 2


# --------------------------------------------------------------------------- reproducibility

REPRO_N = "6"


@pytest.fixture(scope="module")
def repro(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("repro")
    base = ["run", SMALL, "-n", REPRO_N, "--seed", "11", "-q", "--no-plots"]
    ok(*base, "--workers", "1", "--chunk-size", "2", "--out", "w1", cwd=d)
    ok(*base, "--workers", "2", "--chunk-size", "2", "--out", "w2", cwd=d)
    ok(*base, "--workers", "2", "--chunk-size", "4", "--out", "w2c4", cwd=d)
    return d


def done_chunks(folder: Path) -> list[int]:
    """The chunks the results folder's log records as finished."""
    return list(ResultsDir(folder).chunks())


def test_same_tables_for_any_workers_and_chunk_size(repro: Path) -> None:
    assert_same_tables(repro / "w1", repro / "w2")
    assert_same_tables(repro / "w1", repro / "w2c4")
    man = json.loads((repro / "w2c4" / "manifest.json").read_text())
    assert done_chunks(repro / "w2c4") == [0, 1] and man["workers"] == 2
    assert len(sim.Results(repro / "w1").firms) == int(REPRO_N) * 10


def test_parts_byte_identical_for_workers_1_and_2(repro: Path) -> None:
    a, b = parts(repro / "w1"), parts(repro / "w2")
    assert len(a) == 3 * len(ALL_TABLES)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k], k


def test_same_tables_with_dask(repro: Path) -> None:
    r = ok("run", SMALL, "-n", REPRO_N, "--seed", "11", "-q", "--no-plots", "--executor",
           "dask", "--workers", "2", "--chunk-size", "3", "--out", "dask", cwd=repro)
    assert r.stdout == "" and r.stderr == ""  # -q: none of Dask's INFO log lines either
    assert json.loads((repro / "dask" / "manifest.json").read_text())["executor"] == "dask"
    assert_same_tables(repro / "w1", repro / "dask")


# --------------------------------------------------------------------------- resume


def test_resume_after_sigkill(tmp_path: Path) -> None:
    n = 16  # ~0.2 s each: the kill comes long before the last
    args = ["run", MMC, "-n", str(n), "--chunk-size", "1", "--workers", "1", "-q",
            "--no-plots"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([sys.executable, "-m", "sim", *map(str, args), "--out", "cut"],
                            cwd=tmp_path, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    man_path = tmp_path / "cut" / "manifest.json"
    done: list[int] = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                done = done_chunks(tmp_path / "cut")
            except (OSError, ValueError, FolderError):
                done = []
            if done:
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    done = done_chunks(tmp_path / "cut")
    assert 1 <= len(done) < n, done
    # a write cut short by the kill leaves a temporary file; make sure there is one
    (tmp_path / "cut" / "replications" / ".part-00015.parquet.killed.tmp").write_bytes(b"PAR1")

    r = ok(*args, "--out", "cut", "--resume", cwd=tmp_path)
    assert r.stdout == ""
    ok(*args, "--out", "whole", cwd=tmp_path)

    assert not list((tmp_path / "cut").rglob("*.tmp"))
    # mmc has no firms (empty replications table) and no policy events
    assert_same_tables(tmp_path / "cut", tmp_path / "whole",
                       may_be_empty=("replications", "policy"))
    cut = json.loads(man_path.read_text())
    whole = json.loads((tmp_path / "whole" / "manifest.json").read_text())
    assert done_chunks(tmp_path / "cut") == done_chunks(tmp_path / "whole") == list(range(n))
    assert cut["replications"] == n and cut["replications_done"] == n
    assert cut["events_processed"] == whole["events_processed"]
    assert cut["config_sha256"] == whole["config_sha256"]
    assert parts(tmp_path / "cut") == parts(tmp_path / "whole")


# --------------------------------------------------------------------------- --precision


def _halfwidths(path: Path) -> dict[str, float]:
    s = pd.read_csv(path / "summary.csv")
    s = s[(s["level"] == "sector") & (s["metric"] == "shortfall_frac")]
    return dict(zip(s["name"], s["ci_high"] - s["mean"], strict=True))


def test_precision_met(tmp_path: Path) -> None:
    r = ok("run", SMALL, "-n", "3", "--precision", "0.02", "--max-replications", "60",
           "--workers", "1", "--chunk-size", "2", "--no-plots", "--out", "P", cwd=tmp_path)
    man = json.loads((tmp_path / "P" / "manifest.json").read_text())
    assert man["precision"]["target_halfwidth"] == 0.02
    n = man["replications"]
    assert n > 3  # three were too few: the run grew
    res = sim.Results(tmp_path / "P")
    assert res.replications == n and len(res.firms) == 10 * n
    assert sorted(res.firms["replication"].unique()) == list(range(n))  # none skipped
    hw = sector_halfwidths(res.firms)
    if man["precision"]["met"]:
        assert max(hw.values()) < 0.02
        assert f"precision 0.02: met after {n} replications" in r.stdout
        assert max(_halfwidths(tmp_path / "P").values()) < 0.02  # summary.csv agrees
    else:  # allowed, but then the cap must have been reached and said so
        assert n == 60 and "NOT met (cap reached)" in r.stdout


def test_precision_cap_reached(tmp_path: Path) -> None:
    r = ok("run", SMALL, "-n", "2", "--precision", "1e-6", "--max-replications", "5",
           "--workers", "1", "--no-plots", "--out", "P", cwd=tmp_path)
    man = json.loads((tmp_path / "P" / "manifest.json").read_text())
    assert man["precision"]["target_halfwidth"] == 1e-6 and not man["precision"]["met"]
    assert man["replications"] == 5
    assert "precision 1e-06: NOT met (cap reached) after 5 replications" in r.stdout
    assert len(sim.Results(tmp_path / "P").firms) == 5 * 10
