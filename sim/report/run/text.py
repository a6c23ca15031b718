"""A run's tables for the terminal: its sector and authority statistics, the two kinds of
interval told apart, and what explains the spread when the run drew uncertain parameters."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np

from ...analysis.stored import StoredRun
from ...analysis.uncertainty import MIN_DELTA, NOISE_FLOOR, ROW_FLOOR, floor_of
from ..text import fmt_frac, fmt_money

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
    got = explainers(res, rows) if k and s else None
    if got is not None:
        lines += ["", "what explains the spread of sector shortfall (delta, 95% interval; "
                  "Spearman's rho):"]
        top, note = got
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
    from ...analysis.stats import INTERVALS

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


def explainers(res: StoredRun, rows: list[dict[str, Any]]
               ) -> tuple[dict[str, pd.DataFrame | str], str] | None:
    """`top_explainers` of the run's spread analysis (None without one). Below MIN_DELTA
    replications delta is not estimated, and every sector reads so: said without reading
    the table back (which needs pandas) when it is not at hand already."""
    if res.replications < MIN_DELTA and res.__dict__.get("_explained") is None:
        return {r["name"]: TOO_FEW for r in rows
                if r["level"] == "sector" and r["metric"] == "shortfall_frac"}, ""
    exp = res.explained()
    return None if exp is None else top_explainers(exp, res.parameters)


TOO_FEW = f"delta needs at least {MIN_DELTA} replications"


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
            out[sector] = (TOO_FEW if int(g["n"].max()) < MIN_DELTA else
                           "no spread to explain (or too little to estimate delta)")
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
