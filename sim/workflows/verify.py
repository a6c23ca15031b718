"""Checking a results folder: its manifest, its config and every part's size and
checksum; a calibration folder's outputs and its posterior predictive run."""

from __future__ import annotations

from pathlib import Path

from ..errors import FolderError
from ..run.store import ResultsDir, digest


def verify(path: str | Path) -> list[str]:
    """Check the folder at `path`; the lines that say what was found sound (FolderError
    naming the first problem otherwise)."""
    store = ResultsDir(path)
    man = store.open_header()
    if man.get("kind") == "calibration":  # no chunks of its own: its outputs and its runs
        store.config_bytes()  # config.toml as the calibration began
        return verify_calibration(store, man)
    if man.get("kind") == "optimize":  # its outputs only
        store.config_bytes()
        check_finished(store, man, "optimisation")
        check_outputs(store, man, "optimisation")
        return [f"{store.path}: optimisation ({man.get('method')}), "
                f"{man.get('simulations', 0):,} simulations; {len(man.get('outputs', []))} "
                f"outputs present, {len(man.get('sha256', {}))} files match their sha256 "
                "checksums; config.toml is the one that ran"]
    return [verify_batch(store)]


def verify_batch(store: ResultsDir) -> str:
    """A run or sweep folder: the manifest, config.toml as the run began, every chunk
    recorded once and its parts matching their sizes and checksums, the log sound."""
    man = store.check()
    chunks = store.chunks(man["run_id"])
    bad = store.problems(checksums=True, chunks=chunks)
    if bad:
        listed = "; ".join(f"chunk {c}: {why}" for c, why in bad.items())
        raise FolderError(str(store.path), f"{len(bad)} damaged chunk"
                          f"{'s' if len(bad) > 1 else ''} ({listed}); resuming the run "
                          "recomputes them", ("resume",))
    wrong = store.log_problems(man, chunks)
    if wrong:
        raise FolderError(str(store.path), f"its log is damaged: {'; '.join(wrong)}; run it "
                          "again into a new folder")
    parts = sum(len(ch.parts) for ch in chunks.values())
    reps = sum(ch.replications for ch in chunks.values())
    total = int(man["replications"]) * int(man.get("points", 1))
    state = "complete" if reps >= total else f"unfinished: {reps:,} of {total:,}"
    return (f"{store.path}: {man.get('kind', 'run')} {man.get('name') or ''}, "
            f"{len(chunks)} chunks, {reps:,} replications ({state}), each recorded once; "
            f"{parts} parts match their sizes and sha256 checksums; config.toml is the one "
            "that ran")


def verify_calibration(store: ResultsDir, man: dict) -> list[str]:
    """A calibration folder: finished, every output it lists present and unchanged, and
    its posterior predictive run sound."""
    check_finished(store, man)
    check_outputs(store, man)
    return [*verify(store.path / "predictive"),
            f"{store.path}: calibration, {man.get('simulations', 0):,} simulations in "
            f"{man.get('generations', 0)} generations; {len(man.get('outputs', []))} outputs "
            f"present, {len(man.get('sha256', {}))} files match their sha256 checksums; "
            "config.toml is the one that ran"]


def check_finished(store: ResultsDir, man: dict, what: str = "calibration") -> None:
    if man.get("state") != "complete":
        raise FolderError(str(store.path), f"the {what} did not finish; run it again "
                          "with --overwrite", ())


def check_outputs(store: ResultsDir, man: dict, what: str = "calibration") -> None:
    """Every listed output present, and those with checksums unchanged."""
    missing = [o for o in man.get("outputs", []) if not (store.path / o).exists()]
    if missing:
        raise FolderError(str(store.path), f"missing {', '.join(missing)}; run the "
                          f"{what} again with --overwrite", ())
    changed = [o for o, h in man.get("sha256", {}).items()
               if digest((store.path / o).read_bytes()) != h]
    if changed:
        raise FolderError(str(store.path), f"{', '.join(changed)} changed since the "
                          f"{what} wrote them (sha256 differs); run the {what} again "
                          "with --overwrite", ())
