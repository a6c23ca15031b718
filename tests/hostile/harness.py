"""What a hostile case is, and the shared machinery its setup uses: running the CLI of
this tree, configs derived from tests/data/small.toml, folders built once per session
(fixtures), damage to files, and snapshots of the files a case must leave alone."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "small.toml"
TREE = Path(os.environ.get("RARESHOCK_HOSTILE_TREE", ROOT)).resolve()
"""The tree whose `sim` the cases run (default: this one; RARESHOCK_HOSTILE_TREE=DIR probes
another checkout with these cases)."""

REFUSE, OK, EITHER, DONE = "refuse", "ok", "either", "done"
"""Expectations. refuse: exit 2, one line per error naming the file or field, nothing
written. ok: exit 0 and the check passes. either: refuse, or ok. done: finishes (exit 0,
check passing if any, or a clean refusal) within the timeout."""


@dataclass
class Proc:
    """What a command did."""

    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str


@dataclass
class Case:
    """One hostile input and what a correct rareshock does with it.

    `setup(ctx, tmp)` writes the files into `tmp` and returns the argv after `rareshock`
    (run with `tmp` as the working directory). `check(ctx, tmp, proc)` returns None when
    the files produced are right, or what is wrong. `protect` lists files or folders
    (relative to tmp) that must be byte-identical after the command; `out` is the folder
    a refused command must not create (or change). `needle`: words of which at least one
    must be in the error line (the file or the field to blame)."""

    cls: str
    id: str
    setup: Callable[[Ctx, Path], list[str]]
    expect: str
    check: Callable[[Ctx, Path, Proc], str | None] | None = None
    timeout: float = 60.0
    slow: bool = False
    protect: list[str] = field(default_factory=list)
    out: str | None = "out"
    needle: tuple[str, ...] = ()
    note: str = ""


def rareshock(args: list[str], cwd: Path, timeout: float) -> Proc:
    """Run `python -m sim ARGS` of this tree; on the timeout kill its whole process group."""
    env = {**os.environ, "PYTHONPATH": str(TREE), "MPLBACKEND": "Agg",
           **({"PYTHONDONTWRITEBYTECODE": "1"} if TREE != ROOT else {})}
    env.pop("RARESHOCK_DEBUG", None)
    p = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=cwd, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        return Proc(p.returncode, out, err)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        return Proc(None, out, err)


class FixtureError(RuntimeError):
    """A folder a case builds on could not be made (the probe cannot judge the case)."""


class Ctx:
    """Per-session state: folders built once (runs, a comparison, a calibration) that
    cases copy before damaging them."""

    def __init__(self, session: Path) -> None:
        self.session = session
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._done: dict[str, Path | FixtureError] = {}

    def fixture(self, key: str, build: Callable[[Ctx, Path], None]) -> Path:
        """The folder `key`, built by `build(ctx, dir)` the first time it is asked for."""
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._done:
                d = self.session / key
                d.mkdir(parents=True)
                try:
                    build(self, d)
                    self._done[key] = d
                except FixtureError as exc:
                    self._done[key] = exc
            got = self._done[key]
        if isinstance(got, FixtureError):
            raise got
        return got

    def cli(self, args: list[str], cwd: Path, timeout: float = 600) -> Proc:
        """Run the CLI for a fixture; a failure is a FixtureError."""
        p = rareshock(args, cwd, timeout)
        if p.returncode != 0:
            raise FixtureError(f"rareshock {' '.join(args)}: exit {p.returncode}: "
                               f"{p.stderr.strip()[-300:]}")
        return p


# --------------------------------------------------------------------------- files


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def config(tmp: Path, body: str, name: str = "cfg.toml", parent: Path = SMALL) -> Path:
    """A config in tmp that extends `parent` (tests/data/small.toml) with `body` (top-level
    keys first, then tables)."""
    return write(tmp / name, f'extends = "{parent}"\n{body}\n')


def copy(src: Path, dst: Path) -> Path:
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    return dst


def flip_bytes(path: Path, where: float = 0.5, count: int = 8) -> None:
    """Damage a file without changing its size: invert `count` bytes from `where` (a share
    of the file's length)."""
    data = bytearray(path.read_bytes())
    start = int(len(data) * where)
    for i in range(start, min(start + count, len(data) - 8)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def snapshot(tmp: Path, rels: list[str]) -> dict[str, str]:
    """sha256 of every file under the paths `rels` (a path missing maps to 'missing')."""
    snap: dict[str, str] = {}
    for rel in rels:
        p = tmp / rel
        if not p.exists():
            snap[rel] = "missing"
        elif p.is_file():
            snap[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            for f in sorted(p.rglob("*")):
                if f.is_file():
                    snap[str(f.relative_to(tmp))] = hashlib.sha256(f.read_bytes()).hexdigest()
            snap[rel + "/"] = "dir"
    return snap
