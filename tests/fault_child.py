"""Run the rareshock command line with a fault injected at one write step (for
tests/test_faults.py; not a test module itself).

    python tests/fault_child.py MODE N CLI-ARGS...

Every write the results store makes is cut into steps: before a file is written, after
its temporary copy is written and before the rename, half-way through a log line, and
each file a replaced run's clean-up deletes. MODE is:

- `count`: run normally; print the number of steps as the last line of stderr;
- `kill`: SIGKILL this process at step N (a kill can come at any of these moments);
- `enospc`: from step N on, every write fails as on a full disk.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from pathlib import Path

from sim.run import store

MODE, N = sys.argv[1], int(sys.argv[2])
steps = [0]


def step() -> None:
    steps[0] += 1
    if MODE == "kill" and steps[0] == N:
        os.kill(os.getpid(), signal.SIGKILL)
    if MODE == "enospc" and steps[0] >= N:
        raise OSError(errno.ENOSPC, "No space left on device")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    step()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.fault.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    step()
    os.replace(tmp, path)


def append(self: store.ResultsDir, record: dict) -> None:
    import json

    line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    with self._writing(store.LOG):
        step()
        with open(self.path / store.LOG, "ab") as f:
            f.write(line[: len(line) // 2])
            f.flush()
            step()
            f.write(line[len(line) // 2:])


unlink = Path.unlink


def counted_unlink(self: Path, missing_ok: bool = False) -> None:
    if self.suffix in (".parquet", ".csv", ".png", ".jsonl"):
        step()
    unlink(self, missing_ok=missing_ok)


store.atomic_write_bytes = atomic_write_bytes
store.ResultsDir._append = append
Path.unlink = counted_unlink  # type: ignore[method-assign]

if __name__ == "__main__":
    from sim.cli import main

    try:
        code = main(sys.argv[3:])
    finally:
        if MODE == "count":
            print(steps[0], file=sys.stderr)
    sys.exit(code)
