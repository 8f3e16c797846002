"""The built book in headless Chromium, page by page, as a reader opens it from disk.

Reads the book from _build/html ($MEMNB_BOOK_HTML to check another folder), saves a
screenshot of every page into _build/screenshots/ and the counts into
_build/reports/browser.json. The checks themselves are in page_checks.py, next to this
file.

Requests that leave the book are refused, so the pages are seen offline: widgets,
their icon fonts and MathJax (equations must be typeset) all come from the book.
"""

from __future__ import annotations

import shutil

import pytest
from browser_support import html_dir, page_checks, toc_pages, write_report

HTML = html_dir()
SCREENSHOTS = HTML.parent / "screenshots"
ADAPTATION = "chapters/adaptation.html"

if not (HTML / "index.html").is_file():
    pytest.skip(
        f"the book is not built ({HTML / 'index.html'} is missing); run `make book` first",
        allow_module_level=True,
    )

PAGES = page_checks.book_pages(HTML)


@pytest.fixture(scope="module")
def results(chromium: str) -> dict[str, page_checks.PageResult]:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    found = page_checks.check_book(HTML, chromium, PAGES, screenshots=SCREENSHOTS)
    write_report("browser.json", page_checks.summary(found))
    return {r.page: r for r in found}


def test_every_toc_page_was_built():
    missing = [p for p in toc_pages() if p not in PAGES]
    assert not missing, f"pages of _toc.yml missing from {HTML}: {missing}"


@pytest.mark.parametrize("page", PAGES)
def test_page_in_browser(results, page):
    page_checks.assert_clean(results[page])


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
    assert adaptation.texts >= 20, f"page {ADAPTATION}: only {adaptation.texts} texts read"
    for page in toc_pages():
        assert results[page].links > 0, f"page {page}: no link into the book seen"
