"""A comparison of scenarios for people: compare.md, a terminal table, the plot of the
paired differences of sector shortfall, and the comparison's report page (from compare.csv
and compare.json)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..analysis.compare import COLUMNS, per_replication
from ..analysis.stored import StoredRun
from ..errors import FolderError
from ..run.store import digest
from .figures import SECTOR_COLOURS, Album, save, subplots
from .html import Cell, Code, Page, Section, Table, figures, rows_table
from .text import markdown_table, md_text

if TYPE_CHECKING:
    import pandas as pd

COMPARE_INFO = "compare.json"  # what a comparison compared: labels, runs, pairing


# file name -> (alt text, the one sentence that says how to read the figure)
CAPTIONS: dict[str, tuple[str, str]] = {
    "compare.png": (
        "Paired differences of sector shortfall per replication",
        "each violin is one alternative's shortfall minus the reference's, replication by "
        "replication; below zero the alternative did better, the bar is the mean."),
}


def _fmt(metric: str, v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if metric in ("shortfall_frac", "stockout_share") or metric.endswith("_share"):
        return f"{100 * v:+.2f} pp" if abs(v) < 10 else f"{v:+.3g}"
    if metric == "value_lost":
        return f"{v / 1e9:+.3f} $bn" if abs(v) >= 1e8 else f"{v / 1e6:+.2f} $m"
    return f"{v:+.1f} d"


def _level(metric: str, v: float) -> str:
    if (metric in ("shortfall_frac", "stockout_share") or metric.endswith("_share")) \
            and not math.isnan(v):
        return f"{100 * v:.2f}%"
    return _fmt(metric, v).lstrip("+")


HEAD = ["metric", "alternative", "{ref} mean", "alternative mean", "difference [CI]",
        "better in", "vs best", "replications with a value ({ref} / alternative / both)"]
"""The comparison table's columns ({ref}: the reference's label)."""


def compare_head(labels: list[str]) -> list[str]:
    return [h.replace("{ref}", str(labels[0])) for h in HEAD]


def _count(v: object) -> str:
    try:
        return f"{int(v):,}"  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return "—"


def compare_rows(table: pd.DataFrame) -> list[list[str]]:
    """The table's rows as strings: metric, alternative, reference and alternative means,
    difference [CI] (or which scenario a sector is only in), share better, standing against
    the best, and how many replications have a value on each side and on both."""
    out = []
    for _, r in table.iterrows():
        what = r["name"] if r["level"] == "sector" else "authority"
        only = r.get("only_in", "")
        only = "" if not isinstance(only, str) else only
        diff = (f"only in {only}: not compared" if only else
                f"{_fmt(r['metric'], r['diff'])} [{_fmt(r['metric'], r['ci_low'])}, "
                f"{_fmt(r['metric'], r['ci_high'])}]")
        out.append([f"{what} {r['metric']}", r["alternative"],
                    _level(r["metric"], r["reference_mean"]),
                    _level(r["metric"], r["alternative_mean"]), diff,
                    "—" if math.isnan(r["share_better"]) else f"{r['share_better']:.0%}",
                    r["vs_best"] or "",
                    f"{_count(r.get('reference_n'))} / {_count(r.get('alternative_n'))} / "
                    f"{_count(r['n'])}"])
    return out


def compare_text(table: pd.DataFrame, labels: list[str]) -> str:
    """A terminal table of the comparison."""
    head = compare_head(labels)
    head[2] = labels[0]
    rows = [head, *compare_rows(table)]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    return "\n".join(lines)


TIMES_NOTE = (
    "Stock-outs: \"never happened\" is an outcome, not a missing value. stockout_share is "
    "the share of a sector's firms that stocked out (its paired difference: the change in "
    "the probability of a stock-out). tts_rmst_days is the restricted mean time to stock-out: "
    "days from the shock onset to a firm's first stock-out, a firm that never stocked out "
    "counted at the end of the measured window (in days from the start), so every "
    "replication has a value and the pairs are all the replications. ttr_days (time to "
    "recover) exists only where a firm stocked out and recovered; its difference is over the "
    "replications in which both scenarios have one, and the last column says how many each "
    "side has: a scenario that avoids stock-outs leaves only its harder replications with a "
    "TTR, so read it with stockout_share, not alone. A sector that only one scenario has is "
    "shown as such, with no difference.")


def compare_intro(table: pd.DataFrame, labels: list[str], sources: list[str], paired: bool,
                  replications: int, seed: object, markdown: bool = False) -> list[str]:
    """The paragraphs that say what was compared and how to read the table (user strings
    escaped for Markdown with `markdown`)."""
    esc = md_text if markdown else str
    k = len(labels)
    conf = table["confidence"].iloc[0] if len(table) else 0.95
    how = (f"paired by replication (seed {esc(seed)}, {replications} replications each: "
           "replication i of every scenario drew from the same seed)" if paired else
           "unpaired (Welch intervals): the runs do not share their seeds or replications")
    paras = ["Sources: " + ", ".join(esc(s) for s in sources) + ".",
             f"Differences are alternative minus reference, {how}. Intervals: "
             f"{conf:.2%} each" + (f" (Bonferroni over {k - 1} alternatives: 95% jointly)"
                                   if k > 2 else " (95%)") + ". \"Better in\": the share of "
             "replications in which the alternative did better (less shortfall, value lost, "
             "stock-outs, time to recover, lead time or share over the limit; more time to "
             "stock-out).", TIMES_NOTE]
    if k > 2:
        paras.append("\"vs best\": multiple comparisons with the best (the best mean per "
                     "metric; Bonferroni over the others): an alternative whose interval of "
                     "difference from the best holds 0 cannot be told apart from it.")
        ref = table.drop_duplicates(["level", "name", "metric"])
        paras.append("The reference against the best: " + "; ".join(
            f"{esc(r['name'])} {r['metric']}: best {esc(r['best'])}, {esc(labels[0])} "
            f"{r['reference_vs_best']}" for _, r in ref.iterrows() if r["best"]) + ".")
    return paras


def compare_markdown(table: pd.DataFrame, labels: list[str], sources: list[str],
                     paired: bool, replications: int, seed: object, plots: list[str]) -> str:
    """compare.md: what was compared and how, then the table (user strings literal)."""
    import pandas as pd

    names = [md_text(lab) for lab in labels]
    lines = [f"# Comparison: {', '.join(names[1:])} against {names[0]}", ""]
    for p in compare_intro(table, labels, sources, paired, replications, seed, True):
        lines += [p, ""]
    df = pd.DataFrame(compare_rows(table), columns=compare_head(labels))
    lines += [markdown_table(df), ""]
    lines += [f"![{md_text(p)}]({p})" for p in plots]
    return "\n".join(lines) + "\n"


def plot_differences(runs: list[StoredRun], labels: list[str], out: Path) -> Path:
    """Per sector, the distribution of each alternative's paired difference in shortfall
    from the reference (percentage points), the mean marked."""
    tables = [per_replication(r) for r in runs]

    def frac(t: pd.DataFrame) -> pd.DataFrame:
        return t[t["metric"] == "shortfall_frac"].pivot_table(
            index="replication", columns="name", values="value")

    ref = frac(tables[0])
    sectors = list(ref.columns)
    fig, axes = subplots(1, max(1, len(sectors)), figsize=(4.2 * max(1, len(sectors)), 3.6),
                         squeeze=False)
    for ax, sector in zip(axes[0], sectors, strict=False):
        data, names = [], []
        for lab, t in zip(labels[1:], tables[1:], strict=True):
            alt = frac(t)
            if sector not in alt:
                continue
            d = (alt[sector] - ref[sector]).dropna().to_numpy() * 100
            data.append(d)
            names.append(lab)
        if data:
            ax.violinplot(data, showmeans=True, showextrema=False)
            for i, d in enumerate(data, start=1):
                ax.scatter(np.full(len(d), i) + np.linspace(-0.08, 0.08, len(d)), d, s=4,
                           alpha=0.4, color=SECTOR_COLOURS.get(sector, "tab:grey"))
            ax.set_xticks(range(1, len(names) + 1), names, rotation=20)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(sector)
        ax.set_ylabel(f"shortfall minus {labels[0]}, points")
    fig.suptitle("Paired differences of sector shortfall, per replication")
    return save(fig, out / "compare.png")


def compare_info(path: Path) -> dict[str, Any]:
    """compare.json: what a comparison compared (`state` "running" until it is written
    whole); FolderError if it cannot be read."""
    try:
        info = json.loads((path / COMPARE_INFO).read_bytes())
    except FileNotFoundError:
        raise FolderError(str(path), f"holds no comparison (no {COMPARE_INFO})") from None
    except (OSError, ValueError, UnicodeDecodeError):
        info = None
    if not isinstance(info, dict):
        raise FolderError(str(path), f"{COMPARE_INFO} is damaged (not a JSON object); run "
                          "the comparison again with --overwrite")
    if "state" not in info and "labels" in info:
        info["state"] = "complete"  # written before comparisons recorded their state
    return info


def _compare_inputs(path: Path) -> tuple[dict[str, Any], list[StoredRun], pd.DataFrame]:
    """A finished comparison's record, runs and table; one-line FolderError saying what
    is missing or damaged."""
    import pandas as pd

    info = compare_info(path)
    if info.get("state") != "complete":
        raise FolderError(str(path), f"the comparison did not finish ({COMPARE_INFO} says "
                          "it is unfinished); run the same compare again to finish it")
    again = "run the same compare again with --overwrite"
    keys = ("labels", "runs", "paired", "replications", "seed")
    lacking = [k for k in keys if k not in info]
    if lacking or not isinstance(info["labels"], list) or not isinstance(info["runs"], list) \
            or len(info["labels"]) != len(info["runs"]) or len(info["labels"]) < 2:
        raise FolderError(str(path), f"{COMPARE_INFO} is damaged (its labels and runs do "
                          "not match); run the comparison again with --overwrite")
    runs = []
    for lab, rel in zip(info["labels"], info["runs"], strict=True):
        try:
            runs.append(StoredRun(path / str(rel)))  # relative to the folder, or absolute
        except FolderError as exc:
            raise FolderError(str(path), f"the run compared as {lab!r} cannot be read "
                              f"({exc}); {again}") from None
    for lab, run, rid in zip(info["labels"], runs, info.get("run_ids") or [None] * len(runs),
                             strict=False):
        if rid is not None and run.manifest["run_id"] != rid:
            raise FolderError(str(path), f"the run compared as {lab!r} ({run.path}) was "
                              f"replaced since the comparison; {again}")
    try:
        data = (path / "compare.csv").read_bytes()
    except FileNotFoundError:
        raise FolderError(str(path), f"compare.csv is missing; {again}") from None
    want = (info.get("sha256") or {}).get("compare.csv")
    if want is not None and digest(data) != want:
        raise FolderError(str(path), "compare.csv was changed or damaged since the "
                          f"comparison wrote it (its sha256 differs); {again}")
    try:
        table = pd.read_csv(io.BytesIO(data), keep_default_na=True, dtype={
            c: object for c in ("vs_best", "best", "reference_vs_best", "only_in")})
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise FolderError(str(path), f"compare.csv cannot be read ({str(exc).splitlines()[0]}"
                          f"); {again}") from None
    lacking = [c for c in COLUMNS if c not in table.columns]
    if lacking:
        raise FolderError(str(path), f"compare.csv is damaged (no column {lacking[0]!r}); "
                          f"{again}")
    return info, runs, table.fillna({"vs_best": "", "best": "", "reference_vs_best": "",
                                     "only_in": ""})


def compare_page(path: Path) -> Page:
    """The report of a comparison folder (compare.csv and compare.json)."""
    info, runs, table = _compare_inputs(path)
    labels = [str(lab) for lab in info["labels"]]
    paras = compare_intro(table, labels, [str(r.path) for r in runs], info["paired"],
                          info["replications"], info["seed"])
    head = compare_head(labels)
    body = compare_rows(table)
    diffs = Table("Paired differences, alternative minus reference", head,
                  [[Cell(c) for c in r] for r in body], "", "differences")
    for row, (_, r) in zip(diffs.rows, table.iterrows(), strict=True):
        row[4].value, row[4].key = float(r["diff"]), f"{r['name']}/{r['metric']}/{r['alternative']}"
    album = Album()
    if not runs[0].firms.empty:
        plot_differences(runs, labels, album)
    sections = [Section("differences", "Paired differences", [p.replace("`", "")
                                                                for p in paras],
                        [diffs, *figures(album.figures, CAPTIONS, "cmp")])]
    sections.append(Section("runs", "The runs compared", [], [rows_table(
        "Runs", ["label", "folder", "replications", "seed", "config sha256"],
        [[lab, str(r.path), r.replications, str(r.manifest.get("seed")),
          r.manifest.get("config_sha256", "")[:16]] for lab, r in zip(labels, runs,
                                                                      strict=True)])]))
    cmd = "rareshock compare " + " ".join(str(r.path / "config.toml") for r in runs) + \
        f" --out {path}-again"
    sections.append(Section("reproduce", "Reproduce it", [
        "Runs every scenario again from its folder's config on the shared seed into a new "
        "folder and compares them."], [Code(cmd, css="command")]))
    title = f"{', '.join(labels[1:])} against {labels[0]}"
    return Page("comparison", title, str(path), [
        f"What changes in sector shortfall if {', '.join(labels[1:])} happens instead of "
        f"{labels[0]}? Each alternative minus the reference, replication by replication."],
        sections)
