"""Calibration by neural posterior estimation (`calibration.method = "npe"`): sbi's NPE
(a masked autoregressive flow) learns the posterior of the calibrated parameters given
the targets' figures from simulations drawn from the prior, then draws the posterior at
the observed figures.

The simulations are the ABC fit's (`sim.calibration.abc.simulate_particle`: one
replication of the config with the parameters applied, run to the last target's day,
reduced to the targets' figures). Each parameter is learnt on the ABC's coordinate z =
logit(u), u = F(value) its prior's probability scale: whatever the prior, z has the
standard logistic distribution on the whole line, a smooth density a flow fits well,
and every draw maps back inside the prior's support. The
figures are standardised per target; a target with no spread across the simulations
is left out (and said).

Because the network is amortised -- it gives the posterior for any figures without
simulating again -- the method can be judged on data whose truth is known, cheaply
(`sbc`): simulation-based calibration (Talts et al. 2018) on fresh simulations from the
prior, with each parameter's coverage of the truth by the 50% and 90% central
intervals, the ranks' uniformity and the contraction from prior to posterior.

Every random number derives from the config's seed: a set of simulations (s = 1 for
training, 3 for the SBC's datasets) draws its parameter sets from a numpy Generator on
spawn key (s, 0) and runs simulation k of task j on (s, j, k + 1); torch's global
generator, which sbi trains and samples with (the one library global state used here,
as pyabc's is for ABC), is seeded from spawn key (5, step) and given back afterwards.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config.schema import CalibrationConfig, Config
from ..errors import ConfigError
from . import abc as _abc
from .abc import Fit, Problem, problem_of

__all__ = ["Trained", "fit_npe", "sbc", "sbc_of", "simulate_set", "train"]

U_EDGE = 1e-6
"""Parameter sets are drawn from [U_EDGE, 1 - U_EDGE]: the logit stays finite."""


def run_set(problem: Problem, us: np.ndarray, root: int, stream: int,
            task: int) -> np.ndarray:
    """What a worker does: simulate each row of `us` (parameters on the prior's
    probability scale), simulation k on spawn key (stream, task, k + 1) of `root`; the
    targets' figures, a row each (NaN where a figure could not be computed)."""
    from scipy.special import logit

    keys = list(problem.keys)
    out = np.full((len(us), len(problem.targets)), np.nan)
    try:
        for k, u in enumerate(us):
            _abc._current[0] = np.random.SeedSequence(entropy=root,
                                                      spawn_key=(stream, task, k + 1))
            z = logit(u)  # the ABC's coordinate: logit(F(value))
            stats = _abc.simulate_particle(problem, dict(zip(keys, z.tolist(), strict=True)))
            out[k] = [stats.get(t.key, math.nan) for t in problem.targets]
    finally:
        _abc._current[0] = None
    return out


