"""The HTML report of a results folder: `write_report` picks the page by what the folder
holds (a run, a sweep, a comparison, a calibration or an optimisation) and writes
`report.html` into it."""

from __future__ import annotations

from pathlib import Path

from ..analysis.stored import StoredRun, StoredSweep, is_sweep
from ..errors import FolderError
from ..run.phases import phase
from ..run.store import MANIFEST, ResultsDir, atomic_write_bytes, digest
from .compare import COMPARE_INFO, compare_page
from .html import Page, render

REPORT = "report.html"


def report_page(path: Path) -> Page:
    """The page that fits what the folder holds; FolderError if it holds no results.
    (A line says the page is being written once the folder is known to hold one.)"""
    said = f"writing {path / REPORT}..."
    if (path / COMPARE_INFO).is_file():
        phase(said)
        return compare_page(path)
    if not (path / MANIFEST).is_file():
        raise FolderError(str(path), "holds no results (no manifest.json or compare.json)")
    kind = ResultsDir(path).open_header().get("kind")
    if kind == "optimize":
        phase(said)
        from .optimize import optimize_page

        return optimize_page(path)
    if kind == "calibration":
        phase(said)
        from .calibration import calibration_page

        return calibration_page(path)
    res = StoredSweep(path) if is_sweep(path) else StoredRun(path)
    phase(said)
    if isinstance(res, StoredSweep):
        from .sweep.page import sweep_page

        return sweep_page(res)
    from .run.page import run_page

    return run_page(res)


def write_report(path: str | Path) -> Path:
    """Write `report.html` into the results folder at `path` and return its path. In a
    run, sweep or calibration folder it is listed in the manifest (a calibration's with
    its checksum, which `verify` checks)."""
    path = Path(path)
    page = report_page(path)
    data = render(page).encode()
    if page.kind == "comparison":
        atomic_write_bytes(path / REPORT, data)
        return path / REPORT
    store = ResultsDir(path)
    with store.locked():
        store.write_output(REPORT, data)
        if page.kind in ("calibration", "optimisation"):
            sums = dict(store.header().get("sha256", {}))
            sums[REPORT] = digest(data)
            store.update_manifest(sha256=sums)
    return path / REPORT
