"""Fault injection: a results folder never gives exit 0 with numbers other than those of an
uninterrupted run; it gives the right tables, or refuses in one clear line.

Kills come at every kind of write step (tests/fault_child.py sets the store's fault hook,
which the real write path calls before a file, between its temporary copy and the
rename, before and half-way through a log line, and at each deletion of a replaced run's
files) during `run`, `sweep` and `run --overwrite`, and to the whole process group at
random steps of a run with the process pool. Then: parts deleted, truncated or left stray in
every dataset; two writers; an edited config; a folder that is not rareshock's; a full
disk; SIGTERM to the parent. After each, what `summary` reports must be what the
uninterrupted run's tables give for the replications it says it holds, and resuming must
end in exactly the uninterrupted run's tables.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import SMALL, cli_env

import sim
from sim.analysis.stats import FIRM_COLUMNS, csv_text, summary_rows
from sim.errors import FolderError
from sim.run.store import ResultsDir

HERE = Path(__file__).resolve().parent
HANG = 120  # seconds: a hang guard for waits on a process, never a speed limit
TABLES = ("replications", "applications", "exports", "timeseries", "authority", "policy")
RUN = ["run", str(SMALL), "-n", "4", "--chunk-size", "1", "--workers", "1", "-q",
       "--no-plots"]
SWEEP_TOML = f"""
extends = "{SMALL}"
name = "fault-sweep"

[sweep]
method = "grid"
replications = 2
parameters = [{{ path = "authority.reviewers", values = [30, 50] }}]
"""


def command(args: tuple[str | Path, ...], child: tuple[str, int] | None) -> list[str]:
    """The command line's argv; with `child` (MODE, N), through the fault injector."""
    head = [sys.executable, str(HERE / "fault_child.py"), child[0], str(child[1])] \
        if child else [sys.executable, "-m", "sim"]
    return [*head, *map(str, args)]


