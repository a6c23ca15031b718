"""The pieces of the HTML report and the page they make: tables, figures (inline SVG, or
a base64 PNG where the SVG would be too large), sections, and the Jinja2 templates shipped
with the package (`sim/report/templates`). The page fetches nothing: CSS inline, no
scripts, no web fonts, no links to images."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..version import __version__

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

TEMPLATES = Path(__file__).parent / "templates"
SVG_LIMIT = 1_500_000  # bytes: a figure whose SVG is larger goes in as a PNG
PNG_DPI = 110


@dataclass
class Cell:
    """A table cell: its text, and the exact number behind it (`data-value`) where there
    is one, so a reader (or a test) can check the page against the CSV it came from."""

    text: str
    value: float | None = None
    key: str = ""

    @property
    def numeric(self) -> bool:
        return self.value is not None


@dataclass
class Table:
    caption: str
    columns: list[str]
    rows: list[list[Cell]]
    note: str = ""
    ident: str = ""
    row_headers: bool = True
    kind: str = "table"


@dataclass
class FigureItem:
    ident: str
    caption: str
    markup: str
    kind: str = "figure"


@dataclass
class Facts:
    pairs: list[tuple[str, str]]
    kind: str = "facts"


@dataclass
class Code:
    text: str
    title: str = ""
    folded: bool = False
    css: str = ""
    kind: str = "code"


@dataclass
class Section:
    ident: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[Any] = field(default_factory=list)


@dataclass
class Page:
    kind: str  # run, sweep, comparison, calibration, optimisation
    title: str
    folder: str
    intro: list[str]
    sections: list[Section]


def cell(x: Any, fmt: Any = None, key: str = "") -> Cell:
    """A cell from a value: numbers keep their exact value beside the formatted text."""
    import math

    if x is None:
        return Cell("", key=key)
    if isinstance(x, bool) or type(x).__name__ == "bool_":
        return Cell("yes" if x else "no", key=key)
    if isinstance(x, int | float) or hasattr(x, "dtype"):
        v = float(x)
        if math.isnan(v):
            return Cell("–", key=key)
        text = fmt(v) if callable(fmt) else (fmt or "{:.4g}").format(v)
        return Cell(text, v, key)
    return Cell(str(x), key=key)


def frame_table(df: pd.DataFrame, caption: str, *, formats: dict[str, Any] | None = None,
                note: str = "", ident: str = "", row_headers: bool = True,
                default: Any = "{:.3g}") -> Table:
    """A DataFrame as a Table: each column formatted by `formats[column]` (a format string
    or a function of the value) or `default`."""
    formats = formats or {}
    rows = [[cell(v, formats.get(c, default)) for c, v in zip(df.columns, r, strict=True)]
            for r in df.itertuples(index=False)]
    return Table(caption, [str(c).replace("_", " ") for c in df.columns], rows, note, ident,
                 row_headers)


def _svg(fig: Figure, key: str) -> str:
    """`fig` as inline SVG markup: text as text (no fonts embedded or fetched), ids
    prefixed with `key` so that several figures share the page, sized by its viewBox."""
    import matplotlib

    buf = io.StringIO()
    from .figures import LITERAL, literal

    literal(fig)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": key, **LITERAL}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r'\bid="([^"]+)"', rf'id="{key}-\1"', text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{key}-\1"', text)
    return text.replace("url(#", f"url(#{key}-")


def _png(fig: Figure) -> str:
    import matplotlib

    from .figures import LITERAL, literal

    literal(fig)
    buf = io.BytesIO()
    with matplotlib.rc_context(LITERAL):
        fig.savefig(buf, format="png", dpi=PNG_DPI, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def figure_item(fig: Figure, ident: str, alt: str, caption: str) -> FigureItem:
    """A figure for the page: inline SVG with `alt` as its accessible name, or a PNG
    `<img alt=...>` where the SVG would be larger than SVG_LIMIT."""
    from html import escape

    svg = _svg(fig, ident)
    if len(svg) <= SVG_LIMIT:
        head, rest = svg.split(">", 1)
        width = re.search(r'\swidth="([^"]*)"', head)
        head = re.sub(r'\s(width|height)="[^"]*"', "", head)
        natural = f' style="max-width: {width.group(1)}"' if width else ""
        markup = (f'{head}{natural} role="img" aria-labelledby="{ident}-title">'
                  f'<title id="{ident}-title">{escape(alt)}</title>{rest}')
    else:
        markup = (f'<img alt="{escape(alt, quote=True)}" '
                  f'src="data:image/png;base64,{_png(fig)}">')
    return FigureItem(ident, caption, markup)


def figures(album_figures: dict[str, Figure], captions: dict[str, tuple[str, str]],
            prefix: str) -> list[FigureItem]:
    """The figures an Album holds, in the order they were drawn, each with its alt text
    and reading sentence from `captions` (keyed by file name)."""
    out = []
    for name, fig in album_figures.items():
        alt, how = captions.get(name, (Path(name).stem.replace("_", " "), ""))
        out.append(figure_item(fig, f"{prefix}-{Path(name).stem}".replace("_", "-"), alt, how))
    return out


def render(page: Page) -> str:
    """The page as one HTML document."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(enabled_extensions=("html.j2",)),
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(
        kind=page.kind, title=page.title, folder=page.folder, intro=page.intro,
        sections=page.sections, version=__version__)


def rows_table(caption: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
               note: str = "", ident: str = "") -> Table:
    """A Table from rows of values (or Cells)."""
    return Table(caption, list(columns),
                 [[v if isinstance(v, Cell) else cell(v) for v in r] for r in rows], note,
                 ident)
