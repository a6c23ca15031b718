"""Calibration by approximate Bayesian computation: pyabc's ABC-SMC fits a config's
`[[uncertain]]` parameters (their priors) to the targets of its fit window
(`sim.calibration.targets`).

The simulator stays a pure function of (parameters, seed): each particle is one
replication of the config with the particle's values applied, run to the last target's
day, reduced to the targets' figures. The distance is pyabc's adaptive weighted 2-norm:
each figure scaled by its spread (median absolute deviation) across the generation's
simulations, each kind of target (exports, stoppages, approvals) given its configured
weight shared equally among its figures. The tolerance schedule is pyabc's (the median of
the last generation's distances).

Simulations run on the batch runner's executors (the local process pool, or Dask), in
tasks of `batch` particles. Every random number is derived from one SeedSequence: task j
of generation t seeds numpy's global generator -- which pyabc draws its proposals from,
the one place in rareshock where a library's global random state is used -- from
spawn key (t, j, 0), and its k-th simulation runs on spawn key (t, j, k + 1). Tasks are
taken in order, so a calibration is reproducible whatever the number of workers.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..config.priors import U_MIN, ChoicePrior, PosteriorPrior
from ..config.schema import CalibrationConfig, Config, UncertainParameter
from ..config.uncertain import Uncertainty, prepare
from ..errors import ConfigError
from .targets import GROUPS, Target, fit_targets, horizon_for, statistics

log = logging.getLogger(__name__)

# The seed of the simulation under way in this process (set by `run_task`).
_current: list[Any] = [None]


def calibrated(cfg: Config, source: str = "<config>") -> list[UncertainParameter]:
    """The uncertain parameters to calibrate (`calibration.parameters`, default all of
    them), in the order of `[[uncertain]]`; ConfigError if there are none, a name is
    unknown, or one has a prior pyabc cannot perturb (`choice`, `posterior`). The others
    are drawn from their priors in every simulation (nuisance parameters) and stay
    priors in the posterior."""
    if not cfg.uncertain:
        raise ConfigError(source, "uncertain", "nothing to calibrate: the config has no "
                          "[[uncertain]] parameters")
    names = cfg.calibration.parameters if cfg.calibration else None
    by_name = {u.name: (i, u) for i, u in enumerate(cfg.uncertain)}
    if names is not None:
        _check_names(names, list(by_name), source)
    # in the config's order, whatever the list's: the fit is the same however it is listed
    chosen = sorted(by_name[n] for n in (names if names is not None else list(by_name)))
    for i, u in chosen:
        if isinstance(u.prior, ChoicePrior | PosteriorPrior):
            raise ConfigError(source, f"uncertain.{i}.prior ({u.name})", f"a "
                              f"{u.prior.dist} prior cannot be calibrated (ABC-SMC perturbs "
                              "continuous values): give it a continuous prior, or leave it "
                              "out of calibration.parameters")
    return [u for _, u in chosen]


def _check_names(names: list[str], known: list[str], source: str) -> None:
    """ConfigError for an empty `calibration.parameters`, a name listed twice, or one that
    is not an uncertain parameter's (with the nearest names, where some are close)."""
    import difflib

    where = "calibration.parameters"
    if not names:
        raise ConfigError(source, where, "is empty: name the uncertain parameters to "
                          "calibrate")
    for k, n in enumerate(names):
        if n in names[:k]:
            raise ConfigError(source, f"{where}.{k}", f"{n!r} is listed twice (also "
                              f"{where}.{names.index(n)}): name each parameter once")
        if n not in known:
            close = difflib.get_close_matches(n, known, n=3)
            hint = (f"did you mean {' or '.join(map(repr, close))}?" if close
                    else f"there are: {', '.join(known)}")
            raise ConfigError(source, f"{where}.{k}", f"no uncertain parameter named {n!r} "
                              f"({hint})")


def check_calibratable(cfg: Config, source: str) -> None:
    """ConfigError unless `cfg` has uncertain parameters ABC-SMC can calibrate."""
    calibrated(cfg, source)


