"""The issue-5 benchmark suite: writes docs/benchmarks.md (and a JSON of the figures).

    make bench                                   # everything, the default repeats
    python tests/benchmarks/run_all.py --quick   # fewer repeats, smaller batches
    python tests/benchmarks/run_all.py --only mm5,startup --json out.json

Not part of the test run. Whole-process figures time each command as its own process
(`_proc.run`), repeated, with the contenders of one comparison run alternately (round
robin, rotating who goes first) so that a ratio compares runs made at the same time on
this shared machine; ratios are the median of the per-round ratios. In-process figures
run the same `sim.simulate` / `World` code that every scenario runs.

Sections (issue #5): 1. M/M/5 against ciw and a bare SimPy M/M/5, each against Erlang C;
2. cost per application with 10 ... 30,000 waiting, FIFO and priority; 3. one baseline
replication, events/s, wall time and a cProfile of the hot spots; 4. replications/s with
1 and 2 local workers and a Dask LocalCluster; 5. peak memory of `rareshock run` for 40,
400 and 4,000 replications; 6. start-up of `rareshock --help` and `validate`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import _proc  # noqa: E402

PY = sys.executable
ERLANG_C_WQ = 0.5541  # M/M/5, lambda 4, mu 1: C(5, 4) / (5 - 4)


def stats(xs: list[float]) -> dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def fmt(s: dict[str, float], unit: str = "s", digits: int = 3) -> str:
    return f"{s['median']:.{digits}f} {unit} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- 1. M/M/5


def textbook_events(w) -> int:  # noqa: ANN001 - a World after its run
    """SimPy events a textbook process-per-file model would spend on the same run of `w`:
    ours, plus for each application the start and the end of its process, plus for each
    review round a resource request and a release (the review's timeout is one of ours,
    as are arrivals, pre-acceptance, information requests, the shelf, firms and policy)."""
    import numpy as np

    t = w.authority.apps
    rounds = int(np.isfinite(t.numeric("review_start")).sum() + t.numeric("rfi_rounds").sum())
    return w.events_processed + 2 * t.n + 2 * rounds


def _mm5_textbook_check() -> dict:
    """`textbook_events` of rareshock's M/M/5 run (seed 1, untimed), to set against the
    events the bare SimPy textbook model counts."""
    import sim
    from sim.model.world import World

    w = World(sim.load_config(ROOT / "configs" / "mmc.toml", ["horizon_days=40000"]), 1)
    w.run()
    return {"ours": w.events_processed, "textbook": textbook_events(w)}


def bench_mm5(rounds: int) -> dict:
    contenders = {
        "rareshock": [PY, str(HERE / "mm5_rareshock.py")],
        "bare SimPy": [PY, str(HERE / "mm5_simpy.py")],
        "ciw": [PY, str(HERE / "mm5_ciw.py")],
    }
    names = list(contenders)
    walls: dict[str, list[float]] = {n: [] for n in names}
    waits: dict[str, list[float]] = {n: [] for n in names}
    apps: dict[str, list[int]] = {n: [] for n in names}
    events: dict[str, list[int]] = {n: [] for n in names}
    mem: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            m = _proc.run(contenders[name] + [str(r + 1)])
            out = json.loads(m.stdout.strip().splitlines()[-1])
            walls[name].append(m.wall)
            waits[name].append(out["mean_wait"])
            apps[name].append(out["applications"])
            mem[name].append(m.peak_single_mb)
            if out.get("events"):
                events[name].append(out["events"])
            log(f"  mm5 round {r + 1} {name}: {m.wall:.3f} s, Wq {out['mean_wait']:.4f}")
    ours = walls["rareshock"]
    res = {"rounds": rounds, "contenders": {}}
    for n in names:
        w = waits[n]
        res["contenders"][n] = {
            "wall": stats(walls[n]),
            "applications": statistics.median(apps[n]),
            "throughput": statistics.median(
                a / t for a, t in zip(apps[n], walls[n], strict=False)),
            "mean_wait": statistics.fmean(w),
            "mean_wait_se": statistics.stdev(w) / math.sqrt(len(w)) if len(w) > 1 else math.nan,
            "events": statistics.median(events[n]) if events[n] else None,
            "peak_rss_mb": statistics.median(mem[n]),
        }
    res["textbook_check"] = _mm5_textbook_check()
    res["time_vs_bare"] = stats([a / b for a, b in zip(ours, walls["bare SimPy"], strict=False)])
    res["speed_vs_ciw"] = stats([b / a for a, b in zip(ours, walls["ciw"], strict=False)])
    res["ciw_vs_bare_speed"] = stats(
        [b / a for a, b in zip(walls["ciw"], walls["bare SimPy"], strict=False)])
    return res


# --------------------------------------------------------------------------- 2. backlog


def _queue_world(discipline: str, waiting: int, arrivals: int):  # noqa: ANN202
    """A World of configs/mmc.toml (5 reviewers) with a constant one-day review, the
    queue filled with `waiting` files at t = 0 and then one file every 0.2 days, so the
    queue stays at `waiting` (+0..5) files while `arrivals` more pass through."""
    import copy

    import numpy as np

    from sim.config import config_from_dict, read_toml_tree
    from sim.model.clock import post_call
    from sim.model.records import Application
    from sim.model.world import World

    raw = copy.deepcopy(read_toml_tree(ROOT / "configs" / "mmc.toml"))
    raw["horizon_days"] = arrivals * 0.2 + 10
    raw["runs"]["warmup_days"] = 0
    raw["authority"]["discipline"] = discipline
    raw["authority"]["review_time"] = {"dist": "constant", "value": 1.0}
    raw["authority"]["background"]["rate_per_day"] = 0.0
    raw["destinations"] = {"HI": {"priority": 0}, "LO": {"priority": 1}}
    raw["authority"]["background"]["destinations"] = {"HI": 0.4, "LO": 0.6}
    w = World(config_from_dict(raw, "backlog"), 1)
    pr = {d: c.priority for d, c in w.cfg.destinations.items()}
    dest = np.where(np.random.default_rng(0).random(waiting + 5 + arrivals) < 0.4, "HI", "LO")
    a = w.authority
    for i in range(waiting + 5):
        d = str(dest[i])
        a.submit(Application(i, None, "none", "civil", "ndfeb_magnet", d, 1.0, pr[d], 1,
                             0.0, None))
    k = [waiting + 5]

    def feed(_arg: object) -> None:
        i = k[0]
        d = str(dest[i])
        a.submit(Application(i, None, "none", "civil", "ndfeb_magnet", d, 1.0, pr[d], 1,
                             w.env.now, None))
        k[0] += 1
        if k[0] < waiting + 5 + arrivals:
            post_call(w.env, 0.2, feed, None)

    post_call(w.env, 0.2, feed, None)
    return w, arrivals * 0.2


def bench_backlog(sizes: list[int], arrivals: int, rounds: int) -> dict:
    out: dict = {}
    for disc in ("fifo", "priority"):
        per: dict[int, list[float]] = {n: [] for n in sizes}
        for r in range(rounds):
            order = sizes if r % 2 == 0 else sizes[::-1]
            for n in order:
                w, until = _queue_world(disc, n, arrivals)
                t = time.perf_counter()
                w.env.run(until=until)
                per[n].append((time.perf_counter() - t) / arrivals * 1e6)
                q = w.authority.queued
                assert n <= q <= n + 10, (disc, n, q)
        out[disc] = {str(n): stats(v) for n, v in per.items()}
        base = min(sizes)
        out[disc]["ratio_max_vs_min"] = stats(
            [a / b for a, b in zip(per[max(sizes)], per[base], strict=False)])
        log(f"  backlog {disc}: " + ", ".join(
            f"{n}: {statistics.median(per[n]):.2f} us" for n in sizes))
    return out


# --------------------------------------------------------------------------- 3. baseline


def bench_baseline(rounds: int) -> dict:
    import sim
    from sim.model.world import World

    cfg = sim.load_config(ROOT / "configs" / "baseline.toml")
    sim.simulate(cfg, 0)  # imports and caches warm
    walls, model, apps, textbook = [], [], [], []
    events = 0
    for r in range(rounds):
        t = time.perf_counter()
        rep = sim.simulate(cfg, r + 1)
        walls.append(time.perf_counter() - t)
        events = rep.events
        apps.append(len(rep.applications) / max(rep.events, 1))
        w = World(cfg, r + 1)
        t = time.perf_counter()
        w.run()
        model.append(time.perf_counter() - t)
        textbook.append(textbook_events(w))
    prof = cProfile.Profile()
    prof.enable()
    sim.simulate(cfg, 1)
    prof.disable()
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    st.sort_stats("tottime")
    rows = []
    total = st.total_tt
    for (file, line, fn), (_cc, nc, tt, ct, _callers) in sorted(
            st.stats.items(), key=lambda kv: -kv[1][2])[:12]:
        short = file.replace(str(ROOT) + "/", "")
        if "site-packages/" in short:
            short = short.split("site-packages/", 1)[1]
        rows.append({"function": f"{short}:{line}({fn})", "calls": nc,
                     "tottime_share": tt / total, "cumtime_share": ct / total})
    ws, ms = stats(walls), stats(model)
    per_app = statistics.median(apps)  # applications per event
    return {"events": events, "wall": ws, "model_wall": ms,
            "events_per_application": 1.0 / per_app if per_app else math.nan,
            "applications_per_s": events * per_app / ms["median"],
            "events_per_s": events / ws["median"], "model_events_per_s": events / ms["median"],
            "textbook_events": statistics.median(textbook),
            "textbook_events_per_s": statistics.median(textbook) / ms["median"],
            "profile": rows, "profile_total_s": total}


# --------------------------------------------------------------------------- 4. workers


def bench_workers(replications: int, rounds: int) -> dict:
    import sim
    from sim.run.batch import run_batch

    cfg = sim.load_config(ROOT / "configs" / "baseline.toml")
    setups = [("1 worker", "local", 1), ("2 workers", "local", 2),
              ("Dask LocalCluster, 2 workers", "dask", 2)]
    rates: dict[str, list[float]] = {s[0]: [] for s in setups}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            order = setups[r % 3:] + setups[:r % 3]
            for name, ex, n in order:
                out = Path(tmp) / f"{r}-{n}-{ex}"
                t = time.perf_counter()
                run_batch(cfg, out, replications=replications, workers=n, executor=ex)
                wall = time.perf_counter() - t
                rates[name].append(replications / wall)
                log(f"  workers {name}: {replications / wall:.2f} rep/s")
    one, two, dask = (rates[s[0]] for s in setups)
    return {"replications": replications,
            "rates": {k: stats(v) for k, v in rates.items()},
            "two_vs_one": stats([b / a for a, b in zip(one, two, strict=False)]),
            "dask_vs_local": stats([c / b for b, c in zip(two, dask, strict=False)])}


# --------------------------------------------------------------------------- 5. memory


def bench_memory(sizes: list[int], horizon: int) -> dict:
    out = {}
    rareshock = str(Path(PY).with_name("rareshock"))
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            cmd = [rareshock, "run", str(ROOT / "configs" / "mmc.toml"), "-n", str(n),
                   "-j", "2", "--no-plots", "-q", "--set", f"horizon_days={horizon}",
                   "-o", str(Path(tmp) / f"m{n}")]
            m = _proc.run(cmd, sample_memory=True, interval=0.05)
            out[str(n)] = {"tree_mb": m.peak_tree_mb, "single_mb": m.peak_single_mb,
                           "wall": m.wall}
            log(f"  memory {n}: tree {m.peak_tree_mb:.0f} MB, largest process "
                f"{m.peak_single_mb:.0f} MB, {m.wall:.1f} s")
    lo, hi = str(min(sizes)), str(max(sizes))
    out["ratio"] = out[hi]["tree_mb"] / out[lo]["tree_mb"]
    out["ratio_single"] = out[hi]["single_mb"] / out[lo]["single_mb"]
    out["horizon"] = horizon
    return out


# --------------------------------------------------------------------------- 6. start-up


def bench_startup(rounds: int) -> dict:
    rareshock = str(Path(PY).with_name("rareshock"))
    cmds = {"rareshock --help": [rareshock, "--help"],
            "rareshock validate configs/baseline.toml":
                [rareshock, "validate", str(ROOT / "configs" / "baseline.toml")]}
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(rounds):
        for k, c in cmds.items():
            walls[k].append(_proc.run(c).wall)
    return {k: stats(v) for k, v in walls.items()}


# --------------------------------------------------------------------------- 7. fixed costs


def _applications_in(folder: Path) -> int:
    import pyarrow.parquet as pq

    t = pq.read_table(folder / "authority", columns=["applications"])
    return int(sum(t.column("applications").to_pylist()))


def bench_fixed(rounds: int, replications: int = 64) -> dict:
    """Issue #7's whole-process figures, each pair (or trio) alternated round by round:
    the command line's fixed cost over one replication through the API; 2 workers against
    1 on `replications` baseline replications; the M/M/5 config through the command line
    (results written) against ciw and against a bare SimPy M/M/5 that stores its waits in
    parquet."""
    rareshock = str(Path(PY).with_name("rareshock"))
    base = str(ROOT / "configs" / "baseline.toml")
    mmc = str(ROOT / "configs" / "mmc.toml")
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        api = t / "api1.py"
        api.write_text(f"import sim\ncfg = sim.load_config({base!r})\n"
                       "rep = sim.simulate(cfg, 0)\n")
        cli1 = [rareshock, "run", base, "-n", "1", "--workers", "1", "--no-plots",
                "-o", str(t / "one"), "--overwrite"]
        diffs, ratio_cli = [], []
        for r in range(rounds):
            pair = [("cli", cli1), ("api", [PY, str(api)])]
            walls = {k: _proc.run(c).wall for k, c in (pair if r % 2 else pair[::-1])}
            diffs.append(walls["cli"] - walls["api"])
            ratio_cli.append(walls["cli"] / walls["api"])
            log(f"  fixed cost round {r + 1}: CLI {walls['cli']:.3f} s, API "
                f"{walls['api']:.3f} s")
        out["cli_minus_api_s"] = stats(diffs)
        out["cli_vs_api"] = stats(ratio_cli)
        two_vs_one = []
        for r in range(rounds):
            cmds = {n: [rareshock, "run", base, "-n", str(replications), "--workers", str(n),
                        "--no-plots", "-q", "-o", str(t / f"w{n}"), "--overwrite"]
                    for n in (1, 2)}
            order = (1, 2) if r % 2 else (2, 1)
            walls = {n: _proc.run(cmds[n]).wall for n in order}
            two_vs_one.append(walls[1] / walls[2])
            log(f"  workers round {r + 1}: 1 worker {walls[1]:.2f} s, 2 workers "
                f"{walls[2]:.2f} s")
        out["replications"] = replications
        out["two_vs_one"] = stats(two_vs_one)
        contenders = {
            "rareshock CLI": [rareshock, "run", mmc, "-n", "1", "--workers", "1",
                              "--no-plots", "-q", "--set", "horizon_days=40000", "-o",
                              str(t / "mm"), "--overwrite"],
            "bare SimPy + parquet": [PY, str(HERE / "mm5_simpy.py"), "1",
                                     str(t / "waits.parquet")],
            "ciw": [PY, str(HERE / "mm5_ciw.py"), "1"],
        }
        names = list(contenders)
        vs_ciw, vs_bare = [], []
        for r in range(rounds):
            order = names[r % 3:] + names[:r % 3]
            walls, apps = {}, {}
            for n in order:
                m = _proc.run(contenders[n])
                walls[n] = m.wall
                apps[n] = (_applications_in(t / "mm") if n == "rareshock CLI"
                           else json.loads(m.stdout.strip().splitlines()[-1])["applications"])
            thr = {n: apps[n] / walls[n] for n in names}
            vs_ciw.append(thr["rareshock CLI"] / thr["ciw"])
            vs_bare.append(walls["rareshock CLI"] / walls["bare SimPy + parquet"])
            log(f"  M/M/5 round {r + 1}: " + ", ".join(f"{n} {walls[n]:.2f} s" for n in names))
        out["mm5_cli_speed_vs_ciw"] = stats(vs_ciw)
        out["mm5_cli_time_vs_bare_parquet"] = stats(vs_bare)
    return out


# --------------------------------------------------------------------------- report


def machine() -> dict:
    import importlib.metadata as md

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    vers = {}
    for pkg in ("rareshock", "simpy", "numpy", "pandas", "pyarrow", "pydantic", "dask",
                "distributed", "ciw"):
        try:
            vers[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            vers[pkg] = "not installed"
    return {"date": date.today().isoformat(), "python": platform.python_version(),
            "platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(),
            "load_avg": os.getloadavg(), "versions": vers}


TARGETS = [
    ("#7: `rareshock run` of one replication, at most 0.4 s more than the API in a fresh "
     "process", lambda d: d["fixed"]["cli_minus_api_s"]["median"], lambda v: v <= 0.4,
     "{:.3f} s"),
    ("#7: 2 workers ≥ 1.9× one worker, 64 baseline replications, whole process",
     lambda d: d["fixed"]["two_vs_one"]["median"], lambda v: v >= 1.9, "{:.2f}×"),
    ("#7: M/M/5 through the command line (results written) ≥ 3× ciw's throughput",
     lambda d: d["fixed"]["mm5_cli_speed_vs_ciw"]["median"], lambda v: v >= 3.0, "{:.2f}×"),
    ("#7: … and no slower than a bare SimPy M/M/5 storing its waits in parquet",
     lambda d: d["fixed"]["mm5_cli_time_vs_bare_parquet"]["median"], lambda v: v <= 1.0,
     "{:.2f}×"),
    ("M/M/5: ≥ 3× ciw's throughput (whole process)",
     lambda d: d["mm5"]["speed_vs_ciw"]["median"], lambda v: v >= 3.0, "{:.2f}×"),
    ("M/M/5: ≤ 1.0× the bare SimPy model's time (whole process)",
     lambda d: d["mm5"]["time_vs_bare"]["median"], lambda v: v <= 1.0, "{:.2f}×"),
    ("Cost per application, 30,000 vs 10 waiting, FIFO: ≤ 1.3×",
     lambda d: d["backlog"]["fifo"]["ratio_max_vs_min"]["median"], lambda v: v <= 1.3,
     "{:.2f}×"),
    ("Cost per application, 30,000 vs 10 waiting, priority: ≤ 1.3×",
     lambda d: d["backlog"]["priority"]["ratio_max_vs_min"]["median"], lambda v: v <= 1.3,
     "{:.2f}×"),
    ("2 workers ≥ 1.9× one worker (baseline)",
     lambda d: d["workers"]["two_vs_one"]["median"], lambda v: v >= 1.9, "{:.2f}×"),
    ("Dask LocalCluster within 10% of the local pool",
     lambda d: d["workers"]["dask_vs_local"]["median"], lambda v: v >= 0.9, "{:.2f}×"),
    ("Peak memory at 4,000 replications ≤ 1.2× that at 40 (process tree)",
     lambda d: d["memory"]["ratio"], lambda v: v <= 1.2, "{:.2f}×"),
    ("Start-up: `rareshock --help` < 0.5 s",
     lambda d: d["startup"]["rareshock --help"]["median"], lambda v: v < 0.5, "{:.3f} s"),
    ("Start-up: `rareshock validate configs/baseline.toml` < 0.5 s",
     lambda d: d["startup"]["rareshock validate configs/baseline.toml"]["median"],
     lambda v: v < 0.5, "{:.3f} s"),
    ("Baseline replication ≥ 0.5 M events/s per core (model run)",
     lambda d: d["baseline"]["model_events_per_s"] / 1e6, lambda v: v >= 0.5, "{:.2f} M/s"),
    ("… or fewer events doing the same work: the events a textbook process-per-file "
     "model spends on the same replication (ours + 2 per application + 2 per review "
     "round, §3) ≥ 0.5 M per second of our model run",
     lambda d: d["baseline"]["textbook_events_per_s"] / 1e6, lambda v: v >= 0.5,
     "{:.2f} M/s"),
    ("… (a stricter count, as the first round measured it: 6 textbook events per "
     "application and nothing for the rest; applications/s ≥ 0.5 M ÷ 6 = 83,333/s)",
     lambda d: d["baseline"]["applications_per_s"], lambda v: v >= 0.5e6 / 6, "{:,.0f}/s"),
]


def target_rows(d: dict) -> list[tuple[str, str, str]]:
    rows = []
    for name, get, ok, f in TARGETS:
        try:
            v = get(d)
        except (KeyError, TypeError):
            rows.append((name, "not measured", "–"))
            continue
        rows.append((name, f.format(v), "met" if ok(v) else "not met"))
    return rows


def render(d: dict, before: dict | None, previous: dict | None, notes: str) -> str:
    m = d["machine"]
    L = ["# Benchmarks", "",
         "Written by `make bench` (`tests/benchmarks/run_all.py`); do not edit by hand "
         "except the notes kept in `tests/benchmarks/notes.md`.", "",
         f"Machine: {m['cpu']}, {m['cores']} cores (shared with other work; load average "
         f"at start {m['load_avg'][0]:.2f}), {m['platform']}, Python {m['python']}. "
         f"Measured {m['date']}.", "",
         "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".", "",
         "Figures are medians with min–max over the repeated runs; ratios are medians of "
         "per-round ratios of runs made alternately in the same session.", ""]
    # Columns: before issue #5, as #5 landed (before #7), now.
    past = [(label, fig) for label, fig in (("before #5", before), ("before #7", previous))
            if fig]
    L += ["## Targets", "",
          "| target | now | | " + " | ".join(lb for lb, _ in past) + " |",
          "|---|---|---|" + "---|" * len(past)]
    prow = [{r[0]: r for r in target_rows(fig)} for _, fig in past]
    for name, val, state in target_rows(d):
        cells = [f"{r[name][1]} ({r[name][2]})" if name in r else "–" for r in prow]
        L.append(f"| {name} | {val} | {state} | " + " | ".join(cells) + " |")
    L.append("")
    if past:
        L += ["## Before and after", "",
              "| figure | " + " | ".join(lb for lb, _ in past) + " | now |",
              "|---|" + "---|" * (len(past) + 1)]
        for label, get in SUMMARY:
            cells = []
            for fig in [f for _, f in past] + [d]:
                try:
                    cells.append(get(fig))
                except (KeyError, TypeError):
                    cells.append("–")
            L.append(f"| {label} | " + " | ".join(cells) + " |")
        L.append("")
    if "mm5" in d:
        x = d["mm5"]
        L += ["## 1. The licence queue: M/M/5 at ρ 0.8, 160,000 applications", "",
              "Each contender is a separate script run as its own process "
              "(`tests/benchmarks/mm5_*.py`): 40,000 days of Poisson(4/day) arrivals, "
              "exponential(1 day) service, 5 servers, every wait stored, the mean wait of "
              "arrivals after day 100 printed. rareshock runs `configs/mmc.toml` through "
              "`sim.load_config` + `sim.simulate` and reads the waits with "
              "`Replication.columns` (numpy; the 'before' code had no such call and built "
              "the pandas table): every import each script needs is in its time. "
              f"{x['rounds']} rounds, contenders alternating.", "",
              "| contender | wall, whole process | applications/s | events | mean wait "
              f"(Erlang C {ERLANG_C_WQ}) | peak RSS |", "|---|---|---|---|---|---|"]
        for n, c in x["contenders"].items():
            ev = f"{c['events']:,.0f}" if c["events"] else "–"
            L.append(f"| {n} | {fmt(c['wall'])} | {c['throughput']:,.0f} | {ev} | "
                     f"{c['mean_wait']:.4f} ± {c['mean_wait_se']:.4f} | "
                     f"{c['peak_rss_mb']:.0f} MB |")
        L += ["", f"rareshock time / bare SimPy time: {fmt(x['time_vs_bare'], '×', 2)}; "
              f"rareshock speed / ciw speed: {fmt(x['speed_vs_ciw'], '×', 2)}; "
              f"ciw speed / bare SimPy speed: {fmt(x['ciw_vs_bare_speed'], '×', 2)}. "
              "Mean wait: mean over the rounds (each round its own seed) ± its standard "
              "error; every contender should sit within a few standard errors of Erlang C.",
              ""]
        if "textbook_check" in x:
            c = x["textbook_check"]
            bare = x["contenders"]["bare SimPy"]["events"]
            L += ["Counting events as a textbook model would (§3's count: ours, plus a "
                  "process start and end per application and a request and a release per "
                  f"review round), rareshock's seed-1 run of this model spends {c['ours']:,} "
                  f"events for {c['textbook']:,} textbook events, against the {bare:,.0f} "
                  "the bare SimPy textbook model counts for its own run (other arrivals): "
                  f"{c['textbook'] / bare - 1:+.1%}.", ""]
    if "backlog" in d:
        x = d["backlog"]
        sizes = [k for k in x["fifo"] if k.isdigit()]
        L += ["## 2. Cost per application against the backlog", "",
              "A World of `configs/mmc.toml` (5 reviewers, constant 1-day review) whose "
              "queue holds N files at t = 0 and then receives one file every 0.2 days, so "
              "it stays at N (+0..5) while the measured files pass through. Microseconds of "
              "`env.run` per application (submission, queueing, review, decision).", "",
              "| waiting | " + " | ".join(f"{int(s):,}" for s in sizes) + " | 30,000 / 10 |",
              "|---|" + "---|" * (len(sizes) + 1)]
        for disc in ("fifo", "priority"):
            L.append(f"| {disc} | " + " | ".join(fmt(x[disc][s], 'µs', 2) for s in sizes)
                     + f" | {x[disc]['ratio_max_vs_min']['median']:.2f}× |")
        L.append("")
    if "baseline" in d:
        x = d["baseline"]
        L += ["## 3. One baseline replication", "",
              f"`configs/baseline.toml`, one replication: {x['events']:,} SimPy events. "
              f"`sim.simulate` (model and tables): {fmt(x['wall'])}, "
              f"{x['events_per_s']:,.0f} events/s; the model alone (`World.run`): "
              f"{fmt(x['model_wall'])}, {x['model_events_per_s']:,.0f} events/s, "
              f"{x.get('events_per_application', math.nan):.2f} events per licence "
              f"application, {x.get('applications_per_s', math.nan):,.0f} applications/s "
              "(a textbook process-per-file model spends about six events per file). "
              "A textbook model would spend "
              f"{x.get('textbook_events', math.nan):,.0f} events on the same replication "
              "(ours, plus a process start and end per application and a resource request "
              "and release per review round; §1 checks this count against the bare SimPy "
              f"model): {x.get('textbook_events_per_s', math.nan):,.0f} of them per second "
              "of our model run.", "",
              f"cProfile of one `sim.simulate` (total {x['profile_total_s']:.3f} s under the "
              "profiler), top functions by own time:", "",
              "| function | calls | own time | cumulative |", "|---|---|---|---|"]
        for r in x["profile"]:
            L.append(f"| `{r['function']}` | {r['calls']:,} | {r['tottime_share']:.1%} | "
                     f"{r['cumtime_share']:.1%} |")
        L.append("")
    if "workers" in d:
        x = d["workers"]
        L += ["## 4. Replications per second", "",
              f"`sim.run.batch.run_batch` of {x['replications']} baseline replications "
              "(tables written to parquet), wall time including pool start-up.", "",
              "| executor | replications/s |", "|---|---|"]
        for k, v in x["rates"].items():
            L.append(f"| {k} | {fmt(v, '/s', 2)} |")
        L += ["", f"2 workers / 1 worker: {fmt(x['two_vs_one'], '×', 2)}; Dask / local "
              f"pool (2 workers each): {fmt(x['dask_vs_local'], '×', 2)}.", ""]
    if "memory" in d:
        x = d["memory"]
        sizes = [k for k in x if k.isdigit()]
        L += ["## 5. Peak memory", "",
              f"`rareshock run configs/mmc.toml --set horizon_days={x['horizon']} -n N -j 2 "
              "--no-plots`: the whole process tree (parent, forkserver, workers), summed "
              "proportional set size sampled every 50 ms, and the largest single process "
              "(peak RSS from a small wrapper process's RUSAGE_CHILDREN).",
              "", "| replications | tree peak | largest process | wall |", "|---|---|---|---|"]
        for s in sizes:
            L.append(f"| {int(s):,} | {x[s]['tree_mb']:.0f} MB | {x[s]['single_mb']:.0f} MB "
                     f"| {x[s]['wall']:.1f} s |")
        L += ["", f"Peak at {sizes[-1]} / peak at {sizes[0]}: {x['ratio']:.2f}× (tree), "
              f"{x['ratio_single']:.2f}× (largest process).", ""]
    if "startup" in d:
        L += ["## 6. Start-up", "", "| command | wall, whole process |", "|---|---|"]
        for k, v in d["startup"].items():
            L.append(f"| `{k}` | {fmt(v)} |")
        L.append("")
    if "fixed" in d:
        x = d["fixed"]
        L += ["## 7. Fixed costs (issue #7)", "",
              "Whole processes, alternated round by round. `rareshock run "
              "configs/baseline.toml -n 1 --workers 1 --no-plots` against a fresh process "
              "that loads the config and runs one replication through `sim.simulate`: "
              f"{fmt(x['cli_minus_api_s'])} more ({fmt(x['cli_vs_api'], '×', 2)} its time). "
              f"{x['replications']} baseline replications with `--workers 2` against "
              f"`--workers 1`: {fmt(x['two_vs_one'], '×', 2)} as fast. The M/M/5 config "
              "(40,000 days, 160,000 applications) through `rareshock run` with its tables "
              f"written: {fmt(x['mm5_cli_speed_vs_ciw'], '×', 2)} ciw's throughput, "
              f"{fmt(x['mm5_cli_time_vs_bare_parquet'], '×', 2)} the time of the bare SimPy "
              "model writing its waits to parquet (`mm5_simpy.py SEED OUT.parquet`).", ""]
    if notes:
        L += [notes.strip(), ""]
    return "\n".join(L)


def _g(*path: str, f: str = "{:.3f}"):  # noqa: ANN202
    def get(d: dict) -> str:
        v = d
        for p in path:
            v = v[p]
        return f.format(v)
    return get


SUMMARY = [
    ("M/M/5 rareshock, whole process (s)", _g("mm5", "contenders", "rareshock", "wall",
                                              "median")),
    ("M/M/5 bare SimPy, whole process (s)", _g("mm5", "contenders", "bare SimPy", "wall",
                                               "median")),
    ("M/M/5 ciw, whole process (s)", _g("mm5", "contenders", "ciw", "wall", "median")),
    ("M/M/5 rareshock events", _g("mm5", "contenders", "rareshock", "events", f="{:,.0f}")),
    ("M/M/5 rareshock mean wait (days)", _g("mm5", "contenders", "rareshock", "mean_wait",
                                            f="{:.4f}")),
    ("µs per application, 10 waiting, FIFO", _g("backlog", "fifo", "10", "median",
                                                f="{:.2f}")),
    ("µs per application, 30,000 waiting, FIFO", _g("backlog", "fifo", "30000", "median",
                                                    f="{:.2f}")),
    ("µs per application, 10 waiting, priority", _g("backlog", "priority", "10", "median",
                                                    f="{:.2f}")),
    ("µs per application, 30,000 waiting, priority", _g("backlog", "priority", "30000",
                                                        "median", f="{:.2f}")),
    ("baseline replication events", _g("baseline", "events", f="{:,}")),
    ("baseline `sim.simulate` wall (s)", _g("baseline", "wall", "median")),
    ("baseline model events/s", _g("baseline", "model_events_per_s", f="{:,.0f}")),
    ("replications/s, 1 worker", _g("workers", "rates", "1 worker", "median", f="{:.2f}")),
    ("replications/s, 2 workers", _g("workers", "rates", "2 workers", "median", f="{:.2f}")),
    ("replications/s, Dask 2 workers", _g("workers", "rates", "Dask LocalCluster, 2 workers",
                                          "median", f="{:.2f}")),
    ("peak memory, 40 replications (MB)", _g("memory", "40", "tree_mb", f="{:.0f}")),
    ("peak memory, 4,000 replications (MB)", _g("memory", "4000", "tree_mb", f="{:.0f}")),
    ("`rareshock --help` (s)", _g("startup", "rareshock --help", "median")),
    ("`rareshock validate` (s)", _g("startup", "rareshock validate configs/baseline.toml",
                                    "median")),
]

SECTIONS = ("mm5", "backlog", "baseline", "workers", "memory", "startup", "fixed")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated sections: " + ",".join(SECTIONS)
                    + " (or 'none': only rewrite the doc from the JSON)")
    ap.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes")
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "benchmarks.json",
                    help="where to write the figures")
    ap.add_argument("--before", type=Path, default=HERE / "before.json",
                    help="figures of the code before issue #5, for the comparison table")
    ap.add_argument("--previous", type=Path, default=HERE / "before-7.json",
                    help="figures as issue #5 landed, before issue #7")
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--no-doc", action="store_true", help="only write the JSON")
    args = ap.parse_args()
    only = args.only.split(",") if args.only else list(SECTIONS)
    q = args.quick
    data: dict = {"machine": machine()}
    if args.json.exists() and args.only:
        old = json.loads(args.json.read_text())
        data = {**old, "machine": data["machine"]}
    if "mm5" in only:
        log("1. M/M/5 against ciw and bare SimPy")
        data["mm5"] = bench_mm5(3 if q else 7)
    if "backlog" in only:
        log("2. cost per application against the backlog")
        data["backlog"] = bench_backlog([10, 100, 1000, 10000, 30000],
                                        10_000 if q else 30_000, 2 if q else 5)
    if "baseline" in only:
        log("3. one baseline replication")
        data["baseline"] = bench_baseline(3 if q else 7)
    if "workers" in only:
        log("4. replications/s")
        data["workers"] = bench_workers(24 if q else 160, 1 if q else 3)
    if "memory" in only:
        log("5. peak memory")
        data["memory"] = bench_memory([40, 400, 4000], 200)
    if "startup" in only:
        log("6. start-up")
        data["startup"] = bench_startup(5 if q else 11)
    if "fixed" in only:
        log("7. fixed costs")
        data["fixed"] = bench_fixed(3 if q else 5, 24 if q else 64)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(data, indent=1, default=float))
    if not args.no_doc:
        before = json.loads(args.before.read_text()) if args.before.exists() else None
        previous = (json.loads(args.previous.read_text()) if args.previous.exists()
                    else None)
        notes_path = HERE / "notes.md"
        notes = notes_path.read_text() if notes_path.exists() else ""
        args.doc.write_text(render(data, before, previous, notes))
        log(f"wrote {args.doc}")


if __name__ == "__main__":
    main()
