"""A calibration written out: the prior-against-posterior table, the generations, the
posterior predictive fit, `calibration.md`, and the plots (marginals, pairs, predictive)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.stored import StoredRun
from ..calibration.abc import Fit, unscaled_note
from ..calibration.agreement import Z_AGREE
from ..calibration.backtest import Backtest
from ..calibration.posterior import stored_fit, weighted_quantiles
from ..config.schema import CalibrationConfig, Config
from ..run.store import ResultsDir
from .backtest import backtest_section, markdown_tables, plot_backtest
from .figures import Album, save, subplots
from .html import Facts, Page, Section, cell, figures, frame_table, rows_table
from .sections import config_sections
from .text import markdown_table, md_text

# file name -> (alt text, the one sentence that says how to read the figure)
CAPTIONS: dict[str, tuple[str, str]] = {
    "posterior_marginals.png": (
        "Prior and posterior density of each calibrated parameter",
        "grey is what we assumed before seeing the data, blue what the data left; a blue "
        "much narrower than grey means the data pinned the parameter down."),
    "sbc_ranks.png": (
        "Rank of the true parameter among its posterior draws, over the synthetic datasets",
        "a calibrated method gives flat histograms inside the grey band; a U shape means "
        "intervals too narrow, a hump too wide, a slope a bias."),
    "posterior_pairs.png": (
        "Posterior particles for every pair of calibrated parameters",
        "each dot is a particle, sized by its weight; a slanted cloud is a trade-off the "
        "targets cannot separate."),
}

PRIOR_GRID = 2001  # quantiles of a prior drawn for its plot and its interval


def _prior_sample(prior: Any) -> np.ndarray:
    u = (np.arange(PRIOR_GRID) + 0.5) / PRIOR_GRID
    return np.array([float(prior.ppf(float(x))) for x in u])


def _edge(prior: Any, p50: float) -> str:
    """Where a posterior median sits against its prior's bounds: '' or a warning. Only a
    finite bound counts (a normal or a lognormal's upper tail has none), and the median
    must be near it on both scales: within 5% of the prior's width (its far P5 or P95 on
    an unbounded side) and beyond the prior's own P5 or P95 on that side (a log-uniform's
    median at 25 on [1, 1e5] is within 5% of the width of 1, yet at its 28th percentile)."""
    lo, hi = prior.bounds
    if math.isfinite(lo) and p50 <= prior.quantile(0.05) and \
            p50 - lo < 0.05 * ((hi if math.isfinite(hi) else prior.quantile(0.95)) - lo):
        return "against the prior's lower bound"
    if math.isfinite(hi) and p50 >= prior.quantile(0.95) and \
            hi - p50 < 0.05 * (hi - (lo if math.isfinite(lo) else prior.quantile(0.05))):
        return "against the prior's upper bound"
    return ""


def parameter_table(cfg: Config, fit: Fit) -> pd.DataFrame:
    """Per parameter: the prior's and the posterior's median and P5-P95, how much the
    data narrowed it (posterior width over prior width), and whether the posterior sits
    against an edge of the prior (where the data want a value the prior rules out)."""
    w = fit.posterior["weight"].to_numpy()
    rows = []
    for u in fit.params:
        prior = _prior_sample(u.prior)
        p5, p50, p95 = np.quantile(prior, [0.05, 0.5, 0.95])
        q5, q50, q95 = weighted_quantiles(fit.posterior[u.name], w, [0.05, 0.5, 0.95])
        width = (q95 - q5) / (p95 - p5) if p95 > p5 else math.nan
        where = u.paths[0] + (f" (+{len(u.paths) - 1})" if len(u.paths) > 1 else "")
        rows.append({"parameter": u.name, "path": where + (" ×" if u.scale else ""),
                     "prior P50": p50, "prior P5-P95": f"{p5:.3g} – {p95:.3g}",
                     "posterior P50": q50, "posterior P5-P95": f"{q5:.3g} – {q95:.3g}",
                     "width / prior": width, "note": _edge(u.prior, q50)})
    return pd.DataFrame(rows)


def correlations(fit: Fit) -> pd.DataFrame:
    """The strongest weighted correlations between parameters in the posterior (|r| >=
    0.3), which single marginals hide."""
    names = fit.names
    w = fit.posterior["weight"].to_numpy(dtype=float)
    x = fit.posterior[names].to_numpy(dtype=float)
    c = np.atleast_2d(np.cov(x.T, aweights=w))  # one parameter: a 1x1 matrix
    sd = np.sqrt(np.diag(c))
    rows = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            r = c[i, j] / (sd[i] * sd[j]) if sd[i] > 0 and sd[j] > 0 else math.nan
            if abs(r) >= 0.3:
                rows.append({"parameters": f"{names[i]} ~ {names[j]}", "correlation": r})
    return pd.DataFrame(rows, columns=["parameters", "correlation"]).sort_values(
        "correlation", key=np.abs, ascending=False)


def coverage(bt: Backtest, fit_months: list[str]) -> pd.DataFrame:
    """Observed points inside the predictive P5-P95: monthly exports by fit window and
    held out; stoppages (within a week of the reported date); downtimes (the simulated
    P5-P95 and the reported range overlap); approval shares."""
    ex = bt.exports
    rows = []
    for label, sel in (("exports, fit window", ex["month"].isin(fit_months)),
                       ("exports, held out", ~ex["month"].isin(fit_months))):
        g = ex[sel]
        rows.append({"targets": label, "points": len(g), "inside P5-P95": int(g["inside"].sum())})
    st = bt.stoppages
    if len(st):
        near = st["days_p50_minus_reported"].abs() <= 7
        rows.append({"targets": "first stoppages, P50 within 7 days of the report",
                     "points": len(st), "inside P5-P95": int(near.sum())})
    dt = bt.downtimes
    if len(dt):
        rows.append({"targets": "downtimes, P5-P95 overlaps the reported range",
                     "points": len(dt), "inside P5-P95": int(dt["overlaps_p5_p95"].sum())})
    ap = bt.approvals
    if len(ap):
        first = ap[ap["basis"].str.startswith("submitted in")]
        rows.append({"targets": "approval shares (first-wave applications)",
                     "points": len(first), "inside P5-P95": int(first["inside"].sum())})
    return pd.DataFrame(rows)


def _ess_note(ess: float, population: int) -> list[str]:
    """A warning when the final weights rest on few particles: the posterior is then a
    handful of repeated rows, and its widths and correlations are rough."""
    if ess >= population / 5:
        return []
    return [f"**Few effective particles:** the final population's ESS is {ess:.0f} of "
            f"{population}, so draws from this posterior repeat a few particles, and the "
            "widths and correlations below rest on them: read them as rough, and give it a "
            "larger population (`--set calibration.population=...`) before relying on "
            "them.", ""]


SBC_IDENTIFIED = 0.1
"""A parameter whose posterior variance is on average within 10% of its prior's, on
synthetic data, is named as not identified by the targets."""
SBC_COVERAGE = (0.80, 0.97)
"""The range a 90% interval's coverage of the truth should fall in over the datasets."""


