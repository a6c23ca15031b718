"""A sweep's tables for the terminal: its points, the sensitivity ranking and the
scenario-discovery box."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...analysis.stored import StoredSweep
from ..text import fmt_frac

if TYPE_CHECKING:
    import pandas as pd


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
