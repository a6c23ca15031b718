"""`rareshock explore`: the levers read from the schema, the scenario file the app saves,
the app itself under Streamlit's AppTest (no browser), and the same bytes as the CLI."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.errors import ConfigError
from sim.explore.runs import folders, run_job
from sim.explore.scenario import base_of, changed, check_and_save, levers

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "configs" / "baseline.toml"
EXAMPLE = ROOT / "configs" / "examples" / "three-tier.toml"
APP = ROOT / "sim" / "explore" / "app.py"


def test_levers_take_their_types_and_bounds_from_the_schema() -> None:
    by_path = {lv.path: lv for lv in levers(sim.load_config(BASELINE))}
    ev = by_path["policy.0.exempt_share"]  # a Probability: a slider on [0, 1]
    assert (ev.kind, ev.low, ev.high, ev.value) == ("float", 0.0, 1.0, 0.5)
    assert by_path["policy.0.date"].kind == "date"
    assert by_path["policy.0.date"].value == dt.date(2025, 4, 4)
    assert by_path["authority.reviewers"].kind == "int"
    alloc = by_path["suppliers.row.allocation"]
    assert alloc.kind == "choice" and alloc.choices == ("proportional", "fifo", "priority")
    cap = by_path["suppliers.row.capacity_kg_per_day"]  # optional, set here: a lever
    assert (cap.kind, cap.low, cap.value) == ("float", 0.0, 350.0)
    assert by_path["stockpile.stock_kg.smco_magnet"].value == 1500.0
    assert "firms.us_auto_ev.ordering.target_cover_days" in by_path
    assert not any(p.endswith((".type", ".label", ".sector")) for p in by_path)


def test_a_saved_scenario_extends_its_base_and_holds_only_the_changes(tmp_path: Path) -> None:
    base = sim.load_config(BASELINE)
    target = tmp_path / "scenarios" / "more-row.toml"
    all_levers = levers(base)
    values = {lv.path: lv.value for lv in all_levers}
    values["suppliers.row.capacity_kg_per_day"] = 700.0
    values["policy.0.date"] = dt.date(2025, 5, 4)
    cfg = check_and_save(base, BASELINE, target, "more-row", changed(all_levers, values))
    text = target.read_text()
    assert text.startswith(f'extends = "{Path("..", "..").as_posix()}')
    assert "capacity_kg_per_day = 700.0" in text and "[suppliers.row]" in text
    assert "firms" not in text and "authority" not in text  # nothing else
    # the policy list is written whole (arrays replace their parent's), one date moved
    assert [e.date for e in cfg.policy] == [dt.date(2025, 5, 4),
                                             *[e.date for e in base.policy[1:]]]
    assert cfg.suppliers["row"].capacity_kg_per_day == 700.0
    assert cfg.model_copy(update={"name": base.name, "suppliers": base.suppliers,
                                  "policy": base.policy}) == base
    assert base_of(target) == BASELINE.resolve()


def test_bad_input_gets_the_cli_message_and_writes_nothing(tmp_path: Path) -> None:
    base = sim.load_config(BASELINE)
    target = tmp_path / "scenarios" / "bad.toml"
    with pytest.raises(ConfigError) as e:
        check_and_save(base, BASELINE, target, "bad",
                       {"suppliers.row.capacity_kg_per_day": -5.0,
                        "policy.0.exempt_share": 1.5})
    lines = str(e.value).splitlines()
    assert sorted(lines) == [
        f"{target}: policy.0.exempt_share: should be less than or equal to 1 (got 1.5)",
        f"{target}: suppliers.row.capacity_kg_per_day: should be greater than or equal to 0 "
        "(got -5.0)"]
    assert not any(tmp_path.iterdir())  # not even the folder


def _folder(tmp_path: Path) -> Path:
    """A working folder as the app sees it: configs/ with the three-tier example."""
    (tmp_path / "configs").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "configs" / "three-tier.toml")
    return tmp_path


def test_a_scenario_run_by_the_app_is_byte_identical_to_the_cli(tmp_path: Path) -> None:
    d = _folder(tmp_path)
    base = sim.load_config(d / "configs" / "three-tier.toml")
    scen = d / "configs" / "scenarios" / "half-row.toml"
    check_and_save(base, d / "configs" / "three-tier.toml", scen, "half-row",
                   {"suppliers.row.capacity_kg_per_day": 20.0})
    job = run_job(scen, d / "results" / "app", 6, 1)
    assert job.wait(120) == "complete", job.error
    r = subprocess.run([sys.executable, "-m", "sim", "run", str(scen), "-n", "6", "-j", "1",
                        "--quiet", "--no-plots", "--out", str(d / "results" / "cli")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    app, cli = (d / "results" / n / "summary.csv" for n in ("app", "cli"))
    assert app.read_bytes() == cli.read_bytes()
    assert [f.kind for f in folders(d / "results")] == ["run", "run"]


def test_stop_leaves_a_folder_that_resumes(tmp_path: Path) -> None:
    """Stop once the first replications are stored: the folder says interrupted, and Resume
    finishes it with the numbers of an uninterrupted run."""
    import time

    d = _folder(tmp_path)
    cfg = d / "configs" / "three-tier.toml"
    job = run_job(cfg, d / "results" / "stopped", 150, 1)
    while job.done == 0 and job.state == "running":
        time.sleep(0.2)
    job.stop()
    assert job.wait(120) == "stopped", job.lines
    man = sim.open_results(d / "results" / "stopped").manifest
    assert man["state"] == "interrupted" and 0 < man["replications_done"] < 150
    again = run_job(cfg, d / "results" / "stopped", 150, 1, resume=True)
    assert again.wait(300) == "complete", again.error
    whole = run_job(cfg, d / "results" / "whole", 150, 1)
    assert whole.wait(300) == "complete"
    assert ((d / "results" / "stopped" / "summary.csv").read_bytes()
            == (d / "results" / "whole" / "summary.csv").read_bytes())


# --------------------------------------------------------------------------- the app


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201 - an AppTest
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("RARESHOCK_EXPLORE_DIR", str(_folder(tmp_path)))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def _lever(at, label: str):  # noqa: ANN001, ANN202 - AppTest elements
    return next(n for n in at.number_input if n.label == label)


def test_the_app_validates_as_you_type_and_writes_nothing_bad(app, tmp_path: Path) -> None:  # noqa: ANN001
    assert [t.label for t in app.tabs] == ["Browse", "Build a scenario", "Run and compare"]
    assert [s.value for s in app.success] == ["valid"]
    _lever(app, "supplier row: capacity kg per day").set_value(-5.0).run()
    assert [e.value for e in app.error] == [
        f"{tmp_path / 'configs' / 'scenarios' / 'my-scenario.toml'}: "
        "suppliers.row.capacity_kg_per_day: should be greater than or equal to 0 (got -5.0)"]
    assert app.button(key="save").disabled
    assert sorted(p.name for p in (tmp_path / "configs").iterdir()) == ["three-tier.toml"]


def test_the_app_builds_runs_and_compares(app, tmp_path: Path) -> None:  # noqa: ANN001
    _lever(app, "supplier row: capacity kg per day").set_value(20.0)
    app.text_input(key="name").set_value("half-row").run()
    app.button(key="save").click().run()
    saved = tmp_path / "configs" / "scenarios" / "half-row.toml"
    assert saved.is_file() and "capacity_kg_per_day = 20.0" in saved.read_text()
    app.number_input(key="reps").set_value(4)
    app.number_input(key="workers").set_value(1)
    app.button(key="run").click().run()
    job = app.session_state["job"]
    assert job.wait(120) == "complete", job.error
    app.run()
    assert "half-row: 4 replications" in app.code[0].value
    app.button(key="compare").click().run()
    cmp_job = app.session_state["cmp_job"]
    assert cmp_job.wait(120) == "complete", cmp_job.error
    app.run()
    assert not app.exception
    cmp = tmp_path / "results" / "compare-half-row"
    assert (cmp / "compare.csv").is_file() and len(app.dataframe) == 1
    app.selectbox(key="browse_pick").set_value(0).run()  # the runs are browsable
    assert any("half-row" in o for o in app.selectbox(key="browse_pick").options)


# --------------------------------------------------------------------------- in a browser


def _serve(folder: Path) -> tuple[subprocess.Popen, str]:
    """`rareshock explore FOLDER` on a free port; its address once it answers."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "sim", "explore", str(folder), "--port",
                             str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise AssertionError(f"explore did not answer: {proc.stdout.read() if proc.stdout else ''}")