def sbc_table(sbc: dict[str, Any]) -> pd.DataFrame:
    """The SBC check per parameter, with whether its 90% coverage is in range and whether
    the targets identify it (contraction at least `SBC_IDENTIFIED`)."""
    df = pd.DataFrame(sbc["rows"])
    lo, hi = SBC_COVERAGE
    df["coverage_90_ok"] = df["coverage_90"].between(lo, hi)
    df["identified"] = df["contraction"] >= SBC_IDENTIFIED
    return df


def sbc_lines(sbc: dict[str, Any]) -> list[str]:
    """calibration.md's SBC section."""
    df = sbc_table(sbc)
    lo, hi = SBC_COVERAGE
    n = int(df["datasets"].iloc[0]) if len(df) else 0
    off = df.loc[~df["coverage_90_ok"], "parameter"].tolist()
    blind = df.loc[~df["identified"], "parameter"].tolist()
    return [
        "## Simulation-based calibration", "",
        f"{n} synthetic datasets: parameter sets drawn from the prior, each simulated with "
        "the same targets and the same noise as the real data, then given to the trained "
        "network as if observed (Talts et al. 2018). A method that is right covers the "
        "truth with its 90% intervals in about 90% of datasets (here judged in "
        f"{lo:.0%}-{hi:.0%}) and its ranks are uniform (the KS p-value is not small); "
        "contraction is 1 - posterior variance / prior variance, averaged over the "
        f"datasets: under {SBC_IDENTIFIED:g}, the targets do not identify the parameter.",
        "", markdown_table(df, "{:.3g}"), "",
        ("**90% coverage out of range:** " + ", ".join(off) + "." if off else
         f"Every parameter's 90% coverage is within {lo:.0%}-{hi:.0%}."), "",
        ("**Not identified by these targets** (the posterior stays close to the prior): "
         + ", ".join(blind) + "." if blind else "Every parameter is identified."), "",
    ]


