"""The back-test written out: CSV tables, a Markdown report and the exports plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..calibration.backtest import Backtest
from .figures import save, subplots
from .text import markdown_table, md_text


def markdown_tables(bt: Backtest) -> str:
    """The back-test's tables as Markdown."""
    return "\n".join([
        "### Monthly exports, ratio to the level before the controls (per day)", "",
        "Observed and simulated tonnes per day in the month, each over the same observed "
        "level before the shock (2024's average for 2025), so a simulated level that is off "
        "shows. `in` = fit window, `out` = held out, not used for fitting.", "",
        markdown_table(bt.exports, "{:.2f}"), "",
        "### Error measures", "",
        markdown_table(bt.errors, "{:.3f}"), "",
        "### First stoppages", "",
        markdown_table(bt.stoppages, "{:.2f}"), "",
        "### Applications approved", "",
        markdown_table(bt.approvals, "{:.2f}"), "",
    ])


def write_backtest(bt: Backtest, out: Path, title: str) -> list[Path]:
    """CSV tables and a Markdown report (`backtest.md`, last) in `out`; returns the paths."""
    from ..run.store import atomic_write_bytes

    files = {"backtest_exports.csv": bt.exports, "backtest_errors.csv": bt.errors,
             "backtest_stoppages.csv": bt.stoppages, "backtest_approvals.csv": bt.approvals}
    paths = []
    for name, df in files.items():
        atomic_write_bytes(out / name, df.to_csv(index=False).encode())
        paths.append(out / name)
    md = "\n".join([f"# Back-test: {md_text(title)}", "", markdown_tables(bt)])
    atomic_write_bytes(out / "backtest.md", md.encode())
    return [*paths, out / "backtest.md"]


def plot_backtest(bt: Backtest, out: Path, title: str,
                  name: str = "backtest_exports.png") -> list[Path]:
    """Observed against simulated monthly export ratios, one panel per observed series,
    drawn into `out / name`."""
    names = list(dict.fromkeys(bt.exports["series"])) if len(bt.exports) else []
    if not names:
        return []
    fig, axes = subplots(1, len(names), figsize=(6.5 * len(names), 4.5), squeeze=False)
    for ax, series in zip(axes[0], names, strict=True):
        g = bt.exports[bt.exports["series"] == series]
        x = np.array([np.datetime64(m + "-15") for m in g["month"]])
        ax.fill_between(x, g["sim_p5"], g["sim_p95"], alpha=0.25, color="tab:blue",
                        label="simulated P5–P95")
        ax.plot(x, g["sim_p50"], "o-", color="tab:blue", ms=3, label="simulated median")
        ins = (g["sample"] == "in").to_numpy()
        ax.plot(x[ins], g["observed"][ins], "ks", label="observed, fit window")
        ax.plot(x[~ins], g["observed"][~ins], "s", mfc="white", mec="k",
                label="observed, held out")
        ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
        ax.set_ylabel("exports per day / level before the controls")
        ax.set_title(series)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    fig.suptitle(f"Back-test: monthly controlled exports — {title}")
    return [save(fig, out / name)]
