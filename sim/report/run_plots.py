"""Plots of a stored run (PNG): shortfall, TTS/TTR, inventory and backlog fans, exports,
lead times. Each reads the parquet tables; none needs the replications in memory."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..analysis.stored import StoredRun
from ..model.calendar import WorkingCalendar
from .figures import SECTOR_COLOURS, save, subplots

if TYPE_CHECKING:
    from matplotlib.axes import Axes



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
    ymax = ax.get_ylim()[1]
    for i, row in enumerate(med.itertuples()):
        x = _dates(res, np.array([row.day]))[0]
        ax.axvline(x, color="0.5", lw=0.8, ls=":")
        if label:
            ax.text(x, ymax, f" {i + 1}", fontsize=7, color="0.35", va="top")


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
    clock) against the limit, and total lead time. Histograms are accumulated part by part
    (two passes: the range, then the counts)."""
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
        ax.bar(e[:-1], counts[k], width=np.diff(e), align="edge", color="tab:blue", alpha=0.75)
        ax.set_xlabel(labels[k])
        ax.set_ylabel("applications (all replications)")
    axes[0].set_yscale("log")
    axes[0].set_title(f"{100 * waited / n_wait if n_wait else math.nan:.0f}% of files waited "
                      "for a reviewer (log scale)", fontsize=9)
    share = over / n_clock if n_clock else math.nan
    axes[1].axvline(limit, color="tab:red", lw=1.5,
                    label=f"statutory limit {limit:g} working days\n{100 * share:.0f}% of "
                    "decided files over it")
    axes[1].legend(fontsize=8)
    fig.suptitle(_title(res, "Licence lead times (decided applications)"))
    return save(fig, out / "lead_times.png")


# --------------------------------------------------------------------------- the network


def network(res: StoredRun, out: Path) -> Path:
    """The supply network drawn by tier: raw-material suppliers on the left, then firms
    from the deepest tier to the end products; arcs as wide as their mean deliveries (per
    unit, kg or pieces) and labelled with their mean fill rate; each firm with its mean
    shortfall and median time to survive."""
    cfg = res.config
    arcs = res.arcs
    tiers = cfg.tiers()
    deepest = max(tiers.values(), default=0)
    col = {n: deepest - t + 1 for n, t in tiers.items()}
    names = sorted({*arcs["supplier"]} - set(cfg.firms)) if len(arcs) else []
    col |= dict.fromkeys(names, 0)
    per_col: dict[int, list[str]] = {}
    for n in [*names, *cfg.firms]:
        per_col.setdefault(col[n], []).append(n)
    pos = {n: (c, -(i - (len(ns) - 1) / 2)) for c, ns in per_col.items()
           for i, n in enumerate(ns)}
    height = max(len(ns) for ns in per_col.values())
    fig, ax = subplots(figsize=(3.2 * (deepest + 2) + 1, 1.1 * height + 1.8))
    f = res.firms
    if len(arcs):
        mean = arcs.groupby(["supplier", "customer", "material", "unit"], sort=False)[
            ["delivered", "ordered", "fill_rate"]].mean().reset_index()
        top = mean.groupby("unit")["delivered"].transform("max").replace(0, 1)
        for r, w in zip(mean.itertuples(), mean["delivered"] / top, strict=True):
            (x0, y0), (x1, y1) = pos[r.supplier], pos[r.customer]
            ax.annotate("", (x1 - 0.28, y1), (x0 + 0.28, y0), arrowprops={
                "arrowstyle": "-|>", "lw": 0.6 + 5 * float(w), "color": "0.55",
                "alpha": 0.7, "shrinkA": 0, "shrinkB": 0})
            ax.text(x0 + 0.28 + 0.35 * (x1 - x0 - 0.56), y0 + 0.35 * (y1 - y0) + 0.06,
                    f"{100 * r.fill_rate:.0f}%", fontsize=7, color="0.3", ha="center")
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
        ax.text(x, y, text, ha="center", va="center", fontsize=7.5, color="white",
                bbox={"boxstyle": "round,pad=0.4", "fc": colour, "ec": "none"})
    ax.set_xlim(-0.6, deepest + 1.6)
    ax.set_ylim(-height / 2 - 0.2, height / 2 + 0.2)
    ax.set_xticks(range(deepest + 2), ["suppliers", *[f"tier {deepest - c + 1}"
                                                      for c in range(1, deepest + 2)]])
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(_title(res, "Supply network (arc labels: mean fill rate; width: mean "
                        "delivered)"), fontsize=10)
    return save(fig, out / "network.png")


PLOTS = (shortfall_by_sector, tts_ttr, network, inventory_fan, backlog_fan,
         exports_monthly, lead_times)


def plot_run(res: StoredRun, out: Path) -> list[Path]:
    """Every plot of a run into `out` (PNG); a queue-only run has no firm plots."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fn in PLOTS:
        if fn in (inventory_fan, shortfall_by_sector, tts_ttr, network) and res.firms.empty:
            continue  # a queue-only run has no firms
        paths.append(fn(res, out))
    return paths