def npe_kind(settings: CalibrationConfig) -> str:
    """How the NPE posterior was learnt, in words."""
    if settings.flows == 1:
        return "sbi's NPE, a masked autoregressive flow"
    return (f"sbi's NPE, an equal mixture of {settings.flows} masked autoregressive flows "
            "trained on the same simulations")


def _method_lines(fit: Fit, source: str, commit: str, fit_months: list[str],
                  counts: dict[str, int]) -> list[str]:
    """calibration.md's opening: what was fitted, by which method, at what cost."""
    s = fit.settings
    what = (f"{len(fit.names)} uncertain parameters against {len(fit.targets)} targets of "
            f"the fit window {', '.join(fit_months)} ({counts['exports']} monthly export "
            f"ratios, {counts['stoppages']} first stoppages, {counts['downtimes']} "
            f"downtimes, {counts['approvals']} approval shares)")
    cost = (f"**{fit.simulations:,} simulations in {fit.wall_seconds / 60:.1f} min** "
            f"({fit.simulations / max(fit.wall_seconds, 1e-9):.1f} per second). ")
    head = f"rareshock calibrate {md_text(source)} (commit {md_text(commit)}): "
    if fit.method == "npe":
        return [head + f"neural posterior estimation ({npe_kind(s)}) of {what}, trained "
                f"on {s.simulations:,} simulations from the prior; "
                f"{len(fit.posterior):,} independent posterior draws (equal weights: the "
                f"effective sample is {len(fit.posterior):,}).", "",
                cost + "The training set is `training.parquet` (each parameter on its "
                "prior's probability scale, `u_NAME`, and each target's figure).", ""]
    return [head + f"ABC-SMC (pyabc) of {what}; weights {s.weights}. Population "
            f"{s.population}, at most {s.generations} generations, stopping once "
            f"acceptance falls below {s.min_acceptance:.1%}.", "",
            cost + "pyabc's history database is `abc.db` (open it with `pyabc.History`).",
            "",
            "## Generations", "",
            "epsilon: the tolerance on the weighted distance; acceptance: particles accepted "
            "over simulations; ESS: effective sample size of the weighted particles. The "
            "adaptive distance re-scales each target every generation, so epsilon is on a "
            "new scale each time and may rise while the fit tightens.", ""]


