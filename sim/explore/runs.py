"""What the app reads and starts: the results folders under a directory, and a batch run
by the command line in a process of its own, which a Stop button can end cleanly (the
folder then says `interrupted`, and a Resume continues it as `rareshock run --resume`
does)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("run", "sweep", "comparison", "calibration", "optimize")


@dataclass(frozen=True)
class Folder:
    """A results folder: its path, kind (`run`, `sweep`, `comparison`, `calibration`,
    `optimize`) and state (`complete`, `interrupted`, ...)."""

    path: Path
    kind: str
    state: str

    @property
    def plots(self) -> list[Path]:
        d = self.path / "plots"
        return sorted(d.glob("*.png")) if d.is_dir() else []


def _kind(path: Path) -> tuple[str, str] | None:
    for name in ("manifest.json", "compare.json"):
        f = path / name
        if f.is_file():
            try:
                m = json.loads(f.read_text())
            except (OSError, ValueError):
                return None
            kind = {"compare": "comparison"}.get(m.get("kind", ""), m.get("kind", ""))
            return (kind, str(m.get("state", "?"))) if kind in KINDS else None
    if (path / "optimize.md").is_file():
        return "optimize", "complete"
    return None


def folders(root: Path) -> list[Folder]:
    """The results folders directly under `root` (and one level down: a comparison's runs
    are inside it), sorted by path."""
    out = []
    for p in sorted(root.glob("*")) + sorted(root.glob("*/*")):
        if p.is_dir() and (found := _kind(p)) is not None:
            out.append(Folder(p, *found))
    return out


PROGRESS = re.compile(r"([\d,]+) of ([\d,]+) replications")
EVERY = "0.5"  # seconds between the run's progress lines (RARESHOCK_PROGRESS_EVERY)


@dataclass
class Job:
    """A command of the command line (`args`, after `rareshock`) writing into `out`, run
    as a process of its own -- so what it writes is what the CLI writes, and the app's
    server never hosts a worker pool: `state` is `running`, `complete`, `stopped` (Stop
    sends it the Ctrl-C the CLI stops cleanly on: a run's folder then says `interrupted`,
    and `--resume` continues it) or `failed` (`error`: its one-line message). `done` and
    `total` follow its progress lines."""

    args: list[str]
    out: Path
    total: int = 0
    done: int = 0
    state: str = "running"
    error: str = ""
    stopping: bool = False
    proc: subprocess.Popen | None = None
    thread: threading.Thread | None = None
    lines: list[str] = field(default_factory=list)

    def start(self) -> Job:
        env = {**os.environ, "RARESHOCK_PROGRESS_EVERY": EVERY}
        self.proc = subprocess.Popen([sys.executable, "-m", "sim", *self.args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, env=env)
        self.thread = threading.Thread(target=self._follow, name="explore-job", daemon=True)
        self.thread.start()
        return self

    def _follow(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip())
            if (m := PROGRESS.search(line)) is not None:
                self.done, self.total = (int(g.replace(",", "")) for g in m.groups())
        code = self.proc.wait()
        if code == 0:
            self.state, self.done = "complete", self.total
        elif self.stopping:
            self.state = "stopped"
        else:
            errors = [ln for ln in self.lines if ln and not PROGRESS.search(ln)]
            self.error, self.state = (errors[-1] if errors else f"exit status {code}"), "failed"

    def stop(self) -> None:
        """End it cleanly (a run: at the next stored chunk), as Ctrl-C ends the CLI."""
        if self.proc is not None and self.proc.poll() is None:
            self.stopping = True
            self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout: float | None = None) -> str:
        if self.thread is not None:
            self.thread.join(timeout)
        return self.state


def run_job(config: Path, out: Path, replications: int, workers: int = 1,
            resume: bool = False) -> Job:
    """`rareshock run CONFIG -n N -j W --out OUT` (with `--resume`, or `--overwrite`)."""
    return Job(["run", str(config), "-n", str(replications), "-j", str(workers), "--out",
                str(out), "--resume" if resume else "--overwrite"], out,
               total=replications).start()


def compare_job(base: Path, run: Path, out: Path, replications: int,
                workers: int = 1) -> Job:
    """`rareshock compare BASE RUN --out OUT`: the run against its base config on shared
    seeds (the base is run into `out` first, on the same seed and replications)."""
    return Job(["compare", str(base), str(run), "-n", str(replications), "-j", str(workers),
                "--out", str(out), "--overwrite"], out, total=replications).start()
