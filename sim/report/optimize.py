"""What `rareshock optimize` writes for people: optimize.md (the answer with its
confidence, the candidates, how to reproduce a candidate) and plots/optimize.png (the
frontier: each candidate's constraint estimate with its bounds, the bracket; and the
convergence: the bracket against the simulations run, or KN's eliminations)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .figures import save, subplots
from .text import markdown_table

if TYPE_CHECKING:
    import pandas as pd


RESULT_COLUMNS = frozenset({
    "cost", "feasibility", "constraints", "replications", "simulated", "mean", "ci_low",
    "ci_high", "eliminated_at", "selected", "in_subset", "diff_vs_selected", "diff_low"})
"""The columns of a ranking's candidates.csv that are not levers."""


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def answer_text(answer: dict[str, Any]) -> str:
    """The answer in one or two lines."""
    if answer["method"] == "bisection":
        cons = "; ".join(answer["constraints"])
        if not answer["feasible"]:
            best = answer["best_point"]
            ests = ", ".join(f"{e['constraint']}: estimate {e['estimate']:.4g} "
                             f"[{e['low']:.4g}, {e['high']:.4g}]" for e in best["estimates"])
            return (f"INFEASIBLE: {answer['note']}. Best point found: {answer['lever']} = "
                    f"{_fmt(best[answer['lever']])} ({best['replications']} replications; "
                    f"{ests}).")
        (lever, value), = answer["answer"].items()
        lo, hi = answer["bracket"]
        ests = ", ".join(f"{e['constraint'].split(' <=')[0]} = {e['estimate']:.4g} "
                         f"(upper bound {e['high']:.4g})" for e in answer["estimates"])
        which = "largest" if answer.get("seeks") == "largest" else "least"
        return (f"{lever} = {_fmt(value)}: the {which} value meeting {cons}, bracketed in "
                f"[{_fmt(lo)}, {_fmt(hi)}] with confidence {answer['confidence']:g}; at it "
                f"{ests} on {answer['replications']} replications.")
    if answer.get("feasible") is False:  # kn, every candidate screened out
        best = answer["best_point"]
        at = ", ".join(f"{k} = {_fmt(v)}" for k, v in best.items() if k != "estimates")
        ests = ", ".join(f"{e['constraint']}: estimate {e['estimate']:.4g} "
                         f"[{e['low']:.4g}, {e['high']:.4g}]" for e in best["estimates"])
        return f"INFEASIBLE: {answer['note']}. Nearest: {at} ({ests})."
    chosen = ", ".join(f"{k} = {_fmt(v)}" for k, v in answer["answer"].items())
    if answer["method"] == "surrogate":
        lo, hi = answer["ci_fresh"]
        return (f"{chosen}: least {answer['objective']} among {answer['points']} points of "
                f"a Gaussian-process search; on fresh replications "
                f"{answer['mean_fresh']:.4g} [95% CI {lo:.4g}, {hi:.4g}] (in the search "
                f"{answer['mean_search']:.4g}). Guarantee: {answer['guarantee']}.")
    subset = "; ".join(", ".join(f"{k} = {_fmt(v)}" for k, v in s.items())
                       for s in answer["subset"])
    screened = (f" ({answer['shown_feasible']} of {answer['candidates']} candidates shown to "
                f"meet {'; '.join(answer['constraints'])})" if answer.get("constraints") else "")
    return (f"{chosen}: least {answer['objective']} ({answer['mean']:.4g}){screened}. "
            f"Guarantee: {answer['guarantee']}. Cannot be told apart from it: {subset}.")


