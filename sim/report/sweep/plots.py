"""Plots of a stored sweep (PNG): the response curve (1-D grid), heatmap (2-D grid), main
effects (larger grids, lhs), tornado (oat), Sobol S1/ST bars (sobol), mu*/sigma (morris)
and the scenario-discovery box. Each reads the stored tables and the sweep's outputs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...analysis.stored import StoredSweep, numeric_points
from ..figures import SECTOR_COLOURS, save, subplots

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _title(res: StoredSweep, what: str) -> str:
    name = res.manifest.get("name") or res.path.name
    crn = "common random numbers" if res.crn else "independent streams"
    return (f"{what} — {name}: {res.method}, {len(res.design.points)} points × "
            f"{res.replications} replications, {crn}")


def _sector_rows(res: StoredSweep, metric: str = "shortfall_frac") -> pd.DataFrame:
    s = res.summary()
    return s[(s["level"] == "sector") & (s["metric"] == metric)]


def _short(label: str, width: int = 34) -> str:
    return label if len(label) <= width else "…" + label[-(width - 1):]


# --------------------------------------------------------------------------- grids


def response_curve(res: StoredSweep, out: Path) -> Path:
    """1-D grid: each sector's mean shortfall with its 95% band, and the mean queue wait."""

    label = res.labels[0]
    pts = res.points.set_index("point")[label]
    numeric = label in numeric_points(res.design.points).columns
    if numeric:
        pts = pts.astype(float)
    order = pts.sort_values(kind="mergesort").index if numeric else pts.index
    xs_of = (lambda p: pts.loc[p]) if numeric else (lambda p: list(order).index(p))
    summ = res.summary()
    sec = summ[(summ["level"] == "sector") & (summ["metric"] == "shortfall_frac")]
    wait = summ[(summ["level"] == "authority") & (summ["metric"] == "queue_wait_days")]
    panels = 2 if len(sec) else 1
    fig, axes = subplots(1, panels, figsize=(6.2 * panels, 4.3), squeeze=False,
                             layout="constrained")
    if len(sec):
        ax = axes[0, 0]
        for sector, g in sec.groupby("name", sort=True):
            g = g.set_index("point").reindex(order).dropna(subset=["mean"])
            x = np.array([xs_of(p) for p in g.index], dtype=float)
            c = SECTOR_COLOURS.get(str(sector), "tab:gray")
            ax.fill_between(x, 100 * g["ci_low"], 100 * g["ci_high"], color=c, alpha=0.25,
                            lw=0)
            ax.plot(x, 100 * g["mean"], color=c, marker="o", ms=4, label=f"{sector}")
        ax.set_ylabel("mean shortfall, % of planned production value")
        ax.set_title("Shortfall by sector (band: 95% CI of the mean)", fontsize=10)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    ax = axes[0, panels - 1]
    if len(wait):
        g = wait.set_index("point").reindex(order).dropna(subset=["mean"])
        x = np.array([xs_of(p) for p in g.index], dtype=float)
        ax.fill_between(x, g["ci_low"], g["ci_high"], color="tab:red", alpha=0.25, lw=0)
        ax.plot(x, g["mean"], color="tab:red", marker="o", ms=4)
        ax.set_ylim(bottom=0)
    ax.set_ylabel("mean queue wait, calendar days")
    ax.set_title("Licence queue wait (band: 95% CI of the mean)", fontsize=10)
    here = _scenario(res, 0)
    for a in axes[0]:
        a.set_xlabel(label)
        a.grid(alpha=0.3)
        if not numeric:
            a.set_xticks(range(len(order)), [str(pts.loc[p]) for p in order])
        if numeric and isinstance(here, int | float):
            a.axvline(here, color="0.4", lw=1, ls=":")
            a.text(here, a.get_ylim()[1], f" scenario: {here:g}", fontsize=7, color="0.3",
                   va="top")
    fig.suptitle(_title(res, "Response"), fontsize=11)
    return save(fig, out / "response.png")


