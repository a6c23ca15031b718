"""A sweep's report page: the swept parameters, the points with their response, the plots,
the sensitivity table, the scenario-discovery box, and the config and manifest."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ...analysis.stored import StoredSweep
from ..figures import Album
from ..html import Cell, Facts, Page, Section, Table, cell, figures, rows_table
from ..sections import config_sections, short_value
from ..text import fmt_frac
from .plots import plot_sweep

if TYPE_CHECKING:
    import pandas as pd


# file name -> (alt text, the one sentence that says how to read the figure)
CAPTIONS: dict[str, tuple[str, str]] = {
    "response.png": (
        "Response of mean sector shortfall and queue wait to the swept parameter",
        "each line is a sector's mean shortfall at each swept value, its band the 95% "
        "interval of the mean; the right-hand panel is the mean queue wait."),
    "heatmap.png": (
        "Heat maps of mean sector shortfall over the two swept parameters",
        "each cell is one point of the grid, coloured and labelled by the sector's mean "
        "shortfall with the half-width of its 95% interval."),
    "main_effects.png": (
        "Mean sector shortfall at each point against each swept parameter",
        "each dot is a point of the design; a trend along a parameter's axis is its main "
        "effect, scatter around it is the other parameters' doing."),
    "tornado.png": (
        "Tornado chart: change in mean shortfall at each parameter's low and high value",
        "bars are the change in mean shortfall from the base point when one parameter "
        "moves to its low or high value, widest swing on top, whiskers the 95% interval."),
    "sobol.png": (
        "Sobol indices per sector with 95% intervals",
        "S1 is the share of the variance of mean shortfall a parameter explains alone, ST "
        "with its interactions; whiskers are 95% bootstrap intervals."),
    "morris.png": (
        "Morris screening: mu* against sigma per sector",
        "far right means a large effect (mu*), high up means the effect depends on the "
        "other parameters or is non-linear (sigma)."),
    "discovery.png": (
        "Scenario discovery: PRIM peeling trajectory and the chosen box",
        "left, each step of peeling trades coverage (cases of interest kept) for density "
        "(share of the box that is of interest); right, the chosen box's limits against "
        "each parameter's swept range."),
}


METHODS = {"oat": "one-at-a-time (tornado)", "grid": "grid", "lhs": "Latin hypercube",
           "sobol": "Sobol (Saltelli design)", "morris": "Morris (elementary effects)"}
INTERVALS = ("95% CI of the mean: Monte Carlo error (more replications narrow it). "
             "P5–P95: where 90% of replications fall")


def sweep_page(res: StoredSweep) -> Page:
    """The report of a sweep folder."""
    cfg, man = res.config, res.manifest
    name = man.get("name") or res.path.name
    sweep = cfg.sweep
    assert sweep is not None
    crn = "common random numbers" if res.crn else "independent streams"
    n_points = len(res.design.points)
    method = METHODS.get(res.method, res.method)
    intro = [f"How does sector shortfall respond to {', '.join(res.labels)} in “{name}”? "
             f"A {method} sweep of {n_points} points × {res.replications} replications "
             f"each, on {crn}."]
    if not res.complete:
        intro.append("Unfinished: continue it with --resume before relying on these numbers.")
    params = rows_table("Swept parameters", ["parameter", "config path", "values"], [
        [p.name or str(p.path), ", ".join(p.path) if isinstance(p.path, list) else p.path,
         short_value(p.values) if p.values is not None else
         f"{p.low:g} to {p.high:g}" + (" (log)" if p.log else "")]
        for p in sweep.parameters])
    sections = [Section("scenario", "The question and the sweep", [], [Facts([
        ("scenario", name), ("description", cfg.description or "–"),
        ("method", method), ("points", f"{n_points:,}"),
        ("replications per point", f"{res.replications:,}"), ("random numbers", crn)]),
        params])]
    sections.append(_points_section(res))
    album = Album()
    plot_sweep(res, album)
    sections.append(Section("plots", "Plots", [], figures(album.figures, CAPTIONS, "sw")))
    sens = res.sensitivity()
    if sens is not None and len(sens):
        sections.append(Section("sensitivity", "Sensitivity", [],
                                [_sensitivity_table(res.method, sens)]))
    disc = res.discovery()
    if disc is not None:
        sections.append(_discovery_section(disc[0]))
    cmd = f"rareshock sweep {res.path / 'config.toml'} --out {res.path}-again"
    sections += config_sections(res.store, man, cmd)
    return Page("sweep", f"{name}: {method} sweep", str(res.path), intro, sections)


def _points_section(res: StoredSweep) -> Section:
    summ = res.summary()
    sec = summ[(summ["level"] == "sector") & (summ["metric"] == "shortfall_frac")]
    wait = summ[(summ["level"] == "authority") & (summ["metric"] == "queue_wait_days")]
    sectors = sorted(sec["name"].unique())
    head = ["point", *res.labels, *(f"{s} shortfall [95% CI]" for s in sectors),
            "queue wait (days)"]
    body = []
    for p, row in res.points.set_index("point").iterrows():
        r = [Cell(str(p)), *(cell(row[c]) for c in res.labels)]
        for s in sectors:
            x = sec[(sec["point"] == p) & (sec["name"] == s)]
            r.append(Cell(f"{fmt_frac(x['mean'].iloc[0])} [{fmt_frac(x['ci_low'].iloc[0])}, "
                          f"{fmt_frac(x['ci_high'].iloc[0])}]", float(x["mean"].iloc[0]),
                          f"{p}/{s}/mean") if len(x) else Cell("–"))
        w = wait[wait["point"] == p]
        r.append(cell(w["mean"].iloc[0], "{:.3g}") if len(w) else Cell("–"))
        body.append(r)
    return Section("points", "Points and response", [], [Table(
        "Mean sector shortfall at each point", head, body, INTERVALS + " (per point: see "
        "summary.csv).", "points")])


def _sensitivity_table(method: str, sens: pd.DataFrame) -> Table:
    """The shortfall rows of the sensitivity table, per sector, most important first, with
    the share of the variance of point means that is Monte Carlo noise."""
    sf = sens[sens["metric"] == "shortfall_frac"]
    pp = "{:+.2f} pp"
    rows = []
    for sector, g in sf.groupby("sector", sort=True):
        share = g["noise_share"].iloc[0] if "noise_share" in g else math.nan
        noise = cell(share, "{:.0%}")
        if method == "sobol":
            head = ["sector", "parameter", "S1", "S1 ± (95%)", "ST", "ST ± (95%)",
                    "noise share"]
            rows += [[Cell(sector), Cell(r["parameter"]), cell(r["S1"], "{:.3f}"),
                      cell(r["S1_conf"], "{:.3f}"), cell(r["ST"], "{:.3f}"),
                      cell(r["ST_conf"], "{:.3f}"), noise]
                     for _, r in g.sort_values("ST", ascending=False).iterrows()]
        elif method == "morris":
            head = ["sector", "parameter", "mu*", "mu* ± (95%)", "sigma", "noise share"]
            rows += [[Cell(sector), Cell(r["parameter"]), cell(r["mu_star"], "{:.4f}"),
                      cell(r["mu_star_conf"], "{:.4f}"), cell(r["sigma"], "{:.4f}"), noise]
                     for _, r in g.sort_values("mu_star", ascending=False).iterrows()]
        else:  # oat: the tornado
            head = ["sector", "parameter", "low value", "effect at low", "95% CI",
                    "high value", "effect at high", "95% CI"]
            pct = lambda v: pp.format(100 * v)  # noqa: E731
            rows += [[Cell(sector), Cell(r["parameter"]), cell(r["low_value"]),
                      cell(r["low_effect"], pct),
                      Cell(f"[{pct(r['low_ci_low'])}, {pct(r['low_ci_high'])}]"),
                      cell(r["high_value"]), cell(r["high_effect"], pct),
                      Cell(f"[{pct(r['high_ci_low'])}, {pct(r['high_ci_high'])}]")]
                     for _, r in g.sort_values("rank").iterrows()]
    note = {"sobol": "S1: the share of the variance of point means a parameter explains "
                     "alone; ST: with its interactions.",
            "morris": "mu*: the mean absolute elementary effect; sigma: their spread.",
            }.get(method, "Effects are changes in mean shortfall from the base point.")
    if method in ("sobol", "morris"):
        note += (" Noise share: the part of the variance of point means that is Monte "
                 "Carlo noise (an upper bound).")
    return Table("Sensitivity of mean sector shortfall", head, rows, note, "sensitivity")


def _discovery_section(box: pd.DataFrame) -> Section:
    b = box.iloc[0]
    rows = [[Cell(r["parameter"]), cell(r["low"]), cell(r["high"]), cell(r["full_low"]),
             cell(r["full_high"]), cell(r["quasi_p"], "{:.2g}")]
            for _, r in box[box["restricted"]].iterrows()]
    return Section("discovery", "Scenario discovery (PRIM)", [
        f"Outcome of interest: {b['outcome']}, in {b['all_of_interest']} of "
        f"{b['all_cases']} cases. The box holds coverage {b['coverage']:.2f} of them at "
        f"density {b['density']:.2f} (mass {b['mass']:.2f})."], [Table(
            "The box: where the outcome of interest concentrates", ["parameter", "low",
            "high", "swept low", "swept high", "quasi-p"], rows,
            "" if rows else "No restriction: the outcome is spread over the whole range.",
            "box")])
