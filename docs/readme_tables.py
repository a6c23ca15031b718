"""The README's tables and figures, printed from results folders (docs/regenerate.sh runs it).

    python docs/readme_tables.py compare DIR [METRIC]   # sector table of a comparison
    python docs/readme_tables.py spread DIR DIR_FIXED   # uncertain against fixed parameters
    python docs/readme_tables.py firms DIR              # per firm: TTS, TTR, downtime
    python docs/readme_tables.py peaks DIR [DAYS]       # price indices' peaks, firms' medians

Every number the README quotes from these folders is printed here, so that it can be
checked against (and copied from) a command's output.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import sim

SECTORS = ("auto", "defence", "tech")


def _pp(x: float, digits: int) -> str:
    return f"{x * 100:+.{digits}f}".replace("-", "−")


def compare_table(folder: Path, metric: str = "shortfall_frac") -> str:
    """The sector table of a comparison: the reference's mean, then each alternative's
    paired difference (pp), its interval and the share of replications it did better in."""
    t = pd.read_csv(folder / "compare.csv")
    t = t[(t["level"] == "sector") & (t["metric"] == metric)]
    ref = t["reference"].iloc[0]
    alts = list(dict.fromkeys(t["alternative"]))
    n = int(t["n"].max())
    conf = float(t["confidence"].iloc[0])
    lines = [f"<!-- {folder}: {metric}, {n} replications paired, {conf:.2%} intervals "
             f"each ({t['method'].iloc[0]}) -->",
             f"| sector {metric} | {ref} | " + " | ".join(alts) + " |",
             "|---" * (len(alts) + 2) + "|"]
    for k, sector in enumerate(s for s in SECTORS if s in set(t["name"])):
        rows = t[t["name"] == sector].set_index("alternative")
        cells = [f"{rows['reference_mean'].iloc[0] * 100:.1f}%"]
        for a in alts:
            r = rows.loc[a]
            better = f"better in {r['share_better']:.0%}" if k == 0 else f"{r['share_better']:.0%}"
            d = 1 if max(abs(r["diff"]), abs(r["ci_low"]), abs(r["ci_high"])) >= 0.01 else 2
            cells.append(f"{_pp(r['diff'], d)} pp [{_pp(r['ci_low'], d)}, "
                         f"{_pp(r['ci_high'], d)}], {better}")
        lines.append(f"| {sector} | " + " | ".join(cells) + " |")
    auth = pd.read_csv(folder / "compare.csv")
    auth = auth[auth["level"] == "authority"]
    lines.append("")
    for _, r in auth.iterrows():
        lines.append(f"authority {r['metric']} {r['alternative']}: {r['reference_mean']:.4g} -> "
                     f"{r['alternative_mean']:.4g}, diff {r['diff']:+.4g} "
                     f"[{r['ci_low']:+.4g}, {r['ci_high']:+.4g}]")
    return "\n".join(lines)


def _cell(row: pd.Series) -> str:
    return (f"{row['mean'] * 100:.1f}% [{row['ci_low'] * 100:.1f}, {row['ci_high'] * 100:.1f}]"
            f" · {row['p5'] * 100:.1f}–{row['p95'] * 100:.1f}%")


def spread_table(folder: Path, fixed: Path) -> str:
    """Sector shortfall with the uncertain parameters drawn against the same seeds with
    them fixed: mean [95% CI] · P5–P95."""
    a, b = (pd.read_csv(f / "summary.csv").query("level == 'sector' and "
                                                  "metric == 'shortfall_frac'")
            .set_index("name") for f in (folder, fixed))
    lines = ["| sector | shortfall, uncertain parameters: mean [95% CI] · P5–P95 "
             "| parameters fixed: mean [95% CI] · P5–P95 |", "|---|---|---|"]
    for s in SECTORS:
        lines.append(f"| {s} | {_cell(a.loc[s])} | {_cell(b.loc[s])} |")
    return "\n".join(lines)


def firm_table(folder: Path) -> str:
    """Per firm: the share of replications that stocked out, median TTS, TTR and downtime
    (days), and per sector P(TTS < TTR) as tts_ttr.png has it; then the authority's."""
    res = sim.Results(folder)
    f = res.firms
    reps = f["replication"].nunique()
    rows = []
    for firm, g in f.groupby("firm"):
        out = g["tts_days"].notna()
        rows.append({"firm": firm, "sector": g["sector"].iloc[0], "tier": g["tier"].iloc[0],
                     "stocked_out": out.sum() / reps,
                     "tts_p50": g["tts_days"].median(), "ttr_p50": g["ttr_days"].median(),
                     "downtime_p50": g["downtime_days"].median(),
                     "shortfall_mean": g["shortfall_frac"].mean() if "shortfall_frac" in g
                     else float("nan")})
    t = pd.DataFrame(rows).round(3)
    out = f.dropna(subset=["tts_days"])  # as tts_ttr.png: never recovered = TTR infinite
    lines = [f"{folder}: {reps} replications", t.to_string(index=False), ""]
    for s, g in out.groupby("sector"):
        share = (g["tts_days"] < g["ttr_days"].fillna(float("inf"))).mean()
        lines.append(f"{s}: P(TTS < TTR) = {share:.2f} over the {len(g)} firm-runs that "
                     "stocked out (never recovered: TTR infinite)")
    summ = pd.read_csv(folder / "summary.csv").query("level == 'authority'")
    lines.append("")
    for _, r in summ.iterrows():
        lines.append(f"authority {r['metric']}: mean {r['mean']:.4g}, P50 {r['p50']:.4g}, "
                     f"P95 {r['p95']:.4g}")
    return "\n".join(lines)


def peaks_table(folder: Path, days: float = 365.0) -> str:
    """Each firm's median shortfall and days below plan, and with `[prices]` each index's
    peak within the first `days` days (P5/P50/P95 over the replications)."""
    ts = pd.read_parquet(folder / "timeseries",
                         columns=["replication", "day", "series", "material", "value"])
    pi = ts[(ts["series"] == "price_index") & (ts["day"] < days)]
    lines = [f"{folder}:"]
    if len(pi):
        peak = pi.groupby(["material", "replication"])["value"].max()
        q = peak.groupby("material").quantile([0.05, 0.5, 0.95]).unstack()
        lines.append(f"price index peak in the first {days:g} days (P5 / P50 / P95):")
        lines += [f"  {m}: {r[0.05]:.2f} / {r[0.5]:.2f} / {r[0.95]:.2f}"
                  for m, r in q.iterrows()]
    f = pd.read_parquet(folder / "replications",
                        columns=["firm", "shortfall_frac", "downtime_days"])
    med = f.groupby("firm")[["shortfall_frac", "downtime_days"]].median()
    lines.append("median per firm: shortfall, days below plan")
    lines += [f"  {n}: {r['shortfall_frac']:.1%}, {r['downtime_days']:.0f}"
              for n, r in med.iterrows()]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    what, *args = argv
    if what == "compare":
        print(compare_table(Path(args[0]), *args[1:]))
    elif what == "spread":
        print(spread_table(Path(args[0]), Path(args[1])))
    elif what == "firms":
        print(firm_table(Path(args[0])))
    elif what == "peaks":
        print(peaks_table(Path(args[0]), *map(float, args[1:])))
    else:
        sys.exit(f"readme_tables.py: unknown table {what!r} (compare, spread, firms, peaks)")


if __name__ == "__main__":
    main(sys.argv[1:])
