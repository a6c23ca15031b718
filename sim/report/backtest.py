"""The back-test written out: CSV tables, a Markdown report, the exports plot and the
report page's back-test section."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..calibration.backtest import Backtest
from .figures import Album, save, subplots
from .html import Section, figures, frame_table
from .text import markdown_table, md_text

# file name -> (alt text, the one sentence that says how to read the figure)
CAPTIONS: dict[str, tuple[str, str]] = {
    "backtest_exports.png": (
        "Back-test: simulated monthly export ratios against the observations",
        "the band holds 90% of replications and the line their median; filled squares are "
        "observations the calibration saw (fit window), open squares are held out."),
    "posterior_predictive.png": (
        "Posterior predictive monthly export ratios against the observations",
        "the band holds 90% of posterior predictive replications; filled squares were in "
        "the fit window, open squares were held out, so they test the fit."),
}


SCORES_NOTE = (
    "Scores of the monthly ratios (lower is better; `sim/calibration/scores.py`): `crps` is "
    "the mean CRPS of the replications' empirical distribution; `interval_score_90` the "
    "mean interval score of P5-P95 (Gneiting & Raftery 2007: width plus 20 times any miss); "
    "`above_median` the observations above the simulated median; `band_over_observed` the "
    "median width of P5-P95 over the observed value. Skill = 1 - CRPS / CRPS of a naive "
    "forecast (a point, scored by its absolute error): persistence of the last fitted "
    "month's observed ratio (held-out months only) and the 2024 level (a ratio of 1); 1 is "
    "perfect, 0 no better than the naive forecast. `in` = fit window, `out` = held out, "
    "`all` = both. The downtime table's `crps_vs_range` is the CRPS against the reported "
    "range as an interval-censored observation (0 when every replication is inside it).")


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
        "### Proper scores", "",
        SCORES_NOTE, "",
        markdown_table(bt.scores, "{:.3f}"), "",
        *(["### Level before the controls", "",
           "Simulated exports per day over the whole months before the first control, as "
           "tonnes per month (a twelfth of a year at that rate) and as a ratio to the "
           "observed reference level (2024's for 2025); within: P5-P95 within 10% of it.",
           "", markdown_table(bt.level, "{:.2f}"), ""] if len(bt.level) else []),
        "### First stoppages", "",
        markdown_table(bt.stoppages, "{:.2f}"), "",
        *(["### Downtime against the reports", "",
           "Days below plan (stopped or on a substitute) within the window, per "
           "replication, against the reported range; overlap: the simulated P5-P95 and the "
           "reported range share a day.", "",
           markdown_table(bt.downtimes, "{:.1f}"), ""] if len(bt.downtimes) else []),
        *(["### Peak prices against the reports", "",
           "The peak of the simulated price index within the window (as sampled), per "
           "replication, against the reported range of peak over pre-control price.", "",
           markdown_table(bt.prices, "{:.2f}"), ""] if len(bt.prices) else []),
        "### Applications approved", "",
        markdown_table(bt.approvals, "{:.2f}"), "",
    ])


def write_backtest(bt: Backtest, out: Path, title: str) -> list[Path]:
    """CSV tables and a Markdown report (`backtest.md`, last) in `out`; returns the paths."""
    from ..run.store import atomic_write_bytes

    files = {"backtest_exports.csv": bt.exports, "backtest_errors.csv": bt.errors,
             "backtest_stoppages.csv": bt.stoppages, "backtest_approvals.csv": bt.approvals,
             "backtest_downtimes.csv": bt.downtimes, "backtest_scores.csv": bt.scores,
             "backtest_level.csv": bt.level,
             **({"backtest_prices.csv": bt.prices} if len(bt.prices) else {})}
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


def backtest_section(bt: Backtest, title: str, figure_name: str) -> Section:
    """The report page's back-test: the exports plot (drawn as `figure_name`) and the
    back-test's tables."""
    album = Album()
    plot_backtest(bt, album, title, figure_name)
    sec = Section("backtest", "Back-test against the observations",
                  ["Observed and simulated controlled exports per day in each month, over "
                   "the same level before the controls; in = fit window, out = held out "
                   "(not used for fitting)."])
    sec.items += figures(album.figures, CAPTIONS, "bt")
    for df, caption in ((bt.exports, "Monthly exports, ratio to the level before the "
                         "controls"), (bt.errors, "Error measures"),
                        (bt.scores, "Proper scores: CRPS, interval score, skill against "
                         "persistence and the 2024 level"),
                        (bt.level, "Level before the controls"),
                        (bt.stoppages, "First stoppages against the reported dates"),
                        (bt.downtimes, "Downtime within the window against the reports"),
                        (bt.prices, "Peak prices against the reports"),
                        (bt.approvals, "Applications approved")):
        if len(df):
            sec.items.append(frame_table(df, caption, default="{:.3g}", row_headers=False))
    return sec
