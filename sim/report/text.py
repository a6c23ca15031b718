"""Text helpers every product shares: shares and amounts for people, and Markdown that
keeps a user's strings literal."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def fmt_frac(x: float) -> str:
    return "nan" if x != x else f"{100 * x:.2f}%"


def fmt_money(x: float) -> str:
    if x != x:
        return "nan"
    for unit, div in (("bn", 1e9), ("m", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"${x / div:.2f}{unit}"
    return f"${x:.0f}"


_MD_ESCAPES = {"\\": "\\\\", "`": "\\`", "[": "\\[", "]": "\\]", "|": "\\|",
               "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r\n": " ", "\n": " ", "\r": " "}
_MD_SPECIAL = re.compile("|".join(re.escape(k) for k in _MD_ESCAPES))


def md_text(value: object) -> str:
    """A string from the user (a label, a name, a path) as literal Markdown text: `<`, `>`
    and `&` as HTML entities (no tag can open), backslashes, backticks, brackets and a
    table's pipes escaped, line breaks as spaces (it stays in its cell or line)."""
    return _MD_SPECIAL.sub(lambda m: _MD_ESCAPES[m.group(0)], str(value))


def markdown_table(df: pd.DataFrame, floatfmt: str = "{:.4g}") -> str:
    """`df` as a Markdown table, floats formatted with `floatfmt`; every header and cell
    is literal text (`md_text`)."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(md_text(c) for c in cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        cells = [md_text(floatfmt.format(v) if isinstance(v, float) else v) for v in r]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