def calibration_markdown(cfg: Config, fit: Fit, bt: Backtest, *, title: str,
                         source: str, fit_months: list[str], predictive: int,
                         commit: str, plots: list[str]) -> str:
    """`calibration.md`: what was fitted, the generations, the parameters learned, the
    posterior predictive check against the fit window and the held-out months."""
    gens = fit.generations.copy()
    gens["acceptance"] = gens["acceptance"].map(lambda a: f"{a:.1%}")
    params = parameter_table(cfg, fit)
    flagged = params[params["note"] != ""]
    corr = correlations(fit)
    s = fit.settings
    counts = {g: sum(t.group == g for t in fit.targets) for g in ("exports", "stoppages",
                                                                 "downtimes", "approvals")}
    targets = pd.DataFrame([{"target": t.key, "kind": t.group, "observed": t.observed}
                            for t in fit.targets])
    abc = fit.method != "npe"
    lines = [
        f"# Calibration: {md_text(title)}", "",
        *_method_lines(fit, source, commit, fit_months, counts),
        *([markdown_table(gens, "{:.4g}"), "",
           *_ess_note(float(fit.generations["ess"].iloc[-1]), s.population)] if abc else []),
        *(sbc_lines(fit.sbc) if fit.sbc is not None else []),
        "## Parameters: prior and posterior", "",
        "Width / prior: the posterior's P5-P95 width over the prior's (1 = the data said "
        "nothing about it; small = well identified). A posterior median against an edge of "
        "its prior means the data want a value the prior rules out: either the prior was "
        "too narrow or the model lacks something the parameter is standing in for.", "",
        markdown_table(params, "{:.3g}"), "",
    ]
    if fit.unscaled:
        lines += ["**Targets the fit left out:** " + "; ".join(
            unscaled_note(k, ts) for k, ts in fit.unscaled.items()) + ".", ""]
    if len(flagged):
        lines += ["**Look again at:** " + "; ".join(
            f"{md_text(r['parameter'])} ({md_text(r['note'])})"
            for _, r in flagged.iterrows()) + ".", ""]
    if len(corr):
        lines += ["Posterior correlations (|r| ≥ 0.3): trade-offs the targets cannot "
                  "separate.", "", markdown_table(corr, "{:.2f}"), ""]
    lines += [
        "## Targets", "", markdown_table(targets, "{:.3f}"), "",
        "## Posterior predictive check", "",
        f"{predictive} replications of `posterior.toml` (each draws one particle), over the "
        f"whole horizon: the fit window against the held-out months "
        f"({', '.join(m for m in sorted(set(bt.exports['month'])) if m not in fit_months)}).",
        "", markdown_table(coverage(bt, fit_months)), "",
        *[f"![{Path(p).stem}]({p})" for p in plots], "",
        markdown_tables(bt),
    ]
    return "\n".join(lines)