def _scenario(res: StoredSweep, j: int) -> object:
    """The scenario's own value of parameter j (1.0 for a scale factor), or None."""
    from ...sweep.levers import scenario_value

    sweep = res.config.sweep
    assert sweep is not None
    return scenario_value(res.config, sweep.parameters[j])


def heatmap(res: StoredSweep, out: Path) -> Path:
    """2-D grid: each sector's mean shortfall over the two parameters, cells annotated."""
    a, b = res.labels[:2]
    pts = res.points.set_index("point")
    sec = _sector_rows(res)
    sectors = sorted(sec["name"].unique())
    fig, axes = subplots(1, len(sectors), figsize=(5.2 * len(sectors), 4.6),
                             squeeze=False, layout="constrained")
    for j, sector in enumerate(sectors):
        ax = axes[0, j]
        g = sec[sec["name"] == sector].set_index("point")
        df = pts.join(g[["mean", "ci_low", "ci_high"]], how="inner")
        grid = df.pivot_table(index=b, columns=a, values="mean", aggfunc="mean")
        half = df.assign(h=(df["ci_high"] - df["ci_low"]) / 2).pivot_table(
            index=b, columns=a, values="h", aggfunc="mean")
        im = ax.imshow(100 * grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(grid.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v)
                                             for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v)
                                             for v in grid.index])
        for (r, c), v in np.ndenumerate(grid.to_numpy()):
            if v == v:
                colour = "k" if im.norm(100 * v) > 0.55 else "w"  # readable on viridis
                ax.text(c, r, f"{100 * v:.1f}%\n±{100 * half.iloc[r, c]:.1f}", ha="center",
                        va="center", fontsize=7, color=colour)
        here = (_scenario(res, 0), _scenario(res, 1))
        if here[0] in list(grid.columns) and here[1] in list(grid.index):
            c0, r0 = list(grid.columns).index(here[0]), list(grid.index).index(here[1])
            from matplotlib.patches import Rectangle

            ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), 1, 1, fill=False, lw=2,
                                   ec="tab:red"))
        ax.set_xlabel(_short(a))
        ax.set_ylabel(_short(b))
        ax.set_title(f"{sector}: mean shortfall (±95% CI half-width)\nred frame: the "
                     "scenario's own values", fontsize=9.5)
        fig.colorbar(im, ax=ax, label="% of planned production value", shrink=0.85)
    fig.suptitle(_title(res, "Shortfall"), fontsize=11)
    return save(fig, out / "heatmap.png")


