"""Screenshots and timings of `rareshock explore` (docs/explore_*.png), by command.

    python docs/explore_screens.py [RS]    # RS: the rareshock command (.venv/bin/rareshock)

In a scratch folder holding a copy of configs/, it starts the app as a user would
(`rareshock explore DIR`), opens it in Debian's chromium (Playwright), builds a scenario
from the baseline (the non-China suppliers' capacity doubled), saves it, runs 20
replications from the Run button, compares them with the baseline on shared seeds, and
browses the comparison -- a screenshot of each view. It prints how long the app took to
answer and to render, and the run and the comparison from their buttons.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def main(rs: str) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="rareshock-explore-") as tmp:
        folder = Path(tmp)
        shutil.copytree(ROOT / "configs", folder / "configs")
        t0 = time.perf_counter()
        proc = subprocess.Popen([rs, "explore", str(folder)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[2]
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        answered = time.perf_counter() - t0
        try:
            with sync_playwright() as pw:
                exe = shutil.which("chromium") or "chromium"
                browser = pw.chromium.launch(executable_path=exe,
                                             args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url, wait_until="networkidle")
                page.get_by_role("tab", name="Build a scenario").click()
                page.locator("text=valid >> visible=true").first.wait_for(timeout=60_000)
                rendered = time.perf_counter() - t0

                page.get_by_text("suppliers.row — supplier row", exact=True).click()
                cap = page.get_by_role("spinbutton", name="supplier row: capacity kg per day")
                cap.fill("700")
                cap.press("Enter")
                name = page.get_by_role("textbox", name="Scenario name")
                name.fill("row-doubled")
                name.press("Enter")
                page.locator("text=1 change(s) >> visible=true").first.wait_for()
                page.evaluate("window.scrollTo(0, 0)")
                page.get_by_role("tab", name="Build a scenario").scroll_into_view_if_needed()
                page.screenshot(path=str(DOCS / "explore_build.png"))
                page.get_by_role("button", name="Save scenario").click()
                page.locator("text=saved configs/scenarios/row-doubled.toml").wait_for()

                page.get_by_role("tab", name="Run and compare").click()
                t1 = time.perf_counter()
                page.get_by_role("button", name="Run", exact=True).click()
                page.locator("text=row-doubled: 20 replications >> visible=true").first \
                    .wait_for(timeout=600_000)
                ran = time.perf_counter() - t1
                t2 = time.perf_counter()
                page.get_by_role("button", name="Compare with").click()
                page.locator("[data-testid='stDataFrame'] >> visible=true").first.wait_for(
                    timeout=600_000)
                compared = time.perf_counter() - t2
                page.screenshot(path=str(DOCS / "explore_run.png"), full_page=True)

                page.get_by_role("tab", name="Browse").click()
                page.reload(wait_until="networkidle")
                page.locator("text=rareshock explore").first.wait_for()
                page.get_by_role("tab", name="Browse").click()
                time.sleep(2)
                page.screenshot(path=str(DOCS / "explore_browse.png"))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(30)
    print(f"the app answered {answered:.1f} s after `rareshock explore`, rendered its first "
          f"page at {rendered:.1f} s; 20 replications of the scenario from the Run button: "
          f"{ran:.1f} s; the comparison with the baseline (its 20 replications run first): "
          f"{compared:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / ".venv" / "bin" / "rareshock"))