@dataclass(frozen=True)
class Problem:
    """What one simulation needs: the config (run to the targets' horizon), its uncertain
    parameters by pyabc key, and the targets."""

    cfg: Config
    keys: dict[str, str]  # pyabc key -> parameter name
    targets: list[Target]

    @functools.cached_property
    def uncertainty(self) -> Uncertainty:
        """The calibrated parameters' levers, built once per process (per task) rather
        than per particle."""
        names = set(self.keys.values())
        only = self.cfg.model_copy(update={"uncertain": [
            u for u in self.cfg.uncertain if u.name in names]})
        unc = prepare(only)
        assert unc is not None  # check_calibratable refuses configs without any
        where = {u.name: f"uncertain.{i}" for i, u in enumerate(self.cfg.uncertain)}
        return replace(unc, levers=[replace(lv, where=where[lv.label]) for lv in unc.levers])

    @property
    def nuisance(self) -> list[UncertainParameter]:
        """The uncertain parameters not calibrated: each simulation draws them."""
        names = set(self.keys.values())
        return [u for u in self.cfg.uncertain if u.name not in names]


def problem_of(cfg: Config, source: str) -> Problem:
    """The calibration problem: the calibrated parameters (by key p0, p1, ...), the config
    run to the last target's day, and the targets."""
    params = calibrated(cfg, source)
    targets = fit_targets(cfg, source)
    short = cfg.model_copy(update={"horizon_days": min(cfg.horizon_days,
                                                       horizon_for(targets))})
    return Problem(short, {f"p{i}": u.name for i, u in enumerate(params)}, targets)


def to_value(prior: Any, z: float) -> float:
    """A parameter's value from its calibration coordinate z = logit(F(value)), F its
    prior's CDF (see `fit`)."""
    u = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
    return float(prior.ppf(min(max(u, U_MIN), 1.0 - U_MIN)))


def simulate_particle(problem: Problem, params: dict[str, float]) -> dict[str, float]:
    """The pyabc model: one replication of the config with the particle's values (given on
    the calibration scale, see `fit`), on the seed `run_task` set, reduced to the
    targets' figures."""
    from ..model import simulate

    by_name = {u.name: u for u in problem.uncertainty.cfg.uncertain}
    values = {}
    for key, name in problem.keys.items():  # each value to its own parameter, by name
        u = by_name[name]
        v = to_value(u.prior, float(params[key]))
        values[name] = int(round(v)) if u.integer else v
    cfg = problem.uncertainty.config(values)
    if problem.nuisance:  # drawn by the replication, from its own streams
        cfg = cfg.model_copy(update={"uncertain": problem.nuisance})
    rep = simulate(cfg, _current[0])
    return statistics(rep, cfg, problem.targets)


def run_task(blob: bytes, root: int, generation: int, task: int, size: int) -> list[Any]:
    """Evaluate `size` particles of pyabc's `simulate_one` (cloudpickled in `blob`), seeded
    from spawn keys (generation, task, ...) of `root` (see the module)."""
    import cloudpickle
    import numpy as np

    simulate_one = cloudpickle.loads(blob)
    ss = np.random.SeedSequence(entropy=root, spawn_key=(generation + 1, task, 0))
    saved = np.random.get_state()  # given back: a one-worker run shares the caller's
    np.random.seed(ss.generate_state(1)[0])  # pyabc's proposals: its global generator
    out = []
    try:
        for k in range(size):
            _current[0] = np.random.SeedSequence(entropy=root,
                                                 spawn_key=(generation + 1, task, k + 1))
            out.append(simulate_one())
    finally:
        _current[0] = None
        np.random.set_state(saved)
    return out


def make_sampler(executor: Any, root: int, batch: int,
                 progress: Callable[[str], None] | None = None) -> Any:
    """A pyabc Sampler that runs particles on one of rareshock's executors; `progress`
    hears one line per generation."""
    from pyabc.sampler import Sampler

    class ExecutorSampler(Sampler):
        """Tasks of `batch` particles on the executor, their results taken in task order
        until `n` are accepted (so the sample does not depend on which task ends first)."""

        def __init__(self) -> None:
            super().__init__()
            self.executor = executor
            self.simulations = 0
            self.rounds: list[tuple[int, int, int]] = []  # (t, accepted, evaluated)

        def sample_until_n_accepted(self, n: int, simulate_one: Callable, t: int, *,
                                    max_eval: float = math.inf, all_accepted: bool = False,
                                    ana_vars: Any = None) -> Any:
            import cloudpickle

            blob = cloudpickle.dumps(simulate_one)
            sample = self._create_empty_sample()
            results: dict[int, list[Any]] = {}
            take = accepted = evaluated = 0
            done = False
            tasks = ((j, (blob, root, t, j, batch)) for j in itertools.count())
            stream = self.executor.map_unordered(run_task, tasks)
            try:
                for j, particles in stream:
                    results[j] = particles
                    while take in results and not done:
                        for particle in results.pop(take):
                            sample.append(particle)
                            evaluated += 1
                            accepted += bool(particle.accepted)
                            if accepted >= n or evaluated >= max_eval:
                                done = True
                                break
                        take += 1
                    if done:
                        break
            finally:
                stream.close()  # tasks still under way are not waited for
            self.nr_evaluations_ = evaluated
            self.simulations += evaluated
            self.rounds.append((t, accepted, evaluated))
            if progress is not None:
                what = "scales of the distance" if t < 0 else f"generation {t}"
                progress(f"{what}: {accepted} accepted of {evaluated} simulations "
                         f"({accepted / max(evaluated, 1):.1%}); {self.simulations:,} so far")
            if accepted < n:
                sample.ok = False
            return sample

    return ExecutorSampler()