def main_effects(res: StoredSweep, out: Path) -> Path:
    """lhs and larger grids: each point's mean shortfall against each parameter."""

    pts = numeric_points(res.design.points)
    labels = list(pts.columns)
    sec = _sector_rows(res)
    ncol = min(3, max(1, len(labels)))
    nrow = math.ceil(len(labels) / ncol)
    fig, axes = subplots(nrow, ncol, figsize=(4.6 * ncol, 3.6 * nrow), squeeze=False,
                             layout="constrained")
    for k, label in enumerate(labels):
        ax = axes[k // ncol, k % ncol]
        for sector, g in sec.groupby("name", sort=True):
            g = g.set_index("point")
            ax.scatter(pts.loc[g.index, label], 100 * g["mean"], s=12, alpha=0.7,
                       color=SECTOR_COLOURS.get(str(sector), "tab:gray"), label=str(sector))
        ax.set_xlabel(_short(label))
        ax.set_ylabel("mean shortfall, %")
        ax.grid(alpha=0.3)
    for k in range(len(labels), nrow * ncol):
        axes[k // ncol, k % ncol].axis("off")
    if labels:
        axes[0, 0].legend(fontsize=7)
    fig.suptitle(_title(res, "Mean shortfall at each point"), fontsize=11)
    return save(fig, out / "main_effects.png")


# --------------------------------------------------------------------------- sensitivity


def _per_sector(sens: pd.DataFrame) -> list[str]:
    return sorted(sens.loc[sens["metric"] == "shortfall_frac", "sector"].unique())


def tornado(res: StoredSweep, sens: pd.DataFrame, out: Path) -> Path:
    """oat: per sector, the change in mean shortfall at each parameter's low and high value
    against the base point, widest swing on top, with 95% intervals."""
    sf = sens[sens["metric"] == "shortfall_frac"]
    sectors = _per_sector(sens)
    k = len(res.labels)
    fig, axes = subplots(len(sectors), 1, figsize=(9.5, (1.2 + 0.5 * k) * len(sectors)),
                             squeeze=False, layout="constrained")
    for j, sector in enumerate(sectors):
        ax = axes[j, 0]
        g = sf[sf["sector"] == sector].sort_values("rank", ascending=False)
        y = np.arange(len(g))
        for side, colour in (("low", "tab:blue"), ("high", "tab:orange")):
            eff = 100 * g[f"{side}_effect"].to_numpy(dtype=float)
            lo = 100 * g[f"{side}_ci_low"].to_numpy(dtype=float)
            hi = 100 * g[f"{side}_ci_high"].to_numpy(dtype=float)
            err = np.vstack([eff - lo, hi - eff])
            off = -0.18 if side == "low" else 0.18
            ax.barh(y + off, eff, height=0.36, color=colour, alpha=0.8,
                    label=f"{side} value")
            ax.errorbar(eff, y + off, xerr=np.nan_to_num(err), fmt="none", ecolor="k",
                        elinewidth=0.9, capsize=2)
        names = [f"{_short(r.parameter, 30)}\n{_val(r.low_value)} / {_val(r.high_value)} "
                 f"(base {_val(r.base_value)})" for r in g.itertuples()]
        ax.set_yticks(y, names, fontsize=7.5)
        ax.axvline(0, color="k", lw=0.8)
        base = 100 * g["base_mean"].iloc[0] if len(g) else math.nan
        ax.set_xlabel("change in mean shortfall vs base, percentage points")
        ax.set_title(f"{sector}: mean shortfall at the base point {base:.2f}%", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    paired = "paired by replication" if res.crn else "Welch, unpaired"
    fig.suptitle(_title(res, f"Tornado (95% CI, {paired})"), fontsize=11)
    return save(fig, out / "tornado.png")


def _val(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _noise(g: pd.DataFrame) -> str:
    share = g["noise_share"].iloc[0] if len(g) else math.nan
    if share != share:
        return "no variation between points"
    return f"Monte Carlo noise ≤ {100 * share:.0f}% of the variance of point means"


def sobol_bars(res: StoredSweep, sens: pd.DataFrame, out: Path) -> Path:
    """sobol: per sector, first-order (S1) and total (ST) indices with their 95% intervals."""
    sf = sens[sens["metric"] == "shortfall_frac"]
    sectors = _per_sector(sens)
    k = len(res.labels)
    fig, axes = subplots(len(sectors), 1, figsize=(max(7.0, 1.3 * k + 2), 3.2 * len(sectors)),
                             squeeze=False, layout="constrained")
    for j, sector in enumerate(sectors):
        ax = axes[j, 0]
        g = sf[sf["sector"] == sector].set_index("parameter").reindex(res.labels)
        x = np.arange(k)
        for off, col, colour in ((-0.2, "S1", "tab:blue"), (0.2, "ST", "tab:orange")):
            ax.bar(x + off, g[col], width=0.4, color=colour, alpha=0.85,
                   label=f"{col} ({'first order' if col == 'S1' else 'total'})")
            ax.errorbar(x + off, g[col], yerr=np.nan_to_num(g[f"{col}_conf"].to_numpy(float)),
                        fmt="none", ecolor="k", elinewidth=0.9, capsize=3)
        ax.set_xticks(x, [_short(n, 28) for n in res.labels], fontsize=8)
        ax.axhline(0, color="k", lw=0.6)
        lo = np.nanmin(np.r_[0.0, g["S1"] - g["S1_conf"], g["ST"] - g["ST_conf"]])
        hi = np.nanmax(np.r_[1.0, g["S1"] + g["S1_conf"], g["ST"] + g["ST_conf"]])
        bottom, top = max(lo, -0.5) - 0.05, min(hi, 1.5) + 0.05  # wild intervals are cut
        ax.set_ylim(bottom, top)
        for off, col in ((-0.2, "S1"), (0.2, "ST")):
            _mark_cut(ax, x + off, g[col].to_numpy(float), g[f"{col}_conf"].to_numpy(float),
                      bottom, top)
        ax.set_ylabel("Sobol index")
        ax.set_title(f"{sector}: shortfall_frac ({_noise(g)})", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(_title(res, "Sobol indices (95% bootstrap CI; ▲/▼: runs past the axis, "
                        "value ± half-width shown)"), fontsize=11)
    return save(fig, out / "sobol.png")


def _mark_cut(ax: Axes, x: np.ndarray, value: np.ndarray, conf: np.ndarray, bottom: float,
              top: float) -> None:
    """Where a bar or its whisker runs past the axis (`bottom`, `top`), an arrow at the
    edge and the true value with its half-width, so a cut bar is not read as its stub."""
    for xi, v, c in zip(x, value, np.nan_to_num(conf), strict=True):
        if v != v:
            continue
        labelled = False  # the value once, at the first edge it runs past
        for past, edge, marker, va in ((v + c > top, top, "^", "top"),
                                       (v - c < bottom, bottom, "v", "bottom")):
            if not past:
                continue
            ax.plot([xi], [edge], marker=marker, color="k", ms=5, clip_on=False, zorder=4)
            if not labelled:
                dy = -0.04 if va == "top" else 0.04
                ax.text(xi, edge + dy * (top - bottom), f"{v:.2f}\n±{c:.2f}", fontsize=6.5,
                        ha="center", va=va, zorder=4,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "0.6",
                              "lw": 0.5})
                labelled = True


def morris_scatter(res: StoredSweep, sens: pd.DataFrame, out: Path) -> Path:
    """morris: per sector, mu* against sigma, each parameter labelled, mu* 95% interval."""
    sf = sens[sens["metric"] == "shortfall_frac"]
    varies = sf.groupby("sector")["mu_star"].max() > 0
    sectors = [s for s in _per_sector(sens) if varies.get(s, False)] or _per_sector(sens)
    fig, axes = subplots(1, len(sectors), figsize=(5.2 * len(sectors), 4.4),
                             squeeze=False, layout="constrained")
    for j, sector in enumerate(sectors):
        ax = axes[0, j]
        g = sf[sf["sector"] == sector]
        ax.errorbar(100 * g["mu_star"], 100 * g["sigma"], xerr=100 * g["mu_star_conf"],
                    fmt="o", color=SECTOR_COLOURS.get(sector, "tab:gray"), ecolor="0.5",
                    capsize=2)
        for r in g.itertuples():
            ax.annotate(_short(r.parameter, 26), (100 * r.mu_star, 100 * r.sigma),
                        fontsize=7, xytext=(4, 3), textcoords="offset points")
        top = 100 * max((g["mu_star"] + g["mu_star_conf"]).max(), g["sigma"].max(),
                        1e-12) * 1.15
        ax.plot([0, top], [0, top], color="0.6", lw=0.8, ls="--", label="sigma = mu*")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel("mu* (mean |elementary effect|), pp per full range")
        ax.set_ylabel("sigma (spread of the effects), pp per full range")
        ax.set_title(f"{sector}: shortfall_frac\n({_noise(g)})", fontsize=9.5)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    flat = [s for s in _per_sector(sens) if not varies.get(s, False)]
    note = f" ({', '.join(flat)}: no variation)" if flat and len(flat) < len(varies) else ""
    fig.suptitle(_title(res, "Morris screening") + note, fontsize=11)
    return save(fig, out / "morris.png")


# --------------------------------------------------------------------------- discovery


def discovery_plot(res: StoredSweep, box: pd.DataFrame, traj: pd.DataFrame, out: Path) -> Path:
    """The peeling trajectory (coverage against density) and the chosen box's limits."""
    fig, (a1, a2) = subplots(1, 2, figsize=(12, 4.6), layout="constrained",
                                 gridspec_kw={"width_ratios": [1, 1.3]})
    sc = a1.scatter(traj["coverage"], traj["density"], c=traj["restricted"], cmap="viridis",
                    s=22, zorder=3)
    a1.plot(traj["coverage"], traj["density"], color="0.6", lw=0.8, zorder=2)
    step = int(box["step"].iloc[0])
    a1.scatter([traj["coverage"].iloc[step]], [traj["density"].iloc[step]], s=160,
               facecolors="none", edgecolors="tab:red", lw=1.8, zorder=4,
               label=f"chosen step {step}")
    b0 = box.iloc[0]
    a1.scatter([b0["coverage"]], [b0["density"]], marker="*", s=140, color="tab:red",
               zorder=5, label="reported box (insignificant\nrestrictions dropped)")
    top = int(traj["restricted"].max())
    cbar = fig.colorbar(sc, ax=a1, label="parameters restricted")
    cbar.set_ticks(range(0, top + 1))
    a1.set_xlabel("coverage (share of cases of interest inside the box)")
    a1.set_ylabel("density (share of the box's cases of interest)")
    a1.set_xlim(-0.02, 1.02)
    a1.set_ylim(0, 1.02)
    a1.grid(alpha=0.3)
    a1.legend(fontsize=8, loc="lower left")
    b = box.iloc[0]
    a1.set_title(f"PRIM peeling: {b['outcome']}\n{b['all_of_interest']} of {b['all_cases']} "
                 "cases of interest", fontsize=10)
    span = (box["full_high"] - box["full_low"]).replace(0, 1.0)
    lo = (box["low"] - box["full_low"]) / span
    hi = (box["high"] - box["full_low"]) / span
    y = np.arange(len(box))[::-1]
    width = np.maximum(hi - lo, 0.012)  # a box at one grid value still shows
    a2.barh(y, width, left=lo - (width - (hi - lo)) / 2, height=0.4,
            color=["tab:red" if r else "0.75" for r in box["restricted"]])
    for yi, r in zip(y, box.itertuples(), strict=True):
        a2.text(-0.02, yi, _val(r.full_low), ha="right", va="center", fontsize=7, color="0.4")
        a2.text(1.02, yi, _val(r.full_high), ha="left", va="center", fontsize=7, color="0.4")
        if r.restricted:
            a2.text((r.low - r.full_low) / span[r.Index], yi + 0.27,
                    f"{_val(r.low)} .. {_val(r.high)} (quasi-p {r.quasi_p:.2g})",
                    fontsize=7.5, color="tab:red")
    a2.set_yticks(y, [_short(p, 36) for p in box["parameter"]], fontsize=8)
    a2.set_xlim(-0.15, 1.15)
    a2.set_ylim(-0.6, len(box) - 0.2)
    a2.set_xticks([0, 0.5, 1], ["low end", "middle", "high end"])
    a2.set_title(f"box: coverage {b['coverage']:.2f}, density {b['density']:.2f}, "
                 f"mass {b['mass']:.2f} (red: restricted)", fontsize=10)
    fig.suptitle(_title(res, "Scenario discovery"), fontsize=11)
    return save(fig, out / "discovery.png")


def plot_sweep(res: StoredSweep, out: Path) -> list[Path]:
    """Every plot that fits the sweep's method and parameters."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    has_firms = not res.firms.empty
    if res.method == "grid" and len(res.labels) == 1:
        paths.append(response_curve(res, out))
    elif res.method == "grid" and len(res.labels) == 2 and has_firms:
        paths.append(heatmap(res, out))
    elif res.method in ("grid", "lhs") and has_firms:
        paths.append(main_effects(res, out))
    sens = res.sensitivity()
    if sens is not None and len(sens):
        fn = {"oat": tornado, "sobol": sobol_bars, "morris": morris_scatter}[res.method]
        paths.append(fn(res, sens, out))
    disc = res.discovery()
    if disc is not None:
        paths.append(discovery_plot(res, *disc, out))
    return paths
