"""Whole-process measurements: wall time and peak memory of a command and its children.

Plain Python on Linux: wall time with `time.perf_counter` around the child; memory by
sampling the child's whole process tree from /proc (sum of proportional set sizes, so
pages shared by forked workers are counted once) every `interval` seconds, and the
largest single process's peak RSS from `os.wait4`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measured:
    wall: float
    peak_tree_mb: float  # max over samples of the tree's summed PSS (RSS where no PSS)
    peak_single_mb: float  # largest ru_maxrss among the child and its waited-for children
    stdout: str
    returncode: int


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                text = Path(f"/proc/{pid}/task/{tid}/children").read_text()
            except OSError:
                continue
            out.extend(int(c) for c in text.split())
    except OSError:
        pass
    return out


def _tree(pid: int) -> list[int]:
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(_children(p))
    return seen


def _mem_kb(pid: int) -> int:
    for name, key in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
                if line.startswith(key):
                    return int(line.split()[1])
        except (OSError, ValueError):
            continue
    return 0


def tree_mem_mb(pid: int) -> float:
    return sum(_mem_kb(p) for p in _tree(pid)) / 1024.0


# A fresh, small wrapper process per memory measurement: it runs the command and prints
# the largest peak RSS among its waited-for descendants (RUSAGE_CHILDREN), which is then
# not inflated by the (large) harness process that started it.
_WRAP = ("import resource, subprocess, sys\n"
         "rc = subprocess.call(sys.argv[1:])\n"
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
         "sys.exit(rc)\n")


def run(cmd: list[str], env: dict[str, str] | None = None, cwd: str | None = None,
        interval: float = 0.02, sample_memory: bool = False) -> Measured:
    """Run `cmd` to completion; wall time from start to exit. With `sample_memory`, the
    command runs under a small wrapper and its process tree's memory is sampled."""
    if sample_memory:
        cmd = [sys.executable, "-c", _WRAP, *cmd]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=cwd, text=True)
    peak = [0.0]
    stop = threading.Event()

    def sampler() -> None:
        while not stop.is_set():  # the tree below the wrapper
            mb = sum(tree_mem_mb(c) for c in _children(proc.pid))
            peak[0] = max(peak[0], mb)
            stop.wait(interval)

    th = threading.Thread(target=sampler, daemon=True) if sample_memory else None
    if th:
        th.start()
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if th:
        stop.set()
        th.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{err[-2000:]}")
    single = usage.ru_maxrss
    if sample_memory:
        single = int(err.strip().splitlines()[-1])
    return Measured(wall, peak[0], single / 1024.0, out, proc.returncode)
