"""The results folder: resolved config, manifest, parquet datasets written atomically.

Layout (DESIGN §4)::

    results/<run>/config.toml            the fully resolved config that ran
    results/<run>/manifest.json          version, seed, replications, chunks done, timings
    results/<run>/<table>/part-NNNNN.parquet   one part per chunk, per table

Every file is written to a temporary name in the same folder and renamed into place, so a
run killed at any moment leaves only whole files behind, and `--resume` redoes exactly the
chunks the manifest does not list as done.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .schema import Config

if TYPE_CHECKING:  # pandas is imported where tables are read or encoded, so the parent
    import pandas as pd  # of a batch, which only writes the workers' bytes, does without it

TABLES = ("replications", "applications", "exports", "timeseries", "authority", "policy")
MANIFEST = "manifest.json"
CONFIG = "config.toml"
OUTPUTS = ("summary.csv", "points.csv", "sensitivity.csv", "discovery.csv",
           "discovery-trajectory.csv")
"""Files written from the stored tables (a sweep writes all four, a run the first)."""


def config_dict(cfg: Config) -> dict[str, Any]:
    """The config as plain TOML-ready data (dates kept, no nulls)."""
    return cfg.model_dump(mode="python", exclude_none=True)


def config_hash(cfg: Config) -> str:
    """sha256 of the resolved config (canonical JSON), leaving out `runs.replications` so a
    resumed or extended run (more replications, same world) matches its stored config."""
    data = cfg.model_dump(mode="json")
    data["runs"].pop("replications", None)
    if data.get("sweep", 0) is None:  # configs without a [sweep] table hash as before
        del data["sweep"]
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once: os.umask can only be read by setting it


def remove_temporaries(folder: Path) -> None:
    """Delete the temporary files of writes cut short (a run killed mid-write)."""
    for d in (folder, *(folder / t for t in TABLES)):
        if d.is_dir():
            for f in d.glob(".*.tmp"):
                f.unlink(missing_ok=True)


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """`df` as the bytes of a parquet file (zstd), as every part is stored."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    """Write one parquet part atomically."""
    atomic_write_bytes(path, parquet_bytes(df))


class ResultsDir:
    """One run's results folder."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # ------------------------------------------------------------------ creation

    def prepare(self, cfg: Config, meta: dict[str, Any], resume: bool, overwrite: bool) -> set[int]:
        """Create (or reopen with `resume`) the folder; returns the chunk ids already done.

        Raises ConfigError (bad input) if the folder exists without --resume/--overwrite,
        or if --resume finds a different config.
        """
        p = self.path
        digest = config_hash(cfg)
        if p.exists() and not p.is_dir():
            raise ConfigError(str(p), "--out", "exists and is not a folder")
        exists = p.is_dir() and any(p.iterdir())
        if exists and resume:
            man = self.manifest()
            if man is None:
                raise ConfigError(str(p), "--resume", "no manifest.json here to resume from")
            if man.get("config_sha256") != digest:
                raise ConfigError(str(p), "--resume",
                                  "the resolved config differs from the stored one")
            stored_n = int(man.get("replications", 0))
            if int(meta.get("replications", 0)) < stored_n:
                raise ConfigError(str(p), "--replications", f"fewer than the {stored_n} this "
                                  "run already holds (give at least that many)")
            if man.get("kind", "run") != meta.get("kind", "run"):
                raise ConfigError(str(p), "--resume", f"holds a {man.get('kind', 'run')}, "
                                  f"not a {meta.get('kind', 'run')}")
            for key in ("chunk_size", "seed", "crn"):
                if man.get(key) != meta.get(key):
                    raise ConfigError(str(p), "--resume", f"{key} differs from the stored run "
                                      f"({man.get(key)} vs {meta.get(key)})")
            remove_temporaries(p)
            return {int(c) for c in man.get("chunks_done", [])}
        if exists and not overwrite:
            raise ConfigError(str(p), "--out",
                              "results folder exists; use --resume or --overwrite")
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

    def write_chunk(self, chunk: int, tables: dict[str, bytes | pd.DataFrame]) -> None:
        """Write one chunk's parts: parquet bytes as they are (encoded by the worker,
        `parquet_bytes`), DataFrames encoded here."""
        for name, data in tables.items():
            path = self.path / name / f"part-{chunk:05d}.parquet"
            if isinstance(data, bytes):
                atomic_write_bytes(path, data)
            else:
                write_parquet(path, data)

    def read(self, table: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Read one dataset, ordered by replication (and its original row order)."""
        import pandas as pd
        import pyarrow.parquet as pq

        files = sorted((self.path / table).glob("part-*.parquet"))
        if not files:
            raise ConfigError(str(self.path), table, "no results stored here")
        cols = list(columns) if columns is not None else None
        frames = [pq.read_table(f, columns=cols).to_pandas() for f in files]
        return pd.concat(frames, ignore_index=True)

    def check(self) -> dict[str, Any]:
        """The manifest of a finished (or partial) run; ConfigError if there is none."""
        p = self.path
        if not p.exists():
            raise ConfigError(str(p), "", "no such folder")
        if not p.is_dir():
            raise ConfigError(str(p), "", "not a folder")
        man = self.manifest()
        if man is None:
            raise ConfigError(str(p), "", "holds no rareshock results (no manifest.json)")
        if not any((p / "replications").glob("part-*.parquet")):
            raise ConfigError(str(p), "", "holds no finished replications yet (continue with "
                              "rareshock run CONFIG --resume --out DIR)")
        return man

    def config(self) -> Config:
        from .config import load_config

        return load_config(self.path / CONFIG)
