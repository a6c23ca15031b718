"""Back-test a 2025 scenario against what happened (FACTS §2–3), in and out of sample.

The comparison has four parts, each computed from stored tables (one row per replication):

- monthly controlled magnet exports, total and to the US, as ratios to the pre-control
  level (per day, so month lengths cancel): observed vs simulated P5/P50/P95;
- the first stoppage of each auto firm that stands for a reported case, against its date;
- the share of EU licence applications approved by 4 June and by 30 June (CLEPA);
- error measures: median absolute error of the monthly ratios and coverage (observed months
  inside the simulated P5–P95), for the calibration window (April–August) and, separately,
  out of sample (September–December).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .observed import MAGNET_EXPORTS_T, MAGNET_EXPORTS_US_T

# Pre-control level (FACTS §2): 2024 total 58,152 t; US 2025 total 5,933 t was -20% on 2024,
# so 2024 to the US was 5,933 / 0.8 = 7,416 t.
PRE_CONTROL_T_PER_DAY = {"total": 58152.0 / 366, "US": 5933.0 / 0.8 / 366}  # 2024: leap year
IN_SAMPLE = ("2025-04", "2025-05", "2025-06", "2025-07", "2025-08")
OUT_OF_SAMPLE = ("2025-09", "2025-10", "2025-11", "2025-12")

# Reported first stoppages (FACTS §3) and the firm of the baseline that stands for each.
STOPPAGES = (
    ("us_auto_ev", "Ford Chicago Assembly idled (mid-May 2025)", date(2025, 5, 12)),
    ("us_auto_ice", "Ford Chicago Assembly idled (mid-May 2025)", date(2025, 5, 12)),
    ("jp_automaker", "Suzuki Swift halted 26 May 2025", date(2025, 5, 26)),
    ("eu_motor_supplier", "European supplier plants shut by 4 June 2025 (CLEPA)",
     date(2025, 6, 4)),
)

# CLEPA (FACTS §2): share of EU applications granted.
EU_APPROVALS = ((date(2025, 6, 4), 0.25), (date(2025, 6, 30), 0.60))


def _days_in(month: str) -> int:
    p = pd.Period(month, "M")
    return int(p.days_in_month)


def export_ratios(exports: pd.DataFrame, start: date) -> pd.DataFrame:
    """Per replication, month and series (`total`, `US`): kg/day in the month divided by
    kg/day over the months before the controls (January–March 2025 in the baseline)."""
    per = []
    for series, frame in (("total", exports), ("US", exports[exports["destination"] == "US"])):
        m = frame.groupby(["replication", "month"])["kg"].sum().unstack("month")
        days = np.array([_days_in(c) for c in m.columns], dtype=float)
        rate = m / days
        pre_cols = [c for c in m.columns if "2025-01" <= c <= "2025-03"]
        if not pre_cols:
            raise ValueError("the back-test needs January–March 2025 in the run (pre-control)")
        pre = (m[pre_cols].sum(axis=1) / days[[list(m.columns).index(c) for c in pre_cols]]
               .sum())
        ratio = rate.div(pre, axis=0)
        long = ratio.stack().rename("ratio").reset_index()
        long["series"] = series
        per.append(long)
    return pd.concat(per, ignore_index=True)


def exports_table(exports: pd.DataFrame, start: date) -> pd.DataFrame:
    """Observed vs simulated P5/P50/P95 monthly export ratios, April–December 2025."""
    r = export_ratios(exports, start)
    rows = []
    for series, obs in (("total", MAGNET_EXPORTS_T), ("US", MAGNET_EXPORTS_US_T)):
        pre = PRE_CONTROL_T_PER_DAY[series]
        for month in IN_SAMPLE + OUT_OF_SAMPLE:
            if month not in obs:
                continue
            sim = r[(r["series"] == series) & (r["month"] == month)]["ratio"].to_numpy()
            if len(sim) == 0:
                continue
            p5, p50, p95 = np.quantile(sim, [0.05, 0.5, 0.95])
            o = obs[month] / _days_in(month) / pre
            rows.append({"series": series, "month": month,
                         "sample": "in" if month in IN_SAMPLE else "out",
                         "observed": o, "sim_p5": p5, "sim_p50": p50, "sim_p95": p95,
                         "abs_error": abs(p50 - o), "inside": bool(p5 <= o <= p95)})
    return pd.DataFrame(rows)


def error_measures(table: pd.DataFrame) -> pd.DataFrame:
    """Median absolute error of the P50 monthly ratio and coverage, by sample and series."""
    rows = []
    for (sample, series), g in table.groupby(["sample", "series"], sort=False):
        rows.append({"sample": sample, "series": series, "months": len(g),
                     "median_abs_error": float(g["abs_error"].median()),
                     "inside_p5_p95": int(g["inside"].sum())})
    for sample, g in table.groupby("sample", sort=False):
        rows.append({"sample": sample, "series": "both", "months": len(g),
                     "median_abs_error": float(g["abs_error"].median()),
                     "inside_p5_p95": int(g["inside"].sum())})
    return pd.DataFrame(rows)


def stoppage_table(firms: pd.DataFrame, controls_day: float, start: date) -> pd.DataFrame:
    """Simulated first stoppage dates (P5/P50/P95) per firm against the reported date."""
    rows = []
    for firm, what, when in STOPPAGES:
        g = firms[firms["firm"] == firm]
        if g.empty:
            continue
        day = controls_day + g["tts_days"].to_numpy()
        stopped = day[~np.isnan(day)]
        reported = (when - start).days
        q = np.quantile(stopped, [0.05, 0.5, 0.95]) if len(stopped) else [np.nan] * 3
        as_date = [("" if np.isnan(x) else str(start + pd.Timedelta(days=int(x)).to_pytimedelta()))
                   for x in q]
        rows.append({"firm": firm, "reported": what, "reported_date": str(when),
                     "sim_p5": as_date[0], "sim_p50": as_date[1], "sim_p95": as_date[2],
                     "days_p50_minus_reported": float(q[1] - reported),
                     "share_stopped_by_reported_date": float(np.mean(day <= reported + 1)),
                     "share_never_stopped": float(np.mean(np.isnan(day)))})
    return pd.DataFrame(rows)


def eu_approval_table(apps: pd.DataFrame, start: date, controls: date) -> pd.DataFrame:
    """Share of EU applications approved by each CLEPA date. Two denominators, since CLEPA
    does not say when its members filed: every EU application submitted by that date, and
    those submitted in the first four weeks of the controls (when the first wave was filed)."""
    eu = apps[apps["destination"] == "EU"]
    first_wave = (controls - start).days + 28.0
    rows = []
    for when, observed in EU_APPROVALS:
        t = (when - start).days + 1.0  # end of that day
        for basis, cut in (("submitted by the date", t), ("submitted in the first 4 weeks",
                                                         min(t, first_wave))):
            sub = eu[eu["submitted_day"] < cut]
            ok = (sub["outcome"] == "approved") & (sub["decided_day"] < t)
            share = ok.groupby(sub["replication"]).mean().to_numpy()
            p5, p50, p95 = np.quantile(share, [0.05, 0.5, 0.95]) if len(share) else [np.nan] * 3
            rows.append({"date": str(when), "basis": basis, "observed": observed,
                         "sim_p5": p5, "sim_p50": p50, "sim_p95": p95,
                         "inside": bool(p5 <= observed <= p95)})
    return pd.DataFrame(rows)


@dataclass
class Backtest:
    exports: pd.DataFrame
    errors: pd.DataFrame
    stoppages: pd.DataFrame
    eu_approvals: pd.DataFrame


def backtest_results(res) -> Backtest:  # noqa: ANN001 - a sim.Results
    """All comparisons for a stored run of a 2025 scenario."""
    cfg = res.config
    start = cfg.calendar.start
    controls = [e for e in cfg.policy if e.type == "controls_start"]
    if not controls:
        raise ValueError("the scenario has no controls_start event to back-test")
    controls_day = float((controls[0].date - start).days)
    first = controls[0].date
    ex = exports_table(res.exports, start)
    apps = res.table("applications", ["replication", "destination", "submitted_day",
                                      "decided_day", "outcome"])
    return Backtest(ex, error_measures(ex), stoppage_table(res.firms, controls_day, start),
                    eu_approval_table(apps, start, first))


def write_report(bt: Backtest, out: Path, title: str) -> Path:
    """CSV tables and a Markdown report in `out`; returns the report's path."""
    out.mkdir(parents=True, exist_ok=True)
    bt.exports.to_csv(out / "backtest_exports.csv", index=False)
    bt.errors.to_csv(out / "backtest_errors.csv", index=False)
    bt.stoppages.to_csv(out / "backtest_stoppages.csv", index=False)
    bt.eu_approvals.to_csv(out / "backtest_eu_approvals.csv", index=False)
    md = [f"# Back-test: {title}", "", markdown_tables(bt)]
    path = out / "backtest.md"
    path.write_text("\n".join(md))
    return path


