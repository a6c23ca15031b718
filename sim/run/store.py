"""The results folder as a small database: the manifest is the truth.

Layout::

    results/<run>/manifest.json        the run: what it is, its config's hashes, its id
    results/<run>/chunks.jsonl         one line per finished chunk: its part files, their
                                       sizes and sha256 checksums (an append-only log)
    results/<run>/config.toml          the fully resolved config that ran
    results/<run>/<table>/part-NNNNN.parquet   one part per chunk, per table
    results/<run>/.rareshock.lock      held by the one process writing the folder

A chunk counts as done only once its line is in the log, and its line is appended (and
synced) only after every part it lists is written (to a temporary name, then renamed).
Readers read exactly the parts the log lists for the run the manifest names, check each
part's size and sha256 checksum as they open it, refuse a log that lists a part or a
replication twice, and ignore any other file with one warning. So a run killed at any
moment, a deleted, truncated, altered or stray part, or a second writer cannot make a
reader return numbers other than those of the chunks recorded; a damaged part is an error
that names it, and resuming recomputes its chunk.

Replacing a run (`overwrite`) writes the new manifest first, with a new run id: from that
moment the old chunks are no longer the folder's, whatever happens next. Only what the old
manifest lists (its parts and outputs) is then deleted; a folder without a readable
manifest is not overwritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config.loading import config_dict
from ..config.schema import Config
from ..errors import FolderError
from .chunks import ALL_TABLES as TABLES

if TYPE_CHECKING:  # pandas and pyarrow are imported where tables are read, so the parent
    import numpy as np  # of a batch, which only writes the workers' bytes, does without
    import pandas as pd
    import pyarrow as pa

log = logging.getLogger(__name__)

FORMAT = 2
MANIFEST = "manifest.json"
LOG = "chunks.jsonl"
CONFIG = "config.toml"
LOCK = ".rareshock.lock"
OUTPUTS = ("summary.csv", "points.csv", "sensitivity.csv", "discovery.csv",
           "discovery-trajectory.csv", "uncertainty.csv")
"""Files computed from the stored tables."""
PART = re.compile(r"^part-\d{5}\.parquet$")

_HELD: dict[Path, list[int]] = {}  # folders whose lock this process holds
_WROTE: dict[str, Config] = {}
"""The configs this process stored, by the sha256 of the config.toml it wrote: reading
those bytes back gives the same Config (`ResultsDir.config` skips parsing and checking
them again; a test holds the two equal). The last few only."""


def _remember(sha256: str, cfg: Config) -> None:
    _WROTE[sha256] = cfg
    while len(_WROTE) > 8:
        del _WROTE[next(iter(_WROTE))]

fault_hook: Callable[[str, Path, bytes | None], None] | None = None
"""None (off) in normal use. The fault-injection tests set it to a callable that the
write path calls at each step where a kill or a full disk can strike: `("write", path,
None)` before a file is written, `("rename", path, None)` once its temporary copy is
written and synced, before the rename, `("append", log, line)` before a line is appended
to the chunk log, and `("delete", path, None)` before each file of a replaced run is
deleted. It may raise (OSError as from a full disk) or end the process."""


def config_hash(cfg: Config) -> str:
    """sha256 of the resolved config (canonical JSON), leaving out `runs.replications` so a
    resumed or extended run (more replications, same world) matches its stored config."""
    data = cfg.model_dump(mode="json")
    data["runs"].pop("replications", None)
    for key in ("sweep", "observed"):  # tables a config may leave out hash as if absent
        if data.get(key, 0) is None:
            del data[key]
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def config_toml(cfg: Config) -> bytes:
    """The config as the results folder stores it."""
    import tomli_w

    return tomli_w.dumps(config_dict(cfg)).encode()


def digest(data: bytes) -> str:
    """The checksum parts are recorded with (sha256, hex)."""
    return hashlib.sha256(data).hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename.

    The temporary file is created with mode 0666 less the process umask (as any new file),
    under a name no other writer uses (`.NAME.PID.RANDOM.tmp`)."""
    if fault_hook is not None:
        fault_hook("write", path, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if fault_hook is not None:
            fault_hook("rename", path, None)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _delete(f: Path) -> None:
    """Delete a file of a replaced run, if it is there."""
    if fault_hook is not None and f.is_file():
        fault_hook("delete", f, None)
    f.unlink(missing_ok=True)


def numpy_column(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """An Arrow column as a numpy array, read from its buffers: floats (null as NaN), ints,
    bools, timestamps, and strings (as objects). `to_numpy` is not used: it imports
    pandas, which the command line's summary otherwise does without."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.types as pt

    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    n, off = len(arr), arr.offset
    t = arr.type
    if pt.is_string(t) or pt.is_large_string(t):
        return np.array(arr.to_pylist(), dtype=object)
    bufs = arr.buffers()
    if pt.is_boolean(t):
        bits = np.unpackbits(np.frombuffer(bufs[1], np.uint8), bitorder="little")
        out = bits[off:off + n].astype(bool)
    elif pt.is_floating(t) or pt.is_integer(t) or pt.is_timestamp(t):
        dtype = {8: np.float64, 4: np.float32}[t.bit_width // 8] if pt.is_floating(t) \
            else np.dtype(f"int{t.bit_width}") if pt.is_integer(t) and pt.is_signed_integer(t) \
            else np.dtype(f"uint{t.bit_width}") if pt.is_integer(t) else np.int64
        out = np.frombuffer(bufs[1], dtype, count=n, offset=off * (t.bit_width // 8)).copy()
        if pt.is_timestamp(t):
            out = out.view(f"datetime64[{t.unit}]")
    else:
        raise TypeError(f"no numpy column for Arrow type {t}")
    if arr.null_count:
        valid = np.unpackbits(np.frombuffer(bufs[0], np.uint8), bitorder="little")
        valid = valid[off:off + n].astype(bool)
        if out.dtype.kind != "f":
            raise ValueError(f"nulls in a column of {t}")
        out[~valid] = np.nan
    return out


@dataclass(frozen=True)
class Part:
    """One stored part file: its path relative to the folder, size and checksum."""

    file: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Chunk:
    """A finished chunk: how many replications (or point-replication pairs) it holds, the
    SimPy events it processed, and its part per table."""

    index: int
    replications: int
    events: int
    parts: dict[str, Part]


class ResultsDir:
    """One results folder (a run's or a sweep's)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._header: dict[str, Any] | None = None
        self._warned = False

    # ------------------------------------------------------------------ reading

    def manifest(self) -> dict[str, Any] | None:
        """The manifest, or None if there is none; FolderError if it is damaged."""
        f = self.path / MANIFEST
        try:
            raw = f.read_bytes()
        except FileNotFoundError:
            return None
        except IsADirectoryError:
            raise FolderError(str(self.path), f"{MANIFEST} is a folder, not a file") from None
        except OSError as exc:
            raise FolderError(str(self.path), f"cannot read {MANIFEST} "
                              f"({exc.strerror or exc})") from None
        try:
            man = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            man = None
        if not isinstance(man, dict):
            raise FolderError(str(self.path), f"{MANIFEST} is damaged (not a JSON object)")
        return man

    def header(self) -> dict[str, Any]:
        """The manifest of a current-format results folder; FolderError otherwise."""
        man = self.manifest()
        if man is None:
            raise FolderError(str(self.path), f"holds no rareshock results (no {MANIFEST})")
        if man.get("format") != FORMAT:
            raise FolderError(str(self.path), "was written by an older rareshock (results "
                              "format 1, without a part list); run it again into a new "
                              "folder, or replace it", ("overwrite",))
        for key in ("run_id", "config_sha256", "config_file_sha256", "replications"):
            if key not in man:
                raise FolderError(str(self.path), f"{MANIFEST} is damaged (no {key!r})")
        return man

    def chunks(self, run_id: str | None = None) -> dict[int, Chunk]:
        """The chunks the log records as finished for run `run_id` (the manifest's), by
        index. A line cut short by a kill, and lines of a replaced run, are skipped."""
        rid = run_id if run_id is not None else self.header()["run_id"]
        out: dict[int, Chunk] = {}
        try:
            lines = (self.path / LOG).read_bytes().split(b"\n")
        except FileNotFoundError:
            return out
        for line in lines:
            try:
                rec = json.loads(line)
            except (ValueError, UnicodeDecodeError):
                continue  # empty, or the last line of a write cut short
            if not isinstance(rec, dict) or rec.get("run") != rid:
                continue
            try:
                c = int(rec["chunk"])
                if rec.get("drop"):
                    out.pop(c, None)
                    continue
                parts = {t: Part(p["file"], int(p["bytes"]), str(p["sha256"]))
                         for t, p in rec["parts"].items()}
                out[c] = Chunk(c, int(rec["replications"]), int(rec["events"]), parts)
            except (KeyError, TypeError, ValueError, AttributeError):
                continue  # not a record rareshock wrote: `verify` names it
        return dict(sorted(out.items()))

    def _expected(self, man: dict[str, Any], chunk: int) -> tuple[int, int] | None:
        """The first (point, replication) pair index chunk `chunk` holds and how many pairs
        the plan gives it; None if the manifest does not say (no chunk size)."""
        size = man.get("chunk_size")
        if not isinstance(size, int) or size < 1:
            return None
        total = int(man["replications"]) * int(man.get("points") or 1)
        return chunk * size, max(0, min(total, (chunk + 1) * size) - chunk * size)

    def double_counted(self, man: dict[str, Any], chunks: dict[int, Chunk]) -> str | None:
        """Why the log counts some replication twice (a part listed by two chunks, a chunk
        beyond the plan or holding more replications than the plan gives it, more
        replications than the run was asked for), or None. Needs no part read."""
        seen: dict[str, int] = {}
        # a run stopped while it grew to a precision target may hold chunks beyond the
        # manifest's count; a finished run may not
        final = man.get("state") == "complete"
        size = man.get("chunk_size")
        for c, ch in chunks.items():
            for part in ch.parts.values():
                if part.file in seen:
                    return f"chunks {seen[part.file]} and {c} both list {part.file}"
                seen[part.file] = c
            exp = self._expected(man, c)
            most = exp[1] if exp is not None and final else size
            if isinstance(most, int) and ch.replications > most:
                return (f"chunk {c} records {ch.replications} replications, more than the "
                        f"{most} the run's plan gives it")
        total = int(man["replications"]) * int(man.get("points") or 1)
        done = sum(ch.replications for ch in chunks.values())
        if final and done > total:
            return f"it records {done:,} replications, more than the {total:,} planned"
        return None

    def log_problems(self, man: dict[str, Any], chunks: dict[int, Chunk]) -> list[str]:
        """What is wrong with the log itself (for `verify`): a line that is neither a record
        nor the start of one cut short by a kill, a record without its fields, a
        replication counted twice or in the wrong chunk (from the stored `authority`
        parts, one row per replication), fewer replications than a complete run holds."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        out: list[str] = []
        live: dict[Any, int] = {}
        try:
            lines = (self.path / LOG).read_bytes().split(b"\n")
        except FileNotFoundError:
            lines = []
        for k, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except (ValueError, UnicodeDecodeError):
                if not (line.startswith(b'{"run":') and not line.rstrip().endswith(b"}")):
                    out.append(f"line {k} of {LOG} is not a chunk record")
                continue  # the start of a record a kill cut short: it never counted
            if not isinstance(rec, dict) or not {"run", "chunk"} <= rec.keys() or not (
                    rec.get("drop") or {"replications", "events", "parts"} <= rec.keys()):
                out.append(f"line {k} of {LOG} is not a chunk record")
                continue
            if rec["run"] != man["run_id"]:
                continue
            # the writer drops a chunk before it writes it again: a second record of a
            # chunk that was never dropped is a line rareshock did not write
            if rec.get("drop"):
                live.pop(rec["chunk"], None)
            elif rec["chunk"] in live:
                out.append(f"line {k} of {LOG} records chunk {rec['chunk']} again (first at "
                           f"line {live[rec['chunk']]}) without dropping it")
            else:
                live[rec["chunk"]] = k
        why = self.double_counted(man, chunks)
        if why:
            out.append(f"{LOG} counts replications twice: {why}")
        reps = int(man["replications"])
        for c, ch in chunks.items():
            exp = self._expected(man, c)
            part = ch.parts.get("authority")
            if exp is None or part is None or c in self.problems(True, {c: ch}):
                continue  # a damaged part is reported as such
            t = pq.ParquetFile(pa.BufferReader((self.path / part.file).read_bytes())).read(
                use_threads=False)  # a few rows: Arrow's thread pool is not worth starting
            rep = t.column("replication").to_pylist()
            point = t.column("point").to_pylist() if "point" in t.column_names else None
            got = [(point[i] if point else 0) * reps + r for i, r in enumerate(rep)]
            want = list(range(exp[0], exp[0] + ch.replications))
            if sorted(got) != want:
                out.append(f"chunk {c} holds replications other than the {ch.replications} "
                           f"its line in {LOG} records")
        total = reps * int(man.get("points") or 1)
        done = sum(ch.replications for ch in chunks.values())
        if man.get("state") == "complete" and done != total:
            out.append(f"the manifest says the run is complete with {total:,} replications, "
                       f"but {LOG} records {done:,}")
        return out

    def problems(self, checksums: bool = False,
                 chunks: dict[int, Chunk] | None = None) -> dict[int, str]:
        """Damage to the listed parts, by chunk: a part missing, of the wrong size, or (with
        `checksums`) with the wrong checksum."""
        bad: dict[int, str] = {}
        for c, ch in (chunks if chunks is not None else self.chunks()).items():
            for part in ch.parts.values():
                f = self.path / part.file
                try:
                    size = f.stat().st_size
                except FileNotFoundError:
                    bad[c] = f"{part.file} is missing"
                    break
                if size != part.bytes:
                    bad[c] = f"{part.file} has {size:,} bytes, not the {part.bytes:,} recorded"
                    break
                if checksums and digest(f.read_bytes()) != part.sha256:
                    bad[c] = f"{part.file} does not match its recorded checksum"
                    break
        return bad

    def unlisted(self, chunks: dict[int, Chunk] | None = None) -> list[str]:
        """Files in the table folders that no finished chunk lists (temporaries aside)."""
        listed = {p.file for ch in (chunks if chunks is not None else self.chunks()).values()
                  for p in ch.parts.values()}
        out = []
        for t in TABLES:
            d = self.path / t
            if d.is_dir():
                out += [f"{t}/{f.name}" for f in sorted(d.iterdir())
                        if not f.name.startswith(".") and f"{t}/{f.name}" not in listed]
        return out

    def open_header(self) -> dict[str, Any]:
        """`header()` of an existing folder ("no such folder", "not a folder" otherwise)."""
        p = self.path
        if not p.exists():
            raise FolderError(str(p), "no such folder")
        if not p.is_dir():
            raise FolderError(str(p), "not a folder")
        return self.header()

    def check(self) -> dict[str, Any]:
        """The manifest of a finished (or partial) run, its parts sound by size; FolderError
        if there is none, or a listed part is missing or truncated. Files nobody listed are
        ignored with one warning."""
        p = self.path
        man = self.open_header()
        self._header = man
        self.config_bytes()  # the config the tables are of, unedited
        chunks = self.chunks(man["run_id"])
        if not chunks:
            raise FolderError(str(p), "holds no finished replications yet: continue the run "
                              "into it", ("resume",))
        twice = self.double_counted(man, chunks)
        if twice:
            raise FolderError(str(p), f"{LOG} counts replications twice ({twice}); run "
                              "`rareshock verify` on it, and run it again into a new folder")
        total = int(man["replications"]) * int(man.get("points") or 1)
        done = sum(ch.replications for ch in chunks.values())
        if man.get("state") == "complete" and done < total:
            raise FolderError(str(p), f"{LOG} records {done:,} replications of a run the "
                              f"manifest says finished with {total:,} (the log was cut "
                              "short); resuming the run recomputes the rest", ("resume",))
        bad = self.problems(chunks=chunks)
        if bad:
            c, why = next(iter(bad.items()))
            more = f" (and {len(bad) - 1} more chunks)" if len(bad) > 1 else ""
            raise FolderError(str(p), f"chunk {c} is damaged: {why}{more}; resuming the run "
                              "recomputes it", ("resume",))
        stray = self.unlisted(chunks)
        if stray and not self._warned:
            self._warned = True
            shown = ", ".join(stray[:3]) + (f" and {len(stray) - 3} more" if len(stray) > 3
                                              else "")
            log.warning("%s: ignoring %d file%s not listed in %s: %s", p, len(stray),
                        "s" if len(stray) > 1 else "", LOG, shown)
        self._header = man
        return man

    def read_arrow(self, table: str, columns: Iterable[str] | None = None,
                   checksums: bool = True) -> pa.Table:
        """One dataset as an Arrow table: exactly the parts the log lists, in chunk order
        (so ordered by replication, each part in its original row order), each checked
        against its recorded size and sha256 checksum (hashing takes a few percent of
        the time decoding takes)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        chunks = self.chunks()
        files = [ch.parts[table] for ch in chunks.values() if table in ch.parts]
        if not files:
            raise FolderError(str(self.path), f"no {table!r} results stored here")
        cols = list(columns) if columns is not None else None
        tables = []
        for part in files:
            data = self._part_bytes(part, checksums)
            tables.append(pq.ParquetFile(pa.BufferReader(data)).read(columns=cols,
                                                                     use_threads=False))
        out = pa.concat_tables(tables)
        if table == "authority":
            self._check_once(out)
        return out

    def _check_once(self, t: pa.Table) -> None:
        """Refuse an authority table (one row per replication) holding a replication
        twice: the log counts it twice."""
        import numpy as np

        if "replication" not in t.column_names:
            return
        keys = numpy_column(t.column("replication")).astype(np.int64)
        if "point" in t.column_names:
            keys = keys + numpy_column(t.column("point")).astype(np.int64) * (
                int(keys.max(initial=0)) + 1)
        if len(np.unique(keys)) != len(keys):
            raise FolderError(str(self.path), f"{LOG} counts some replications twice (the "
                              "parts it lists hold them more than once); run `rareshock "
                              "verify` on it, and run it again into a new folder")

    def _part_bytes(self, part: Part, checksum: bool) -> bytes:
        f = self.path / part.file
        try:
            data = f.read_bytes()
        except FileNotFoundError:
            raise FolderError(str(self.path), f"{part.file} is missing (listed in {LOG}); "
                              "resuming the run recomputes it", ("resume",)) from None
        if len(data) != part.bytes:
            why = f"has {len(data):,} bytes, not the {part.bytes:,} recorded in {LOG}"
        elif checksum and digest(data) != part.sha256:
            why = f"does not match the sha256 checksum recorded in {LOG}"
        else:
            return data
        raise FolderError(str(self.path), f"{part.file} is damaged: it {why}; "
                          "`rareshock verify` lists every damaged part, and resuming the "
                          "run recomputes them", ("resume",))

    def read(self, table: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """One dataset as a DataFrame (see `read_arrow`)."""
        return self.read_arrow(table, columns).to_pandas()

    def read_columns(self, table: str, columns: Iterable[str] | None = None,
                     ) -> dict[str, np.ndarray]:
        """One dataset as numpy columns (strings as object arrays), without pandas."""
        t = self.read_arrow(table, columns)
        return {name: numpy_column(t.column(name)) for name in t.column_names}

    def config_bytes(self) -> bytes:
        """config.toml, checked against the checksum the manifest recorded when the run
        began; FolderError if it was edited since."""
        man = self._header or self.header()
        try:
            data = (self.path / CONFIG).read_bytes()
        except FileNotFoundError:
            raise FolderError(str(self.path), f"{CONFIG} is missing") from None
        if digest(data) != man["config_file_sha256"]:
            raise FolderError(str(self.path), f"{CONFIG} was changed after the run began (its "
                              "checksum is not the one the manifest recorded): the tables "
                              "are of the config that ran, not of this file; restore it, or "
                              "run the edited config into a new folder")
        return data

    def config(self) -> Config:
        """The config that ran (config.toml, checked against the manifest)."""
        import tomllib

        from ..config.loading import config_from_dict

        data = self.config_bytes()
        known = _WROTE.get(digest(data))
        if known is not None:
            return known
        return config_from_dict(tomllib.loads(data.decode()), str(self.path / CONFIG))

    # ------------------------------------------------------------------ the lock

    @contextlib.contextmanager
    def locked(self) -> Iterator[ResultsDir]:
        """Hold the folder's write lock (creating the folder if need be); FolderError naming
        the holder if another process has it. A lock whose holder died is free (the
        operating system releases it with the process). Re-entrant within a process."""
        import fcntl

        created = self._make_folder()
        key = self.path.resolve()
        if key in _HELD:
            _HELD[key][1] += 1
            try:
                yield self
            finally:
                _HELD[key][1] -= 1
            return
        path = self.path / LOCK
        with self._writing(LOCK):
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 4096).decode(errors="replace").strip()
            os.close(fd)
            try:
                who = json.loads(holder)
                desc = f"process {who['pid']} on {who['host']}, since {who['started']}"
            except (ValueError, KeyError, TypeError):
                desc = "another process"
            raise FolderError(str(self.path), f"is being written by another rareshock run "
                              f"({desc}); wait for it to finish, or stop it") from None
        _HELD[key] = [fd, 1, 0]  # fd, depth, whether the holder is written in the file
        try:
            yield self
        finally:
            del _HELD[key]
            if created and [e.name for e in self.path.iterdir()] == [LOCK]:
                # nothing was written (bad input found after the folder was made): leave
                # no empty folder behind
                path.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    self.path.rmdir()
            os.close(fd)  # releases the lock; the file stays (removing it would race)

    @contextlib.contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """Turn a failed write (disk full, read-only folder...) into bad input that names
        the folder and the file."""
        try:
            yield
        except OSError as exc:
            raise FolderError(str(self.path), f"cannot write {what} "
                              f"({exc.strerror or exc}); free some space or fix the folder's "
                              "permissions, then continue the run", ("resume",)) from None

    def _make_folder(self) -> bool:
        """Create the folder if need be; returns whether it was created."""
        p = self.path
        if p.exists() and not p.is_dir():
            raise FolderError(str(p), "exists and is not a folder")
        if p.is_dir():
            return False
        try:
            p.mkdir(parents=True)
        except FileExistsError:
            return False
        except OSError as exc:
            raise FolderError(str(p), f"cannot create the folder ({exc.strerror or exc})") \
                from None
        return True

    def _require_lock(self) -> None:
        """Refuse to write without the lock; name this process in the lock file before the
        first write (not before: a command refused for bad input leaves the folder as it
        was)."""
        held = _HELD.get(self.path.resolve())
        if held is None:
            raise RuntimeError(f"{self.path}: writing without holding the folder's lock")
        if not held[2]:
            fd = held[0]
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                      "started": time.strftime("%Y-%m-%d %H:%M:%S")}
                                     ).encode(), 0)
            held[2] = 1

    # ------------------------------------------------------------------ creation

    def _entries(self) -> list[str]:
        """What the folder holds, leaving out the lock and the temporary files of writes cut
        short (a folder holding only those is as good as empty)."""
        return [e.name for e in self.path.iterdir() if e.name != LOCK
                and not (e.name.startswith(".") and e.name.endswith(".tmp"))]

    def precheck(self, resume: bool, overwrite: bool, kind: str | None = None) -> None:
        """The refusals `prepare` would make that need no lock, made before the lock is
        taken, so that a refused command leaves the folder as it was (not even a lock
        file): a file in the way, a folder in use without `resume` or `overwrite`, a
        folder that is not rareshock's to resume or replace."""
        p = self.path
        if p.exists() and not p.is_dir():
            raise FolderError(str(p), "exists and is not a folder")
        if not p.is_dir() or not self._entries():
            return
        if resume:
            try:
                self.header()
            except FolderError as exc:
                raise FolderError(str(p), f"cannot resume: {exc.message}", exc.remedies) \
                    from None
        elif overwrite:
            self._overwritable(kind)
        else:
            raise FolderError(str(p), "results folder exists", ("resume", "overwrite"))

    def _overwritable(self, kind: str | None = None) -> dict[str, Any]:
        """The manifest of the run `overwrite` would replace; FolderError if the folder has
        no readable manifest (then what rareshock wrote cannot be told from other files),
        or holds another kind of results than `kind` (a sweep, not a run...)."""
        p = self.path
        try:
            old = self.manifest()
        except FolderError as exc:
            raise FolderError(str(p), f"cannot overwrite: {exc.message}, so what rareshock "
                              "wrote here cannot be told from other files; remove the "
                              "folder yourself, or choose another") from None
        if old is None:
            raise FolderError(str(p), f"cannot overwrite: it is not a rareshock results "
                              f"folder (no {MANIFEST}) and it is not empty; choose another "
                              "folder")
        held = old.get("kind", "run")
        if kind is not None and held != kind:
            raise FolderError(str(p), f"cannot overwrite: it holds a {held}, and only a "
                              f"{kind} replaces a {kind}; choose another folder")
        return old

    def prepare(self, cfg: Config, meta: dict[str, Any], resume: bool,
                overwrite: bool) -> set[int]:
        """Create the folder (or reopen it with `resume`, or replace its run with
        `overwrite`); returns the chunks already done. Needs the lock (`locked`).

        Raises FolderError (bad input) if the folder holds something and neither `resume`
        nor `overwrite` is given, if `resume` finds a different run, or if `overwrite` is
        asked of a folder rareshock did not write.
        """
        p = self.path
        digest_cfg = config_hash(cfg)
        entries = self._entries()
        if entries and resume:
            return self._reopen(cfg, meta, digest_cfg)
        if entries and not overwrite:
            raise FolderError(str(p), "results folder exists", ("resume", "overwrite"))
        # overwrite: only a folder whose manifest says what rareshock wrote
        old = self._overwritable(meta.get("kind", "run")) if entries else None
        text = config_toml(cfg)
        sha = digest(text)
        header = {"format": FORMAT, "run_id": secrets.token_hex(8), "kind": "run", **meta,
                  "config_sha256": digest_cfg, "config_file_sha256": sha,
                  "state": "running", "outputs": [],
                  "created": time.strftime("%Y-%m-%d %H:%M:%S")}
        # The new manifest first: from here on the old run's chunks are not this folder's.
        self.write_manifest(header)
        self._remove_temporaries()
        if old is not None:
            self._remove_run(old)
        with self._writing(CONFIG):
            atomic_write_bytes(p / CONFIG, text)
        _remember(sha, cfg)
        return set()

    def _reopen(self, cfg: Config, meta: dict[str, Any], digest_cfg: str) -> set[int]:
        p = self.path
        try:
            man = self.header()
        except FolderError as exc:
            raise FolderError(str(p), f"cannot resume: {exc.message}", exc.remedies) from None
        if man.get("config_sha256") != digest_cfg:
            raise FolderError(str(p), "cannot resume: the resolved config differs from "
                              "the stored one", ("overwrite",))
        stored_n = int(man.get("replications", 0))
        if int(meta.get("replications", 0)) < stored_n:
            raise FolderError(str(p), f"cannot resume with fewer replications than the "
                              f"{stored_n} it already holds (give at least that many)")
        if man.get("kind", "run") != meta.get("kind", "run"):
            raise FolderError(str(p), f"cannot resume: it holds a {man.get('kind', 'run')}, "
                              f"not a {meta.get('kind', 'run')}")
        for key in ("chunk_size", "seed", "crn"):
            if man.get(key) != meta.get(key):
                raise FolderError(str(p), f"cannot resume: {key} differs from the stored "
                                  f"run ({man.get(key)} vs {meta.get(key)})")
        self._require_lock()
        self._remove_temporaries()
        text = config_toml(cfg)
        try:
            current = (p / CONFIG).read_bytes()
        except FileNotFoundError:
            current = None
        if current != text:
            if current is not None:
                log.warning("%s: %s differed from the config that ran; written again", p,
                            CONFIG)
            with self._writing(CONFIG):
                atomic_write_bytes(p / CONFIG, text)
        man["config_file_sha256"] = sha = digest(text)
        _remember(sha, cfg)
        man["state"] = "running"
        self.write_manifest(man)
        chunks = self.chunks(man["run_id"])
        bad = self.problems(checksums=True, chunks=chunks)
        for c, why in bad.items():
            log.warning("%s: chunk %d will be recomputed: %s", p, c, why)
            self.drop_chunk(c)
        return {c for c in chunks if c not in bad}

    def _remove_run(self, old: dict[str, Any]) -> None:
        """Delete what the replaced run wrote: its listed parts and outputs, its log."""
        rid = old.get("run_id")
        if rid is not None:
            for ch in self.chunks(rid).values():
                for part in ch.parts.values():
                    _delete(self.path / part.file)
        else:  # an older folder (format 1): its parts are every part-NNNNN.parquet
            for t in TABLES:
                d = self.path / t
                if d.is_dir():
                    for f in d.iterdir():
                        if PART.match(f.name):
                            _delete(f)
        for name in [*old.get("outputs", []), *OUTPUTS]:
            if not isinstance(name, str) or Path(name).is_absolute() or ".." in Path(
                    name).parts or not name.strip(". /"):
                continue  # an edited manifest naming something outside the folder
            f = self.path / name
            if f.is_dir() and not f.is_symlink():  # a folder it wrote (a calibration's
                shutil.rmtree(f)                   # predictive run)
            else:
                _delete(f)
        _delete(self.path / LOG)
        self._remove_temporaries()

    def _remove_temporaries(self) -> None:
        """Delete the temporary files of writes cut short (a run killed mid-write)."""
        for d in (self.path, *(self.path / t for t in TABLES), self.path / "plots"):
            if d.is_dir():
                for f in d.glob(".*.tmp"):
                    f.unlink(missing_ok=True)

    # ------------------------------------------------------------------ writing

    def write_manifest(self, data: dict[str, Any]) -> None:
        self._require_lock()
        with self._writing(MANIFEST):
            atomic_write_bytes(self.path / MANIFEST, json.dumps(data, indent=1).encode())
        self._header = data

    def update_manifest(self, **fields: Any) -> dict[str, Any]:
        """Merge `fields` into the manifest and write it (needs the lock)."""
        self._require_lock()
        man = self.header()
        man.update(fields)
        self.write_manifest(man)
        return man

    def _append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        with self._writing(LOG):
            fd = os.open(self.path / LOG, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o666)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # end a line a kill cut short: it stays unreadable
                if fault_hook is not None:
                    fault_hook("append", self.path / LOG, line)
                if os.write(fd, line) != len(line):
                    raise OSError(28, "the line was not written whole")
                os.fsync(fd)
            finally:
                os.close(fd)

    def write_chunk(self, chunk: int, tables: dict[str, bytes], replications: int,
                    events: int) -> None:
        """Write one chunk's parts (parquet files' bytes, as the workers encode them), then
        record it in the log: only then does it count as done."""
        self._require_lock()
        rid = self.header()["run_id"] if self._header is None else self._header["run_id"]
        parts = {}
        for name, data in tables.items():
            rel = f"{name}/part-{chunk:05d}.parquet"
            with self._writing(rel):
                atomic_write_bytes(self.path / rel, data)
            parts[name] = {"file": rel, "bytes": len(data), "sha256": digest(data)}
        self._append({"run": rid, "chunk": chunk, "replications": replications,
                      "events": events, "parts": parts})

    def drop_chunk(self, chunk: int) -> None:
        """Record that a chunk is no longer done (it is about to be written again)."""
        self._require_lock()
        rid = self.header()["run_id"] if self._header is None else self._header["run_id"]
        self._append({"run": rid, "chunk": chunk, "drop": True})

    def record_output(self, name: str) -> None:
        """List a file written into the folder (a plot...) as the run's, so that replacing
        the run removes it and nothing else (needs the lock)."""
        man = self.header()
        if name not in man.get("outputs", []):
            self.update_manifest(outputs=[*man.get("outputs", []), name])

    def write_output(self, name: str, data: bytes) -> Path:
        """Write a file computed from the tables (summary.csv, plots/...) and list it in the
        manifest, so that replacing the run removes it and nothing else."""
        self._require_lock()
        path = self.path / name
        with self._writing(name):
            atomic_write_bytes(path, data)
        self.record_output(name)
        return path
