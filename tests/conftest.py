"""Shared fixtures and the test markers.

Markers (`make test-fast` leaves out all three; `make test` runs everything):

- `slow`: the longest tests (fault injection, calibration, theory checks, the wheel
  install);
- `browser`: opens a page (the HTML report, the explore app) in headless Chromium; given
  to every test that uses the `browser` fixture (below);
- `subprocess`: starts processes (the command line, a wheel build: a second or more each);
  given to every test that, itself or through a fixture or a helper of the tests, uses
  the `subprocess` module.

The last two are given here, at collection, so that a new test is marked without anyone
remembering to.

Paths and the command line as a process are in tests/helpers.py (imported by the modules
that need them).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from types import CodeType
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
BROWSER_FIXTURES = {"browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that open a browser, and those that start processes."""
    seen: dict[CodeType, bool] = {}
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
        funcs = [getattr(item, "function", None)]
        info = getattr(item, "_fixtureinfo", None)
        for defs in (info.name2fixturedefs.values() if info is not None else ()):
            funcs += [d.func for d in defs]
        if any(_starts_processes(f, seen) for f in funcs):
            item.add_marker(pytest.mark.subprocess)


def _starts_processes(func: Any, seen: dict[CodeType, bool]) -> bool:
    """Whether `func` (a test, a fixture, a helper defined under tests/) uses the
    `subprocess` module, itself or through the helpers of the tests it calls."""
    func = getattr(func, "__wrapped__", func)
    code = getattr(func, "__code__", None)
    if code is None or not code.co_filename.startswith(str(TESTS)):
        return False
    if code in seen:
        return seen[code]
    seen[code] = False  # (a recursive helper)
    names = set()
    stack = [code]
    while stack:  # the function and the code nested in it (comprehensions, closures)
        c = stack.pop()
        names.update(c.co_names)
        stack += [k for k in c.co_consts if isinstance(k, CodeType)]
    glob = getattr(func, "__globals__", {})
    seen[code] = "subprocess" in names or any(
        _starts_processes(glob.get(n), seen) for n in names if callable(glob.get(n)))
    return seen[code]


class Hung(Exception):
    """The code under a hang guard did not return in its (generous) time."""


@pytest.fixture
def hang_guard() -> Callable[[float], contextlib.AbstractContextManager[None]]:
    """`with hang_guard(seconds):` fails the test if the block has not returned after
    `seconds` (interrupting it with SIGALRM). A guard against code that never ends, never a
    speed limit: give many times what the block takes."""

    @contextlib.contextmanager
    def guard(seconds: float) -> Iterator[None]:
        def expire(_signum: int, _frame: object) -> None:
            raise Hung(f"did not return within {seconds} s: it hangs")

        old = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)

    return guard


def _chromium() -> str | None:
    exe = os.environ.get("RARESHOCK_CHROMIUM") or shutil.which("chromium") or \
        shutil.which("chromium-browser")
    return exe


@pytest.fixture(scope="module")
def browser() -> Any:
    """Debian's chromium driven by Playwright (never Playwright's own download); skipped
    without it, except on CI, which must test in the browser."""
    exe = _chromium()
    if exe is None:
        msg = ("no chromium: install Debian's package (apt-get install chromium) or set "
               "RARESHOCK_CHROMIUM")
        if os.environ.get("CI") == "true":
            pytest.fail(msg)  # CI must test in the browser, never skip
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright  # a dev dependency

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()