def plot_marginals(cfg: Config, fit: Fit, out: Path) -> Path:
    """Prior against posterior density of each parameter."""
    n = len(fit.names)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = subplots(rows, cols, figsize=(3.6 * cols, 2.9 * rows), squeeze=False)
    w = fit.posterior["weight"].to_numpy(dtype=float)
    for k, u in enumerate(fit.params):
        ax = axes[k // cols][k % cols]
        prior = _prior_sample(u.prior)
        lo, hi = np.quantile(prior, [0.001, 0.999])
        post = fit.posterior[u.name].to_numpy(dtype=float)
        lo, hi = min(lo, post.min()), max(hi, post.max())
        bins = np.linspace(lo, hi, 40) if hi > lo else 10
        ax.hist(prior, bins=bins, density=True, color="0.75", label="prior")
        ax.hist(post, bins=bins, weights=w, density=True, alpha=0.65, color="tab:blue",
                label="posterior")
        ax.set_title(u.name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    for k in range(n, rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Prior (grey) and posterior (blue) of each uncertain parameter")
    return save(fig, out / "posterior_marginals.png")


def plot_pairs(fit: Fit, out: Path) -> Path:
    """The posterior particles, every pair of parameters (dot size: weight)."""
    names = fit.names
    n = len(names)
    fig, axes = subplots(n, n, figsize=(1.9 * n + 1, 1.9 * n + 1), squeeze=False)
    w = fit.posterior["weight"].to_numpy(dtype=float)
    size = 4 + 40 * w / w.max()
    for i in range(n):
        for j in range(n):
            ax = axes[i][j]
            ax.tick_params(labelsize=6)
            if j > i:
                ax.set_visible(False)
                continue
            x = fit.posterior[names[j]].to_numpy(dtype=float)
            if i == j:
                ax.hist(x, bins=25, weights=w, color="tab:blue")
                ax.set_yticks([])
            else:
                y = fit.posterior[names[i]].to_numpy(dtype=float)
                ax.scatter(x, y, s=size, alpha=0.4, color="tab:blue", lw=0)
            if i == n - 1:
                ax.set_xlabel(names[j], fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(names[i], fontsize=7)
    fig.suptitle("Posterior: every pair of parameters")
    return save(fig, out / "posterior_pairs.png")


RANK_BINS = 20  # bins of an SBC rank histogram


def plot_ranks(sbc: dict[str, Any], names: list[str], out: Path) -> Path:
    """SBC rank histograms (Talts et al. 2018): per parameter, the ranks of the truth among
    its posterior draws over the synthetic datasets, in `RANK_BINS` bins, against the
    band a uniform histogram stays within in 99% of bins (binomial)."""
    from scipy.stats import binom

    ranks = np.asarray(sbc["ranks"])
    k, draws = ranks.shape[0], int(sbc["draws"])
    n = len(names)
    cols = min(n, 5)
    rows = math.ceil(n / cols)
    fig, axes = subplots(rows, cols, figsize=(3.0 * cols, 2.3 * rows), squeeze=False)
    edges = np.linspace(0, draws + 1, RANK_BINS + 1)
    lo, hi = binom.ppf([0.005, 0.995], k, 1.0 / RANK_BINS)
    for i, name in enumerate(names):
        ax = axes[i // cols][i % cols]
        ax.axhspan(lo, hi, color="0.85", lw=0)
        ax.axhline(k / RANK_BINS, color="0.5", lw=0.8)
        ax.hist(ranks[:, i], bins=edges, color="tab:blue")
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_xticks([])
    for i in range(n, rows * cols):
        axes[i // cols][i % cols].set_visible(False)
    fig.suptitle(f"SBC ranks of the truth among {draws:,} posterior draws, {k} datasets "
                 "(grey: a uniform histogram's 99% band)")
    return save(fig, out / "sbc_ranks.png")


def plot_predictive(bt: Backtest, out: Path, title: str) -> list[Path]:
    """The posterior predictive monthly exports against the observations."""
    return plot_backtest(bt, out, title, "posterior_predictive.png")


def calibration_page(path: Path) -> Page:
    """The report of a calibration folder."""
    store = ResultsDir(path)
    man = store.open_header()
    cfg = store.config()
    fit = stored_fit(path, cfg)
    name = cfg.name or path.name
    gens = fit.generations.copy()
    s = fit.settings
    fit_months = sorted({t.key.split()[-1] for t in fit.targets if t.group == "exports"})
    if fit.method == "npe":
        sections = [Section("fit", "What was fitted", [
            f"Neural posterior estimation ({npe_kind(s)}) of {len(fit.names)} uncertain "
            f"parameters against {len(fit.targets)} targets of "
            f"the fit window {', '.join(fit_months)}, trained on {s.simulations:,} "
            "simulations from the prior."], [Facts([
                ("simulations", f"{fit.simulations:,}"),
                ("fit time", f"{fit.wall_seconds / 60:.1f} min"),
                ("posterior draws", f"{len(fit.posterior):,} (independent)")])])]
        if fit.sbc is not None:
            sections.append(Section("sbc", "Simulation-based calibration", [
                "Synthetic datasets from the prior, given to the network as if observed: "
                "the 90% intervals should cover the truth in 80-97% of them; contraction "
                f"under {SBC_IDENTIFIED:g} means the targets do not identify the "
                "parameter."], [frame_table(sbc_table(fit.sbc), "SBC", ident="sbc")]))
    else:
        sections = [Section("fit", "What was fitted", [
            f"ABC-SMC (pyabc) of {len(fit.names)} uncertain parameters against "
            f"{len(fit.targets)} targets of the fit window {', '.join(fit_months)}; "
            f"population {s.population}, at most {s.generations} generations, stopping once "
            f"acceptance falls below {s.min_acceptance:.1%}."], [Facts([
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
    if fit.sbc is not None and fit.sbc.get("draws"):
        plot_ranks(fit.sbc, fit.names, album)
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
    if (path / "agreement.csv").is_file():
        agree = pd.read_csv(path / "agreement.csv")
        sections.append(Section("seeds", "Two seeds", [
            f"This fit (b) against another fit of the same calibration with another seed "
            f"(a): a marginal agrees when its means differ by at most {Z_AGREE:g} Monte "
            "Carlo errors."], [frame_table(agree, "Agreement of the two fits",
                                           ident="agreement")]))
    sections.append(Section("targets", "Targets", [], [rows_table(
        "Observed targets of the fit window", ["target", "kind", "observed"], targets)]))
    pred = StoredRun(path / "predictive")
    bt = pred.backtest()
    bsec = backtest_section(bt, f"{name} posterior predictive, {pred.replications} "
                             "replications", "posterior_predictive.png")
    bsec.ident, bsec.title = "predictive", "Posterior predictive fit"
    bsec.paragraphs.insert(0, f"{pred.replications} replications of posterior.toml, each "
                           "drawing one particle, over the whole horizon.")
    bsec.items.insert(0, frame_table(coverage(bt, fit_months), "Observed points inside the "
                                     "predictive P5–P95", formats={}, default="{:.0f}"))
    sections.append(bsec)
    cmd = f"rareshock calibrate {path / 'config.toml'} --out {path}-again"
    sections += config_sections(store, man, cmd)
    return Page("calibration", f"Calibration: {name}", str(path), [
        f"What do the 2025 observations say about the {len(fit.names)} uncertain "
        "parameters, and does the fitted model reproduce the months it did not see?"],
        sections)


def agreement_lines(table: pd.DataFrame, other: str) -> list[str]:
    """calibration.md's section on the two seeds."""
    bad = table.loc[~table["agree"], "parameter"].tolist()
    show = table.assign(**{c: table[c].map(lambda v: f"{v:.4g}") for c in
                           ("mean_a", "mean_b", "difference", "mc_error")},
                        z=table["z"].map(lambda v: f"{v:+.1f}"),
                        difference_sd=table["difference_sd"].map(lambda v: f"{v:+.2f}"),
                        ks_distance=table["ks_distance"].map(lambda v: f"{v:.3f}"),
                        agree=table["agree"].map({True: "yes", False: "**no**"}))
    verdict = ("Every marginal agrees within its Monte Carlo error." if not bad else
               f"{len(bad)} of {len(table)} marginals differ by more than {Z_AGREE:g} Monte "
               f"Carlo errors: {', '.join(bad)}. The spread between fits is larger than the "
               "final sample's own Monte Carlo error for these.")
    return [
        "## Two seeds",
        "",
        f"This fit (b) against `{other}` (a), the same calibration with another seed. "
        f"Monte Carlo error of the difference of means: sqrt(sd_a²/ESS_a + sd_b²/ESS_b) "
        f"(ESS {table.attrs['ess_a']:,.0f} and {table.attrs['ess_b']:,.0f}); a marginal "
        f"agrees when the difference is within {Z_AGREE:g} of them. `difference_sd`: in "
        "pooled posterior sds; `ks_distance`: the largest gap between the two marginals' "
        "distribution functions.",
        "",
        verdict,
        "",
        markdown_table(show),
        "",
    ]
