"""Browser-test fixtures: one headless Chromium per module, and a fresh browser context per person."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.worker import start_worker, worker_data_dir, worker_media  # noqa: F401  (fixtures)
from tests.real_services import chromium, require


@pytest.fixture(scope="module")
def browser() -> Iterator:
    path = chromium()
    require(path is not None, "needs Chromium (/usr/bin/chromium): run .ci/ensure-chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, which makes Django refuse ORM calls
    # here (such as the database flush after each test) although they run synchronously as ever.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(path), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server, worker_media):  # noqa: F811  (the fixture imported above)
    """A page in a fresh browser context (its own cookies: a different person) on the live server.

    Every test that uses it also proves the pages work under the Content-Security-Policy: Chromium
    reports each thing the policy blocked (an inline script or style, another origin) on the console,
    and the test fails with them at its end."""
    contexts, blocked = [], []

    def make():
        context = browser.new_context(base_url=live_server.url, locale="en-US")
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                blocked.append(f"{page.url}: {message.text}") if "Content Security Policy" in message.text else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert blocked == [], "the Content-Security-Policy blocked:\n" + "\n".join(blocked)


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where a test keeps its screenshots: ARTSTUDIO_SCREENSHOTS=DIR, to look at them afterwards."""
    folder = Path(os.environ.get("ARTSTUDIO_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
