"""The HTML report (`rareshock report`, written by run, sweep, compare and calibrate): one
self-contained file, checked as text and in a real browser.

The browser is Debian's `chromium` (or $RARESHOCK_CHROMIUM), driven by Playwright with
`executable_path`; Playwright's own browser download is never used. Under CI=true a
missing browser fails these tests (`.ci/run` installs it); elsewhere they are skipped
with the reason.
"""

from __future__ import annotations

import csv
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from helpers import BASELINE, ROOT, SMALL, ok, rareshock

TORNADO = ROOT / "configs" / "sweeps" / "tornado.toml"
BUDGET = 5_000_000  # bytes: the size budget for the baseline's report


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The baseline scenario, 8 replications: uncertain parameters, policy timeline,
    observations for the back-test, and the report `run` writes by default."""
    d = tmp_path_factory.mktemp("report_run")
    ok("run", BASELINE, "-n", "8", "-j", "2", "--out", "B", "-q", cwd=d)
    return d / "B"


@pytest.fixture(scope="module")
def tornado_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("report_sweep")
    ok("sweep", TORNADO, "-n", "2", "-j", "2", "--out", "T", "-q", cwd=d)
    return d / "T"


# --------------------------------------------------------------------------- as text


class _Page(HTMLParser):
    """What the file asks for: every src/href/url() it names, and the headline cells."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.cells: dict[str, tuple[float, str]] = {}
        self.tables: int = 0
        self.headers: int = 0
        self.alts: list[str | None] = []
        self._cell: dict[str, str] | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for k in ("src", "href", "xlink:href", "action", "poster"):
            if a.get(k):
                self.refs.append(str(a[k]))
        if a.get("style"):
            self.refs += re.findall(r"url\(([^)]*)\)", str(a["style"]))
        if tag == "table":
            self.tables += 1
        if tag == "th":
            self.headers += 1
        if tag == "img":
            self.alts.append(a.get("alt"))
        if tag == "td" and a.get("data-key"):
            self._cell, self._text = {k: str(v) for k, v in a.items()}, ""

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.cells[self._cell["data-key"]] = (float(self._cell["data-value"]), self._text)
            self._cell = None


def parse(path: Path) -> _Page:
    p = _Page()
    text = path.read_text()
    p.feed(text)
    p.refs += re.findall(r"url\(([^)]*)\)", text)  # in the stylesheet and SVGs
    p.refs += re.findall(r"@import[^;]*", text)
    return p


def summary(path: Path) -> dict[tuple[str, str, str], float]:
    with open(path / "summary.csv") as f:
        return {(r["level"], r["name"], r["metric"]): r for r in csv.DictReader(f)}


def test_run_writes_one_self_contained_report(baseline_run: Path) -> None:
    page = baseline_run / "report.html"
    assert page.is_file()
    man = sim_manifest(baseline_run)
    assert "report.html" in man["outputs"]  # replacing the run removes it
    p = parse(page)
    # nothing outside the file: every reference is an in-page anchor or inline data
    outside = [r for r in p.refs if not (r.startswith("#") or r.startswith("data:"))]
    assert outside == []
    assert "<script" not in page.read_text().lower()
    assert page.stat().st_size < BUDGET
    # real tables with headers, alt text on every image
    assert p.tables >= 5 and p.headers > 20
    assert all(a for a in p.alts)
    text = page.read_text()
    for heading in ("The question and the scenario", "Policy timeline", "Headline",
                    "Plots", "Firms", "The licensing authority", "Back-test",
                    "The configuration that ran", "Manifest", "Reproduce it"):
        assert heading in text, heading
    assert text.count('role="img"') + text.count("<img ") == 8  # seven plots, the back-test
    assert "rareshock run B/config.toml --out B-again" in text  # as the run was named


def sim_manifest(path: Path) -> dict[str, Any]:
    import json

    return json.loads((path / "manifest.json").read_text())


