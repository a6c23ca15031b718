"""What each folder's HTML report says: a run's question, scenario and policy timeline,
headline sector table, plots, firms, authority, back-test, config, manifest and the command
that reproduces it; a sweep's points, sensitivity and PRIM box; a comparison's paired
differences; a calibration's generations, marginals and predictive fit. `write_report`
picks the page by what the folder holds and writes `report.html` into it."""

from __future__ import annotations

import io
import json
import math
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..analysis.stored import StoredRun, StoredSweep, is_sweep
from ..errors import FolderError
from ..run.store import MANIFEST, ResultsDir, atomic_write_bytes, digest
from .figures import Album
from .html import (
    Cell,
    Code,
    Facts,
    Page,
    Section,
    Table,
    cell,
    figures,
    frame_table,
    render,
    rows_table,
)
from .text import fmt_frac, fmt_money, intervals_note

if TYPE_CHECKING:
    import pandas as pd

    from ..calibration.backtest import Backtest

REPORT = "report.html"
COMPARE_INFO = "compare.json"  # what a comparison compared: labels, runs, pairing

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
    "backtest_exports.png": (
        "Back-test: simulated monthly export ratios against the observations",
        "the band holds 90% of replications and the line their median; filled squares are "
        "observations the calibration saw (fit window), open squares are held out."),
    "posterior_predictive.png": (
        "Posterior predictive monthly export ratios against the observations",
        "the band holds 90% of posterior predictive replications; filled squares were in "
        "the fit window, open squares were held out, so they test the fit."),
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
    "compare.png": (
        "Paired differences of sector shortfall per replication",
        "each violin is one alternative's shortfall minus the reference's, replication by "
        "replication; below zero the alternative did better, the bar is the mean."),
    "posterior_marginals.png": (
        "Prior and posterior density of each calibrated parameter",
        "grey is what we assumed before seeing the data, blue what the data left; a blue "
        "much narrower than grey means the data pinned the parameter down."),
    "posterior_pairs.png": (
        "Posterior particles for every pair of calibrated parameters",
        "each dot is a particle, sized by its weight; a slanted cloud is a trade-off the "
        "targets cannot separate."),
}

METHODS = {"oat": "one-at-a-time (tornado)", "grid": "grid", "lhs": "Latin hypercube",
           "sobol": "Sobol (Saltelli design)", "morris": "Morris (elementary effects)"}
INTERVALS = ("95% CI of the mean: Monte Carlo error (more replications narrow it). "
             "P5–P95: where 90% of replications fall")


# --------------------------------------------------------------------------- shared parts


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
        what = "; ".join(f"{k} = {_short_value(v)}" for k, v in data.items() if k not in base)
        g = pol[pol["index"] == i] if len(pol) else pol
        share = float(g["happened"].mean()) if len(g) else math.nan
        happened = g[g["happened"]] if len(g) else g
        median = (_day_date(start, float(happened["day"].median())) if len(happened)
                  else "–")
        delay = "" if ev.delay_days is None else _short_value(
            ev.delay_days.model_dump(exclude_none=True, mode="json"))
        rows.append([Cell(str(ev.date)), Cell(ev.type), Cell(ev.label or ""), Cell(what),
                     cell(ev.probability, "{:.0%}"), Cell(delay),
                     cell(share, "{:.0%}"), Cell(median)])
    return Table("Policy timeline", ["nominal date", "event", "label", "what changes",
                                     "probability", "delay", "happened in", "median date"],
                 rows, "Happened in: the share of replications in which the event took "
                 "place; median date: its median date among them.", "policy", False)


def _short_value(v: Any, width: int = 90) -> str:
    """A config value for people: a distribution as `triangular(low 15, mode 35, high
    45)`, a list of names as `US, EU`, numbers as they read; cut at `width`."""
    if isinstance(v, dict) and "dist" in v:
        text = f"{v['dist']}(" + ", ".join(f"{k} {_short_value(x)}" for k, x in v.items()
                                           if k != "dist") + ")"
    elif isinstance(v, list) and all(isinstance(x, str | int | float) for x in v):
        text = ", ".join(_short_value(x) for x in v)
    elif isinstance(v, float):
        text = f"{v:g}"
    else:
        text = v if isinstance(v, str) else json.dumps(v, separators=(", ", ": "))
    return text if len(text) <= width else text[: width - 1] + "…"


def _manifest_facts(man: dict[str, Any]) -> Facts:
    keys = [("version", "rareshock version"), ("kind", "kind"), ("run_id", "run id"),
            ("seed", "seed"), ("replications", "replications"), ("points", "points"),
            ("method", "method"), ("crn", "common random numbers"),
            ("chunk_size", "chunk size"), ("events_processed", "events"),
            ("wall_seconds", "wall time (s)"), ("executor", "executor"),
            ("workers", "workers"), ("created", "created"), ("state", "state"),
            ("simulations", "simulations"), ("generations", "generations"),
            ("commit", "commit"), ("config_sha256", "config sha256"),
            ("config_file_sha256", "config.toml sha256")]
    pairs = []
    for k, label in keys:
        if man.get(k) is not None:
            v = man[k]
            pairs.append((label, f"{v:,}" if isinstance(v, int) and not isinstance(v, bool)
                          and k != "seed" else str(v)))
    return Facts(pairs)


