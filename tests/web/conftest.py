"""Fixtures of the browser tests: a real `vertexmeter serve` process on loopback, and the system's
Chromium (Debian's `chromium` package) driven by Playwright — no browser is ever downloaded.

Without /usr/bin/chromium the tests are skipped, unless VERTEXMETER_REQUIRE_BROWSER=1 (set by .ci/run),
which turns a missing browser into a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.web_helpers import CHROMIUM, CHROMIUM_ARGS, WEB_KEY, Browser, Served, serve


@pytest.fixture(scope="session")
def server() -> Iterator[Served]:
    served = serve()
    yield served
    served.stop()


@pytest.fixture(scope="session")
def keyed_server() -> Iterator[Served]:
    served = serve("--api-key", WEB_KEY, "--max-body-bytes", "64KiB")
    yield served
    served.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("VERTEXMETER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; VERTEXMETER_CHROMIUM names another)")
    sync_api = pytest.importorskip("playwright.sync_api")
    profile = tempfile.mkdtemp(prefix="vertexmeter-chromium-")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,  # a fresh --user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1000},
        )
        recorded = Browser(context)
        # Every request the browser makes, from every page of the session; checked by the no-egress test.
        context.on("request", lambda request: recorded.requests.append(request.url))
        try:
            yield recorded
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: Browser) -> Iterator[Any]:
    page = browser.context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