def test_headline_numbers_are_the_summary_csv(baseline_run: Path) -> None:
    """Every number in the headline table is summary.csv's, exactly, and its text is
    that number formatted."""
    cells = parse(baseline_run / "report.html").cells
    rows = summary(baseline_run)
    headline = {k: v for k, v in cells.items() if k.count("/") == 2}
    tiers = {r[1] for r in rows if r[0] == "tier"}
    # (sectors and tiers) x (shortfall, value lost) x statistics
    assert len(headline) == (3 + len(tiers)) * 2 * 7 and len(tiers) == 2
    for key, (value, text) in headline.items():
        name, metric, stat = key.split("/")
        row = rows[("tier", name[5:], metric) if name.startswith("tier ") else
                   ("sector", name, metric)]
        assert value == float(row[stat]), key
        if metric == "shortfall_frac" and stat != "p_positive":
            assert text == f"{100 * value:.2f}%"


def test_the_reproduce_command_gives_the_same_numbers(baseline_run: Path,
                                                      tmp_path: Path) -> None:
    """The report's one command, run as written where the run was, gives the same
    summary."""
    text = (baseline_run / "report.html").read_text()
    cmd = re.search(r"<pre class=\"command\"><code>rareshock (run \S+ --out \S+)</code>", text)
    assert cmd is not None
    ok(*cmd.group(1).split(), "-q", "--no-plots", cwd=baseline_run.parent)
    again = baseline_run.parent / "B-again"
    assert (again / "summary.csv").read_bytes() == (baseline_run / "summary.csv").read_bytes()
    shutil.rmtree(again)


