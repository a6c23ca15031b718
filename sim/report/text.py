"""Tables for the terminal: a run's sector and authority statistics, a sweep's points,
sensitivity ranking and scenario-discovery box."""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np

from ..analysis.stored import StoredRun, StoredSweep
from ..analysis.uncertainty import MIN_DELTA, NOISE_FLOOR, ROW_FLOOR, floor_of

FLOORS = (NOISE_FLOOR, ROW_FLOOR)

if TYPE_CHECKING:
    import pandas as pd


def run_text(res: StoredRun) -> str:
    """A run's sector and authority tables, readable in a terminal (from the summary rows:
    no pandas), with the two kinds of interval told apart, and what explains the spread
    when the run drew uncertain parameters."""
    rows = res.summary_rows
    s = [r | {"name": f"tier {r['name']}"} if r["level"] == "tier" else r
         for r in rows if r["level"] in ("sector", "tier")]
    name = res.manifest.get("name") or res.path.name
    k = len(res.uncertain)
    drew = f", {k} uncertain parameter{'s' if k != 1 else ''} drawn in each" if k else ""
    lines = [f"{name}: {res.replications} replications{drew}" if res.complete else
             f"{name}: {res.replications} of {res.planned} replications done{drew} "
             "(unfinished: continue the run with --resume)"]
    head = (f"{'sector':<10} {'metric':<15} {'mean':>10} {'95% CI of the mean':>24} "
            f"{'P5-P95 of replications':>26} {'P(>0)':>6} {'CVaR95':>10}")
    lines.append(head if len(s) else "(no firms in this config: no sector table)")
    for r in s:
        fmt = fmt_frac if r["metric"] == "shortfall_frac" else fmt_money
        ci = f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]"
        band = f"[{fmt(r['p5'])}, {fmt(r['p95'])}]"
        lines.append(f"{r['name']:<10} {r['metric']:<15} {fmt(r['mean']):>10} {ci:>24} "
                     f"{band:>26} {r['p_positive']:>6.2f} {fmt(r['cvar95']):>10}")
    if s:
        lines += textwrap.wrap(intervals_note(k), 100)
    exp = res.explained() if k and s else None
    if exp is not None:
        lines += ["", "what explains the spread of sector shortfall (delta, 95% interval; "
                  "Spearman's rho):"]
        top, note = top_explainers(exp, res.parameters)
        gloss = glossary(res.config)
        for sector, g in top.items():
            if isinstance(g, str):
                lines.append(f"  {sector:<8} {g}")
                continue
            for k_, (_, r) in enumerate(g.iterrows()):
                lines.append(f"  {sector if k_ == 0 else '':<8} {r['parameter'][:40]:<40} "
                             f"delta {r['delta']:.2f} ± {r['delta_conf']:.2f}, "
                             f"rho {r['spearman']:+.2f}")
                if gloss.get(r["parameter"]):
                    lines += textwrap.wrap(gloss[r["parameter"]], 100,
                                           initial_indent=" " * 13,
                                           subsequent_indent=" " * 13)
        lines += textwrap.wrap(RHO_NOTE + (" " + note if note else ""), 100)
    auth = [r for r in rows if r["level"] == "authority"]
    if auth:
        lines.append("")
        lines.append(f"{'authority':<26} {'mean':>12} {'95% CI':>27} {'P50':>12} {'P95':>12}")
        for r in auth:
            ci = f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}]"
            lines.append(f"{r['metric']:<26} {r['mean']:>12.4g} {ci:>27} "
                         f"{r['p50']:>12.4g} {r['p95']:>12.4g}")
    if s or auth:
        lines += textwrap.wrap(interval_kinds_note(rows), 100)
    return "\n".join(lines)


RHO_NOTE = ("rho > 0: replications that drew a higher value of the parameter lost more "
            "(more shortfall); rho < 0: less. A rank correlation over the sample, not a "
            "cause: parameters drawn together (rows of a posterior) share it.")


def glossary(cfg: Any) -> dict[str, str]:
    """Each uncertain parameter's one-line description (its `description`), by name."""
    return {u.name: u.description for u in getattr(cfg, "uncertain", [])
            if getattr(u, "description", None)}


def interval_kinds_note(rows: list[dict[str, Any]]) -> str:
    """Which kind of 95% interval the metrics of `rows` use, in a sentence."""
    from ..analysis.stats import INTERVALS

    kinds: dict[str, list[str]] = {}
    for r in rows:
        if r.get("level") in ("sector", "tier", "authority") and r.get("interval") in INTERVALS:
            ms = kinds.setdefault(r["interval"], [])
            if r["metric"] not in ms:
                ms.append(r["metric"])
    parts = [f"{', '.join(ms)}: {INTERVALS[k]}" for k, ms in kinds.items()]
    return "95% CIs — " + "; ".join(parts) + "." if parts else ""