@dataclass
class Fit:
    """A finished calibration: the posterior sample and what the run did."""

    params: list[UncertainParameter]  # the calibrated ones, in the posterior's columns
    posterior: Any  # DataFrame: a column per parameter, and `weight`
    generations: Any  # DataFrame: t, epsilon, particles, simulations, acceptance, ess
    targets: list[Target]
    simulations: int
    wall_seconds: float
    db: Path
    settings: CalibrationConfig = field(default_factory=CalibrationConfig)
    # targets whose spread across a generation's simulations was 0 (left out of that
    # generation's distance), with the generations
    unscaled: dict[str, list[int]] = field(default_factory=dict)
    method: str = "abc"  # or "npe" (sim.calibration.npe)
    sbc: dict[str, Any] | None = None  # npe: the simulation-based calibration check

    @property
    def names(self) -> list[str]:
        return [u.name for u in self.params]


def unscaled_note(key: str, generations: list[int]) -> str:
    """One line on a target left out of the distance of some generations."""
    gens = ", ".join(str(t) for t in generations)
    return (f"target {key!r} had no spread across the simulations that scale the distance "
            f"of generation{'s' if len(generations) > 1 else ''} {gens} (more than half "
            "gave the same value), so the fit left it out there: the posterior is not "
            "conditioned on it in those generations")


class Scales:
    """pyabc's scale function (the median absolute deviation of each target across the
    generation's simulations), noting the targets whose spread is 0: pyabc leaves those
    out of the distance (a figure with no spread cannot be normalised). ConfigError when
    every weighted target has none: the distance would be 0 for every particle, every
    simulation accepted, and nothing fitted."""

    def __init__(self, weights: dict[str, float], source: str, where: str) -> None:
        self.weights = weights
        self.source = source
        self.where = where
        self.unscaled: dict[str, list[int]] = {}
        self.__name__ = "mad"  # pyabc names the scale function in its settings

    def __call__(self, *, samples: Any, s0: Any, s_ids: list[str], t: int,
                 **kwargs: Any) -> Any:
        import numpy as np
        from pyabc.distance import mad

        scales = mad(samples=samples, s0=s0, s_ids=s_ids, t=t, **kwargs)
        zero = np.isclose(scales, 0)
        for key, z in zip(s_ids, zero, strict=True):
            if z:
                self.unscaled.setdefault(key, []).append(int(t))
        weighted = [k for k in s_ids if self.weights.get(k, 0.0) > 0]
        if weighted and all(self.unscaled.get(k, [None])[-1] == t for k in weighted):
            shown = ", ".join(repr(k) for k in weighted[:3]) + (
                f" and {len(weighted) - 3} more" if len(weighted) > 3 else "")
            raise ConfigError(self.source, self.where, f"no target varies across the "
                              f"{len(samples)} simulations that scale the distance of "
                              f"generation {t} "
                              f"({shown}: more than half of the simulations give each the "
                              "same value), so the distance is 0 for every particle and "
                              "nothing would be fitted; fit months whose figures the "
                              "uncertain parameters move")
        return scales