def _md(df: pd.DataFrame, floatfmt: str = "{:.2f}") -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        cells = [floatfmt.format(v) if isinstance(v, float) else str(v) for v in r]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_tables(bt: Backtest) -> str:
    return "\n".join([
        "### Monthly exports, ratio to the pre-control level (per day)", "",
        "Observed: FACTS §2 customs figures over the 2024 level; simulated: the same month "
        "over January–March of the run. `in` = calibration window (April–August), `out` = "
        "September–December, not used for tuning.", "",
        _md(bt.exports), "",
        "### Error measures", "",
        _md(bt.errors, "{:.3f}"), "",
        "### First auto stoppages", "",
        _md(bt.stoppages), "",
        "### EU applications approved (CLEPA)", "",
        _md(bt.eu_approvals), "",
    ])


def plot_backtest(bt: Backtest, out: Path, title: str) -> list[Path]:
    """Observed vs simulated monthly export ratios (total and US)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), layout="constrained")
    for ax, series in zip(axes, ("total", "US"), strict=True):
        g = bt.exports[bt.exports["series"] == series]
        x = np.array([np.datetime64(m + "-15") for m in g["month"]])
        ax.fill_between(x, g["sim_p5"], g["sim_p95"], alpha=0.25, color="tab:blue",
                        label="simulated P5–P95")
        ax.plot(x, g["sim_p50"], "o-", color="tab:blue", ms=3, label="simulated median")
        ins = g["sample"] == "in"
        ax.plot(x[ins.to_numpy()], g["observed"][ins], "ks", label="observed, calibration")
        ax.plot(x[~ins.to_numpy()], g["observed"][~ins], "s", mfc="white", mec="k",
                label="observed, out of sample")
        ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
        ax.set_ylabel("exports per day / pre-control level")
        ax.set_title("all destinations" if series == "total" else "to the US")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    fig.suptitle(f"Back-test: monthly controlled magnet exports — {title}")
    path = out / "backtest_exports.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return [path]
