"""A run's report page: its question, scenario and policy timeline, headline sector table,
what explains the spread, plots, firms, authority, back-test, config, manifest and the
command that reproduces it."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from ...analysis.stored import StoredRun
from ..backtest import backtest_section
from ..figures import Album
from ..html import Cell, Facts, Page, Section, Table, cell, figures
from ..sections import config_sections, short_value
from ..text import fmt_frac, fmt_money
from .plots import plot_run
from .text import RHO_NOTE, glossary, intervals_note, top_explainers

# file name -> (alt text, the one sentence that says how to read the figure)
CAPTIONS: dict[str, tuple[str, str]] = {
    "shortfall_by_sector.png": (
        "Histograms and cumulative distributions of production shortfall per sector",
        "each column is a sector; the histogram counts replications by the share of planned "
        "production value lost, the curve below gives the share of replications at or "
        "below each level, the solid line is the mean and the dashed line the P95."),
    "tts_ttr.png": (
        "Histograms of time to survive and time to recover per sector",
        "orange counts the days from the start of the controls until a firm first ran out "
        "(time to survive), purple the days from that stock-out until it recovered; where "
        "orange sits left of purple, firms ran out before they could recover."),
    "inventory_fan.png": (
        "Fan charts of each firm's usable inventory over time",
        "each panel is one firm's stock of one material in days of planned use: the line "
        "is the median replication, the dark band holds the middle half of replications "
        "and the light band 90%; dotted lines mark the numbered policy events."),
    "network.png": (
        "The supply network by tier, with fill rates and each firm's shortfall",
        "material flows left to right, from the raw-material suppliers through the tiers to "
        "the firms that make end products; an arrow's width is its mean deliveries and its "
        "label its mean fill rate, and each firm shows its mean shortfall and median time "
        "to survive."),
    "backlog_fan.png": (
        "Fan chart of open licence applications over time",
        "the number of applications waiting at the authority: median replication as a "
        "line, the middle half and 90% of replications as bands, policy events dotted."),
    "exports_monthly.png": (
        "Monthly controlled exports, simulated against observed",
        "the blue band holds 90% of replications' monthly exports and the line their "
        "median; black squares are the observed tonnes where the config has them."),
    "lead_times.png": (
        "Histograms of licence queue wait, decision time and total lead time",
        "left, how long decided applications waited for a reviewer (log scale); middle, "
        "working days from acceptance to decision against the statutory limit (red); "
        "right, calendar days from submission to decision."),
}


def _day_date(start: date, day: float) -> str:
    return (start + timedelta(days=float(day))).isoformat()


def _policy_table(res: StoredRun) -> Table:
    """The policy timeline: each event's nominal date, what it does, its probability and
    delay, and how often and when (median) it happened in the replications."""
    cfg = res.config
    pol = res.policy
    start = cfg.calendar.start
    base = {"date", "delay_days", "probability", "label", "outside_window", "type"}
    rows = []
    for i, ev in enumerate(cfg.policy):
        data = ev.model_dump(exclude_none=True, mode="json")
        what = "; ".join(f"{k} = {short_value(v)}" for k, v in data.items() if k not in base)
        g = pol[pol["index"] == i] if len(pol) else pol
        share = float(g["happened"].mean()) if len(g) else math.nan
        happened = g[g["happened"]] if len(g) else g
        median = (_day_date(start, float(happened["day"].median())) if len(happened)
                  else "–")
        delay = "" if ev.delay_days is None else short_value(
            ev.delay_days.model_dump(exclude_none=True, mode="json"))
        rows.append([Cell(str(ev.date)), Cell(ev.type), Cell(ev.label or ""), Cell(what),
                     cell(ev.probability, "{:.0%}"), Cell(delay),
                     cell(share, "{:.0%}"), Cell(median)])
    return Table("Policy timeline", ["nominal date", "event", "label", "what changes",
                                     "probability", "delay", "happened in", "median date"],
                 rows, "Happened in: the share of replications in which the event took "
                 "place; median date: its median date among them.", "policy", False)


def _sector_headline(rows: list[dict[str, Any]], k_uncertain: int) -> Table:
    """The headline: per sector, mean shortfall and value lost (and total cost, with a
    `[costs]` table) with the 95% CI of the mean (Monte Carlo error), P5-P95 of
    replications, P(>0) and CVaR95."""
    out = []
    labels = {"shortfall_frac": "shortfall", "value_lost": "value lost",
              "total_cost": "total cost"}  # the last with a [costs] table
    for r in rows:
        if r["level"] not in ("sector", "tier") or r["metric"] not in labels:
            continue
        fmt = fmt_frac if r["metric"] == "shortfall_frac" else fmt_money
        name = r["name"] if r["level"] == "sector" else f"tier {r['name']}"
        key = f"{name}/{r['metric']}"
        out.append([Cell(name), Cell(labels[r["metric"]]),
                    cell(r["mean"], fmt, f"{key}/mean"),
                    cell(r["ci_low"], fmt, f"{key}/ci_low"),
                    cell(r["ci_high"], fmt, f"{key}/ci_high"),
                    cell(r["p5"], fmt, f"{key}/p5"), cell(r["p95"], fmt, f"{key}/p95"),
                    cell(r["p_positive"], "{:.2f}", f"{key}/p_positive"),
                    cell(r["cvar95"], fmt, f"{key}/cvar95")])
    return Table("Sector shortfall (share of planned production value) and value lost"
                 + (", and total cost" if any(r[1].text == "total cost" for r in out) else ""),
                 ["sector", "metric", "mean", "95% CI low", "95% CI high", "P5", "P95",
                  "P(> 0)", "CVaR95"], out,
                 f"{intervals_note(k_uncertain)} CVaR95: the mean of the worst 5% of "
                 "replications.", "headline")


def run_page(res: StoredRun) -> Page:
    """The report of a run folder."""
    cfg, man = res.config, res.manifest
    name = man.get("name") or res.path.name
    start = cfg.calendar.start
    end = start + timedelta(days=cfg.horizon_days)
    sectors = sorted({f.sector for f in cfg.firms.values()})
    k = len(res.uncertain)
    intro = [f"How much production do {', '.join(sectors) or 'the firms'} lose when "
             f"rare-earth export licences are delayed, in the scenario “{name}”, and how "
             "sure can we be?" if sectors else
             f"How does the licence queue behave in the scenario “{name}”?"]
    if not res.complete:
        intro.append(f"Unfinished: {res.replications} of {res.planned} replications; "
                     "continue it with --resume before relying on these numbers.")
    scenario = Section("scenario", "The question and the scenario", [], [Facts([
        ("scenario", name), ("description", cfg.description or "–"),
        ("horizon", f"{start.isoformat()} to {end.isoformat()} ({cfg.horizon_days:g} days)"),
        ("firms", f"{len(cfg.firms)} in {len(sectors)} sectors"),
        ("replications", f"{res.replications:,}"),
        ("uncertain parameters", f"{k}, drawn afresh in each replication" if k else
         "none: every replication runs the same parameters"),
    ])])
    if cfg.policy:
        scenario.items.append(_policy_table(res))
    sections = [scenario]
    rows = res.summary_rows
    if cfg.firms:
        head = Section("headline", "Headline: sector shortfall", [],
                       [_sector_headline(rows, k)])
        exp = _explainers(res)
        if exp is not None:
            head.items.append(exp)
        sections.append(head)
    album = Album()
    plot_run(res, album)
    sections.append(Section("plots", "Plots", [], figures(album.figures, CAPTIONS, "run")))
    if cfg.firms:
        sections.append(_firms_section(res, rows))
    sections.append(_authority_section(rows))
    if cfg.observed is not None and cfg.firms:
        sections.append(backtest_section(res.backtest(), f"{name}, {res.replications} "
                                          "replications", "backtest_exports.png"))
    cmd = f"rareshock run {res.path / 'config.toml'} --out {res.path}-again"
    sections += config_sections(res.store, man, cmd)
    return Page("run", f"{name}: {res.replications:,} replications", str(res.path), intro,
                sections)


def _explainers(res: StoredRun) -> Table | None:
    """What explains the spread of each sector's shortfall (the uncertain parameters that
    stand above their noise floor), as `rareshock summary` lists them."""
    exp = res.explained()
    if exp is None:
        return None
    top, note = top_explainers(exp, res.parameters)
    note = f"{RHO_NOTE} {note}".strip()
    gloss = glossary(res.config)
    rows = []
    for sector, g in top.items():
        if isinstance(g, str):
            rows.append([Cell(sector), Cell(g), Cell(""), Cell(""), Cell("")])
            continue
        for _, r in g.iterrows():
            name = r["parameter"]
            shown = f"{name}: {gloss[name]}" if gloss.get(name) else name
            rows.append([Cell(sector), Cell(shown), cell(r["delta"], "{:.2f}"),
                         cell(r["delta_conf"], "± {:.2f}"), cell(r["spearman"], "{:+.2f}")])
    return Table("What explains the spread of sector shortfall", ["sector", "parameter",
                 "delta", "95% interval", "Spearman's rho"], rows, note, "explained")


def _firms_section(res: StoredRun, rows: list[dict[str, Any]]) -> Section:
    by = {(r["name"], r["metric"]): r for r in rows if r["level"] == "firm"}
    cfg = res.config
    out = []
    tier = cfg.tiers()
    order = sorted(cfg.firms, key=lambda f: (-tier[f], cfg.firms[f].sector, f))
    tiers = any(tier.values())
    for f in order:
        firm = cfg.firms[f]
        s = by.get((f, "shortfall_frac"), {})
        tts, ttr = by.get((f, "tts_days"), {}), by.get((f, "ttr_days"), {})
        down = by.get((f, "downtime_days"), {})
        row = [Cell(f), Cell(firm.sector)]
        if tiers:
            row.append(Cell(str(tier[f])))
        row += [cell(s.get("mean", math.nan), fmt_frac),
                Cell(f"[{fmt_frac(s.get('ci_low', math.nan))}, "
                     f"{fmt_frac(s.get('ci_high', math.nan))}]"),
                cell(s.get("p_positive", math.nan), "{:.2f}"),
                cell(tts.get("p50", math.nan), "{:.0f}"), cell(ttr.get("p50", math.nan),
                                                             "{:.0f}"),
                cell(down.get("mean", math.nan), "{:.1f}")]
        out.append(row)
    cols = ["firm", "sector", *(["tier"] if tiers else []), "mean shortfall",
            "95% CI", "P(shortfall > 0)", "TTS P50 (days)", "TTR P50 (days)",
            "mean downtime (days)"]
    return Section("firms", "Firms", [], [Table(
        "Each firm's shortfall, time to survive and time to recover", cols, out,
        "TTS: days from the start of the controls to the firm's first stock-out; TTR: days "
        "from it to recovery; both over the replications in which they happened.",
        "firms")])


def _authority_section(rows: list[dict[str, Any]]) -> Section:
    out = [[Cell(r["metric"]), cell(r["mean"]), cell(r["ci_low"]), cell(r["ci_high"]),
            cell(r["p50"]), cell(r["p95"])] for r in rows if r["level"] == "authority"]
    return Section("authority", "The licensing authority", [], [Table(
        "Queue statistics over replications", ["metric", "mean", "95% CI low",
                                              "95% CI high", "P50", "P95"], out,
        "Waits and lead times in days; utilisation is the share of reviewer time busy.",
        "authority")])