def fit(cfg: Config, db: Path, executor: Any, source: str = "<config>",
        progress: Callable[[str], None] | None = None) -> Fit:
    """Run ABC-SMC for `cfg`'s uncertain parameters against its fit window's targets;
    pyabc's history database goes to `db` (kept for re-analysis with pyabc).

    pyabc works on each parameter's calibration coordinate z = logit(F(value)), F the
    prior's CDF: whatever the prior, z has the standard logistic distribution on the whole
    line, so the Gaussian perturbation kernel never proposes outside the prior's support.
    On the bounded scale, particles near an edge or a corner of the box are proposed with
    little kernel mass inside it and take huge importance weights (a 2025 run gave one
    particle 43% of the weight after one generation). The posterior is mapped back to
    values (`to_value`); `abc.db` holds the z coordinates."""
    import numpy as np
    import pyabc

    settings = cfg.calibration or CalibrationConfig()
    problem = problem_of(cfg, source)
    keys, targets = problem.keys, problem.targets
    prior = pyabc.Distribution(**{k: pyabc.RV("logistic", 0.0, 1.0) for k in keys})
    counts = {g: sum(t.group == g for t in targets) for g in GROUPS}
    weights = {t.key: settings.weights.get(t.group, 1.0) / counts[t.group] for t in targets}
    where = ("calibration.fit_months" if cfg.calibration and cfg.calibration.fit_months
             is not None else "observed.fit_months")
    scales = Scales(weights, source, where)
    distance = pyabc.distance.AdaptivePNormDistance(
        p=2, fixed_weights=weights, scale_function=scales)
    root = cfg.runs.seed
    saved = np.random.get_state()  # pyabc's global generator, given back at the end
    np.random.seed(np.random.SeedSequence(entropy=root, spawn_key=(0,)).generate_state(1)[0])
    try:
        out = _run(cfg, db, executor, progress, settings, problem, prior, distance, root,
                   source)
    finally:
        np.random.set_state(saved)
    out.unscaled = dict(scales.unscaled)
    for key, ts in out.unscaled.items():  # said whatever the progress setting
        log.warning("%s: %s", source, unscaled_note(key, ts))
    return out


def _run(cfg: Config, db: Path, executor: Any, progress: Callable[[str], None] | None,
         settings: CalibrationConfig, problem: Problem, prior: Any, distance: Any,
         root: int, source: str) -> Fit:
    import pandas as pd
    import pyabc

    keys, targets = problem.keys, problem.targets
    sampler = make_sampler(executor, root, settings.batch, progress)
    sampler.show_progress = False
    abc = pyabc.ABCSMC(_Model(problem), prior, distance,
                       population_size=settings.population, sampler=sampler)
    for name in ("ABC", "ABC.History", "ABC.Distance", "ABC.Epsilon", "ABC.Population",
                 "ABC.Predictor", "ABC.Sampler", "ABC.Transition", "Epsilon", "Distance",
                 "History", "Sampler", "Transition", "ABC.Acceptor"):
        logging.getLogger(name).setLevel(logging.WARNING)
    t0 = time.perf_counter()
    observed = {t.key: t.observed for t in targets}
    abc.new(f"sqlite:///{db.resolve()}", observed)
    history = abc.run(max_nr_populations=settings.generations,
                      min_acceptance_rate=settings.min_acceptance)
    wall = time.perf_counter() - t0
    if history.max_t < 0 or history.get_distribution(m=0, t=history.max_t)[0].empty:
        _no_generation(sampler.rounds, settings, source)
    df, w = history.get_distribution(m=0, t=history.max_t)
    by_name = {u.name: u for u in cfg.uncertain}
    post = pd.DataFrame({name: [to_value(by_name[name].prior, float(z)) for z in df[k]]
                         for k, name in keys.items()})
    post["weight"] = w
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    gens = pd.DataFrame({
        "t": pops["t"].astype(int), "epsilon": pops["epsilon"],
        "particles": [settings.population] * len(pops),
        "simulations": pops["samples"].astype(int),
        "acceptance": settings.population / pops["samples"].astype(float),
        "ess": [_ess(history, int(t)) for t in pops["t"]],
    })
    return Fit([by_name[n] for n in keys.values()], post, gens, targets, sampler.simulations,
               wall, db, settings)


def _no_generation(rounds: list[tuple[int, int, int]], settings: CalibrationConfig,
                   source: str) -> None:
    """ConfigError for a calibration whose first generation did not meet the acceptance
    floor (pyabc then stops with no posterior), giving the acceptance it had."""
    first = next(((a, e) for t, a, e in rounds if t >= 0), None)
    had = (f"generation 0 accepted {first[0]} of {first[1]} simulations "
           f"({first[0] / max(first[1], 1):.1%})" if first else "no generation finished")
    raise ConfigError(source, "calibration.min_acceptance", f"{had}, below the floor of "
                      f"{settings.min_acceptance:.1%}, so no generation was kept and there "
                      "is no posterior; lower calibration.min_acceptance")


def _ess(history: Any, t: int) -> float:
    import numpy as np

    _, w = history.get_distribution(m=0, t=t)
    w = np.asarray(w, dtype=float)
    return float(w.sum() ** 2 / (w ** 2).sum()) if len(w) else math.nan


class _Model:
    """pyabc's model: a callable (picklable) over a Problem."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.__name__ = "rareshock"

    def __call__(self, params: Any) -> dict[str, float]:
        return simulate_particle(self.problem, dict(params))
