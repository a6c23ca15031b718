"""Shared fixtures and the test markers.

Markers (`make test-fast` leaves out `slow` and `browser`; `make test` runs everything):

- `slow`: the longest tests (fault injection, calibration, theory checks, the wheel
  install);
- `browser`: opens the HTML report in headless Chromium; given to every test that uses
  the `browser` fixture, so a new browser test is marked without anyone remembering to.

Paths and the command line as a process are in tests/helpers.py (imported by the modules
that need them).
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator

import pytest

BROWSER_FIXTURES = {"browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that open a browser."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


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