def optimize_markdown(answer: dict[str, Any], table: pd.DataFrame, title: str,
                      source: str, seed: int, plots: list[str]) -> str:
    """optimize.md."""
    lines = [f"# Optimisation: {title}", "", f"Config: `{source}`; seed {seed}; common "
             "random numbers (replication i of every candidate uses the seed of replication "
             "i of `rareshock run`).", "", "## Answer", "", answer_text(answer), ""]
    if answer["method"] == "bisection":
        lines += [f"Method: bisection on the lever, each point judged on "
                  f"{', '.join(map(str, answer['stages']))} replications "
                  f"(stages), accepted only when every constraint's one-sided upper bound "
                  f"meets its limit; each look at level {answer['level_each_look']:.5g} "
                  f"(1 - confidence split over every look the search may make), so the "
                  f"bracket holds the cheapest feasible value with probability at least "
                  f"{answer['confidence']:g}, assuming feasibility is monotone in the lever. "
                  f"{answer['points_judged']} points, {answer['simulations']:,} simulations; "
                  f"stopped on {answer['stopped_on']}.", ""]
        if answer.get("undecided"):
            lines += [f"Left undecided at the last stage (within sampling error of the "
                      f"limit): {', '.join(map(_fmt, answer['undecided']))}.", ""]
    elif answer["method"] == "surrogate":
        lines += [f"Method: a Gaussian-process surrogate (stochastic kriging: each point's "
                  f"noise is its variance of the mean) over {answer['points']} points, each "
                  f"on the same replications (common random numbers), chosen by a Latin "
                  f"hypercube then by expected improvement; {answer['simulations']:,} "
                  f"simulations, the incumbent's included, re-run on replications "
                  f"{answer['fresh_replications'][0]} to {answer['fresh_replications'][1]}.",
                  ""]
    elif answer.get("h2") is None:
        lines += ["Method: the candidates were screened on the constraints (as bisection "
                  "judges a point); fewer than two were shown to meet them, so there was "
                  "nothing to rank.", ""]
    else:
        if answer.get("constraints"):
            lines += [f"Screening: each candidate judged on the constraints as bisection "
                      f"judges a point, on replications 0 to {answer['screened_with'] - 1} "
                      f"(half the error, 1 - confidence, split over candidates, stages and "
                      f"constraints); ranking on the {answer['shown_feasible']} shown to "
                      f"meet them, on replications from {answer['screened_with']} on (the "
                      "other half).", ""]
        lines += [f"Method: Kim-Nelson (KN) fully sequential ranking and selection, "
                  f"n0 = {answer['n0']}, indifference zone {answer['indifference']:g}, "
                  f"h2 = {answer['h2']:.4g}; {answer['replications_used']:,} replications "
                  f"used by KN over the {answer['shown_feasible']} candidates ranked "
                  f"({answer['simulations']:,} simulated in all, screening and batches "
                  f"included), against {answer['equal_allocation']:,} for equal "
                  f"allocation with the same guarantee (every candidate to KN's last stage). "
                  "The subset holds the candidates whose paired difference from the "
                  "selected one is not shown above 0 (one-sided t, Bonferroni).", ""]
    lines += ["## Candidates", "", markdown_table(table), ""]
    lines += [f"![{p}]({p})" for p in plots]
    return "\n".join(lines) + "\n"


def plot_optimize(answer: dict[str, Any], table: pd.DataFrame, out: Path | Any) -> Path:
    """The frontier and the convergence, side by side (`answer` as answer.json holds it,
    with its `trace`; `table` as candidates.csv)."""
    fig, (a1, a2) = subplots(1, 2, figsize=(10, 3.8))
    if answer["method"] == "bisection":
        _frontier(a1, table, answer["lever"], answer)
        _convergence(a2, answer["trace"])
    elif answer["method"] == "surrogate":
        _surface(a1, table, answer)
        t = answer["trace"]
        a2.step([r["simulations"] for r in t], [r["best_mean"] for r in t], where="post")
        a2.set_xlabel("simulations")
        a2.set_ylabel(f"least mean so far, {answer['objective']}")
        a2.set_title("Convergence")
    else:
        _means(a1, table, answer)
        _eliminations(a2, table)
    return save(fig, out / "optimize.png")


def optimize_page(path: Path) -> Any:
    """The HTML report of an optimisation folder: the answer, the candidates, the figure,
    the config and manifest."""
    import json

    import pandas as pd

    from ..run.store import ResultsDir
    from .figures import Album
    from .html import Facts, Page, Section, figure_item, frame_table
    from .sections import config_sections

    store = ResultsDir(path)
    man = store.open_header()
    answer = json.loads((path / "answer.json").read_bytes())
    table = pd.read_csv(path / "candidates.csv")
    name = man.get("name") or path.name
    facts = [("method", answer["method"]), ("confidence", f"{answer['confidence']:g}"),
             ("simulations", f"{answer['simulations']:,}"),
             ("wall time", f"{answer.get('wall_seconds', 0):.1f} s")]
    album = Album()
    plot_optimize(answer, table, album)
    fig = album.figures["optimize.png"]
    items: list[Any] = [Facts(facts)]
    sections = [Section("answer", "Answer", [answer_text(answer)], items),
                Section("candidates", "Candidates", [
                    "Every candidate judged, in order, with its replications (common random "
                    "numbers: replication i of every candidate shares its seed)."],
                    [frame_table(table, "candidates.csv", ident="candidates", default="{:.4g}"),
                     figure_item(fig, "opt-frontier", "The frontier and the convergence",
                                 "Left: each candidate's estimate and bounds (the bracket "
                                 "shaded). Right: the bracket against the simulations run, "
                                 "or the candidates KN keeps.")])]
    cmd = f"rareshock optimize {path / 'config.toml'} --out {path}-again"
    sections += config_sections(store, man, cmd)
    return Page("optimisation", f"Optimisation: {name}", str(path), [
        "Which lever value, or which policy, answers the [optimize] question, and how sure "
        "is the answer?"], sections)


