"""The built book in headless Chromium, page by page, as a reader opens it from disk.

Reads the book from _build/html ($MEMNB_BOOK_HTML to check another folder), saves a
screenshot of every page into _build/screenshots/ and the counts into
_build/reports/browser.json. The checks themselves are in tools/book_browser.py.

Requests that leave the book are refused, so the pages are seen offline: widgets,
their icon fonts and MathJax (equations must be typeset) all come from the book.
Problems that are known and not yet fixed may be tolerated by name
(book_browser.KNOWN_ISSUES, empty at present). Each is reported as a warning on every
run, and the run fails once one of them is no longer seen, so the list cannot outlive
the problem.
"""

from __future__ import annotations

import shutil
import warnings

import pytest
from browser_support import book_browser, html_dir, toc_pages, write_report

HTML = html_dir()
SCREENSHOTS = HTML.parent / "screenshots"
ADAPTATION = "chapters/adaptation.html"

if not (HTML / "index.html").is_file():
    pytest.skip(
        f"the book is not built ({HTML / 'index.html'} is missing); run `make book` first",
        allow_module_level=True,
    )

PAGES = book_browser.book_pages(HTML)


@pytest.fixture(scope="module")
def results(chromium: str) -> dict[str, book_browser.PageResult]:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    found = book_browser.check_book(HTML, chromium, PAGES, screenshots=SCREENSHOTS)
    counts = book_browser.summary(found)
    write_report("browser.json", counts)
    for name, issue in counts["known_issues"].items():
        if issue["events"]:
            warnings.warn(
                f"known problem {name!r} seen {issue['events']} times: {issue['reason']}",
                stacklevel=1,
            )
    return {r.page: r for r in found}


def test_every_toc_page_was_built():
    missing = [p for p in toc_pages() if p not in PAGES]
    assert not missing, f"pages of _toc.yml missing from {HTML}: {missing}"


@pytest.mark.parametrize("page", PAGES)
def test_page_in_browser(results, page):
    book_browser.assert_clean(results[page])


@pytest.mark.parametrize("page", PAGES)
def test_page_screenshot(results, page):
    shot = results[page].screenshot
    assert shot is not None and shot.is_file(), f"page {page}: no screenshot was saved"
    from PIL import Image

    with Image.open(shot) as image:
        width, height = image.size
    assert width > 0 and height > 0, f"page {page}: the screenshot {shot} is empty"


def test_the_checks_saw_figures_widgets_and_links(results):
    # Guards against checks that find nothing to check (and so cannot fail).
    adaptation = results[ADAPTATION]
    assert adaptation.figures >= 2, f"page {ADAPTATION}: only {adaptation.figures} images seen"
    assert adaptation.widgets >= 1, f"page {ADAPTATION}: no widget area seen"
    assert adaptation.equations >= 1, f"page {ADAPTATION}: no equation seen"
    for page in toc_pages():
        assert results[page].links > 0, f"page {page}: no link into the book seen"


def test_known_issues_are_still_seen(results):
    seen = {name for r in results.values() for name in r.known}
    gone = [k.name for k in book_browser.KNOWN_ISSUES if k.name not in seen]
    assert not gone, (
        f"known problems {gone} were not seen on any page: they are fixed, so remove "
        "them from KNOWN_ISSUES in tools/book_browser.py"
    )