def intervals_note(k: int) -> str:
    """What the two kinds of interval of a run's sector table are (`k`: the number of
    uncertain parameters each replication drew)."""
    spread = (f"arrivals and reviews, and the {k} uncertain parameters (what we do not "
              "know about the world)" if k else "arrivals and reviews only (this config "
              "draws no uncertain parameters: the spread leaves out what we do not know)")
    return ("95% CI of the mean: Monte Carlo error (more replications narrow it; a Wilson "
            "score interval for shares, which stays in [0, 1], a t interval cut at 0 for "
            "amounts, which cannot be negative). P5-P95: where 90% of replications fall, "
            f"from {spread}.")


def top_explainers(exp: pd.DataFrame, params: pd.DataFrame | None,
                   n: int = 3) -> tuple[dict[str, pd.DataFrame | str], str]:
    """Per sector, the `n` uncertain parameters that explain most of the spread of
    shortfall and stand above their noise floor (or why none is listed), and a note on
    the floors ('' without them)."""
    floor = {p: floor_of(params, p) for p in params.columns
             if p not in ("replication", "point")} if params is not None else {}
    out: dict[str, pd.DataFrame | str] = {}
    for sector, g in exp[exp["metric"] == "shortfall_frac"].groupby("sector"):
        top = {f: float(r["delta"] + r["delta_conf"]) for f in FLOORS
               for _, r in g[g["parameter"] == f].iterrows()}
        g = g[~g["parameter"].isin(FLOORS)]
        if g["delta"].isna().all():
            out[sector] = (f"delta needs at least {MIN_DELTA} replications" if
                           int(g["n"].max()) < MIN_DELTA else "no spread to explain (or "
                           "too little to estimate delta)")
            continue
        # only what stands above its floor's delta, intervals apart
        keep = [p not in floor or d - c > top.get(floor[p], -np.inf)
                for p, d, c in zip(g["parameter"], g["delta"], g["delta_conf"], strict=True)]
        g = g[keep].sort_values("delta", ascending=False, na_position="last").head(n)
        out[sector] = g if len(g) else "none stands above the noise floor"
    has_floor = exp.loc[exp["parameter"] == NOISE_FLOOR, "delta"].notna().any()
    return out, _floor_note(exp, params, floor) if has_floor and params is not None else ""


def _floor_note(exp: pd.DataFrame, params: pd.DataFrame, floor: dict[str, str]) -> str:
    """What the floors were, in a sentence (`floor`: each parameter's floor row)."""
    d = exp[exp["metric"] == "shortfall_frac"].groupby("parameter")["delta"]
    lo, hi = d.min(), d.max()
    parts = [f"a random column scores delta {lo[NOISE_FLOOR]:.2f}-{hi[NOISE_FLOOR]:.2f}"]
    if ROW_FLOOR in lo:
        n = len(params[[p for p, f in floor.items() if f == ROW_FLOOR]].drop_duplicates())
        parts.append(f"parameters drawn as rows of a posterior sample ({n} distinct rows "
                     f"here) are confounded with one another, and a random "
                     f"column with one value per row scores {lo[ROW_FLOOR]:.2f}-"
                     f"{hi[ROW_FLOOR]:.2f}")
    return ("Delta is biased up in small samples: " + "; ".join(parts) + ". Only "
            "parameters whose interval lies above their floor are listed; uncertainty.csv "
            "has every row.")


