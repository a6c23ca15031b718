"""A folder's documents for people: its HTML report, and its plots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..analysis.stored import StoredRun
from ..errors import ArgumentError
from ..report.write import write_report
from ..run.phases import phase
from ..run.store import MANIFEST, atomic_write_bytes

PLOTS_MARK = ".rareshock-plots"
"""The file that says a folder outside the results folder was made by `plot(out=...)`."""


def report(path: Path) -> Path:
    """Write `report.html` into the run, sweep, comparison or calibration folder `path`."""
    return write_report(path)


def plots(res: StoredRun, draw: Callable[[StoredRun, Path], list[Path]],
          out: Path | None) -> list[Path]:
    """Draw into `out`; plots drawn into the results folder are listed in its manifest (so
    replacing the run removes them), under the folder's lock."""
    phase(f"drawing plots into {out if out is not None else res.path / 'plots'}...")
    if out is not None:
        claim_plot_folder(out, res.path)
        return draw(res, out)
    with res.store.locked():
        paths = draw(res, res.path / "plots")
        for p in paths:
            res.store.record_output(str(p.relative_to(res.path)))
    return paths


def claim_plot_folder(out: Path, source: Path) -> None:
    """Plots drawn outside the results folder go into a new or empty folder, or one an
    earlier `plot(out=...)` made (it holds PLOTS_MARK): never over a user's files, nor into
    a results folder (its own plots go into its `plots/`)."""
    if out.exists() and not out.is_dir():
        raise ArgumentError("out", str(out), "exists and is not a folder")
    here = out.absolute().resolve()
    if here == source.absolute().resolve() or (out / MANIFEST).exists():
        raise ArgumentError("out", str(out), "is a results folder: leave out `out` to draw "
                            "into its plots/ folder, or choose a new folder")
    if out.is_dir() and any(out.iterdir()) and not (out / PLOTS_MARK).is_file():
        raise ArgumentError("out", str(out), "is not empty and was not made by rareshock's "
                            "plot: choose a new folder")
    atomic_write_bytes(out / PLOTS_MARK, f"plots of {source}\n".encode())
