"""Figures without pyplot: every plot is a `matplotlib.figure.Figure` drawn and saved
directly, so no backend is chosen for the user (a notebook keeps its own) and no figure
is left open in pyplot's registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SECTOR_COLOURS = {"auto": "tab:blue", "defence": "tab:red", "tech": "tab:green"}


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None,
             layout: str | None = "constrained", **kwargs: Any) -> tuple[Figure, Any]:
    """A new figure and its axes, as `pyplot.subplots` would give them."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout=layout)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def save(fig: Figure, path: Path, dpi: int = 110) -> Path:
    """Write `fig` as a PNG at `path` (whole, or not at all: through a temporary file)."""
    import io

    from ..run.store import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    return path
