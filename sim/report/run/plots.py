"""Plots of a stored run (PNG): shortfall, TTS/TTR, inventory and backlog fans, exports,
lead times. Each reads the parquet tables; none needs the replications in memory."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...analysis.stored import StoredRun
from ...model.calendar import WorkingCalendar
from ...run.phases import steps
from ..figures import SECTOR_COLOURS, save, subplots

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ...config.schema import Config



def _title(res: StoredRun, what: str) -> str:
    name = res.manifest.get("name") or res.path.name
    return f"{what} — {name}, {res.replications} replications"


def _dates(res: StoredRun, days: np.ndarray) -> np.ndarray:
    start = np.datetime64(res.config.calendar.start, "D")
    return start + np.round(np.asarray(days) * 24 * 3600).astype("timedelta64[s]")


def _mark_policy(ax: Axes, res: StoredRun, label: bool = True) -> None:
    """Vertical lines at the median date of each policy event that happened."""
    pol = res.policy
    pol = pol[pol["happened"]]
    if pol.empty:
        return
    med = pol.groupby(["index", "label"], sort=True)["day"].median().reset_index()
    xs = _dates(res, med["day"].to_numpy())
    for x in xs:
        ax.axvline(x, color="0.5", lw=0.8, ls=":")
    if label:
        _number_lines(ax, xs)


def _number_lines(ax: Axes, xs: np.ndarray, fontsize: float = 7) -> None:
    """Number vertical lines at dates `xs` 1, 2, ... along the top of `ax`; a number that
    would touch the one before it on its row drops to the next row down."""
    import matplotlib.dates as mdates

    lo, hi = ax.get_xlim()
    pos = ax.get_position()
    width_in = max(pos.width * ax.figure.get_figwidth(), 1e-9)
    ends: list[float] = []  # per row, the axes fraction where its last number ends
    for i, x in enumerate(xs):
        text = str(i + 1)
        frac = (mdates.date2num(x) - lo) / (hi - lo) if hi > lo else 0.5
        w = (len(text) * 0.62 + 0.8) * fontsize / 72 / width_in  # the number and a gap
        row = next((r for r, end in enumerate(ends) if frac - w / 2 >= end), len(ends))
        if row == len(ends):
            ends.append(0.0)
        ends[row] = frac + w / 2
        ax.text(x, 0.99 - 0.055 * row, text, fontsize=fontsize, color="0.35", va="top",
                ha="center", transform=ax.get_xaxis_transform())
    bottom, top = ax.get_ylim()  # headroom: the numbers above the data, not on it
    ax.set_ylim(bottom, bottom + (top - bottom) / (1 - 0.02 - 0.055 * len(ends)))


def _policy_legend(res: StoredRun, width: int = 150) -> str:
    """'1: label  2: label ...' for the numbered policy lines, wrapped to `width`."""
    import textwrap

    pol = res.policy
    pol = pol[pol["happened"]]
    labels = pol.groupby(["index"], sort=True)["label"].first().tolist()
    text = "   ".join(f"{i + 1}: {lab}" for i, lab in enumerate(labels))
    return "\n".join(textwrap.wrap("Policy events: " + text, width))


def _date_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))


# --------------------------------------------------------------------------- shortfall


def shortfall_by_sector(res: StoredRun, out: Path) -> Path:
    sec = res.sectors()
    sectors = sorted(sec["sector"].unique())
    fig, axes = subplots(2, len(sectors), figsize=(4.2 * len(sectors), 6.5),
                             squeeze=False, layout="constrained")
    for j, s in enumerate(sectors):
        x = 100 * sec.loc[sec["sector"] == s, "shortfall_frac"].to_numpy()
        colour = SECTOR_COLOURS.get(s, "tab:gray")
        mean, p95 = x.mean(), np.quantile(x, 0.95)
        h = axes[0, j]
        h.hist(x, bins=min(40, max(10, len(x) // 5)), color=colour, alpha=0.75)
        e = axes[1, j]
        xs = np.sort(x)
        e.step(xs, np.arange(1, len(xs) + 1) / len(xs), where="post", color=colour)
        for ax in (h, e):
            ax.axvline(mean, color="k", lw=1.2, label=f"mean {mean:.1f}%")
            ax.axvline(p95, color="k", lw=1.2, ls="--", label=f"P95 {p95:.1f}%")
            ax.set_xlabel("shortfall, % of planned production value")
        h.set_title(s)
        h.set_ylabel("replications")
        e.set_ylabel("share of replications ≤ x (ECDF)")
        e.set_ylim(0, 1.02)
        h.legend(fontsize=8)
    fig.suptitle(_title(res, "Production shortfall by sector"))
    return save(fig, out / "shortfall_by_sector.png")


def tts_ttr(res: StoredRun, out: Path) -> Path:
    """Time to survive and time to recover per sector (firm-level, pooled)."""
    f = res.firms
    sectors = sorted(f["sector"].unique())
    fig, axes = subplots(1, len(sectors), figsize=(4.5 * len(sectors), 4),
                             squeeze=False, layout="constrained")
    for j, s in enumerate(sectors):
        ax = axes[0, j]
        g = f[f["sector"] == s]
        tts, ttr = g["tts_days"].to_numpy(), g["ttr_days"].to_numpy()
        both = ~np.isnan(tts)
        # TTS < TTR: the firm runs out before it could recover (Simchi-Levi); a firm that
        # stocked out and never recovered counts as TTR = infinity.
        ttr_inf = np.where(np.isnan(ttr), np.inf, ttr)
        share = float(np.mean(tts[both] < ttr_inf[both])) if both.any() else math.nan
        finite = [v[~np.isnan(v)] for v in (tts, ttr)]
        hi = max([v.max() for v in finite if len(v)] + [1.0])
        bins = np.linspace(0, hi, 30)
        ax.hist(finite[0], bins=bins, alpha=0.6, label="time to survive (TTS)",
                color="tab:orange")
        ax.hist(finite[1], bins=bins, alpha=0.6, label="time to recover (TTR)",
                color="tab:purple")
        no_out = float(np.mean(np.isnan(tts)))
        ax.set_title(f"{s}: P(TTS < TTR) = {share:.2f}\nno stock-out in {100 * no_out:.0f}% "
                     "of firm-runs", fontsize=10)
        ax.set_xlabel("days")
        ax.set_ylabel("firm-replications")
        ax.legend(fontsize=8)
    fig.suptitle(_title(res, "Time to survive (from controls start) vs time to recover "
                        "(from first stock-out)"))
    return save(fig, out / "tts_ttr.png")


# --------------------------------------------------------------------------- fans


def _fan(ax: Axes, x: np.ndarray, table: pd.DataFrame, colour: str) -> None:
    """P5-P95 band, P25-P75 band and median of `value` by `day` over replications."""
    q = table.groupby("day")["value"].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
    xs = _x_for(x, q.index.to_numpy())
    ax.fill_between(xs, q[0.05], q[0.95], color=colour, alpha=0.18, lw=0, label="P5–P95")
    ax.fill_between(xs, q[0.25], q[0.75], color=colour, alpha=0.3, lw=0, label="P25–P75")
    ax.plot(xs, q[0.5], color=colour, lw=1.5, label="median")


def _series(res: StoredRun, name: str) -> pd.DataFrame:
    """One series of the time-series dataset, read with a filter (not the whole table)."""
    import pyarrow.dataset as ds

    data = ds.dataset(res.path / "timeseries", format="parquet")
    table = data.to_table(columns=["day", "firm", "material", "value"],
                          filter=ds.field("series") == name)
    return table.to_pandas()


def _x_for(x: np.ndarray, days: np.ndarray) -> np.ndarray:
    return x(days) if callable(x) else days


def inventory_fan(res: StoredRun, out: Path) -> Path:
    inv = _series(res, "inventory_kg")
    cfg = res.config
    keys = list(inv.groupby(["firm", "material"], sort=False).groups)
    ncol = 3
    nrow = math.ceil(len(keys) / ncol)
    fig, axes = subplots(nrow, ncol, figsize=(5 * ncol, 3.3 * nrow), squeeze=False,
                             sharex=True, layout="constrained")
    for k, (firm, material) in enumerate(keys):
        ax = axes[k // ncol, k % ncol]
        f = cfg.firms[firm]
        use = f.units_per_day * f.bom[material]
        g = inv[(inv["firm"] == firm) & (inv["material"] == material)].copy()
        g["value"] = g["value"] / use
        _fan(ax, lambda d: _dates(res, d), g, SECTOR_COLOURS.get(f.sector, "tab:gray"))
        ax.axhline(0, color="k", lw=0.8)
        ax.set_title(f"{firm} — {material}", fontsize=9)
        ax.set_ylabel("on hand, days of planned use")
        _mark_policy(ax, res)
        _date_axis(ax)
    for k in range(len(keys), nrow * ncol):
        axes[k // ncol, k % ncol].axis("off")
    axes[0, 0].legend(fontsize=7, loc="upper right")
    fig.suptitle(_title(res, "Usable inventory (fan: P5–P50–P95)"))
    fig.text(0.5, -0.01, _policy_legend(res, 160), ha="center", va="top", fontsize=8)
    return save(fig, out / "inventory_fan.png")


def backlog_fan(res: StoredRun, out: Path) -> Path:
    fig, ax = subplots(figsize=(10, 4.5), layout="constrained")
    _fan(ax, lambda d: _dates(res, d), _series(res, "backlog"), "tab:red")
    ax.set_ylabel("open licence applications (files)")
    ax.set_xlabel("date")
    ax.set_ylim(bottom=0)
    _mark_policy(ax, res)
    _date_axis(ax)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(_title(res, "Licence backlog"))
    fig.text(0.5, -0.02, _policy_legend(res, 110), ha="center", va="top", fontsize=8)
    return save(fig, out / "backlog_fan.png")


# --------------------------------------------------------------------------- exports


def exports_monthly(res: StoredRun, out: Path) -> Path:
    """Monthly exports of the controlled exporter, all destinations and each observed
    series, with the observations where the config names them."""
    ex = res.exports
    obs = res.config.observed
    panels: list[tuple[str, pd.DataFrame, dict[str, float]]] = []
    series = list(obs.exports.series) if obs is not None and obs.exports is not None else []
    total = next((s for s in series if s.destinations is None), None)
    panels.append(("all destinations", ex, dict(total.months) if total else {}))
    for s in series:
        if s.destinations is not None:
            panels.append((f"to {', '.join(s.destinations)}",
                           ex[ex["destination"].isin(s.destinations)], dict(s.months)))
    label = f"observed ({obs.name})" if obs is not None and obs.name else "observed"
    fig, axes = subplots(1, len(panels), figsize=(6.5 * len(panels), 4.5), squeeze=False)
    for ax, (title, frame, observed) in zip(axes[0], panels, strict=True):
        per = frame.groupby(["replication", "month"])["kg"].sum().unstack("month") / 1000
        months = per.columns.to_numpy()
        x = np.array([np.datetime64(m + "-15") for m in months])
        q = per.quantile([0.05, 0.5, 0.95])
        ax.fill_between(x, q.loc[0.05], q.loc[0.95], color="tab:blue", alpha=0.25,
                        label="simulated P5–P95")
        ax.plot(x, q.loc[0.5], color="tab:blue", marker="o", ms=3, label="simulated median")
        om = [m for m in observed if m in set(months)]
        if om:
            ax.plot([np.datetime64(m + "-15") for m in om], [observed[m] for m in om], "ks",
                    ms=5, label=label)
        ax.set_ylabel("controlled exports, tonnes per month")
        ax.set_title(title)
        ax.set_ylim(bottom=0)
        _mark_policy(ax, res, label=False)
        _date_axis(ax)
        ax.legend(fontsize=8)
    fig.suptitle(_title(res, "Monthly exports from the controlled exporter"))
    return save(fig, out / "exports_monthly.png")


def _lead_time_parts(res: StoredRun):  # noqa: ANN202 - yields three arrays per part
    """Per stored part of the applications table (one chunk of replications at a time, so
    memory does not grow with the number of replications): queue waits (calendar days),
    acceptance-to-decision (working days) and submission-to-decision (calendar days) of the
    files reviewed in the queue (general licences left out)."""
    import pyarrow.parquet as pq

    cfg = res.config
    c = cfg.calendar
    cal = WorkingCalendar(c.start, cfg.horizon_days, c.working_days,
                          [(h.start, h.end) for h in c.holidays], c.extra_working_days)
    cols = ["accepted_day", "decided_day", "queue_wait_days", "submitted_day",
            "general_licence"]
    for part in sorted((res.path / "applications").glob("part-*.parquet")):
        apps = pq.read_table(part, columns=cols).to_pandas()
        apps = apps[~apps["general_licence"]]
        decided = apps.dropna(subset=["decided_day", "accepted_day"])
        clock = (cal.working_time_array(decided["decided_day"].to_numpy())
                 - cal.working_time_array(decided["accepted_day"].to_numpy()))
        lead = (decided["decided_day"] - decided["submitted_day"]).to_numpy()
        yield apps["queue_wait_days"].dropna().to_numpy(), clock, lead


def lead_times(res: StoredRun, out: Path, bins: int = 60) -> Path:
    """Queue wait (calendar days), acceptance-to-decision (working days, the statutory
    clock) against the limit, and total lead time, each as the share of its files per bin
    (so runs and panels of different sizes compare). Histograms are accumulated part by
    part (two passes: the range, then the counts)."""
    limit = res.config.authority.statutory_limit_working_days
    top = [0.0, 0.0, 0.0]
    for arrays in _lead_time_parts(res):
        top = [max(t, float(a.max())) if len(a) else t for t, a in zip(top, arrays, strict=True)]
    edges = [np.linspace(0.0, max(t, 1e-9), bins + 1) for t in top]
    counts = [np.zeros(bins) for _ in range(3)]
    n_clock = over = n_wait = waited = 0
    for arrays in _lead_time_parts(res):
        for k, a in enumerate(arrays):
            counts[k] += np.histogram(a, bins=edges[k])[0]
        n_clock += len(arrays[1])
        over += int(np.sum(arrays[1] > limit))
        n_wait += len(arrays[0])
        waited += int(np.sum(arrays[0] > 0))
    fig, axes = subplots(1, 3, figsize=(15, 4.2), layout="constrained")
    labels = ("queue wait (acceptance to review start), calendar days",
              "acceptance to decision, working days",
              "total lead time (submission to decision), calendar days")
    for k, ax in enumerate(axes):
        e = edges[k]
        total = counts[k].sum()
        share = 100 * counts[k] / total if total else counts[k]
        ax.bar(e[:-1], share, width=np.diff(e), align="edge", color="tab:blue", alpha=0.75)
        ax.set_xlabel(labels[k])
        ax.set_ylabel(f"% of files per {e[1] - e[0]:.3g}-day bin (of {total:,.0f})")
    axes[0].set_yscale("log")
    axes[0].set_title(f"{100 * waited / n_wait if n_wait else math.nan:.0f}% of files waited "
                      "for a reviewer (log scale)", fontsize=9)
    share = over / n_clock if n_clock else math.nan
    axes[1].axvline(limit, color="tab:red", lw=1.5,
                    label=f"statutory limit {limit:g} working days\n{100 * share:.0f}% of "
                    "decided files over it")
    axes[1].legend(fontsize=8)
    fig.suptitle(_title(res, "Licence lead times (queue wait: files that reached a reviewer; the "
                        "others: decided files), share of files"))
    return save(fig, out / "lead_times.png")


# --------------------------------------------------------------------------- the network


def network(res: StoredRun, out: Path) -> Path:
    """The supply network drawn by tier: raw-material suppliers on the left, then firms
    from the deepest tier to the end products; arcs as wide as their mean deliveries (per
    unit, kg or pieces) and labelled with their mean fill rate; each firm with its mean
    shortfall and median time to survive, coloured by sector (the legend). An arc that
    skips a tier passes between that tier's boxes, and a label goes where it touches no
    box and no other label."""
    from matplotlib.patches import Patch

    cfg = res.config
    arcs = res.arcs
    tiers = cfg.tiers()
    deepest = max(tiers.values(), default=0)
    col = {n: deepest - t + 1 for n, t in tiers.items()}
    names = sorted({*arcs["supplier"]} - set(cfg.firms)) if len(arcs) else []
    col |= dict.fromkeys(names, 0)
    pos = _network_positions(cfg, col, names)
    height = max(sum(1 for c in col.values() if c == k) for k in set(col.values()))
    fig_w, fig_h = 3.2 * (deepest + 2) + 1, 1.1 * height + 1.8
    fig, ax = subplots(figsize=(fig_w, fig_h))
    ax.set_xlim(-0.6, deepest + 1.6)
    ax.set_ylim(-height / 2 - 0.4, height / 2 + 0.4)
    inch = (fig_w * 0.94 / (deepest + 2.2), fig_h * 0.8 / (height + 0.8))  # per data unit
    f = res.firms
    boxes = []
    half: dict[str, float] = {}  # each box's half-width, data units
    for n, (x, y) in pos.items():
        if n in cfg.firms:
            g = f[f["firm"] == n]
            colour = SECTOR_COLOURS.get(cfg.firms[n].sector, "tab:gray")
            tts = g["tts_days"].median()
            ts = "–" if tts != tts else f"{tts:.0f} d"
            text = f"{n}\nshortfall {100 * g['shortfall_frac'].mean():.1f}%\nTTS {ts}"
        else:
            kind = cfg.suppliers[n].kind if n in cfg.suppliers else "reserve"
            colour, text = "0.35", f"{n}\n({kind})"
        ax.text(x, y, text, ha="center", va="center", fontsize=7.5, color="white", zorder=3,
                bbox={"boxstyle": "round,pad=0.4", "fc": colour, "ec": "none"})
        lines = text.split("\n")
        half[n] = (max(map(len, lines)) * 0.6 * 7.5 + 12) / 72 / inch[0] / 2
        boxes.append(_rect(x, y, 2 * half[n], (len(lines) * 1.25 * 7.5 + 12) / 72 / inch[1]))
    if len(arcs):
        mean = arcs.groupby(["supplier", "customer", "material", "unit"], sort=False)[
            ["delivered", "ordered", "fill_rate"]].mean().reset_index()
        top = mean.groupby("unit")["delivered"].transform("max").replace(0, 1)
        labels: list[tuple[float, float, float, float]] = []
        used: dict[tuple[int, float], int] = {}  # arcs through each gap so far
        for r, w in zip(mean.itertuples(), mean["delivered"] / top, strict=True):
            path = _arc_path(pos, col, half, used, r.supplier, r.customer)
            style = {"lw": 0.6 + 5 * float(w), "color": "0.55", "alpha": 0.7}
            for (xa, ya), (xb, yb) in zip(path[:-2], path[1:-1], strict=True):
                ax.plot([xa, xb], [ya, yb], solid_capstyle="butt", zorder=1, **style)
            ax.annotate("", path[-1], path[-2], zorder=1, arrowprops={
                "arrowstyle": "-|>", "shrinkA": 0, "shrinkB": 0, **style})
            text = f"{100 * r.fill_rate:.0f}%"
            size = ((len(text) * 0.6 * 7 + 6) / 72 / inch[0], 7 * 1.5 / 72 / inch[1])
            lx, ly = _label_spot(path, size, boxes + labels)
            labels.append(_rect(lx, ly, *size))
            ax.text(lx, ly, text, fontsize=7, color="0.2", ha="center", va="center",
                    zorder=2, bbox={"boxstyle": "round,pad=0.1", "fc": "white",
                                    "ec": "0.8", "lw": 0.4})
    sectors = sorted({fc.sector for fc in cfg.firms.values()})
    handles = [Patch(color=SECTOR_COLOURS.get(sc, "tab:gray"), label=sc) for sc in sectors]
    if names:
        handles.append(Patch(color="0.35", label="raw-material supplier"))
    ax.legend(handles=handles, loc="upper left", fontsize=8, title="sector", frameon=False,
              title_fontsize=8)
    ax.set_xticks(range(deepest + 2), ["suppliers", *[f"tier {deepest - c + 1}"
                                                      for c in range(1, deepest + 2)]])
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(_title(res, "Supply network (arc labels: mean fill rate; width: mean "
                        "delivered)"), fontsize=10)
    return save(fig, out / "network.png")


def _network_positions(cfg: Config, col: dict[str, int],
                       names: list[str]) -> dict[str, tuple[float, float]]:
    """Nodes by column, spaced one apart and centred; from the second column on, each
    column ordered by the mean height of the nodes that supply it (fewer crossings)."""
    per_col: dict[int, list[str]] = {}
    for n in [*names, *cfg.firms]:
        per_col.setdefault(col[n], []).append(n)
    pos: dict[str, tuple[float, float]] = {}
    for c in sorted(per_col):
        ns = per_col[c]
        if c > 0:
            placed = dict(pos)
            height = {n: [placed[s][1] for s in cfg.firms[n].ordering.suppliers
                          if s in placed] for n in ns}
            ns = sorted(ns, key=lambda n: (-float(np.mean(height[n])) if height[n] else 0.0,
                                           ns.index(n)))
        pos |= {n: (c, -(i - (len(ns) - 1) / 2)) for i, n in enumerate(ns)}
    return pos


def _rect(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
    return x - w / 2, y - h / 2, x + w / 2, y + h / 2


def _arc_path(pos: dict[str, tuple[float, float]], col: dict[str, int],
              half: dict[str, float], used: dict[tuple[int, float], int], a: str,
              b: str) -> list[tuple[float, float]]:
    """The points an arc from `a` to `b` passes: out of `a`'s box, between the boxes of
    every column it crosses (through the gap nearest its straight line, beside the arcs
    already through it: `used` counts them), into `b`'s box (`half`: box half-widths)."""
    (x0, y0), (x1, y1) = pos[a], pos[b]
    pts = [(x0 + half[a] + 0.03, y0)]
    for c in range(col[a] + 1, col[b]):
        ys = sorted(y for n, (x, y) in pos.items() if col[n] == c)
        line = y0 + (y1 - y0) * (c - x0) / (x1 - x0)
        gaps = [(u + v) / 2 for u, v in zip(ys, ys[1:], strict=False)]
        gaps += [ys[-1] + 0.6, ys[0] - 0.6] if ys else [line]
        g = min(gaps, key=lambda v: abs(v - line))
        k = used.get((c, g), 0)
        used[(c, g)] = k + 1
        g += 0.09 * ((k + 1) // 2) * (1 if k % 2 else -1)
        w = max((half[n] for n in pos if col[n] == c), default=0.3) + 0.05
        pts += [(c - w, g), (c + w, g)]
    pts.append((x1 - half[b] - 0.03, y1))
    return pts


def _label_spot(path: list[tuple[float, float]], size: tuple[float, float],
                taken: list[tuple[float, float, float, float]]) -> tuple[float, float]:
    """Where along `path` a label of `size` (data units) touches the fewest of the
    rectangles `taken`: the first such place, trying the arc's last segment first (the
    one only it draws), each from its middle out."""
    seg = np.asarray(path)
    best, spot = None, (float(seg[0, 0]), float(seg[0, 1]))
    pieces = list(zip(seg[:-1], seg[1:], strict=True))[::-1]  # the arc's own end first
    for (xa, ya), (xb, yb) in pieces:
        for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.15, 0.85):
            x, y = xa + t * (xb - xa), ya + t * (yb - ya)
            r = _rect(x, y, *size)
            hits = sum(not (r[2] < q[0] or q[2] < r[0] or r[3] < q[1] or q[3] < r[1])
                       for q in taken)
            if best is None or hits < best:
                best, spot = hits, (float(x), float(y))
            if hits == 0:
                return spot
    return spot


PLOTS = (shortfall_by_sector, tts_ttr, network, inventory_fan, backlog_fan,
         exports_monthly, lead_times)


def plot_run(res: StoredRun, out: Path) -> list[Path]:
    """Every plot of a run into `out` (PNG); a queue-only run has no firm plots."""
    out.mkdir(parents=True, exist_ok=True)
    firm_plots = (inventory_fan, shortfall_by_sector, tts_ttr, network)
    todo = [fn for fn in PLOTS if fn not in firm_plots or not res.firms.empty]
    return [fn(res, out) for fn in steps(todo, "plots drawn")]
