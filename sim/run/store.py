"""The results folder: resolved config, manifest, parquet datasets written atomically.

Layout (DESIGN §4)::

    results/<run>/config.toml            the fully resolved config that ran
    results/<run>/manifest.json          version, seed, replications, chunks done, timings
    results/<run>/<table>/part-NNNNN.parquet   one part per chunk, per table

Every file is written to a temporary name in the same folder and renamed into place, so a
run killed at any moment leaves only whole files behind, and resuming redoes exactly the
chunks the manifest does not list as done.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config.loading import config_dict
from ..config.schema import Config
from ..errors import FolderError
from .work import TABLES

if TYPE_CHECKING:  # pandas and pyarrow are imported where tables are read, so the parent
    import numpy as np  # of a batch, which only writes the workers' bytes, does without
    import pandas as pd
    import pyarrow as pa

MANIFEST = "manifest.json"
CONFIG = "config.toml"
OUTPUTS = ("summary.csv", "points.csv", "sensitivity.csv", "discovery.csv",
           "discovery-trajectory.csv")
"""Files written from the stored tables (a sweep writes all five, a run the first)."""


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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename.

    The temporary file is created with mode 0666 less the process umask (as any new file),
    under a name no other writer uses (`.NAME.PID.RANDOM.tmp`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_temporaries(folder: Path) -> None:
    """Delete the temporary files of writes cut short (a run killed mid-write)."""
    for d in (folder, *(folder / t for t in TABLES)):
        if d.is_dir():
            for f in d.glob(".*.tmp"):
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


class ResultsDir:
    """One run's results folder."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # ------------------------------------------------------------------ creation

    def prepare(self, cfg: Config, meta: dict[str, Any], resume: bool, overwrite: bool) -> set[int]:
        """Create (or reopen with `resume`) the folder; returns the chunk ids already done.

        Raises FolderError (bad input) if the folder exists and neither `resume` nor
        `overwrite` is given, or if `resume` finds a different run stored.
        """
        p = self.path
        digest = config_hash(cfg)
        if p.exists() and not p.is_dir():
            raise FolderError(str(p), "exists and is not a folder")
        exists = p.is_dir() and any(p.iterdir())
        if exists and resume:
            man = self.manifest()
            if man is None:
                raise FolderError(str(p), "cannot resume: no manifest.json here")
            if man.get("config_sha256") != digest:
                raise FolderError(str(p), "cannot resume: the resolved config differs from "
                                  "the stored one", ("overwrite",))
            stored_n = int(man.get("replications", 0))
            if int(meta.get("replications", 0)) < stored_n:
                raise FolderError(str(p), f"cannot resume with fewer replications than the "
                                  f"{stored_n} it already holds (give at least that many)")
            if man.get("kind", "run") != meta.get("kind", "run"):
                raise FolderError(str(p), f"cannot resume: it holds a "
                                  f"{man.get('kind', 'run')}, not a {meta.get('kind', 'run')}")
            for key in ("chunk_size", "seed", "crn"):
                if man.get(key) != meta.get(key):
                    raise FolderError(str(p), f"cannot resume: {key} differs from the stored "
                                      f"run ({man.get(key)} vs {meta.get(key)})")
            remove_temporaries(p)
            return {int(c) for c in man.get("chunks_done", [])}
        if exists and not overwrite:
            raise FolderError(str(p), "results folder exists", ("resume", "overwrite"))
        if exists and overwrite:
            self._clear()
        p.mkdir(parents=True, exist_ok=True)
        import tomli_w

        atomic_write_bytes(p / CONFIG, tomli_w.dumps(config_dict(cfg)).encode())
        self.write_manifest({**meta, "config_sha256": digest, "chunks_done": []})
        return set()

    def _clear(self) -> None:
        """Remove what a previous run wrote (only our own files and folders)."""
        remove_temporaries(self.path)
        for name in TABLES:
            d = self.path / name
            if d.is_dir():
                for f in d.glob("*.parquet"):
                    f.unlink()
        for name in (MANIFEST, CONFIG, *OUTPUTS):
            (self.path / name).unlink(missing_ok=True)
        plots = self.path / "plots"
        if plots.is_dir():
            for f in plots.glob("*.png"):
                f.unlink()

    # ------------------------------------------------------------------ manifest

    def manifest(self) -> dict[str, Any] | None:
        f = self.path / MANIFEST
        if not f.is_file():
            return None
        try:
            return json.loads(f.read_text())
        except (OSError, ValueError):
            return None

    def write_manifest(self, data: dict[str, Any]) -> None:
        atomic_write_bytes(self.path / MANIFEST, json.dumps(data, indent=2).encode())

    # ------------------------------------------------------------------ parts

    def write_chunk(self, chunk: int, tables: dict[str, bytes]) -> None:
        """Write one chunk's parts: parquet files' bytes, as the workers encode them."""
        for name, data in tables.items():
            atomic_write_bytes(self.path / name / f"part-{chunk:05d}.parquet", data)

    def read_arrow(self, table: str, columns: Iterable[str] | None = None) -> pa.Table:
        """One dataset as an Arrow table, its parts in chunk order (so ordered by
        replication, each part in its original row order)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        files = sorted((self.path / table).glob("part-*.parquet"))
        if not files:
            raise FolderError(str(self.path), f"no {table!r} results stored here")
        cols = list(columns) if columns is not None else None
        return pa.concat_tables([pq.ParquetFile(f).read(columns=cols) for f in files])

    def read(self, table: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """One dataset as a DataFrame (see `read_arrow`)."""
        return self.read_arrow(table, columns).to_pandas()

    def read_columns(self, table: str, columns: Iterable[str] | None = None,
                     ) -> dict[str, np.ndarray]:
        """One dataset as numpy columns (strings as object arrays), without pandas."""
        t = self.read_arrow(table, columns)
        return {name: numpy_column(t.column(name)) for name in t.column_names}

    def check(self) -> dict[str, Any]:
        """The manifest of a finished (or partial) run; FolderError if there is none."""
        p = self.path
        if not p.exists():
            raise FolderError(str(p), "no such folder")
        if not p.is_dir():
            raise FolderError(str(p), "not a folder")
        man = self.manifest()
        if man is None:
            raise FolderError(str(p), "holds no rareshock results (no manifest.json)")
        if not any((p / "replications").glob("part-*.parquet")):
            raise FolderError(str(p), "holds no finished replications yet: continue the run "
                              "into it", ("resume",))
        return man

    def config(self) -> Config:
        from ..config.loading import load_config

        return load_config(self.path / CONFIG)
