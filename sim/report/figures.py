"""Figures without pyplot: every plot is a `matplotlib.figure.Figure` drawn and saved
directly, so no backend is chosen for the user (a notebook keeps its own) and no figure
is left open in pyplot's registry."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class Album:
    """A folder kept in memory. A plot function handed an Album where it takes its output
    folder (`save(fig, album / name)`) leaves its figures here instead of writing PNG
    files, so the HTML report shows the very figures the PNGs show, drawn as SVG."""

    figures: dict[str, Figure] = field(default_factory=dict)

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """Nothing to create (plot functions make their folder first)."""

    def __truediv__(self, name: str) -> Slot:
        return Slot(self, name)


@dataclass(frozen=True)
class Slot:
    """A figure's place in an Album (what `album / name` gives)."""

    album: Album
    name: str


LITERAL = {"text.parse_math": False, "text.usetex": False}
"""Matplotlib settings under which figures are drawn: every string is drawn as written
(labels, scenario and firm names come from users: `$x$` is not TeX, `_` not a subscript)."""


def literal(fig: Figure) -> Figure:
    """Make every text of `fig` literal (no mathtext, no TeX); ticks drawn later take
    `LITERAL` from the settings they are drawn under."""
    from matplotlib.text import Text

    for t in fig.findobj(Text):
        t.set_parse_math(False)
        t.set_usetex(False)
    return fig


def save(fig: Figure, path: Path | Slot, dpi: int = 110) -> Path | Slot:
    """Write `fig` as a PNG at `path` (whole, or not at all: through a temporary file), or
    keep it in an Album; its text drawn literally."""
    import io

    import matplotlib

    from ..run.store import atomic_write_bytes

    literal(fig)
    if isinstance(path, Slot):
        path.album.figures[path.name] = fig
        return path

    buf = io.BytesIO()
    with matplotlib.rc_context(LITERAL):
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    return path
