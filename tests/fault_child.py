"""Run the rareshock command line with a fault injected at one write step (for
tests/test_faults.py; not a test module itself).

    python tests/fault_child.py MODE[@POINT] N CLI-ARGS...

The faults come through the results store's own hook (`sim.run.store.fault_hook`), so the
command writes through its real write path; the hook names each step where a kill can
strike: "write" (before a file is written), "rename" (its temporary copy written, before
the rename), "append" (before a line is appended to the chunk log), "delete" (each file
of a replaced run). Each append is a second step too, "append-half": the process dies
with half the line written, as a kill in the middle of the write would leave it. MODE is:

- `count`: run normally; print the number of steps as the last line of stderr;
- `kill`: SIGKILL this process at step N;
- `killpg`: SIGKILL this process's group (the run and its workers) at step N;
- `enospc`: from step N on, every write fails as on a full disk;
- `pause`: at step N, create the file `fault.paused` in the working folder and wait
  (holding the folder's lock) until a file `fault.go` appears there.

With `@POINT`, only steps at that point are counted (`pause@append 3`: before the third
line of the log).
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import time
from pathlib import Path

from sim.run import store

MODE, _, POINT = sys.argv[1].partition("@")
N = int(sys.argv[2])
PAUSE_LIMIT = 300.0  # seconds: a hang guard; a test releases the pause long before
steps = [0]


def step(point: str, path: Path, data: bytes | None) -> None:
    if POINT and point != POINT:
        return
    steps[0] += 1
    if MODE == "enospc" and steps[0] >= N and point != "delete":
        raise OSError(errno.ENOSPC, "No space left on device")
    if steps[0] != N:
        return
    if MODE in ("kill", "killpg"):
        if point == "append-half":
            with open(path, "ab") as f:
                f.write(data[: len(data) // 2])  # type: ignore[index]
        if MODE == "killpg":
            os.killpg(os.getpgrp(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
    if MODE == "pause":
        Path("fault.paused").write_text(f"{point} {path}\n")
        deadline = time.monotonic() + PAUSE_LIMIT
        while not Path("fault.go").exists():
            if time.monotonic() > deadline:
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(0.02)


def hook(point: str, path: Path, data: bytes | None) -> None:
    step(point, path, data)
    if point == "append":
        step("append-half", path, data)


store.fault_hook = hook

if __name__ == "__main__":
    from sim.cli import main

    try:
        code = main(sys.argv[3:])
    finally:
        if MODE == "count":
            print(steps[0], file=sys.stderr)
    sys.exit(code)