def test_the_app_in_a_browser(browser, tmp_path: Path) -> None:  # noqa: ANN001
    """The app served by the CLI on 127.0.0.1: the page renders with no console error,
    nothing is requested from anywhere but 127.0.0.1, and a run started from the button
    completes."""
    import re

    proc, url = _serve(_folder(tmp_path))
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        assert first.strip() == f"rareshock explore: {url} (Ctrl-C to stop)"
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        outside: list[str] = []
        errors: list[str] = []
        local = re.compile(r"^(https?|wss?)://127\.0\.0\.1:\d+/")

        def refuse(route) -> None:  # noqa: ANN001
            outside.append(route.request.url)
            route.abort()

        ctx.route(lambda u: not local.match(u) and not u.startswith(("data:", "blob:")),
                  refuse)
        page = ctx.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url, wait_until="networkidle")
        page.get_by_text("rareshock explore").first.wait_for(timeout=30_000)
        page.get_by_role("tab", name="Run and compare").click()
        page.get_by_role("button", name="Run", exact=True).click()
        page.locator("text=three-tier: 20 replications >> visible=true").first.wait_for(
            timeout=120_000)
        assert (tmp_path / "results" / "three-tier" / "summary.csv").is_file()
        assert outside == [] and errors == []
        ctx.close()
    finally:
        proc.terminate()
        proc.wait(30)
