"""A comparison of scenarios on shared seeds: open or run each, then paired differences
against the first, written as compare.csv, compare.md, a plot and compare.json."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ..analysis.compare import check_comparable, compare_runs
from ..analysis.stored import StoredRun, is_sweep
from ..config import Config, load_config
from ..errors import ArgumentError, FolderError
from ..report.compare import COMPARE_INFO, compare_info, compare_markdown, plot_differences
from ..report.progress import shown_progress
from ..report.write import write_report
from ..run.execution import Execution
from ..run.phases import phase
from ..run.store import ResultsDir, atomic_write_bytes, digest
from .run import run

Source = str | Path | Config


def compare(sources: tuple[Source, ...], path: Path, ex: Execution, *,
            replications: int | None = None, seed: int | None = None,
            unpaired: bool = False, plots: bool = True
            ) -> tuple[pd.DataFrame, list[str], list[StoredRun]]:
    """Compare `sources` (results folders of runs, or configs run first into
    `path/<name>`) against the first; the table, the labels and the runs."""
    if len(sources) < 2:
        raise ArgumentError("sources", len(sources), "needs at least two scenarios to compare")
    configs, opened = open_sources(sources)
    claim_folder(path, ex.overwrite, [r.path for r in opened.values()])
    check_comparable([configs[i] if i in configs else opened[i].config
                      for i in range(len(sources))],
                     [str(opened[i].path) if i in opened else
                      (str(s) if not isinstance(s, Config) else s.name or f"config {i + 1}")
                      for i, s in enumerate(sources)])
    labels, runs = gather(sources, configs, opened, path, ex, replications, seed)
    table = compare_runs(runs, labels, paired=not unpaired)
    write(path, table, labels, runs, unpaired, plots)
    return table, labels, runs


def open_sources(sources: tuple[Source, ...]
                 ) -> tuple[dict[int, Config], dict[int, StoredRun]]:
    """The configs among `sources` (loaded), and the runs' folders (opened), by position."""
    configs = {i: s if isinstance(s, Config) else load_config(s)
               for i, s in enumerate(sources)
               if isinstance(s, Config) or Path(s).suffix == ".toml"}
    opened: dict[int, StoredRun] = {}
    for i, src in enumerate(sources):
        if i not in configs:
            opened[i] = open_run(src)
    return configs, opened


def open_run(src: str | Path) -> StoredRun:
    """A run's folder; a calibration's or a sweep's is refused."""
    if ResultsDir(src).open_header().get("kind") == "calibration":
        raise FolderError(str(src), "is a calibration folder: see its calibration.md; its "
                          f"posterior predictive run is {Path(src) / 'predictive'}")
    if is_sweep(src):
        raise FolderError(str(src), "is a sweep folder: compare runs (or configs)")
    return StoredRun(src)


def gather(sources: tuple[Source, ...], configs: dict[int, Config],
           opened: dict[int, StoredRun], path: Path, ex: Execution,
           replications: int | None, seed: int | None
           ) -> tuple[list[str], list[StoredRun]]:
    """Each scenario's label and run: configs run on the shared seed and replications
    (continued if a run is unfinished, unless `overwrite`), folders as they are."""
    first = next(iter(configs.values()), None)
    shared_seed = seed if seed is not None else (first.runs.seed if first else None)
    shared_n = replications if replications is not None else (
        first.runs.replications if first else None)
    if configs:  # the runs are the comparison's: from here on the folder is its
        mark_folder(path)
    runs: list[StoredRun] = []
    labels: list[str] = []
    for i, src in enumerate(sources):
        if i in configs:
            cfg = configs[i]
            cfg = cfg.model_copy(update={"runs": cfg.runs.model_copy(
                update={"seed": shared_seed})})
            label = unique(cfg.name or Path(str(src)).stem, labels)
            source = str(src) if not isinstance(src, Config) else None
            phase(f"scenario {i + 1} of {len(sources)}: {label} -> {path / label}")
            run_ex = ex.but(resume=not ex.overwrite, progress=shown_progress(label))
            info = run(cfg, path / label, run_ex, replications=shared_n,
                       source=source or cfg.name or "<config>")
            runs.append(StoredRun(path / label, info))
        else:
            res = opened[i]
            label = unique(res.manifest.get("name") or res.path.name, labels)
            runs.append(res)
        labels.append(label)
    for label, res in zip(labels, runs, strict=True):
        if not res.complete:
            raise FolderError(str(res.path), f"{label} is unfinished ({res.replications} of "
                              f"{res.planned} replications): continue it first", ("resume",))
    return labels, runs


def write(path: Path, table: pd.DataFrame, labels: list[str], runs: list[StoredRun],
          unpaired: bool, plots: bool) -> None:
    """compare.csv, compare.md, the plot, compare.json (complete) and the HTML report."""
    mark_folder(path)
    drawn = [str(plot_differences(runs, labels, path / "plots").relative_to(path))] \
        if plots and not runs[0].firms.empty else []
    csv = table.to_csv(index=False).encode()
    atomic_write_bytes(path / "compare.csv", csv)
    md = compare_markdown(table, labels, [str(r.path) for r in runs], not unpaired,
                          runs[0].replications, runs[0].manifest.get("seed"), drawn)
    atomic_write_bytes(path / "compare.md", md.encode())
    info = {"kind": "compare", "state": "complete", "labels": labels,
            "runs": [os.path.relpath(r.path.absolute(), path.absolute()) for r in runs],
            "paired": not unpaired, "replications": runs[0].replications,
            "seed": runs[0].manifest.get("seed"), "sha256": {"compare.csv": digest(csv)},
            "run_ids": [r.manifest["run_id"] for r in runs]}
    atomic_write_bytes(path / COMPARE_INFO, json.dumps(info, indent=1).encode())
    if plots:
        write_report(path)


def claim_folder(path: Path, overwrite: bool, inputs: list[Path]) -> None:
    """Make `path` a comparison's folder, or refuse: it must not be (or be inside) a run it
    compares, and must be new, empty, or a comparison's folder (an unfinished one is
    continued; a finished one is replaced only with `overwrite`)."""
    here = path.absolute().resolve()
    for src in inputs:
        s = src.absolute().resolve()
        if here == s or s in here.parents:
            where = "a run" if here == s else f"inside {src}, a run"
            raise FolderError(str(path), f"is {where} being compared: write the comparison "
                              "into another folder")
    if path.exists() and not path.is_dir():
        raise FolderError(str(path), "exists and is not a folder")
    if path.is_dir() and any(path.iterdir()):
        if not (path / COMPARE_INFO).exists():
            raise FolderError(str(path), f"is not empty and was not made by rareshock compare "
                              f"(no {COMPARE_INFO}): write the comparison into a new folder")
        if compare_info(path).get("state") == "complete" and not overwrite:
            raise FolderError(str(path), "holds a comparison already", ("overwrite",))


def mark_folder(path: Path) -> None:
    """Mark `path` as a comparison's, unfinished (compare.json), creating it if need be."""
    try:
        atomic_write_bytes(path / COMPARE_INFO, json.dumps(
            {"kind": "compare", "state": "running"}, indent=1).encode())
    except OSError as exc:
        raise FolderError(str(path), f"cannot write {COMPARE_INFO} "
                          f"({exc.strerror or exc})") from None


def unique(label: str, taken: list[str]) -> str:
    out, k = label, 2
    while out in taken:
        out, k = f"{label}-{k}", k + 1
    return out