def _config_section(store: ResultsDir, man: dict[str, Any], command: str) -> list[Section]:
    text = store.config_bytes().decode()
    return [
        Section("config", "The configuration that ran",
                ["config.toml in the results folder, fully resolved: defaults filled in, "
                 "overrides applied, observations and posterior samples inlined."],
                [Code(text, f"config.toml ({len(text.splitlines()):,} lines)", folded=True)]),
        Section("manifest", "Manifest", [], [_manifest_facts(man)]),
        Section("reproduce", "Reproduce it",
                ["One command runs it again from the folder's own config (same seed, same "
                 "replications) into a new folder; a run's numbers come out identical."],
                [Code(command, css="command")]),
    ]


def _backtest_section(bt: Backtest, title: str, figure_name: str) -> Section:
    from .backtest import plot_backtest

    album = Album()
    plot_backtest(bt, album, title, figure_name)
    sec = Section("backtest", "Back-test against the observations",
                  ["Observed and simulated controlled exports per day in each month, over "
                   "the same level before the controls; in = fit window, out = held out "
                   "(not used for fitting)."])
    sec.items += figures(album.figures, CAPTIONS, "bt")
    for df, caption in ((bt.exports, "Monthly exports, ratio to the level before the "
                         "controls"), (bt.errors, "Error measures"),
                        (bt.stoppages, "First stoppages against the reported dates"),
                        (bt.approvals, "Applications approved")):
        if len(df):
            sec.items.append(frame_table(df, caption, default="{:.3g}", row_headers=False))
    return sec


def _sector_headline(rows: list[dict[str, Any]], k_uncertain: int) -> Table:
    """The headline: per sector, mean shortfall and value lost with the 95% CI of the
    mean (Monte Carlo error), P5-P95 of replications, P(>0) and CVaR95."""
    out = []
    for r in rows:
        if r["level"] not in ("sector", "tier") or r["metric"] not in ("shortfall_frac",
                                                                        "value_lost"):
            continue
        fmt = fmt_frac if r["metric"] == "shortfall_frac" else fmt_money
        name = r["name"] if r["level"] == "sector" else f"tier {r['name']}"
        key = f"{name}/{r['metric']}"
        out.append([Cell(name), Cell("shortfall" if r["metric"] == "shortfall_frac"
                                          else "value lost"),
                    cell(r["mean"], fmt, f"{key}/mean"),
                    cell(r["ci_low"], fmt, f"{key}/ci_low"),
                    cell(r["ci_high"], fmt, f"{key}/ci_high"),
                    cell(r["p5"], fmt, f"{key}/p5"), cell(r["p95"], fmt, f"{key}/p95"),
                    cell(r["p_positive"], "{:.2f}", f"{key}/p_positive"),
                    cell(r["cvar95"], fmt, f"{key}/cvar95")])
    return Table("Sector shortfall (share of planned production value) and value lost",
                 ["sector", "metric", "mean", "95% CI low", "95% CI high", "P5", "P95",
                  "P(> 0)", "CVaR95"], out,
                 f"{intervals_note(k_uncertain)} CVaR95: the mean of the worst 5% of "
                 "replications.", "headline")


# --------------------------------------------------------------------------- a run


def run_page(res: StoredRun) -> Page:
    """The report of a run folder."""
    from .run_plots import plot_run

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
        sections.append(_backtest_section(res.backtest(), f"{name}, {res.replications} "
                                          "replications", "backtest_exports.png"))
    cmd = f"rareshock run {res.path / 'config.toml'} --out {res.path}-again"
    sections += _config_section(res.store, man, cmd)
    return Page("run", f"{name}: {res.replications:,} replications", str(res.path), intro,
                sections)


def _explainers(res: StoredRun) -> Table | None:
    """What explains the spread of each sector's shortfall (the uncertain parameters that
    stand above their noise floor), as `rareshock summary` lists them."""
    from .text import RHO_NOTE, glossary, top_explainers

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


# --------------------------------------------------------------------------- a sweep


def sweep_page(res: StoredSweep) -> Page:
    """The report of a sweep folder."""
    from .sweep_plots import plot_sweep

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
         _short_value(p.values) if p.values is not None else
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
    sections += _config_section(res.store, man, cmd)
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


# --------------------------------------------------------------------------- a comparison


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
    from ..analysis.compare import COLUMNS

    lacking = [c for c in COLUMNS if c not in table.columns]
    if lacking:
        raise FolderError(str(path), f"compare.csv is damaged (no column {lacking[0]!r}); "
                          f"{again}")
    return info, runs, table.fillna({"vs_best": "", "best": "", "reference_vs_best": "",
                                     "only_in": ""})


def compare_page(path: Path) -> Page:
    """The report of a comparison folder (compare.csv and compare.json)."""
    from .compare import compare_head, compare_intro, compare_rows, plot_differences

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


# --------------------------------------------------------------------------- a calibration