def cli(*args: str | Path, cwd: Path, child: tuple[str, int] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The command line as a process, in a session of its own (a fault may kill its whole
    process group); with `child`, through the fault injector."""
    return subprocess.run(command(args, child), cwd=cwd, env=cli_env(), capture_output=True,
                          text=True, timeout=timeout, start_new_session=True)


def start(*args: str | Path, cwd: Path, child: tuple[str, int]) -> subprocess.Popen[str]:
    """The command line through the fault injector, started and left running."""
    return subprocess.Popen(command(args, child), cwd=cwd, env=cli_env(),
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_until_paused(proc: subprocess.Popen[str], cwd: Path) -> None:
    """Wait for the child started with `pause` to reach its step (`fault.paused` appears);
    fail if it ends first, or after HANG seconds (a guard against a hang, not a speed
    limit: it is there within seconds)."""
    deadline = time.monotonic() + HANG
    while not (cwd / "fault.paused").exists():
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before its pause: "
                        f"{proc.stderr.read() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            pytest.fail(f"the run did not reach its pause in {HANG} s")
        time.sleep(0.02)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Wait for the process (a hang guard of HANG seconds); its exit status and stderr."""
    code = proc.wait(timeout=HANG)
    err = proc.stderr.read() if proc.stderr else ""
    for f in (proc.stdout, proc.stderr):
        if f:
            f.close()
    return code, err


def one_line_error(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and r.stdout == ""
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("rareshock: error: ")]
    assert len(lines) == 1, r.stderr
    return lines[0]


SWEEP_TABLES = ("replications", "authority", "exports", "policy")  # a sweep's default


def tables(folder: Path, names: tuple[str, ...] = TABLES) -> dict[str, pd.DataFrame]:
    res = sim.Results(folder)
    return {t: res.table(t) for t in names}


def assert_truthful(folder: Path, refs: dict[int, dict[str, pd.DataFrame]]) -> str:
    """What `summary` says of `folder` is either a refusal in one line, or the tables of
    the run its manifest names (by seed, in `refs`) for the replications it holds, with
    `summary --csv` computed from exactly those. Returns "refused" or "read"."""
    r = cli("summary", folder, "--csv", cwd=folder.parent)
    if r.returncode == 2:
        one_line_error(r)
        return "refused"
    assert r.returncode == 0, r.stderr
    man = json.loads((folder / "manifest.json").read_text())
    ref = refs[man["seed"]]
    got = tables(folder)
    reps = sorted(got["authority"]["replication"].unique())
    assert reps, "read, with nothing in it"
    for t in TABLES:
        want = ref[t][ref[t]["replication"].isin(reps)].reset_index(drop=True)
        pd.testing.assert_frame_equal(got[t], want, check_exact=True, obj=t)
    # the summary printed is that of those replications, and of nothing else
    firms = ref["replications"][ref["replications"]["replication"].isin(reps)]
    auth = ref["authority"][ref["authority"]["replication"].isin(reps)]
    rows = summary_rows({c: firms[c].to_numpy() for c in [*FIRM_COLUMNS, "tier"]},
                        {c: auth[c].to_numpy() for c in auth.columns})
    assert r.stdout == csv_text(rows, sim.Results(folder).summary_columns)
    return "read"


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Uninterrupted runs of the small config, seeds 7 (its own) and 8, and the number of
    write steps a fresh run and an overwrite take."""
    d = tmp_path_factory.mktemp("ref")
    out = {}
    for seed in (7, 8):
        r = cli(*RUN, "--seed", str(seed), "--out", f"ref{seed}", cwd=d)
        assert r.returncode == 0, r.stderr
        out[seed] = tables(d / f"ref{seed}")
    r = cli(*RUN, "--out", "counted", cwd=d, child=("count", 0))
    fresh = int(r.stderr.strip().splitlines()[-1])
    r = cli(*RUN, "--seed", "8", "--out", "counted", "--overwrite", cwd=d, child=("count", 0))
    over = int(r.stderr.strip().splitlines()[-1])
    return {"dir": d, "tables": out, "fresh_steps": fresh, "overwrite_steps": over}


def _steps(total: int, k: int, seed: int) -> list[int]:
    """The first and last three steps, and `k` others drawn without replacement."""
    rng = np.random.default_rng(seed)
    middle = sorted(rng.choice(np.arange(4, total - 2), size=min(k, total - 6), replace=False))
    return sorted({1, 2, 3, *map(int, middle), total - 2, total - 1, total})


# =========================================================================== kills


@pytest.mark.slow
@pytest.mark.long
def test_kills_during_a_run_end_in_the_same_tables(ref: dict, tmp_path: Path) -> None:
    """Each kill leaves a folder that summary reads truthfully (or refuses), and that
    resuming completes to the uninterrupted run."""
    assert ref["fresh_steps"] > 20
    outcomes = []
    for k in _steps(ref["fresh_steps"], 6, 1):
        out = tmp_path / f"k{k}"
        r = cli(*RUN, "--out", out, cwd=tmp_path, child=("kill", k))
        assert r.returncode == -signal.SIGKILL, (k, r.returncode, r.stderr)
        if out.exists() and (out / "manifest.json").exists():
            outcomes.append(assert_truthful(out, ref["tables"]))
        r = cli(*RUN, "--out", out, "--resume", cwd=tmp_path)
        assert r.returncode == 0, (k, r.stderr)
        got = tables(out)
        for t in TABLES:
            pd.testing.assert_frame_equal(got[t], ref["tables"][7][t], check_exact=True)
    assert "read" in outcomes and "refused" in outcomes  # both kinds of moment were hit


@pytest.mark.slow
@pytest.mark.long
def test_kills_during_an_overwrite_leave_the_old_run_or_a_resumable_new_one(
        ref: dict, tmp_path: Path) -> None:
    """The probe's worst case: killed while replacing a run. Every kill leaves either the
    old complete run (seed 7) or the new one (seed 8) as far as it got, never a mix; the
    new run then resumes to its uninterrupted tables."""
    seen_seeds = set()
    for k in _steps(ref["overwrite_steps"], 7, 2):
        out = tmp_path / f"o{k}"
        shutil.copytree(ref["dir"] / "ref7", out)
        r = cli(*RUN, "--seed", "8", "--out", out, "--overwrite", cwd=tmp_path,
                child=("kill", k))
        assert r.returncode == -signal.SIGKILL, (k, r.stderr)
        outcome = assert_truthful(out, ref["tables"])
        seed = json.loads((out / "manifest.json").read_text())["seed"]
        seen_seeds.add(seed)
        if seed == 7:  # killed before the new manifest: the old run stands, whole
            assert outcome == "read"
            assert sim.Results(out).replications == 4
            r = cli(*RUN, "--seed", "8", "--out", out, "--resume", cwd=tmp_path)
            assert "differs" in one_line_error(r)
            continue
        r = cli(*RUN, "--seed", "8", "--out", out, "--resume", cwd=tmp_path)
        assert r.returncode == 0, (k, r.stderr)
        got = tables(out)
        for t in TABLES:
            pd.testing.assert_frame_equal(got[t], ref["tables"][8][t], check_exact=True)
    assert seen_seeds == {7, 8}


@pytest.mark.slow
@pytest.mark.long
def test_kills_during_a_sweep_end_in_the_same_tables(tmp_path: Path) -> None:
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(SWEEP_TOML)
    args = ["sweep", cfg, "--chunk-size", "1", "--workers", "1", "-q", "--no-plots"]
    r = cli(*args, "--out", "whole", cwd=tmp_path, child=("count", 0))
    total = int(r.stderr.strip().splitlines()[-1])
    whole = tables(tmp_path / "whole", SWEEP_TABLES)
    for k in _steps(total, 2, 3):
        out = tmp_path / f"s{k}"
        r = cli(*args, "--out", out, cwd=tmp_path, child=("kill", k))
        assert r.returncode == -signal.SIGKILL, (k, r.stderr)
        s = cli("summary", out, cwd=tmp_path)
        assert s.returncode in (0, 2) and "Traceback" not in s.stderr
        r = cli(*args, "--out", out, "--resume", cwd=tmp_path)
        assert r.returncode == 0, (k, r.stderr)
        got = tables(out, SWEEP_TABLES)
        for t in SWEEP_TABLES:
            pd.testing.assert_frame_equal(got[t], whole[t], check_exact=True)
        assert (out / "points.csv").read_text() == (tmp_path / "whole" /
                                                    "points.csv").read_text()


@pytest.mark.slow
def test_kills_of_the_process_group_with_two_workers(tmp_path: Path) -> None:
    """The run and its workers killed together (as by the OOM killer or a closed terminal)
    at random write steps while the workers are busy: resuming ends in the same tables."""
    args = ["run", SMALL, "-n", "12", "--chunk-size", "1", "--workers", "2", "-q",
            "--no-plots"]
    r = cli(*args, "--out", "whole", cwd=tmp_path, child=("count", 0))
    assert r.returncode == 0, r.stderr
    total = int(r.stderr.strip().splitlines()[-1])
    whole = tables(tmp_path / "whole")
    rng = np.random.default_rng(4)
    for k in sorted(rng.choice(np.arange(4, total - 2), size=3, replace=False)):
        out = tmp_path / f"p{k}"
        r = cli(*args, "--out", out, cwd=tmp_path, child=("killpg", int(k)))
        assert r.returncode == -signal.SIGKILL, (k, r.returncode, r.stderr)
        r = cli(*args, "--out", out, "--resume", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        got = tables(out)
        for t in TABLES:
            pd.testing.assert_frame_equal(got[t], whole[t], check_exact=True)


# =========================================================================== parts


@pytest.mark.parametrize("table", TABLES)
def test_damaged_and_stray_parts(ref: dict, tmp_path: Path, table: str) -> None:
    """Deleted or truncated: named, exit 2, and resuming repairs it. Stray copies: ignored
    with a warning, the numbers unchanged."""
    src = ref["dir"] / "ref7"
    for damage in ("delete", "truncate"):
        out = tmp_path / damage
        shutil.copytree(src, out)
        part = out / table / "part-00002.parquet"
        if damage == "delete":
            part.unlink()
        else:
            part.write_bytes(part.read_bytes()[:-10])
        msg = one_line_error(cli("summary", out, cwd=tmp_path))
        assert f"{table}/part-00002.parquet" in msg and "--resume" in msg
        with pytest.raises(FolderError, match="chunk 2 is damaged"):
            sim.Results(out)
        r = cli(*[a for a in RUN if a != "-q"], "--out", out, "--resume", cwd=tmp_path)
        assert r.returncode == 0 and "chunk 2 will be recomputed" in r.stderr
        assert cli("verify", out, cwd=tmp_path).returncode == 0
        got = tables(out)
        for t in TABLES:
            pd.testing.assert_frame_equal(got[t], ref["tables"][7][t], check_exact=True)
    out = tmp_path / "stray"
    shutil.copytree(src, out)
    shutil.copy(out / table / "part-00000.parquet", out / table / "part-00000 (copy).parquet")
    shutil.copy(out / table / "part-00001.parquet", out / table / "part-00099.parquet")
    r = cli("summary", out, "--csv", cwd=tmp_path)
    assert r.returncode == 0 and "ignoring 2 files not listed" in r.stderr
    assert r.stdout == (src / "summary.csv").read_text()
    assert assert_truthful(out, ref["tables"]) == "read"


def test_a_bit_flipped_part_is_found_by_verify_and_repaired(ref: dict, tmp_path: Path) -> None:
    out = tmp_path / "flip"
    shutil.copytree(ref["dir"] / "ref7", out)
    part = out / "applications" / "part-00001.parquet"
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x01
    part.write_bytes(bytes(data))
    msg = one_line_error(cli("verify", out, cwd=tmp_path))
    assert "chunk 1" in msg and "checksum" in msg
    r = cli(*RUN, "--out", out, "--resume", cwd=tmp_path)
    assert r.returncode == 0
    assert cli("verify", out, cwd=tmp_path).returncode == 0
    assert part.read_bytes() == (ref["dir"] / "ref7" / "applications" /
                                 "part-00001.parquet").read_bytes()


# =========================================================================== writers, config


def test_a_second_writer_is_refused_naming_the_first(ref: dict, tmp_path: Path) -> None:
    """The first writer is held (paused before the log line of its first chunk, its lock
    taken) while a second one tries to replace its run."""
    out = tmp_path / "busy"
    first = start(*RUN, "--out", out, cwd=tmp_path, child=("pause@append", 1))
    try:
        wait_until_paused(first, tmp_path)
        second = cli(*RUN, "--seed", "8", "--out", out, "--overwrite", cwd=tmp_path)
        msg = one_line_error(second)
        assert f"process {first.pid} on" in msg and "being written by another" in msg
    finally:
        (tmp_path / "fault.go").touch()
    code, err = finish(first)
    assert code == 0, err
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 7 and man["state"] == "complete"
    got = tables(out)
    for t in TABLES:
        pd.testing.assert_frame_equal(got[t], ref["tables"][7][t], check_exact=True)


def test_an_edited_config_is_an_error_everywhere_it_is_read(ref: dict, tmp_path: Path) -> None:
    out = tmp_path / "edited"
    shutil.copytree(ref["dir"] / "ref7", out)
    cfg = out / "config.toml"
    cfg.write_text(cfg.read_text().replace("reviewers = 40", "reviewers = 5000"))
    for cmd in ("summary", "plot", "verify"):
        assert "config.toml was changed after the run began" in one_line_error(
            cli(cmd, out, cwd=tmp_path))
    # resuming with the config that ran puts the file back as it was
    r = cli(*[a for a in RUN if a != "-q"], "--out", out, "--resume", cwd=tmp_path)
    assert r.returncode == 0 and "differed from the config that ran" in r.stderr
    assert cfg.read_bytes() == (ref["dir"] / "ref7" / "config.toml").read_bytes()
    assert cli("verify", out, cwd=tmp_path).returncode == 0


def test_an_edited_sweep_config_does_not_relabel_the_points(tmp_path: Path) -> None:
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(SWEEP_TOML)
    r = cli("sweep", cfg, "--workers", "1", "-q", "--no-plots", "--out", "sw", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    import tomllib

    import tomli_w

    stored = tmp_path / "sw" / "config.toml"
    data = tomllib.loads(stored.read_text())
    assert data["sweep"]["parameters"][0]["values"] == [30, 50]
    data["sweep"]["parameters"][0]["values"] = [5000, 6000]
    stored.write_text(tomli_w.dumps(data))
    with pytest.raises(FolderError, match="config.toml was changed"):
        sim.SweepResults(tmp_path / "sw").points  # noqa: B018 - reading is the test
    assert "config.toml was changed" in one_line_error(cli("summary", "sw", cwd=tmp_path))


def test_overwrite_refuses_a_folder_rareshock_did_not_write(tmp_path: Path) -> None:
    """The probe's case 5: a folder of the user's own files, no manifest."""
    mine = tmp_path / "mine"
    (mine / "plots").mkdir(parents=True)
    (mine / "replications").mkdir()
    for f in ("config.toml", "summary.csv", "plots/figure1.png", "replications/x.parquet"):
        (mine / f).write_text(f"the user's {f}")
    before = {p: p.read_bytes() for p in mine.rglob("*") if p.is_file()}
    msg = one_line_error(cli(*RUN, "--out", mine, "--overwrite", cwd=tmp_path))
    assert "not a rareshock results folder" in msg
    assert {p: p.read_bytes() for p in mine.rglob("*") if p.is_file()} == before
    (mine / "manifest.json").write_text("{ not json")
    assert "manifest.json is damaged" in one_line_error(
        cli(*RUN, "--out", mine, "--overwrite", cwd=tmp_path))
    assert "manifest.json is damaged" in one_line_error(
        cli(*RUN, "--out", mine, "--resume", cwd=tmp_path))


def test_overwrite_keeps_the_users_own_files_in_a_results_folder(ref: dict,
                                                                  tmp_path: Path) -> None:
    out = tmp_path / "ours"
    shutil.copytree(ref["dir"] / "ref7", out)
    (out / "notes.txt").write_text("mine")
    r = cli(*RUN, "--seed", "8", "--out", out, "--overwrite", cwd=tmp_path)
    assert r.returncode == 0
    assert (out / "notes.txt").read_text() == "mine"
    got = tables(out)
    for t in TABLES:
        pd.testing.assert_frame_equal(got[t], ref["tables"][8][t], check_exact=True)


# =========================================================================== disk, signals


def test_a_full_disk_is_named_and_the_run_resumes(ref: dict, tmp_path: Path) -> None:
    for k in (1, 9, ref["fresh_steps"] - 8):
        out = tmp_path / f"full{k}"
        msg = one_line_error(cli(*RUN, "--out", out, cwd=tmp_path, child=("enospc", k)))
        assert str(out) in msg and "No space left on device" in msg
        if not (out / "manifest.json").exists():
            assert not out.exists() or not list(out.iterdir()) or \
                [p.name for p in out.iterdir()] == [".rareshock.lock"]
            continue
        assert_truthful(out, ref["tables"])
        r = cli(*RUN, "--out", out, "--resume", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        got = tables(out)
        for t in TABLES:
            pd.testing.assert_frame_equal(got[t], ref["tables"][7][t], check_exact=True)


def test_a_real_full_disk(ref: dict, tmp_path: Path) -> None:
    """A small tmpfs, where this machine allows mounting one (root); else the injected
    full disk above stands for it."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(disk)],
                             capture_output=True).returncode == 0
    if not mounted:
        pytest.skip("cannot mount a tmpfs here (not root); the injected ENOSPC covers it")
    try:
        msg = one_line_error(cli(*RUN, "--out", disk / "r", cwd=tmp_path))
        assert "No space left on device" in msg and str(disk / "r") in msg
        assert_truthful(disk / "r", ref["tables"])
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_sigterm_to_the_parent_stops_the_workers(ref: dict, tmp_path: Path) -> None:
    """SIGTERM while the run is at work (its parent held before the log line of its third
    chunk, the two workers busy with the next ones): exit 143 with one line, not one chunk
    more recorded, no process of the run left; resuming completes it."""
    args = ["run", SMALL, "-n", "40", "--chunk-size", "1", "--workers", "2", "-q",
            "--no-plots", "--out", "t"]
    proc = start(*args, cwd=tmp_path, child=("pause@append", 3))
    wait_until_paused(proc, tmp_path)
    held = ResultsDir(tmp_path / "t").chunks()
    assert len(held) == 2
    proc.send_signal(signal.SIGTERM)
    code, err = finish(proc)
    assert code == 143, (code, err)
    assert err.count("\n") == 1 and "stopped by SIGTERM" in err and "Traceback" not in err
    assert ResultsDir(tmp_path / "t").chunks() == held
    man = json.loads((tmp_path / "t" / "manifest.json").read_text())
    assert man["state"] == "interrupted" and man["replications_done"] == 2
    deadline = time.monotonic() + HANG
    while True:  # every process of the group is gone: no orphans
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"processes of the stopped run are still alive after {HANG} s")
        time.sleep(0.05)
    r = cli(*args, "--resume", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    whole = cli(*args[:-1], "whole", cwd=tmp_path)
    assert whole.returncode == 0
    a, b = tables(tmp_path / "t"), tables(tmp_path / "whole")
    for t in TABLES:
        pd.testing.assert_frame_equal(a[t], b[t], check_exact=True)


def test_resuming_a_complete_folder_runs_nothing_and_says_so(ref: dict, tmp_path: Path) -> None:
    """No time or rate as if the replications had been run now; the tables untouched."""
    out = tmp_path / "done"
    shutil.copytree(ref["dir"] / "ref7", out)
    before = {p: p.read_bytes() for p in out.rglob("*.parquet")}
    man = json.loads((out / "manifest.json").read_text())
    r = cli(*[a for a in RUN if a != "-q"], "--out", out, "--resume", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    last = r.stdout.splitlines()[-1]
    assert last.startswith(f"{out} is complete (4 replications, started {man['created']}, ")
    assert last.endswith(" s of computing); nothing left to run")
    assert "replications in" not in r.stdout
    assert {p: p.read_bytes() for p in out.rglob("*.parquet")} == before
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(SWEEP_TOML)
    args = ["sweep", cfg, "--workers", "1", "--no-plots", "--out", "sw"]
    first = cli(*args, cwd=tmp_path)
    assert first.returncode == 0 and "2 points x 2 replications in" in first.stdout
    again = cli(*args, "--resume", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1].startswith(
        "sw is complete (2 points x 2 replications, started ")