def simulate_set(problem: Problem, n: int, root: int, stream: int, executor: Any,
                 batch: int, progress: Callable[[str], None] | None = None,
                 what: str = "simulations from the prior") -> tuple[np.ndarray, np.ndarray]:
    """`n` parameter sets drawn uniformly on the prior's probability scale and the figures
    each gives, (u, x), on the seeds of `stream` (see the module)."""
    rng = np.random.default_rng(np.random.SeedSequence(entropy=root, spawn_key=(stream, 0)))
    us = rng.uniform(U_EDGE, 1.0 - U_EDGE, size=(n, len(problem.keys)))
    tasks = [(j, (problem, us[a:a + batch], root, stream, j))
             for j, a in enumerate(range(0, n, batch))]
    got: dict[int, np.ndarray] = {}
    step = max(1, len(tasks) // 10)
    for j, x in executor.map_unordered(run_set, tasks):
        got[j] = x
        if progress is not None and (len(got) % step == 0 or len(got) == len(tasks)):
            progress(f"{what}: {min(len(got) * batch, n):,} of {n:,}")
    return us, np.concatenate([got[j] for j in range(len(tasks))])


@contextlib.contextmanager
def _torch_seeded(root: int, *step: int) -> Iterator[None]:
    """torch's global generator (sbi's) seeded from spawn key (5, *step) of the config's
    seed (0 training -- (5, 0, i) the ensemble's flow i > 0 --, 1 the posterior's draws,
    2 the SBC's), and restored."""
    import torch

    saved = torch.random.get_rng_state()
    threads = torch.get_num_threads()
    seed = int(np.random.SeedSequence(entropy=root, spawn_key=(5, *step)).generate_state(1)[0])
    torch.manual_seed(seed)
    # one thread: the small networks gain nothing from more, and a pool of simulation
    # workers beside them made training ~40x slower through oversubscription
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.random.set_rng_state(saved)
        torch.set_num_threads(threads)


class _NoTracker:
    """sbi's training tracker, keeping nothing: its default writes TensorBoard logs into
    `sbi-logs/` under the working directory, a folder the user never asked for."""

    log_dir = ""

    def log_metric(self, name: str, value: float, step: int | None = None) -> None:
        pass

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        pass

    def log_params(self, params: dict[str, Any]) -> None:
        pass

    def add_figure(self, name: str, figure: Any, step: int | None = None) -> None:
        pass

    def flush(self) -> None:
        pass


@dataclass
class Trained:
    """A trained posterior network and what it was trained on."""

    problem: Problem
    posterior: Any  # sbi's DirectPosterior on the probability scale
    kept: np.ndarray  # indices of the targets it reads (those with spread)
    simulations: int  # those it was trained on (none with a missing figure)
    epochs: int
    left_out: list[str] = field(default_factory=list)

    def draws(self, x: np.ndarray, n: int) -> np.ndarray:
        """`n` posterior draws (probability scale) at figures `x` (one row or several:
        then shape (n, rows, parameters))."""
        import torch
        from scipy.special import expit

        xt = torch.as_tensor(np.atleast_2d(x)[:, self.kept], dtype=torch.float32)
        if len(xt) == 1:
            z = self.posterior.sample((n,), x=xt[0], show_progress_bars=False)
        else:
            z = self.posterior.sample_batched((n,), x=xt, show_progress_bars=False,
                                              max_sampling_batch_size=n * len(xt))
        # an ensemble's draws come grouped by flow: mixed, so any slice is a fair sample
        z = z[torch.randperm(len(z))]
        return expit(z.numpy().astype(float))


def train(problem: Problem, u: np.ndarray, x: np.ndarray, root: int,
          source: str, where: str, flows: int = 1) -> Trained:
    """NPE (a masked autoregressive flow) on (u, x): rows with a missing figure are
    dropped, targets with no spread left out. With `flows` > 1, that many flows are
    trained on the same simulations from different starting weights (and validation
    splits), and the posterior is their equal mixture (sbi's EnsemblePosterior): what one
    network's training leaves to chance is then in the posterior's spread instead of
    moving its centre from one fit to the next."""
    import torch
    from sbi.inference import NPE
    from sbi.inference.posteriors import EnsemblePosterior
    from scipy.special import logit
    from torch.distributions import (
        Independent,
        SigmoidTransform,
        TransformedDistribution,
        Uniform,
    )

    ok = np.isfinite(x).all(axis=1)
    u, x = u[ok], x[ok]
    spread = x.std(axis=0) > 0
    left_out = [t.key for t, s in zip(problem.targets, spread, strict=True) if not s]
    if not spread.any():
        raise ConfigError(source, where, "no target varies across the simulations, so "
                          "nothing can be learnt; fit months whose figures the uncertain "
                          "parameters move")
    kept = np.flatnonzero(spread)
    d = u.shape[1]
    # learnt on z = logit(u), where the prior is the standard logistic on the whole line:
    # a flow fits that smooth density well, where a uniform box's edges it fits badly
    # (a parameter the data do not move came out ~20% narrower than its prior)
    prior = Independent(TransformedDistribution(
        Uniform(torch.zeros(d), torch.ones(d)), [SigmoidTransform().inv]), 1)
    z = torch.as_tensor(logit(u), dtype=torch.float32)
    xs = torch.as_tensor(x[:, kept], dtype=torch.float32)
    posteriors, epochs = [], 0
    for i in range(flows):
        with _torch_seeded(root, 0, *((i,) if i else ())):
            inference = NPE(prior=prior, density_estimator="maf", show_progress_bars=False,
                            tracker=_NoTracker())
            inference.append_simulations(z, xs)
            net = inference.train(show_train_summary=False)
            posteriors.append(inference.build_posterior(net))
        epochs += int(inference.summary.get("epochs_trained", [0])[-1]) \
            if hasattr(inference, "summary") else 0
    posterior = posteriors[0] if flows == 1 else EnsemblePosterior(posteriors)
    return Trained(problem, posterior, kept, len(u), epochs, left_out)


def fit_npe(cfg: Config, out: Path, executor: Any, source: str = "<config>",
            progress: Callable[[str], None] | None = None) -> tuple[Fit, Trained]:
    """Simulate `calibration.simulations` parameter sets from the prior, train NPE on
    them, and draw `calibration.draws` posterior draws at the observed figures (equal
    weights). The training set goes to `out` (parquet: each parameter's probability-
    scale value and each target's figure)."""
    import pandas as pd

    settings = cfg.calibration or CalibrationConfig()
    problem = problem_of(cfg, source)
    root = cfg.runs.seed
    t0 = time.perf_counter()
    u, x = simulate_set(problem, settings.simulations, root, 1, executor, settings.batch,
                        progress)
    trained = train(problem, u, x, root, source, "calibration.fit_months", settings.flows)
    if progress is not None:
        progress(f"trained on {trained.simulations:,} simulations "
                 f"({settings.simulations - trained.simulations} with a missing figure dropped, "
                 f"{trained.epochs} epochs)")
    observed = np.array([t.observed for t in problem.targets], dtype=float)
    with _torch_seeded(root, 1):
        draws = trained.draws(observed, settings.draws)
    wall = time.perf_counter() - t0
    by_name = {p.name: p for p in cfg.uncertain}
    names = list(problem.keys.values())
    post = pd.DataFrame({n: [float(by_name[n].prior.ppf(min(max(v, U_EDGE), 1 - U_EDGE)))
                             for v in draws[:, i]] for i, n in enumerate(names)})
    post["weight"] = 1.0 / len(post)
    gens = pd.DataFrame({"t": [0], "epsilon": [math.nan], "particles": [len(post)],
                         "simulations": [settings.simulations], "acceptance": [1.0],
                         "ess": [float(len(post))]})
    table = pd.DataFrame({**{f"u_{n}": u[:, i] for i, n in enumerate(names)},
                          **{t.key: x[:, j] for j, t in enumerate(problem.targets)}})
    table.to_parquet(out, index=False)
    fit = Fit([by_name[n] for n in names], post, gens, problem.targets,
              settings.simulations, wall, out, settings,
              {k: [0] for k in trained.left_out}, method="npe")
    return fit, trained


def sbc(trained: Trained, k: int, root: int, executor: Any, batch: int,
        draws: int = 1000, progress: Callable[[str], None] | None = None
        ) -> dict[str, Any]:
    """Simulation-based calibration of the trained network on `k` fresh simulations from
    the prior (truth known): `sbc_of` them."""
    u, x = simulate_set(trained.problem, k, root, 3, executor, batch, progress,
                        "synthetic datasets")
    return sbc_of(trained, u, x, draws, root)


def sbc_of(trained: Trained, u: np.ndarray, x: np.ndarray, draws: int,
           root: int) -> dict[str, Any]:
    """The check on datasets `x` made at known parameters `u` (probability scale): per
    parameter, the coverage of the truth by the central 50% and 90% intervals of `draws`
    posterior draws, the ranks (the draws below the truth) with a Kolmogorov-Smirnov
    p-value of their uniformity (Talts et al. 2018), and the contraction 1 - posterior
    variance / prior variance (1/12 on the probability scale), averaged over the
    datasets. Datasets with a missing figure are dropped (and counted)."""
    from scipy.stats import kstest

    ok = np.isfinite(x).all(axis=1)
    u, x = u[ok], x[ok]
    with _torch_seeded(root, 2):
        s = trained.draws(x, draws)  # (draws, datasets, parameters)
    ranks = (s < u[None, :, :]).sum(axis=0)  # (datasets, parameters)
    q = ranks / draws
    rows = []
    for i, n in enumerate(trained.problem.keys.values()):
        rows.append({
            "parameter": n,
            "datasets": int(len(u)),
            "coverage_50": float(np.mean((q[:, i] >= 0.25) & (q[:, i] <= 0.75))),
            "coverage_90": float(np.mean((q[:, i] >= 0.05) & (q[:, i] <= 0.95))),
            "rank_uniformity_p": float(kstest((ranks[:, i] + 0.5) / (draws + 1),
                                              "uniform").pvalue),
            "contraction": float(np.mean(1.0 - s[:, :, i].var(axis=0) * 12.0)),
        })
    return {"rows": rows, "ranks": ranks, "draws": draws, "datasets": int(len(u)),
            "dropped": int((~ok).sum())}