def _frontier(ax: Any, table: pd.DataFrame, lever: str, answer: dict[str, Any]) -> None:
    for cons, g in table.groupby("constraint", sort=False):
        g = g.sort_values(lever)
        x = g[lever].astype(float).to_numpy()
        colours = {"accepted": "tab:green", "rejected": "tab:red", "undecided": "tab:orange"}
        ax.errorbar(x, g["estimate"], yerr=[g["estimate"] - g["low"], g["high"] -
                                            g["estimate"]], fmt="none", ecolor="grey")
        for st, gg in g.groupby("status"):
            ax.scatter(gg[lever].astype(float), gg["estimate"], color=colours.get(st),
                       label=f"{st}", zorder=3)
        ax.axhline(float(g["limit"].iloc[0]), color="black", lw=0.8, ls="--",
                   label=f"limit ({cons})")
    if answer.get("feasible"):
        lo, hi = (float(v) for v in answer["bracket"])
        ax.axvspan(lo, hi if hi > lo else lo + 1e-9, color="tab:green", alpha=0.15,
                   label="bracket")
    ax.set_xlabel(lever)
    ax.set_ylabel("estimate, with one-sided bounds")
    ax.legend(fontsize=7)
    ax.set_title("Frontier: constraint against the lever")


def _convergence(ax: Any, trace: list[dict[str, Any]]) -> None:
    sims = [t["simulations"] for t in trace]
    lo = [float(t["bracket_low"]) for t in trace]
    hi = [float(t["bracket_high"]) if t["bracket_high"] is not None else np.nan
          for t in trace]
    ax.step(sims, lo, where="post", label="bracket low")
    ax.step(sims, hi, where="post", label="bracket high (answer)")
    ax.scatter(sims, [float(t["value"]) for t in trace], s=12, color="grey",
               label="point judged")
    ax.set_xlabel("simulations")
    ax.set_ylabel("lever")
    ax.legend(fontsize=7)
    ax.set_title("Convergence")


def _surface(ax: Any, table: pd.DataFrame, answer: dict[str, Any]) -> None:
    """One lever: the means against it; several: the first two, coloured by the mean."""
    levers = answer["levers"]
    best = table[table["incumbent"].astype(bool)]
    if len(levers) == 1:
        ax.errorbar(table[levers[0]], table["mean"], yerr=1.96 * table["sd_of_mean"],
                    fmt="o", color="tab:grey", ecolor="lightgrey")
        ax.scatter(best[levers[0]], best["mean"], color="tab:green", zorder=3,
                   label="incumbent")
        ax.set_xlabel(levers[0])
        ax.set_ylabel(answer["objective"])
    else:
        sc = ax.scatter(table[levers[0]], table[levers[1]], c=table["mean"], cmap="viridis")
        ax.figure.colorbar(sc, ax=ax, label=answer["objective"])
        ax.scatter(best[levers[0]], best[levers[1]], marker="*", s=200, color="tab:red",
                   label="incumbent")
        ax.set_xlabel(levers[0])
        ax.set_ylabel(levers[1])
    ax.legend(fontsize=7)
    ax.set_title("Points evaluated")


def _means(ax: Any, table: pd.DataFrame, answer: dict[str, Any]) -> None:
    if "mean" not in table.columns:
        ax.text(0.5, 0.5, "nothing ranked: fewer than two candidates\nshown to meet the "
                "constraints", ha="center", va="center", transform=ax.transAxes)
        return
    levers = [c for c in table.columns if c not in RESULT_COLUMNS]
    labels = [", ".join(_fmt(r[k]) for k in levers) for _, r in table.iterrows()]
    y = np.arange(len(table))
    colours = ["tab:green" if s else ("tab:orange" if b else "tab:grey")
               for s, b in zip(table["selected"], table["in_subset"], strict=True)]
    ax.errorbar(table["mean"], y, xerr=[table["mean"] - table["ci_low"],
                                        table["ci_high"] - table["mean"]], fmt="none",
                ecolor="grey")
    ax.scatter(table["mean"], y, color=colours, zorder=3)
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel(answer["objective"])
    ax.set_title("Candidates (green: selected; orange: cannot be told apart)")


def _eliminations(ax: Any, table: pd.DataFrame) -> None:
    """Candidates left after each replication r: those not yet eliminated."""
    if "eliminated_at" not in table.columns:
        return
    table = table[table["replications"].notna()]
    out = table["eliminated_at"].to_numpy(dtype=float)  # NaN: never (the selected)
    last = int(np.nanmax(np.append(out, table["replications"].max())))
    steps = np.unique(np.concatenate([[0], out[~np.isnan(out)], [last]]))
    alive = [int(np.sum(np.isnan(out) | (out > s))) for s in steps]
    ax.step(steps, alive, where="post")
    ax.set_yticks(range(1, len(table) + 1))
    ax.set_xlabel("replications per candidate (r)")
    ax.set_ylabel("candidates still in contention")
    ax.set_title("Convergence: KN's eliminations")