def calibration_page(path: Path) -> Page:
    """The report of a calibration folder."""
    from ..calibration.posterior import stored_fit
    from .calibration import correlations, coverage, parameter_table, plot_marginals, plot_pairs

    store = ResultsDir(path)
    man = store.open_header()
    cfg = store.config()
    fit = stored_fit(path, cfg)
    name = cfg.name or path.name
    gens = fit.generations.copy()
    s = fit.settings
    fit_months = sorted({t.key.split()[-1] for t in fit.targets if t.group == "exports"})
    sections = [Section("fit", "What was fitted", [
        f"ABC-SMC (pyabc) of {len(fit.names)} uncertain parameters against "
        f"{len(fit.targets)} targets of the fit window {', '.join(fit_months)}; population "
        f"{s.population}, at most {s.generations} generations, stopping once acceptance "
        f"falls below {s.min_acceptance:.1%}."], [Facts([
            ("simulations", f"{fit.simulations:,}"),
            ("fit time", f"{fit.wall_seconds / 60:.1f} min"),
            ("generations", str(len(gens))),
            ("final ESS", f"{float(gens['ess'].iloc[-1]):.0f} of {s.population}")])])]
    sections.append(Section("generations", "Generations", [
        "epsilon: the tolerance on the weighted distance (its scale is re-set each "
        "generation); acceptance: particles accepted over simulations; ESS: effective "
        "sample size of the weighted particles."], [frame_table(
            gens, "Generations", formats={"acceptance": "{:.1%}", "t": "{:.0f}",
                                          "particles": "{:.0f}", "simulations": "{:,.0f}"},
            ident="generations")]))
    album = Album()
    plot_marginals(cfg, fit, album)
    plot_pairs(fit, album)
    params = parameter_table(cfg, fit)
    corr = correlations(fit)
    items: list[Any] = [frame_table(params, "Prior and posterior", ident="parameters",
                                    note="Width / prior: the posterior's P5–P95 width over "
                                    "the prior's (1: the data said nothing; small: well "
                                    "identified).")]
    if len(corr):
        items.append(frame_table(corr, "Posterior correlations (|r| ≥ 0.3)",
                                 formats={"correlation": "{:+.2f}"}))
    items += figures(album.figures, CAPTIONS, "cal")
    sections.append(Section("posterior", "Prior and posterior", [], items))
    targets = [[t.key, t.group, cell(t.observed, "{:.3f}")] for t in fit.targets]
    sections.append(Section("targets", "Targets", [], [rows_table(
        "Observed targets of the fit window", ["target", "kind", "observed"], targets)]))
    pred = StoredRun(path / "predictive")
    bt = pred.backtest()
    bsec = _backtest_section(bt, f"{name} posterior predictive, {pred.replications} "
                             "replications", "posterior_predictive.png")
    bsec.ident, bsec.title = "predictive", "Posterior predictive fit"
    bsec.paragraphs.insert(0, f"{pred.replications} replications of posterior.toml, each "
                           "drawing one particle, over the whole horizon.")
    bsec.items.insert(0, frame_table(coverage(bt, fit_months), "Observed points inside the "
                                     "predictive P5–P95", formats={}, default="{:.0f}"))
    sections.append(bsec)
    cmd = f"rareshock calibrate {path / 'config.toml'} --out {path}-again"
    sections += _config_section(store, man, cmd)
    return Page("calibration", f"Calibration: {name}", str(path), [
        f"What do the 2025 observations say about the {len(fit.names)} uncertain "
        "parameters, and does the fitted model reproduce the months it did not see?"],
        sections)


# --------------------------------------------------------------------------- writing


def report_page(path: Path) -> Page:
    """The page that fits what the folder holds; FolderError if it holds no results.
    (A line says the page is being written once the folder is known to hold one.)"""
    from ..run.phases import phase

    said = f"writing {path / REPORT}..."
    if (path / COMPARE_INFO).is_file():
        phase(said)
        return compare_page(path)
    if not (path / MANIFEST).is_file():
        raise FolderError(str(path), "holds no results (no manifest.json or compare.json)")
    kind = ResultsDir(path).open_header().get("kind")
    if kind == "calibration":
        phase(said)
        return calibration_page(path)
    res = StoredSweep(path) if is_sweep(path) else StoredRun(path)
    phase(said)
    return sweep_page(res) if isinstance(res, StoredSweep) else run_page(res)


def write_report(path: str | Path) -> Path:
    """Write `report.html` into the results folder at `path` and return its path. In a
    run, sweep or calibration folder it is listed in the manifest (a calibration's with
    its checksum, which `verify` checks)."""
    path = Path(path)
    page = report_page(path)
    data = render(page).encode()
    if page.kind == "comparison":
        atomic_write_bytes(path / REPORT, data)
        return path / REPORT
    store = ResultsDir(path)
    with store.locked():
        store.write_output(REPORT, data)
        if page.kind == "calibration":
            sums = dict(store.header().get("sha256", {}))
            sums[REPORT] = digest(data)
            store.update_manifest(sha256=sums)
    return path / REPORT
