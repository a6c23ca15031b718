"""The hostile cases, by class. Each has a defensible expected behaviour (see Case):
bad input is refused in one line with exit 2 and nothing written; good input exits 0 with
the numbers a clean run gives; user files are never changed; nothing hangs."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from .harness import (
    DONE,
    EITHER,
    OK,
    REFUSE,
    SMALL,
    Case,
    Ctx,
    FixtureError,
    Proc,
    config,
    copy,
    flip_bytes,
    write,
)

CASES: list[Case] = []

RUN1 = ["-n", "1", "-j", "1", "--no-plots", "-q", "--out", "out"]
RUN2 = ["-n", "2", "-j", "1", "--no-plots", "-q", "--out", "out"]


def case(cls: str, id: str, setup: Callable[[Ctx, Path], list[str]], expect: str,
         **kw: object) -> None:
    CASES.append(Case(cls, id, setup, expect, **kw))  # type: ignore[arg-type]


def run_with(body: str, args: list[str] | None = None, cmd: str = "run"
             ) -> Callable[[Ctx, Path], list[str]]:
    """Setup: a config extending small.toml with `body`, then `rareshock CMD cfg.toml ARGS`."""
    def setup(ctx: Ctx, tmp: Path) -> list[str]:
        config(tmp, body)
        return [cmd, "cfg.toml", *(RUN1 if args is None else args)]
    return setup


def validate(body: str) -> Callable[[Ctx, Path], list[str]]:
    return run_with(body, [], "validate")


def parameters(tmp: Path, out: str = "out"):  # -> pd.DataFrame
    import pandas as pd

    return pd.read_parquet(tmp / out / "parameters")


# Observations for a world that runs January-August (small.toml's 240 days); every key of
# `observed` is given so the parent's (configs/observed/2025.toml) cannot leak in.
OBS_JAN_FEB = """[observed]
fit_months = ["2025-01", "2025-02"]
held_out_months = []
stoppages = []
approvals = []
[[observed.exports.series]]
name = "total"
reference_tonnes = 58152
reference_days = 366
months = { "2025-01" = 6357, "2025-02" = 5000 }
"""

# --------------------------------------------------------------------------- fixtures


def _run_fixture(body: str, n: int = 2) -> Callable[[Ctx, Path], None]:
    def build(ctx: Ctx, d: Path) -> None:
        config(d, body)
        ctx.cli(["run", "cfg.toml", "-n", str(n), "-j", "1", "--no-plots", "-q",
                 "--out", "run"], d)
    return build


RUNS = {
    "run-a": "",
    "run-b": "[authority]\nreviewers = 20\n",
    "run-w-from": "[output]\nmeasure_from = 2025-04-01\n",
    "run-w-until": "[output]\nmeasure_until = 2025-06-01\n",
    "run-notech": "[firms.us_tech_drives]\nsector = \"auto\"\n",
    "run-html": 'name = "<script>alert(1)</script> | <b>bold</b>"\n',
    "run-tex": 'name = "$\\\\frac{a$ and $b_{$"\n',
}


def run_folder(ctx: Ctx, key: str) -> Path:
    return ctx.fixture(key, _run_fixture(RUNS[key])) / "run"


def _sweep_fixture(ctx: Ctx, d: Path) -> None:
    config(d, "[sweep]\nmethod = \"grid\"\n[[sweep.parameters]]\npath = \"authority.reviewers\"\n"
              "values = [30, 40]\n")
    ctx.cli(["sweep", "cfg.toml", "-n", "1", "-j", "1", "--no-plots", "-q", "--out", "sweep"], d)


def _compare_fixture(ctx: Ctx, d: Path) -> None:
    a, b = run_folder(ctx, "run-a"), run_folder(ctx, "run-b")
    ctx.cli(["compare", str(a), str(b), "--out", "cmp", "--no-plots", "-q"], d)


CAL_PRIORS = """[[uncertain]]
name = "bg"
path = "authority.background.rate_per_day"
prior = { dist = "uniform", low = 0.5, high = 3.0 }
[[uncertain]]
name = "rev"
path = "authority.reviewers"
integer = true
prior = { dist = "uniform", low = 20, high = 60 }
"""
CAL_LIM = """[[uncertain]]
name = "lim"
path = "authority.statutory_limit_working_days"
prior = { dist = "uniform", low = 200, high = 300 }
"""
SUPPORT = {"bg": (0.5, 3.0), "rev": (20, 60), "lim": (200, 300)}
CAL3 = CAL_PRIORS + CAL_LIM


def cal_config(tmp: Path, settings: str = "", priors: str = CAL_PRIORS,
               observed: str = OBS_JAN_FEB, top: str = "", name: str = "cal.toml",
               parent: Path = SMALL) -> Path:
    """A calibration that takes seconds: small.toml's world, January-February exports, 10
    particles, one generation."""
    given = {ln.split("=")[0].strip() for ln in settings.splitlines() if "=" in ln}
    defaults = "".join(f"{k} = {v}\n" for k, v in (("population", 10), ("generations", 1),
                                                    ("predictive_replications", 2))
                       if k not in given)
    return config(tmp, f'{top}name = "tinycal"\n[runs]\nseed = 11\n[calibration]\n'
                  f"{defaults}{settings}\n{priors}\n{observed}", name, parent)


CAL = ["-j", "1", "-q", "--no-plots", "--out", "out"]


def _cal_fixture(settings: str, priors: str = CAL_PRIORS) -> Callable[[Ctx, Path], None]:
    def build(ctx: Ctx, d: Path) -> None:
        cal_config(d, settings, priors)
        ctx.cli(["calibrate", "cal.toml", *CAL[:-1], "cal"], d)
    return build


def cal_folder(ctx: Ctx, order: tuple[str, ...] = ("bg", "rev"), priors: str = CAL_PRIORS
               ) -> Path:
    """A calibration fitting `order` (named in the order of [[uncertain]]), built once."""
    import hashlib

    settings = "parameters = [" + ", ".join(f'"{n}"' for n in order) + "]"
    key = "cal-" + hashlib.sha256((settings + priors).encode()).hexdigest()[:10]
    return ctx.fixture(key, _cal_fixture(settings, priors)) / "cal"


# --------------------------------------------------------------------------- checks


def in_support(names: tuple[str, ...]) -> Callable[[Ctx, Path, Proc], str | None]:
    """Every posterior (and predictive) value of each parameter lies in its own prior's
    support: a value paired with another name's column does not."""
    def check(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
        import pandas as pd

        post = pd.read_parquet(tmp / "out" / "posterior.parquet")
        pred = parameters(tmp, "out/predictive")
        for name in names:
            lo, hi = SUPPORT[name]
            for what, df in (("posterior", post), ("predictive", pred)):
                if name not in df:
                    continue  # not in this config, or left out of the fit (stays a prior)
                v = df[name]
                if not ((v >= lo) & (v <= hi)).all():
                    return f"{what} {name} outside its prior [{lo}, {hi}]: {sorted(v)[:3]}..."
        return None
    return check


def same_posterior_as(canonical: tuple[str, ...], priors: str = CAL_PRIORS
                      ) -> Callable[[Ctx, Path, Proc], str | None]:
    """The posterior equals the one of the same calibration with the names in the order of
    [[uncertain]] (`canonical`), and each value lies in its own prior."""
    names = ("bg", "rev", "lim")

    def check(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
        import numpy as np
        import pandas as pd

        bad = in_support(names)(ctx, tmp, proc)
        if bad:
            return bad
        got = pd.read_parquet(tmp / "out" / "posterior.parquet")
        ref = pd.read_parquet(cal_folder(ctx, canonical, priors) / "posterior.parquet")
        cols = sorted(ref.columns)
        if sorted(got.columns) != cols:
            return f"posterior columns {sorted(got.columns)} != {cols}"
        g = got[cols].sort_values(cols).to_numpy(float)
        r = ref[cols].sort_values(cols).to_numpy(float)
        if g.shape != r.shape or not np.allclose(g, r, rtol=1e-9, atol=1e-12):
            return "posterior differs from the canonical-order calibration's"
        return None
    return check


def unchanged_text(rel: str, absent: tuple[str, ...]) -> Callable[[Ctx, Path, Proc], str | None]:
    """File `rel` exists and holds none of `absent` (raw HTML from a user string)."""
    def check(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
        f = tmp / rel
        if not f.is_file():
            return f"{rel} not written"
        text = f.read_text(errors="replace")
        hits = [a for a in absent if a in text]
        return f"{rel} carries raw {hits}" if hits else None
    return check


def report_holds(rel: str, text: str) -> Callable[[Ctx, Path, Proc], str | None]:
    """report.html exists and shows the user's string (HTML-escaped)."""
    def check(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
        import html

        f = tmp / rel
        if not f.is_file():
            return f"{rel} not written"
        page = f.read_text(errors="replace")
        return None if html.escape(text) in page or text in page else \
            f"{rel} does not show {text!r}"
    return check


# =========================================================================== classes
# --------------------------------------------------------------------------- calib-by-name
# calibration.parameters in another order than [[uncertain]]: values must go with names.

case("calib-by-name", "order-2-reversed",
     lambda ctx, tmp: (cal_config(tmp, 'parameters = ["rev", "bg"]'),
                       ["calibrate", "cal.toml", *CAL])[1],
     OK, check=same_posterior_as(("bg", "rev")), slow=True, timeout=150)
case("calib-by-name", "order-3-rotated",
     lambda ctx, tmp: (cal_config(tmp, 'parameters = ["lim", "bg", "rev"]', CAL3),
                       ["calibrate", "cal.toml", *CAL])[1],
     OK, check=same_posterior_as(("bg", "rev", "lim"), CAL3), slow=True, timeout=150)
case("calib-by-name", "subset-reversed",
     lambda ctx, tmp: (cal_config(tmp, 'parameters = ["lim", "bg"]', CAL3),
                       ["calibrate", "cal.toml", *CAL])[1],
     OK, check=same_posterior_as(("bg", "lim"), CAL3), slow=True, timeout=150,
     note="rev stays a prior; lim and bg fitted, named out of order")
case("calib-by-name", "uncertain-listed-in-other-order",
     lambda ctx, tmp: (cal_config(tmp, 'parameters = ["bg", "rev"]', CAL_LIM + CAL_PRIORS),
                       ["calibrate", "cal.toml", *CAL])[1],
     OK, check=in_support(("bg", "rev", "lim")), slow=True, timeout=150,
     note="control: [[uncertain]] begins with an entry left out of calibration.parameters, "
          "the fitted ones are named in their order")

# --------------------------------------------------------------------------- names
# Names a config refers to must exist, and one thing may not be named twice.

case("names", "priority-unknown-sector",
     validate('[suppliers.row]\nallocation = "priority"\npriority = ["defense", "auto"]\n'),
     REFUSE, out=None, needle=("priority", "defense"))
case("names", "priority-unknown-firm",
     validate('[suppliers.row]\nallocation = "priority"\n'
              'priority = ["us_defence_prime", "us_tier_1"]\n'),
     REFUSE, out=None, needle=("priority", "us_tier_1"))
case("names", "maker-priority-unknown",
     validate('[firms.us_tier1.shipping]\nallocation = "priority"\npriority = ["autos"]\n'),
     REFUSE, out=None, needle=("priority", "autos"))
case("names", "priority-via-set",
     run_with("", ["--set", 'suppliers.row.allocation="priority"', "--set",
                   'suppliers.row.priority=["tek"]', *RUN1]),
     REFUSE, needle=("priority", "tek"))
case("names", "duplicate-series-inline",
     validate(OBS_JAN_FEB + '[[observed.exports.series]]\nname = "total"\nreference_tonnes = 1\n'
              'reference_days = 1\nmonths = { "2025-01" = 1 }\n'),
     REFUSE, out=None, needle=("series", "total"))


def _dup_series_file(ctx: Ctx, tmp: Path) -> list[str]:
    write(tmp / "obs.toml", 'fit_months = ["2025-01"]\n'
          + "".join(f'[[exports.series]]\nname = "US"\ndestinations = ["{d}"]\n'
                    'reference_tonnes = 7416\nreference_days = 366\n'
                    'months = { "2025-01" = 500 }\n' for d in ("US", "EU")))
    config(tmp, 'observed = "obs.toml"')
    return ["validate", "cfg.toml"]


case("names", "duplicate-series-file", _dup_series_file, REFUSE, out=None,
     needle=("series", "US", "obs.toml"))
case("names", "uncertain-same-path",
     validate('[[uncertain]]\nname = "a"\npath = "authority.reviewers"\ninteger = true\n'
              'prior = { dist = "uniform", low = 20, high = 40 }\n'
              '[[uncertain]]\nname = "b"\npath = "authority.reviewers"\ninteger = true\n'
              'prior = { dist = "uniform", low = 50, high = 60 }\n'),
     REFUSE, out=None, needle=("authority.reviewers",))
case("names", "uncertain-path-in-list",
     validate('[[uncertain]]\nname = "a"\npath = ["firms.us_tier1.initial_cover_days", '
              '"firms.jp_tier1.initial_cover_days"]\nprior = { dist = "uniform", low = 5, '
              'high = 20 }\n[[uncertain]]\nname = "b"\npath = '
              '"firms.jp_tier1.initial_cover_days"\nprior = { dist = "uniform", low = 30, '
              'high = 40 }\n'),
     REFUSE, out=None, needle=("jp_tier1",))
case("names", "uncertain-same-path-scale-and-value",
     validate('[[uncertain]]\nname = "a"\npath = "authority.background.rate_per_day"\n'
              'scale = true\nprior = { dist = "uniform", low = 0.5, high = 2 }\n'
              '[[uncertain]]\nname = "b"\npath = "authority.background.rate_per_day"\n'
              'prior = { dist = "uniform", low = 1, high = 2 }\n'),
     REFUSE, out=None, needle=("rate_per_day",))
case("names", "uncertain-same-path-two-spellings",
     validate('[[uncertain]]\nname = "a"\npath = "policy.3.review_time"\nscale = true\n'
              'prior = { dist = "uniform", low = 0.5, high = 2 }\n'
              '[[uncertain]]\nname = "b"\npath = ["policy.9.review_time", '
              '"policy.3.review_time"]\nscale = true\n'
              'prior = { dist = "uniform", low = 0.5, high = 2 }\n'),
     REFUSE, out=None, needle=("policy.3",))
case("names", "stoppage-unknown-firm",
     validate(OBS_JAN_FEB.replace("stoppages = []\n", "")
              + '[[observed.stoppages]]\nfirm = "ford"\nevent = "x"\ndate = 2025-02-10\n'),
     REFUSE, out=None, needle=("ford",))
case("names", "approval-unknown-destination",
     validate(OBS_JAN_FEB.replace("approvals = []\n", "")
              + '[[observed.approvals]]\ndestination = "EUROPE"\ndate = 2025-02-10\n'
                'share = 0.3\n'),
     REFUSE, out=None, needle=("EUROPE",))
case("names", "series-unknown-destination",
     validate(OBS_JAN_FEB + '[[observed.exports.series]]\nname = "usa"\n'
              'destinations = ["USA"]\nreference_tonnes = 7416\nreference_days = 366\n'
              'months = { "2025-01" = 500 }\n'),
     REFUSE, out=None, needle=("USA",))
case("names", "general-licence-unknown-firm",
     run_with("", ["--set", 'policy.2.firms=["nobody"]', *RUN1]),
     REFUSE, needle=("nobody", "policy.2"))
case("names", "stockpile-unknown-material",
     validate('[stockpile]\nstock_kg = { smco_magnet = 10.0, unobtainium = 5.0 }\n'),
     REFUSE, out=None, needle=("unobtainium",))

# --------------------------------------------------------------------------- extends-observed
# A child's `observed` replaces its parent's whole (as distributions and arrays are), it
# is not merged with it key by key.


def loaded_observed(cfg: str) -> dict | None:
    """The observed data of `cfg` as the probed tree loads it (in a child process), as
    JSON-like data."""
    import subprocess
    import sys

    from .harness import TREE

    code = ("import json, sys, sim; o = sim.load_config(sys.argv[1]).observed; "
            "print(json.dumps(o.model_dump(mode='json') if o is not None else None))")
    p = subprocess.run([sys.executable, "-c", code, cfg], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(TREE)}, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip()[-200:])
    return json.loads(p.stdout)


def _obs_check(cfg: str, want: Callable[[dict], str | None]) -> Callable[..., str | None]:
    def check(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
        obs = loaded_observed(str(tmp / cfg))
        return "no observed data" if obs is None else want(obs)
    return check


def _no_parent(obs: dict) -> str | None:
    leaked = [k for k in ("stoppages", "approvals", "held_out_months") if obs.get(k)]
    return f"the parent's {leaked} leaked into the child's observed" if leaked else None


CHILD_OBS = """[observed]
fit_months = ["2025-01", "2025-02"]
[[observed.exports.series]]
name = "total"
reference_tonnes = 58152
reference_days = 366
months = { "2025-01" = 6357, "2025-02" = 5000 }
"""

case("extends-observed", "table-over-file", validate(CHILD_OBS), OK,
     check=_obs_check("cfg.toml", _no_parent), out=None)


def _file_over_file(ctx: Ctx, tmp: Path) -> list[str]:
    write(tmp / "obs.toml", CHILD_OBS.replace("[observed]\n", "").replace("observed.", ""))
    config(tmp, 'observed = "obs.toml"')
    return ["validate", "cfg.toml"]


case("extends-observed", "file-over-file", _file_over_file, OK,
     check=_obs_check("cfg.toml", _no_parent), out=None)

PARENT_OBS = OBS_JAN_FEB.replace("stoppages = []\n", "").replace("approvals = []\n", "") \
    .replace("held_out_months = []", 'held_out_months = ["2025-07"]\nfirst_wave_days = 14') + (
    '[[observed.stoppages]]\nfirm = "us_auto_ev"\nevent = "parent"\ndate = 2025-05-12\n'
    '[[observed.approvals]]\ndestination = "EU"\ndate = 2025-06-04\nshare = 0.25\n')


def _table_over_table(ctx: Ctx, tmp: Path) -> list[str]:
    config(tmp, PARENT_OBS, "parent.toml")
    config(tmp, CHILD_OBS, "cfg.toml", parent=tmp / "parent.toml")
    return ["validate", "cfg.toml"]


case("extends-observed", "table-over-table", _table_over_table, OK,
     check=_obs_check("cfg.toml", _no_parent), out=None)


def _first_wave(obs: dict) -> str | None:
    fw = obs.get("first_wave_days")
    return None if fw == 28 else f"first_wave_days {fw}: the parent's, not the default 28"


case("extends-observed", "default-not-parents", _table_over_table, OK,
     check=_obs_check("cfg.toml", _first_wave), out=None)


def _stoppages_only(ctx: Ctx, tmp: Path) -> list[str]:
    config(tmp, PARENT_OBS, "parent.toml")
    config(tmp, '[observed]\nfit_months = ["2025-05"]\n[[observed.stoppages]]\n'
           'firm = "jp_automaker"\nevent = "child"\ndate = 2025-05-26\n', "cfg.toml",
           parent=tmp / "parent.toml")
    return ["validate", "cfg.toml"]


def _no_exports(obs: dict) -> str | None:
    if obs.get("exports") is not None:
        return "the parent's export series leaked into a child that observed only stoppages"
    events = [s["event"] for s in obs.get("stoppages", [])]
    return None if events == ["child"] else f"stoppages {events}"


case("extends-observed", "stoppages-only-child", _stoppages_only, OK,
     check=_obs_check("cfg.toml", _no_exports), out=None)


def _backtest_md(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
    md = next((tmp / "out").rglob("backtest.md"), None)
    if md is None:
        return "no backtest.md"
    return "the parent's stoppages are in the back-test" if "Ford" in md.read_text() else None


case("extends-observed", "backtest-child-table",
     run_with(CHILD_OBS, ["-n", "2", "-j", "1", "--out", "out"], "backtest"), OK,
     check=_backtest_md, timeout=90,
     note="the parent's held-out months (to December) must not make a January-August run "
          "unfit for its own observations")

# --------------------------------------------------------------------------- tails
# Truncated priors far in a tail draw values spread as the truncated distribution says.


def tail_check(name: str, mean: float, sd: float, low: float | None, high: float | None,
               integer: bool = False) -> Callable[[Ctx, Path, Proc], str | None]:
    def check(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
        import math

        from scipy.stats import truncnorm

        a = -math.inf if low is None else (low - mean) / sd
        b = math.inf if high is None else (high - mean) / sd
        dist = truncnorm(a, b, loc=mean, scale=sd)
        lo, hi = dist.ppf(1e-6), dist.ppf(1 - 1e-6)
        if integer:
            lo, hi = math.floor(lo), math.ceil(hi)
        v = parameters(tmp)[name].to_numpy(float)
        bad = v[(v < lo) | (v > hi)]
        if bad.size:
            return (f"{bad.size} of {v.size} draws outside the truncated normal's "
                    f"[{lo:.4g}, {hi:.4g}] (P=2e-6 each): {sorted(set(bad.tolist()))[:3]}")
        return None
    return check


def tail(id: str, path: str, mean: float, sd: float, low: float | None,
         high: float | None, integer: bool = False) -> None:
    bounds = "".join(f", {k} = {v}" for k, v in (("low", low), ("high", high)) if v is not None)
    body = (f'[[uncertain]]\nname = "t"\npath = "{path}"\ninteger = {str(integer).lower()}\n'
            f'prior = {{ dist = "normal", mean = {mean}, sd = {sd}{bounds} }}\n')
    case("tails", id, run_with(body, ["-n", "5", "-j", "1", "--no-plots", "-q", "--out", "out"]),
         OK, check=tail_check("t", mean, sd, low, high, integer))


tail("upper-tail-10-12sd", "authority.statutory_limit_working_days", 0, 1, 10, 12)
tail("upper-tail-one-sided", "authority.statutory_limit_working_days", 0, 1, 9, None)
tail("lower-tail-10sd", "authority.statutory_limit_working_days", 100, 1, 80, 90)
tail("upper-tail-scaled", "authority.statutory_limit_working_days", 5, 0.5, 12, 40)
tail("tail-integer-reviewers", "authority.reviewers", 5, 1, 40, 60, integer=True)
tail("tail-6sd", "output.recovery_window_days", 0, 2, 12, 16)
tail("upper-tail-40sd", "output.recovery_window_days", 0, 0.5, 20, 30)
tail("lower-tail-40sd", "authority.statutory_limit_working_days", 100, 1, 50, 60)

# --------------------------------------------------------------------------- windows
# A measured window that measures nothing is refused.


def window(id: str, body: str, extra: list[str] | None = None, cmd: str = "run") -> None:
    case("windows", id, run_with(body, [*(extra or []), *RUN1], cmd), REFUSE,
         needle=("measure", "horizon"))


window("from-equals-until", "[output]\nmeasure_from = 2025-03-01\nmeasure_until = 2025-03-01\n")
window("reversed", "[output]\nmeasure_from = 2025-05-01\nmeasure_until = 2025-03-01\n")
window("from-after-horizon", "[output]\nmeasure_from = 2025-10-01\n")
window("until-before-start", "[output]\nmeasure_until = 2024-12-01\n")
window("from-at-horizon-end", "[output]\nmeasure_from = 2025-08-29\n")
window("both-after-horizon", "[output]\nmeasure_from = 2026-01-01\nmeasure_until = 2026-06-01\n")
window("horizon-cut-by-set", "[output]\nmeasure_from = 2025-06-01\nmeasure_until = 2025-07-01\n",
       ["--set", "horizon_days=100"])
window("window-by-set", "", ["--set", "output.measure_from=2027-01-01"])
case("windows", "sweep-point-outside",
     run_with('[sweep]\nmethod = "grid"\n[[sweep.parameters]]\npath = "output.measure_from"\n'
              'values = [2025-02-01, 2025-12-01]\n', RUN1, "sweep"),
     REFUSE, needle=("measure", "point"))
case("windows", "uncertain-window-outside",
     run_with('[[uncertain]]\nname = "from"\npath = "output.measure_from"\n'
              'prior = { dist = "choice", values = [2025-02-01, 2025-12-01] }\n', RUN2),
     REFUSE, needle=("measure", "from"))

# --------------------------------------------------------------------------- overwrite
# A command never writes into, or replaces, a folder or file that is not its own.


def _with_runs(out_kind: str, overwrite: bool = False, configs: bool = False
               ) -> Callable[[Ctx, Path], list[str]]:
    def setup(ctx: Ctx, tmp: Path) -> list[str]:
        if configs:
            config(tmp, "", "a.toml")
            config(tmp, "[authority]\nreviewers = 20\n", "b.toml")
            inputs = ["a.toml", "b.toml", "-n", "2", "-j", "1"]
        else:
            copy(run_folder(ctx, "run-a"), tmp / "a")
            copy(run_folder(ctx, "run-b"), tmp / "b")
            inputs = ["a", "b"]
        if out_kind == "user":
            write(tmp / "mine" / "notes.txt", "my notes\n")
            write(tmp / "mine" / "summary.csv", "my own table\n")
            out = "mine"
        elif out_kind == "input":
            out = "a"
        elif out_kind == "other-run":
            copy(run_folder(ctx, "run-w-from"), tmp / "other")
            out = "other"
        elif out_kind == "sweep":
            copy(ctx.fixture("sweep", _sweep_fixture) / "sweep", tmp / "sw")
            out = "sw"
        elif out_kind == "calibration":
            copy(cal_folder(ctx), tmp / "cal")
            out = "cal"
        elif out_kind == "file":
            write(tmp / "thesis.txt", "chapter one\n")
            out = "thesis.txt"
        else:
            raise ValueError(out_kind)
        return ["compare", *inputs, "--out", out, "--no-plots", "-q",
                *(["--overwrite"] if overwrite else [])]
    return setup


PROTECT = {"user": ["mine"], "input": ["a"], "other-run": ["other"], "sweep": ["sw"],
           "file": ["thesis.txt"], "calibration": ["cal"]}
for kind, ow in (("user", False), ("user", True), ("input", False), ("input", True),
                 ("other-run", True), ("sweep", True), ("file", False)):
    case("overwrite", f"compare-out-{kind}{'-overwrite' if ow else ''}", _with_runs(kind, ow),
         REFUSE, protect=PROTECT[kind] + (["a", "b"] if kind != "input" else ["b"]), out=None,
         needle=("--out", "out", PROTECT[kind][0]))
case("overwrite", "compare-out-calibration-overwrite", _with_runs("calibration", True),
     REFUSE, protect=["cal", "a", "b"], out=None, needle=("--out", "cal"), slow=True,
     timeout=90)
case("overwrite", "compare-configs-into-run-overwrite", _with_runs("other-run", True, True),
     REFUSE, protect=["other", "a.toml", "b.toml"], out=None, needle=("--out", "other"))


def _export(target: str, layout: str = "") -> Callable[[Ctx, Path], list[str]]:
    def setup(ctx: Ctx, tmp: Path) -> list[str]:
        if layout == "parent":
            config(tmp, "", "parent.toml")
            cal_config(tmp, parent=tmp / "parent.toml")
        elif layout == "observed":
            write(tmp / "obs.toml", OBS_JAN_FEB.replace("[observed]\n", "")
                  .replace("observed.", ""))
            cal_config(tmp, observed="", top='observed = "obs.toml"\n')
        elif layout == "parquet":
            import pandas as pd

            pd.DataFrame({"weight": [0.5, 0.5], "lim": [200.0, 250.0]}).to_parquet(
                tmp / "post.parquet")
            cal_config(tmp, 'parameters = ["bg", "rev"]', CAL_PRIORS + (
                '[[uncertain]]\nname = "lim"\npath = "authority.statutory_limit_working_days"\n'
                'prior = { dist = "posterior", file = "post.parquet" }\n'))
        else:
            cal_config(tmp)
        (tmp / "sub").mkdir(exist_ok=True)
        return ["calibrate", "cal.toml", *CAL, "--export", target, "--overwrite"]
    return setup


case("overwrite", "export-onto-input", _export("cal.toml"), REFUSE, slow=True, timeout=120,
     protect=["cal.toml"], needle=("--export", "cal.toml"))
case("overwrite", "export-onto-input-other-spelling", _export("sub/../cal.toml"), REFUSE,
     slow=True, timeout=120, protect=["cal.toml"], needle=("--export", "cal.toml"))
case("overwrite", "export-onto-parent", _export("parent.toml", "parent"), REFUSE, slow=True,
     timeout=120, protect=["cal.toml", "parent.toml"], needle=("--export", "parent.toml"))
case("overwrite", "export-onto-observed", _export("obs.toml", "observed"), REFUSE, slow=True,
     timeout=120, protect=["cal.toml", "obs.toml"], needle=("--export", "obs.toml"))
case("overwrite", "export-sibling-parquet-in-use", _export("post.toml", "parquet"), REFUSE,
     slow=True, timeout=120, protect=["cal.toml", "post.parquet"],
     needle=("--export", "post"))

# --------------------------------------------------------------------------- readers
# Readers check what they read: a damaged part, a damaged or doubled log is refused.


def _damaged(damage: Callable[[Path], None], cmd: list[str]) -> Callable[[Ctx, Path], list[str]]:
    def setup(ctx: Ctx, tmp: Path) -> list[str]:
        copy(run_folder(ctx, "run-a"), tmp / "run")
        damage(tmp / "run")
        return [*cmd, "run"]
    return setup


def _flip(dataset: str) -> Callable[[Path], None]:
    return lambda d: flip_bytes(d / dataset / "part-00000.parquet", 0.3, 16)


def _log(edit: Callable[[list[str]], list[str]], raw: bool = False) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        f = d / "chunks.jsonl"
        if raw:
            text = f.read_text()
            f.write_text(text[: len(text) - len(text.splitlines()[-1]) // 2 - 1])
            return
        f.write_text("".join(line + "\n" for line in edit(f.read_text().splitlines())))
    return damage


def _renumbered(lines: list[str]) -> list[str]:
    first = json.loads(lines[0])
    first["chunk"] = len(lines)
    return [*lines, json.dumps(first, separators=(",", ":"))]


for ds in ("replications", "authority"):
    case("readers", f"summary-corrupt-{ds}", _damaged(_flip(ds), ["summary"]), REFUSE,
         out=None, protect=["run"], needle=(ds, "part-00000"))
for ds in ("exports",):
    case("readers", f"plot-corrupt-{ds}", _damaged(_flip(ds), ["plot"]), REFUSE, out=None,
         needle=(ds, "part-00000"), timeout=90, slow=True)
case("readers", "verify-truncated-log", _damaged(_log(lambda x: x, raw=True), ["verify"]),
     REFUSE, out=None, protect=["run"], needle=("chunks.jsonl",))
case("readers", "verify-log-missing-line", _damaged(_log(lambda x: x[:-1]), ["verify"]),
     REFUSE, out=None, protect=["run"], needle=("chunks.jsonl", "replication"))
case("readers", "verify-log-line-twice", _damaged(_log(lambda x: [*x, x[0]]), ["verify"]),
     REFUSE, out=None, protect=["run"], needle=("chunks.jsonl", "replication", "chunk"))
case("readers", "verify-log-replication-twice", _damaged(_log(_renumbered), ["verify"]),
     REFUSE, out=None, protect=["run"], needle=("chunks.jsonl", "replication", "chunk"))


def _clean_summary(ctx: Ctx) -> str:
    def build(ctx: Ctx, d: Path) -> None:
        p = ctx.cli(["summary", "--csv", str(run_folder(ctx, "run-a"))], d)
        (d / "summary.csv").write_text(p.stdout)
    return (ctx.fixture("run-a-summary", build) / "summary.csv").read_text()


def _same_summary(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
    return None if proc.stdout == _clean_summary(ctx) else \
        "the summary differs from the undamaged folder's"


case("readers", "summary-log-replication-twice",
     _damaged(_log(_renumbered), ["summary", "--csv"]), EITHER, check=_same_summary,
     out=None, protect=["run"], needle=("chunks.jsonl", "replication", "chunk"))
case("readers", "summary-log-line-twice",
     _damaged(_log(lambda x: [*x, x[0]]), ["summary", "--csv"]), EITHER, check=_same_summary,
     out=None, protect=["run"], needle=("chunks.jsonl", "replication", "chunk"))
case("readers", "verify-corrupt-part", _damaged(_flip("arcs"), ["verify"]), REFUSE, out=None,
     protect=["run"], needle=("arcs", "chunk"), note="control: checksums are checked")

# --------------------------------------------------------------------------- hangs
# A config whose run would never finish is refused (work limits) in seconds.


def hang(id: str, body: str, extra: list[str] | None = None, needle: tuple[str, ...] = ()
         ) -> None:
    case("hangs", id, run_with(body, [*(extra or []), *RUN1]), REFUSE, timeout=30,
         needle=needle)


hang("dispatch-free-supplier", "[suppliers.row]\ndispatch_every_days = 1e-9\n",
     needle=("dispatch_every_days",))
hang("dispatch-maker", "[firms.us_tier1.shipping]\ndispatch_every_days = 1e-9\n",
     needle=("dispatch_every_days",))
hang("dispatch-by-set", "", ["--set", "firms.jp_tier1.shipping.dispatch_every_days=1e-8"],
     needle=("dispatch_every_days",))
hang("prior-horizon", '[[uncertain]]\nname = "h"\npath = "horizon_days"\n'
     'prior = { dist = "uniform", low = 100, high = 1e9 }\n', needle=("horizon", "h"))
hang("prior-horizon-lognormal", '[[uncertain]]\nname = "h"\npath = "horizon_days"\n'
     'prior = { dist = "lognormal", median = 240, sigma = 3 }\n', needle=("horizon", "h"))
hang("prior-background-rate", '[[uncertain]]\nname = "bg"\n'
     'path = "authority.background.rate_per_day"\n'
     'prior = { dist = "loguniform", low = 1, high = 1e8 }\n', needle=("rate_per_day", "bg"))
hang("prior-background-scale", '[[uncertain]]\nname = "bg"\n'
     'path = "authority.background.rate_per_day"\nscale = true\n'
     'prior = { dist = "uniform", low = 1, high = 1e9 }\n', needle=("rate_per_day", "bg"))
hang("prior-review-period", '[[uncertain]]\nname = "rp"\n'
     'path = "firms.us_tech_drives.ordering.review_period_days"\n'
     'prior = { dist = "loguniform", low = 1e-9, high = 7 }\n', needle=("review_period", "rp"))
hang("prior-dispatch", '[[uncertain]]\nname = "d"\npath = "suppliers.row.dispatch_every_days"\n'
     'prior = { dist = "loguniform", low = 1e-10, high = 1 }\n', needle=("dispatch", "d"))
hang("endless-resubmission", '[authority.decision]\napprove = 0.0\nrefuse = 1.0\nrules = []\n'
     '[authority.refusal]\nmax_attempts = 1000000000\n'
     'resubmit_after_days = { dist = "constant", value = 1e-6 }\n',
     needle=("max_attempts", "resubmit"))
hang("endless-information-requests", '[authority.information_requests]\nprobability = 1.0\n'
     'max_rounds = 1000000000\nresponse_days = { dist = "constant", value = 0.0 }\n',
     needle=("max_rounds", "information"))


def _many_firms(ctx: Ctx, tmp: Path) -> list[str]:
    lines = []
    for i in range(20000):
        lines.append(f'[firms.f{i}]\nsector = "tech"\ndestination = "US"\nunits_per_day = 1\n'
                     'bom = { ndfeb_magnet = 0.001 }\ninitial_cover_days = 30\n'
                     'ordering = { target_cover_days = 30, suppliers = { china = 1.0 } }\n')
    config(tmp, "".join(lines))
    return ["validate", "cfg.toml"]


case("hangs", "validate-20000-firms", _many_firms, DONE, timeout=60, out=None,
     note="a valid config: validate must answer (ok or a work-limit refusal) in seconds")


def _deep_chain(ctx: Ctx, tmp: Path) -> list[str]:
    n = 400
    mats = "".join(f'[materials.p{i}]\nunit = "pieces"\n' for i in range(n))
    firms = []
    for i in range(n):
        bom = "ndfeb_magnet = 0.01" if i == 0 else f"p{i - 1} = 1"
        sup = "china = 1.0" if i == 0 else f"c{i - 1} = 1.0"
        firms.append(f'[firms.c{i}]\nsector = "auto"\ndestination = "US"\nunits_per_day = 1\n'
                     f'output = "p{i}"\nbom = {{ {bom} }}\ninitial_cover_days = 5\n'
                     f'ordering = {{ target_cover_days = 10, suppliers = {{ {sup} }} }}\n')
    config(tmp, mats + "".join(firms))
    return ["validate", "cfg.toml"]


case("hangs", "validate-400-tier-chain", _deep_chain, DONE, timeout=60, out=None)

# --------------------------------------------------------------------------- tracebacks
# Input that used to crash: refused in one line, or handled.


def clash(id: str, body: str, needle: tuple[str, ...]) -> None:
    case("tracebacks", id, run_with(body, ["-n", "6", "-j", "1", "--no-plots", "-q",
                                           "--out", "out"]), REFUSE, needle=needle)


clash("priors-clash-triangular",
      '[[uncertain]]\nname = "lo"\npath = "suppliers.china.production_days.low"\n'
      'prior = { dist = "uniform", low = 0, high = 5.5 }\n[[uncertain]]\nname = "mode"\n'
      'path = "suppliers.china.production_days.mode"\n'
      'prior = { dist = "uniform", low = 4, high = 9 }\n', ("lo", "mode", "production_days"))
clash("priors-clash-uniform",
      '[[uncertain]]\nname = "lo"\npath = "suppliers.row.production_days.low"\n'
      'prior = { dist = "uniform", low = 0, high = 12 }\n[[uncertain]]\nname = "hi"\n'
      'path = "suppliers.row.production_days.high"\n'
      'prior = { dist = "uniform", low = 8, high = 20 }\n', ("lo", "hi", "production_days"))
clash("priors-clash-approve-refuse",
      '[[uncertain]]\nname = "ap"\npath = "authority.decision.rules.3.approve"\n'
      'prior = { dist = "uniform", low = 0.3, high = 0.95 }\n[[uncertain]]\nname = "rf"\n'
      'path = "authority.decision.rules.3.refuse"\n'
      'prior = { dist = "uniform", low = 0.01, high = 0.45 }\n', ("ap", "rf", "rules.3"))
clash("priors-clash-window",
      '[[uncertain]]\nname = "from"\npath = "output.measure_from"\n'
      'prior = { dist = "choice", values = [2025-03-01, 2025-06-01] }\n[[uncertain]]\n'
      'name = "until"\npath = "output.measure_until"\n'
      'prior = { dist = "choice", values = [2025-04-01, 2025-07-01] }\n',
      ("from", "until", "measure"))


def _posterior_file(tmp: Path) -> None:
    import pandas as pd

    pd.DataFrame({"weight": [0.25, 0.25, 0.5], "a": [25.0, 30.0, 35.0],
                  "b": [100.0, 120.0, 140.0]}).to_parquet(tmp / "p.parquet")


def _posterior(files: tuple[str, str], columns: tuple[str, str]
               ) -> Callable[[Ctx, Path], list[str]]:
    def setup(ctx: Ctx, tmp: Path) -> list[str]:
        _posterior_file(tmp)
        (tmp / "sub").mkdir()
        config(tmp, f'[[uncertain]]\nname = "x"\npath = "authority.reviewers"\ninteger = true\n'
               f'prior = {{ dist = "posterior", file = "{files[0]}", column = "{columns[0]}" }}\n'
               f'[[uncertain]]\nname = "y"\npath = "authority.statutory_limit_working_days"\n'
               f'prior = {{ dist = "posterior", file = "{files[1]}", column = "{columns[1]}" }}\n')
        return ["run", "cfg.toml", "-n", "6", "-j", "1", "--no-plots", "-q", "--out", "out"]
    return setup


def _rows_of_sample(columns: tuple[str, str]) -> Callable[[Ctx, Path, Proc], str | None]:
    def check(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
        import pandas as pd

        sample = pd.read_parquet(tmp / "p.parquet")
        rows = set(zip(sample[columns[0]], sample[columns[1]], strict=True))
        p = parameters(tmp)
        got = set(zip(p["x"].astype(float), p["y"].astype(float), strict=True))
        stray = got - rows
        return f"draws {sorted(stray)[:2]} are not rows of the sample" if stray else None
    return check


case("tracebacks", "posterior-same-file-same-column",
     _posterior(("p.parquet", "p.parquet"), ("a", "a")), DONE,
     check=_rows_of_sample(("a", "a")), note="two paths, one column: same value on both")
case("tracebacks", "posterior-same-file-two-spellings",
     _posterior(("p.parquet", "./sub/../p.parquet"), ("a", "b")), OK,
     check=_rows_of_sample(("a", "b")), note="one file named two ways: the same row")
case("tracebacks", "posterior-same-file-two-columns",
     _posterior(("p.parquet", "p.parquet"), ("a", "b")), OK, check=_rows_of_sample(("a", "b")),
     note="control: the documented case")


case("tracebacks", "label-bad-tex",
     run_with("", ["--set", 'policy.0.label="$\\\\frac{1}{$ controls"', "-n", "1", "-j", "1",
                   "-q", "--out", "out"]),
     OK, check=report_holds("out/report.html", "$\\frac{1}{$ controls"), timeout=120,
     slow=True)
case("tracebacks", "label-set-dollars",
     run_with("", ["--set", 'policy.0.label="costs $5 to $6_{x} more"', "-n", "1", "-j", "1",
                   "-q", "--out", "out"]),
     OK, check=report_holds("out/report.html", "costs $5 to $6_{x} more"), timeout=120,
     slow=True)
case("tracebacks", "sweep-parameter-tex",
     run_with('[sweep]\nmethod = "grid"\n[[sweep.parameters]]\nname = "$\\\\sqrt{x$"\n'
              'path = "authority.reviewers"\nvalues = [30, 40]\n',
              ["-n", "1", "-j", "1", "-q", "--out", "out"], "sweep"),
     OK, check=report_holds("out/report.html", "$\\sqrt{x$"), timeout=150, slow=True)


def _compare_tex(ctx: Ctx, tmp: Path) -> list[str]:
    copy(run_folder(ctx, "run-a"), tmp / "a")
    copy(run_folder(ctx, "run-tex"), tmp / "t")
    return ["compare", "a", "t", "--out", "out", "-q"]


case("tracebacks", "compare-name-tex", _compare_tex, OK,
     check=report_holds("out/report.html", "$\\frac{a$ and $b_{$"), timeout=120, slow=True)


def _report_damaged(fixture: str, damage: Callable[[Path], None]
                    ) -> Callable[[Ctx, Path], list[str]]:
    def setup(ctx: Ctx, tmp: Path) -> list[str]:
        src = cal_folder(ctx) if fixture == "cal" else ctx.fixture("cmp", _compare_fixture) / "cmp"
        copy(src, tmp / "out")
        (tmp / "out" / "report.html").unlink(missing_ok=True)
        damage(tmp / "out")
        return ["report", "out"]
    return setup


def _absent_report(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
    return None


def _manifest_state(state: str) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        m = json.loads((d / "manifest.json").read_text())
        m["state"] = state
        (d / "manifest.json").write_text(json.dumps(m))
    return damage


def _truncate(rel: str, keep: float = 0.5) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        data = (d / rel).read_bytes()
        (d / rel).write_bytes(data[: int(len(data) * keep)])
    return damage


def _remove(rel: str) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        p = d / rel
        if p.is_dir():
            import shutil

            shutil.rmtree(p)
        else:
            p.unlink()
    return damage


for cid, fx, dmg in (
        ("report-cal-no-posterior", "cal", _remove("posterior.parquet")),
        ("report-cal-interrupted", "cal", _manifest_state("running")),
        ("report-cal-truncated-generations", "cal", _truncate("generations.csv", 0.3)),
        ("report-cal-no-predictive", "cal", _remove("predictive")),
        ("report-compare-no-csv", "cmp", _remove("compare.csv")),
        ("report-compare-truncated-json", "cmp", _truncate("compare.json", 0.5)),
        ("report-compare-truncated-csv", "cmp", _truncate("compare.csv", 0.4))):
    case("tracebacks", cid, _report_damaged(fx, dmg), REFUSE, out="out/report.html",
         slow=(fx == "cal"), timeout=90, needle=("out",))

case("tracebacks", "cal-min-acceptance-above-first",
     lambda ctx, tmp: (cal_config(tmp, "min_acceptance = 0.99\ngenerations = 2"),
                       ["calibrate", "cal.toml", *CAL])[1],
     DONE, slow=True, timeout=150)
case("tracebacks", "cal-repeated-parameter",
     lambda ctx, tmp: (cal_config(tmp, 'parameters = ["bg", "bg"]'),
                       ["calibrate", "cal.toml", *CAL])[1],
     REFUSE, slow=True, timeout=120, needle=("calibration.parameters", "bg"))
case("tracebacks", "cal-repeated-parameter-apart",
     lambda ctx, tmp: (cal_config(tmp, 'parameters = ["bg", "rev", "bg"]'),
                       ["calibrate", "cal.toml", *CAL])[1],
     REFUSE, slow=True, timeout=120, needle=("calibration.parameters", "bg"))
case("tracebacks", "cal-priors-clash-together",
     lambda ctx, tmp: (cal_config(tmp, priors=CAL_PRIORS + (
         '[[uncertain]]\nname = "lo"\npath = "suppliers.row.production_days.low"\n'
         'prior = { dist = "uniform", low = 0, high = 12 }\n[[uncertain]]\nname = "hi"\n'
         'path = "suppliers.row.production_days.high"\n'
         'prior = { dist = "uniform", low = 8, high = 20 }\n')),
         ["calibrate", "cal.toml", *CAL])[1],
     REFUSE, slow=True, timeout=120, needle=("lo", "hi", "production_days"))

# --------------------------------------------------------------------------- misleading
# Outputs that say more, or other, than the numbers behind them.


def _compare_runs(a: str, b: str, extra: list[str] | None = None
                  ) -> Callable[[Ctx, Path], list[str]]:
    def setup(ctx: Ctx, tmp: Path) -> list[str]:
        copy(run_folder(ctx, a), tmp / "a")
        copy(run_folder(ctx, b), tmp / "b")
        return ["compare", "a", "b", "--out", "out", "--no-plots", "-q", *(extra or [])]
    return setup


case("misleading", "compare-window-from", _compare_runs("run-a", "run-w-from"), REFUSE,
     needle=("measure",))
case("misleading", "compare-window-until", _compare_runs("run-w-until", "run-a"), REFUSE,
     needle=("measure",))
case("misleading", "compare-window-unpaired",
     _compare_runs("run-a", "run-w-from", ["--unpaired"]), REFUSE, needle=("measure",))


def _compare_window_configs(ctx: Ctx, tmp: Path) -> list[str]:
    config(tmp, "", "a.toml")
    config(tmp, "[output]\nmeasure_until = 2025-06-01\n", "b.toml")
    return ["compare", "a.toml", "b.toml", "-n", "2", "-j", "1", "--out", "out", "--no-plots",
            "-q"]


case("misleading", "compare-window-configs", _compare_window_configs, REFUSE,
     needle=("measure",))


def _has_tech(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
    import pandas as pd

    t = pd.read_csv(tmp / "out" / "compare.csv")
    return None if t.astype(str).apply(lambda c: c.str.contains("tech")).any().any() else \
        "compare.csv silently drops tech, present in one run only"


case("misleading", "compare-sector-in-one-run", _compare_runs("run-a", "run-notech"), EITHER,
     check=_has_tech, needle=("tech",))
case("misleading", "compare-sector-in-first-only", _compare_runs("run-notech", "run-a"),
     EITHER, check=_has_tech, needle=("tech",))
case("misleading", "compare-md-html-name", _compare_runs("run-a", "run-html"), OK,
     check=unchanged_text("out/compare.md", ("<script", "<b>")))


def _md_pipes(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
    import re

    rows = [ln for ln in (tmp / "out" / "compare.md").read_text().splitlines()
            if ln.startswith("|")]
    counts = {len(re.findall(r"(?<!\\)\|", ln)) for ln in rows}
    return None if len(counts) <= 1 else f"table rows have {sorted(counts)} cells: a name's " \
        "'|' breaks the markdown table"


case("misleading", "compare-md-pipe-in-name", _compare_runs("run-a", "run-html"), OK,
     check=_md_pipes)
case("misleading", "backtest-md-html-event",
     run_with(OBS_JAN_FEB.replace("stoppages = []\n", "")
              + '[[observed.stoppages]]\nfirm = "us_auto_ev"\n'
                'event = "<img src=x onerror=alert(1)> idled"\ndate = 2025-05-12\n',
              ["-n", "2", "-j", "1", "--out", "out"], "backtest"),
     OK, check=lambda ctx, tmp, proc: _backtest_html(tmp), timeout=90)


def _backtest_html(tmp: Path) -> str | None:
    md = next((tmp / "out").rglob("backtest.md"), None)
    if md is None:
        return "no backtest.md"
    return "backtest.md carries raw <img ...>" if "<img" in md.read_text() else None


case("misleading", "report-html-label",
     run_with("", ["--set", 'policy.0.label="<script>alert(1)</script>"', "-n", "1", "-j", "1",
                   "-q", "--out", "out"]),
     OK, check=unchanged_text("out/report.html", ("<script>alert(1)",)), timeout=120, slow=True,
     note="control: the HTML report escapes")


def _no_edge_flag(param: str) -> Callable[[Ctx, Path, Proc], str | None]:
    def check(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
        md = (tmp / "out" / "calibration.md").read_text()
        lines = [ln for ln in md.splitlines() if param in ln and "bound" in ln]
        return f"calibration.md: {lines[0][:120]}" if lines else None
    return check


EDGE_PRIORS = (("cal-lognormal-prior-bound", '{ dist = "lognormal", median = 45, sigma = 1.0 }'),
               ("cal-loguniform-prior-bound", '{ dist = "loguniform", low = 1, high = 1e5 }'))
for cid, prior in EDGE_PRIORS:
    case("misleading", cid,
         (lambda pr: lambda ctx, tmp: (cal_config(tmp, priors=CAL_PRIORS + (
             f'[[uncertain]]\nname = "lim"\npath = "authority.statutory_limit_working_days"\n'
             f'prior = {pr}\n')), ["calibrate", "cal.toml", *CAL])[1])(prior),
         OK, check=_no_edge_flag("lim"), slow=True, timeout=150,
         note="lim changes no target: its posterior is its prior, median in the middle")


def _zero_spread(ctx: Ctx, tmp: Path) -> list[str]:
    cal_config(tmp, top="", observed=OBS_JAN_FEB + (
        '[[observed.exports.series]]\nname = "ghost"\ndestinations = ["XX"]\n'
        'reference_tonnes = 1000\nreference_days = 366\nmonths = { "2025-01" = 80 }\n'
        '[destinations.XX]\npriority = 0\n'))
    return ["calibrate", "cal.toml", *CAL]


def _names_ghost(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
    """Some line, on stderr or in calibration.md, names the target and says it does not
    vary (listing it among the fitted targets is not enough: it is not fitted)."""
    md = tmp / "out" / "calibration.md"
    lines = proc.stderr.splitlines() + (md.read_text().splitlines() if md.is_file() else [])
    words = ("spread", "constant", "dropped", "ignored", "no weight", "same value", "vary",
             "varies", "left out", "not fitted")
    said = any("ghost" in ln and any(w in ln.lower() for w in words) for ln in lines)
    return None if said else "the target 'ghost' (no spread: nothing ever exported to XX) " \
        "was dropped from the distance without a word"


case("misleading", "cal-zero-spread-target", _zero_spread, EITHER, check=_names_ghost,
     slow=True, timeout=150, needle=("ghost",))
def _zero_spread_stoppage(ctx: Ctx, tmp: Path) -> list[str]:
    cal_config(tmp, observed=OBS_JAN_FEB.replace("stoppages = []\n", "") + (
        '[[observed.stoppages]]\nfirm = "us_defence_prime"\nevent = "ghost stoppage"\n'
        'date = 2025-02-10\n'))
    return ["calibrate", "cal.toml", *CAL]


def _names_prime(ctx: Ctx, tmp: Path, proc: Proc) -> str | None:
    bad = _names_ghost(ctx, tmp, Proc(proc.returncode, proc.stdout,
                                      proc.stderr.replace("us_defence_prime", "ghost")))
    if bad is None:
        return None
    md = tmp / "out" / "calibration.md"
    text = md.read_text() if md.is_file() else ""
    words = ("spread", "constant", "dropped", "ignored", "no weight", "same value", "vary",
             "varies", "left out", "not fitted")
    said = any("us_defence_prime" in ln and any(w in ln.lower() for w in words)
               for ln in text.splitlines())
    return None if said else "the stoppage of us_defence_prime (never within the fit " \
        "window: the same value in every simulation) was dropped without a word"


case("misleading", "cal-zero-spread-stoppage", _zero_spread_stoppage, EITHER,
     check=_names_prime, slow=True, timeout=150, needle=("us_defence_prime",))

case("misleading", "cal-md-html-note",
     lambda ctx, tmp: (cal_config(tmp, priors=CAL_PRIORS.replace(
         'name = "rev"', 'name = "rev"\nnote = "<script>alert(1)</script> from <b>FACTS</b>"')),
         ["calibrate", "cal.toml", *CAL])[1],
     OK, check=unchanged_text("out/calibration.md", ("<script", "<b>")), slow=True, timeout=150)


def by_class() -> dict[str, list[Case]]:
    out: dict[str, list[Case]] = {}
    for c in CASES:
        out.setdefault(c.cls, []).append(c)
    return out


_ids = [f"{c.cls}/{c.id}" for c in CASES]
assert len(_ids) == len(set(_ids)), "case ids repeat"
__all__ = ["CASES", "FixtureError", "by_class"]