def test_report_command_and_its_errors(tmp_path: Path) -> None:
    ok("run", SMALL, "-n", "2", "-j", "1", "--out", "S", "-q", "--no-plots", cwd=tmp_path)
    assert not (tmp_path / "S" / "report.html").exists()  # --no-plots: no report either
    r = ok("report", "S", cwd=tmp_path)
    assert "report written to S/report.html" in r.stdout
    assert "report.html" in sim_manifest(tmp_path / "S")["outputs"]
    # not a results folder: one line, exit 2, nothing written
    (tmp_path / "empty").mkdir()
    r = rareshock("report", "empty", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and "empty" in r.stderr
    assert list((tmp_path / "empty").iterdir()) == []
    r = rareshock("report", "nowhere", cwd=tmp_path)
    assert r.returncode == 2 and "nowhere" in r.stderr and "Traceback" not in r.stderr


def test_sweep_report(tornado_sweep: Path) -> None:
    page = tornado_sweep / "report.html"
    text = page.read_text()
    for heading in ("The question and the sweep", "Swept parameters", "Points and response",
                    "Sensitivity", "Reproduce it"):
        assert heading in text, heading
    p = parse(page)
    assert [r for r in p.refs if not (r.startswith("#") or r.startswith("data:"))] == []
    # the points' means are summary.csv's
    rows = {}
    with open(tornado_sweep / "summary.csv") as f:
        for r in csv.DictReader(f):
            if r["level"] == "sector" and r["metric"] == "shortfall_frac":
                rows[f"{r['point']}/{r['name']}/mean"] = float(r["mean"])
    points = {k: v for k, (v, _) in p.cells.items() if k.endswith("/mean")}
    assert points == rows


def test_compare_report(tmp_path: Path) -> None:
    other = tmp_path / "more.toml"
    other.write_text(f'extends = "{SMALL.as_posix()}"\nname = "more-reviewers"\n'
                     "[authority]\nreviewers = 60\n")
    ok("compare", SMALL, other, "-n", "3", "-j", "2", "--out", "C", "-q", cwd=tmp_path)
    text = (tmp_path / "C" / "report.html").read_text()
    assert "Paired differences" in text and "more-reviewers" in text
    diffs = {k: v for k, (v, _) in parse(tmp_path / "C" / "report.html").cells.items()}
    with open(tmp_path / "C" / "compare.csv") as f:
        want = {f"{r['name']}/{r['metric']}/{r['alternative']}": float(r["diff"])
                for r in csv.DictReader(f)}
    assert diffs == want


# --------------------------------------------------------------------------- in a browser


def inspect(browser: Any, page_file: Path, shot: Path) -> dict[str, Any]:
    """Open `page_file` in the browser with every http(s) request routed to a failure,
    and report what a reader's browser would meet: requests that left the file, console
    errors, images that did not decode, inline SVGs without a size, the headline cells;
    a full-page screenshot goes to `shot`."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    found: dict[str, Any] = {"outside": [], "errors": []}

    def refuse(route: Any) -> None:
        found["outside"].append(route.request.url)
        route.abort()

    ctx.route(re.compile(r"^(https?|wss?|ftp)://"), refuse)
    page = ctx.new_page()
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) or
            r.url in found["outside"] else found["outside"].append(r.url))
    page.on("console", lambda m: found["errors"].append(m.text) if m.type == "error"
            else None)
    page.on("pageerror", lambda e: found["errors"].append(str(e)))
    page.goto(page_file.resolve().as_uri(), wait_until="load")
    found["images"] = page.eval_on_selector_all(
        "img", "els => els.map(e => [e.alt, e.complete, e.naturalWidth])")
    found["svgs"] = page.eval_on_selector_all(
        "figure > svg", "els => els.map(e => { const r = e.getBoundingClientRect(); "
        "return [e.getAttribute('aria-labelledby'), r.width, r.height]; })")
    found["cells"] = page.eval_on_selector_all(
        "td[data-key]", "els => els.map(e => [e.dataset.key, Number(e.dataset.value), "
        "e.textContent])")
    found["tables_without_headers"] = page.eval_on_selector_all(
        "table", "els => els.filter(t => t.querySelectorAll('th').length == 0).length")
    page.screenshot(path=str(shot), full_page=True)
    found["pdf_bytes"] = len(page.pdf(format="A4"))
    ctx.close()
    return found


def test_run_report_in_the_browser(browser: Any, baseline_run: Path, tmp_path: Path) -> None:
    shot = tmp_path / "run-report.png"
    found = inspect(browser, baseline_run / "report.html", shot)
    assert found["outside"] == []
    assert found["errors"] == []
    assert all(w > 0 for _, _, w in found["images"])
    assert len(found["svgs"]) + len(found["images"]) == 8
    assert all(w > 100 and h > 100 for _, w, h in found["svgs"]), found["svgs"]
    assert found["tables_without_headers"] == 0
    rows = summary(baseline_run)
    headline = [(k, v, t) for k, v, t in found["cells"] if k.count("/") == 2]
    assert len(headline) == (3 + 2) * 2 * 7  # sectors and tiers 0-1
    for key, value, _ in headline:
        name, metric, stat = key.split("/")
        row = rows[("tier", name[5:], metric) if name.startswith("tier ") else
                   ("sector", name, metric)]
        assert value == float(row[stat]), key
    assert shot.stat().st_size > 50_000  # a real page, for a person to look at
    assert found["pdf_bytes"] > 50_000   # and it prints (A4)


def test_sweep_report_in_the_browser(browser: Any, tornado_sweep: Path, tmp_path: Path) -> None:
    found = inspect(browser, tornado_sweep / "report.html", tmp_path / "sweep-report.png")
    assert found["outside"] == [] and found["errors"] == []
    assert found["svgs"] and all(w > 100 and h > 100 for _, w, h in found["svgs"])


def test_the_browser_check_catches_an_external_script(browser: Any, baseline_run: Path,
                                                      tmp_path: Path) -> None:
    """The check can fail: a copy of the report with a script from a CDN and an image
    from the web added on purpose is caught (both requests, refused, and the errors)."""
    bad = tmp_path / "report.html"
    text = (baseline_run / "report.html").read_text()
    bad.write_text(text.replace("</head>", '<script src="https://cdn.example.com/x.js">'
                                "</script></head>").replace(
        "</main>", '<img alt="logo" src="http://example.com/logo.png"></main>'))
    found = inspect(browser, bad, tmp_path / "bad.png")
    assert "https://cdn.example.com/x.js" in found["outside"]
    assert "http://example.com/logo.png" in found["outside"]
    assert found["errors"]  # the failed loads reach the console
    assert ["logo", True, 0] in found["images"]  # an image that did not decode