def sweep_text(res: StoredSweep) -> str:
    """The points (mean sector shortfall with 95% CI), the sensitivity ranking and the
    discovered box, readable in a terminal."""
    crn = "common random numbers" if res.crn else "independent streams (--no-crn)"
    n = res.authority["point"].nunique()
    lines = [f"{res.manifest.get('name') or res.path.name}: {res.method} sweep, "
             f"{len(res.design.points)} points x {res.replications} replications, {crn}"]
    if n < len(res.design.points):
        lines.append(f"(unfinished: {n} points have results; continue the sweep with --resume)")
    summ = res.summary()
    sec = summ[(summ["level"] == "sector") & (summ["metric"] == "shortfall_frac")]
    wait = summ[(summ["level"] == "authority") & (summ["metric"] == "queue_wait_days")]
    sectors = sorted(sec["name"].unique())
    if len(res.design.points) <= 40:
        pts = res.points
        head = f"{'point':>5} " + " ".join(f"{c[-24:]:>24}" for c in res.labels)
        head += "".join(f" {s + ' shortfall [95% CI]':>30}" for s in sectors)
        head += f" {'queue wait (days)':>18}"
        lines += ["", head]
        for p, row in pts.set_index("point").iterrows():
            vals = " ".join(f"{_fmt_value(row[c]):>24}" for c in res.labels)
            cells = []
            for s_ in sectors:
                r = sec[(sec["point"] == p) & (sec["name"] == s_)]
                cells.append(f" {_fmt_ci(r):>30}")
            w = wait[wait["point"] == p]
            wtxt = f"{w['mean'].iloc[0]:.3g}" if len(w) else ""
            lines.append(f"{p:>5} {vals}{''.join(cells)} {wtxt:>18}")
    else:
        lines.append(f"{len(res.design.points)} points: per-point statistics in "
                     "summary.csv")
    sens = res.sensitivity()
    if sens is not None and len(sens):
        lines += ["", *_sensitivity_text(res.method, sens)]
    disc = res.discovery()
    if disc is not None:
        box = disc[0]
        b = box.iloc[0]
        lines += ["", f"scenario discovery (PRIM): {b['outcome']} in {b['all_of_interest']}"
                  f" of {b['all_cases']} cases; box coverage {b['coverage']:.2f}, "
                  f"density {b['density']:.2f}, mass {b['mass']:.2f}"]
        for _, r in box[box["restricted"]].iterrows():
            lines.append(f"  {r['parameter']:<40} {_fmt_value(r['low'])} .. "
                         f"{_fmt_value(r['high'])}  (swept {_fmt_value(r['full_low'])} .. "
                         f"{_fmt_value(r['full_high'])}; quasi-p {r['quasi_p']:.2g})")
        if not box["restricted"].any():
            lines.append("  (no restriction: the outcome is spread over the whole range)")
    return "\n".join(lines)


def fmt_frac(x: float) -> str:
    return "nan" if x != x else f"{100 * x:.2f}%"


def fmt_money(x: float) -> str:
    if x != x:
        return "nan"
    for unit, div in (("bn", 1e9), ("m", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"${x / div:.2f}{unit}"
    return f"${x:.0f}"


def _fmt_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _fmt_ci(r: pd.DataFrame) -> str:
    if not len(r):
        return ""
    x = r.iloc[0]
    return f"{fmt_frac(x['mean'])} [{fmt_frac(x['ci_low'])}, {fmt_frac(x['ci_high'])}]"


def _sensitivity_text(method: str, sens: pd.DataFrame) -> list[str]:
    """The shortfall_frac rows of the sensitivity table, per sector, most important first."""
    sf = sens[sens["metric"] == "shortfall_frac"]
    lines: list[str] = []
    for sector, g in sf.groupby("sector", sort=True):
        share = g["noise_share"].iloc[0] if "noise_share" in g else None
        noise = ("" if share is None else "; no variation between points" if share != share
                 else f"; Monte Carlo noise <= {100 * share:.0f}% of the variance of point "
                 "means")
        if method == "sobol":
            lines.append(f"Sobol indices, {sector} shortfall_frac (95% conf{noise}):")
            for _, r in g.sort_values("ST", ascending=False).iterrows():
                lines.append(f"  {r['parameter']:<40} S1 {r['S1']:6.3f} ± {r['S1_conf']:.3f}"
                             f"   ST {r['ST']:6.3f} ± {r['ST_conf']:.3f}")
        elif method == "morris":
            lines.append(f"Morris, {sector} shortfall_frac (mu*, 95% conf, sigma{noise}):")
            for _, r in g.sort_values("mu_star", ascending=False).iterrows():
                lines.append(f"  {r['parameter']:<40} mu* {r['mu_star']:.4f} ± "
                             f"{r['mu_star_conf']:.4f}   sigma {r['sigma']:.4f}")
        elif method == "oat":
            lines.append(f"Tornado, {sector} shortfall_frac (effect vs base "
                         f"{fmt_frac(g['base_mean'].iloc[0])}, 95% CI):")
            for _, r in g.sort_values("rank").iterrows():
                lo = (f"{_fmt_pp(r['low_effect'])} [{_fmt_pp(r['low_ci_low'])}, "
                      f"{_fmt_pp(r['low_ci_high'])}]")
                hi = (f"{_fmt_pp(r['high_effect'])} [{_fmt_pp(r['high_ci_low'])}, "
                      f"{_fmt_pp(r['high_ci_high'])}]")
                lines.append(f"  {int(r['rank']):>2}. {r['parameter']:<38} "
                             f"{_fmt_value(r['low_value'])}: {lo:<30} "
                             f"{_fmt_value(r['high_value'])}: {hi}")
    return lines


def _fmt_pp(x: float) -> str:
    """A difference of fractions in percentage points."""
    return "nan" if x != x else f"{100 * x:+.2f}pp"


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
