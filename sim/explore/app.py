"""The Streamlit app of `rareshock explore`: browse the results under a directory, build a
scenario from a base config with widgets, run it and compare it with its base.

Started by `rareshock explore DIR` (bound to 127.0.0.1, usage statistics off); the
directory comes in `RARESHOCK_EXPLORE_DIR`. Everything it computes goes through the same
functions as the command line, so what it writes is what the CLI writes for the same
config and seed.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from sim.api import load_config, open_results
from sim.errors import ConfigError
from sim.explore.runs import Folder, Job, compare_job, folders, run_job
from sim.explore.scenario import Lever, base_of, changed, check_and_save, levers

ROOT = Path(os.environ.get("RARESHOCK_EXPLORE_DIR", ".")).resolve()
RESULTS = ROOT / "results"
SKIP_CONFIG_DIRS = {"observed", "posterior", "sweeps", "calibration", "optimize"}

st.set_page_config(page_title="rareshock explore", layout="wide")
st.title("rareshock explore")
st.caption(f"Folder: {ROOT}")


def configs() -> list[Path]:
    """The scenario configs under DIR/configs (observations, posteriors, sweeps,
    calibrations and decisions left out)."""
    base = ROOT / "configs"
    return sorted(p for p in base.rglob("*.toml")
                  if not SKIP_CONFIG_DIRS & set(p.relative_to(base).parts[:-1]))


def rel(p: Path) -> str:
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)


# --------------------------------------------------------------------------- browse


def show_folder(f: Folder) -> None:
    st.subheader(f"{rel(f.path)} ({f.kind}, {f.state})")
    if f.kind in ("run", "sweep") and f.state == "complete":
        res = open_results(f.path)
        st.code(res.text(), language=None)
    else:
        for name in ("compare.md", "calibration.md", "optimize.md"):
            if (f.path / name).is_file():
                st.markdown((f.path / name).read_text())
    for png in f.plots:
        st.image(str(png), caption=png.name)


def browse() -> None:
    found = folders(RESULTS)
    if not found:
        st.info(f"No results folders under {rel(RESULTS)} yet: build and run a scenario.")
        return
    labels = [f"{rel(f.path)} — {f.kind}, {f.state}" for f in found]
    pick = st.selectbox("Results folder", range(len(found)), format_func=labels.__getitem__,
                        key="browse_pick")
    show_folder(found[pick])


# --------------------------------------------------------------------------- build


def widget(lv: Lever) -> object:
    key = f"lever:{lv.path}"
    if lv.kind == "date":
        return st.date_input(lv.label, value=lv.value, key=key, help=lv.help)
    if lv.kind == "bool":
        return st.checkbox(lv.label, value=bool(lv.value), key=key, help=lv.help)
    if lv.kind == "choice":
        return st.selectbox(lv.label, lv.choices, index=lv.choices.index(lv.value), key=key,
                            help=lv.help)
    if lv.kind == "int":
        return int(st.number_input(lv.label, value=int(lv.value), step=1, key=key,
                                   help=lv.help))
    if lv.low == 0.0 and lv.high == 1.0:
        return st.slider(lv.label, 0.0, 1.0, float(lv.value), 0.01, key=key, help=lv.help)
    return float(st.number_input(lv.label, value=float(lv.value), key=key, help=lv.help,
                                 format="%g"))


def build() -> None:
    options = configs()
    if not options:
        st.info(f"No configs under {rel(ROOT / 'configs')}.")
        return
    default = next((i for i, p in enumerate(options) if p.name == "baseline.toml"), 0)
    base_path = options[st.selectbox("Base config", range(len(options)), index=default,
                                     format_func=lambda i: rel(options[i]), key="base")]
    try:
        base = load_config(base_path)
    except ConfigError as exc:
        st.error(str(exc))
        return
    name = st.text_input("Scenario name", value="my-scenario", key="name")
    target = ROOT / st.text_input("Save as", value=f"configs/scenarios/{name}.toml",
                                  key=f"target:{name}")
    top = st.container()  # the changes, the check and Save: above the levers, filled below
    all_levers = levers(base)
    groups: dict[str, list[Lever]] = {}
    for lv in all_levers:
        groups.setdefault(lv.group, []).append(lv)
    values = {}
    st.caption("Levers, by table (the config reference describes each):")
    for g, lvs in groups.items():
        what = lvs[0].label.rsplit(":", 1)[0]  # e.g. "controls on ... (2025-04-04)"
        with st.expander(g if what == g else f"{g} — {what}"):
            for lv in lvs:
                values[lv.path] = widget(lv)
    changes = changed(all_levers, values)
    with top:
        st.write(f"{len(changes)} change(s) from {rel(base_path)}:",
                 {p: (v.isoformat() if isinstance(v, dt.date) else v)
                  for p, v in changes.items()})
        try:
            check_and_save(base, base_path, target, name, changes, write=False)
            valid = True
            st.success("valid")
        except ConfigError as exc:
            valid = False
            for line in str(exc).splitlines():
                st.error(line)
        if st.button("Save scenario", disabled=not valid, key="save"):
            check_and_save(base, base_path, target, name, changes)
            st.session_state["scenario"] = st.session_state["run_pick"] = str(target)
            st.success(f"saved {rel(target)}")


# --------------------------------------------------------------------------- run


@st.fragment(run_every=1.0)
def watch(job: Job, what: str) -> None:
    """A job under way, every second; once it ends, the whole page once more."""
    st.progress(job.done / job.total if job.total else 0.0,
                text=f"{what}: {job.done} of {job.total} replications — {job.state}")
    if job.state != "running":
        st.rerun()


def status(job: Job, what: str) -> bool:
    """Its progress (live while it runs); whether it completed."""
    if job.state == "running":
        watch(job, what)
        return False
    st.progress(1.0 if job.state == "complete" else job.done / max(job.total, 1),
                text=f"{what}: {job.done} of {job.total} replications — {job.state}")
    if job.state == "failed":
        st.error(job.error)
    return job.state == "complete"


def run_and_compare() -> None:
    scenario = st.session_state.get("scenario")
    options = [str(p) for p in configs()]
    if scenario and scenario not in options:
        options.insert(0, scenario)
    if not options:
        st.info("Build and save a scenario first.")
        return
    if st.session_state.get("run_pick") not in options:  # the saved one, else the first
        st.session_state["run_pick"] = scenario if scenario in options else options[0]
    pick = Path(st.selectbox("Scenario", options, format_func=lambda s: rel(Path(s)),
                             key="run_pick"))
    n = int(st.number_input("Replications", 1, 10_000, 20, key="reps"))
    workers = int(st.number_input("Workers", 1, os.cpu_count() or 1,
                                  min(2, os.cpu_count() or 1), key="workers"))
    out = RESULTS / pick.stem
    job: Job | None = st.session_state.get("job")
    running = job is not None and job.state == "running"
    c1, c2, c3 = st.columns(3)
    if c1.button("Run", disabled=running, key="run"):
        job = st.session_state["job"] = run_job(pick, out, n, workers)
        st.session_state.pop("cmp_job", None)
    if c2.button("Stop", disabled=not running, key="stop"):
        job.stop()  # type: ignore[union-attr] - running: there is a job
    stopped = job is not None and job.state == "stopped"
    if c3.button("Resume", disabled=not stopped, key="resume"):
        job = st.session_state["job"] = run_job(pick, out, n, workers, resume=True)
    if job is None or not status(job, f"run of {rel(pick)}"):
        return
    st.code(open_results(job.out).text(), language=None)
    run_cfg = Path(job.args[1])
    base = base_of(run_cfg)
    cmp: Job | None = st.session_state.get("cmp_job")
    if base is not None and st.button(f"Compare with {rel(base)} on shared seeds",
                                      key="compare", disabled=cmp is not None
                                      and cmp.state == "running"):
        cmp = st.session_state["cmp_job"] = compare_job(
            base, job.out, RESULTS / f"compare-{job.out.name}", int(job.args[3]),
            int(job.args[5]))
    if cmp is not None and status(cmp, f"comparison with {rel(base or run_cfg)}"):
        st.dataframe(pd.read_csv(cmp.out / "compare.csv"), key="compare_table")
        png = cmp.out / "plots" / "compare.png"
        if png.is_file():
            st.image(str(png))


browse_tab, build_tab, run_tab = st.tabs(["Browse", "Build a scenario", "Run and compare"])
with browse_tab:
    browse()
with build_tab:
    build()
with run_tab:
    run_and_compare()
