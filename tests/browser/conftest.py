"""Set-up of the checks that use real clients: Chromium, JupyterLab, a fresh clone.

They are slow and need a built book, so they are collected only when asked for by
path (``pytest tests/browser``, as the make targets do); ``pytest tests`` and
``make unit`` leave them out.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import HERE, page_checks, warn_loudly, write_report

CHROMIUM_HINT = (
    "Debian's chromium is not installed and could not be installed "
    "(make chromium runs: apt-get install -y chromium)"
)


def _asked_for(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(str(arg).split("::", 1)[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.name.startswith("test_") and not _asked_for(config):
        return True
    return None


# The report each module writes; a skipped run writes {"skipped": reason} there instead.
REPORTS = {"test_book_pages": "browser.json", "test_lab": "lab.json"}


@pytest.fixture(scope="module")
def chromium(request: pytest.FixtureRequest) -> str:
    found = page_checks.find_chromium()
    if found is None:
        message = f"WARNING: browser checks SKIPPED: {CHROMIUM_HINT}"
        warn_loudly(request.config, message)
        report = REPORTS.get(request.module.__name__.rpartition(".")[2])
        if report is not None:
            write_report(report, {"skipped": CHROMIUM_HINT})
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def browser(chromium):
    """One headless Chromium (Playwright) for a module's tests, closed at its end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=list(page_checks.CHROMIUM_ARGS), headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
