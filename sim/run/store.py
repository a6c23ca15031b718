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

if TYPE_CHECKING:  # pandas is imported where tables are read, so the parent of a batch,
    import pandas as pd  # which only writes the workers' bytes, does without it

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

    def read(self, table: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Read one dataset, ordered by replication (and its original row order)."""
        import pandas as pd
        import pyarrow.parquet as pq

        files = sorted((self.path / table).glob("part-*.parquet"))
        if not files:
            raise FolderError(str(self.path), f"no {table!r} results stored here")
        cols = list(columns) if columns is not None else None
        frames = [pq.read_table(f, columns=cols).to_pandas() for f in files]
        return pd.concat(frames, ignore_index=True)

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
