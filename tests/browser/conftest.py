"""Browser tests: Playwright for Python driving the system's Chromium (never a downloaded one).

Outside CI they are skipped when /usr/bin/chromium is missing; in CI (env ``CI``
set) a missing browser fails loudly, so the test cannot silently stop running.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from tests.fixtures.fix_admin import *  # noqa: F403

# Debian's package; PYMESS_TEST_CHROMIUM points elsewhere (another distribution's path).
CHROMIUM = Path(os.environ.get("PYMESS_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_failed] = report.failed
    return report


_failed = pytest.StashKey[bool]()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} Browser tests must run in CI: apt-get install -y chromium.")
    pytest.skip(reason)


@pytest.fixture
def browser(
    transactional_db: None, live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """Chromium for one test: Playwright's sync API runs an event loop in this thread while
    it lives, so it starts after the database is ready and stops before it is flushed (and
    the ORM calls the test makes between browser steps are allowed meanwhile)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("The playwright package is not installed (pip install playwright).")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()
        # ORM calls made while Playwright ran used a connection of their own (its event
        # loop gives them another context); close it, or the test database cannot be dropped.
        connections.close_all()


@pytest.fixture
def page(
    browser: Any, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """A fresh browser page; a screenshot lands in test-artifacts/ when the test fails."""
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between browser steps are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    if request.node.stash.get(_failed, True):
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        (ARTIFACTS / f"{name}.html").write_text(page.content())
    context.close()
