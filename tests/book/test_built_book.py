"""Checks of the built HTML book in _build/html (build it first: make book).

They look at what a reader gets: every page of the table of contents is there,
no page shows an error, glued numbers were filled in, and widgets and equations
can be shown without a network: their JavaScript (the widget manager, MathJax)
comes from the book itself, and the widget state stored in the page already holds
the default figure. $MEMNB_BOOK_HTML checks another built book instead. They also check
that the build took every chapter from the cache that tools/execute_book.py had filled.
"""

from __future__ import annotations

import base64
import json
import os
import posixpath
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from jupyter_cache import get_cache

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import toc  # noqa: E402  (tools/ is not a package)

HTML = Path(os.environ.get("MEMNB_BOOK_HTML", ROOT / "_build" / "html")).resolve()
BUILD = HTML.parent
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_JS = ("require.js", "embed-amd.js")
OFFLINE_JS = "offline_widgets.js"  # tools/offline_widgets.js, between the two
CDN_HOSTS = ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "cdnjs.com")
ADAPTATION = "chapters/adaptation"
MATHJAX = "_static/mathjax/es5/tex-mml-chtml.js"
MATH_MARKER = 'class="math notranslate nohighlight"'
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

if not (HTML / "index.html").is_file():
    pytest.skip(
        f"the book is not built ({HTML / 'index.html'} is missing); run `make book` first",
        allow_module_level=True,
    )


class Scripts(HTMLParser):
    """Collects the <script> elements of a page: their attributes and their text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict[str, str], str]] = []
        self._current: dict[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._current = {k: v or "" for k, v in attrs}
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._current is not None:
            self.scripts.append((self._current, "".join(self._text)))
            self._current = None


TOC = toc.docnames(ROOT)
CHAPTERS = [p.relative_to(ROOT).with_suffix("").as_posix() for p in toc.notebooks(ROOT)]


def page_path(docname: str) -> Path:
    return HTML / f"{docname}.html"


def read_page(docname: str) -> str:
    path = page_path(docname)
    if not path.is_file():
        pytest.fail(f"{path} is missing from the built book")
    return path.read_text(encoding="utf-8")


def scripts_of(html: str) -> list[tuple[dict[str, str], str]]:
    parser = Scripts()
    parser.feed(html)
    return parser.scripts


def widget_state(html: str) -> dict | None:
    for attrs, text in scripts_of(html):
        if attrs.get("type") == WIDGET_STATE:
            return json.loads(text)
    return None


def local_target(docname: str, src: str) -> Path | None:
    """The file a relative script src points to, or None for an absolute URL."""
    parts = urlsplit(src)
    if parts.scheme or parts.netloc:
        return None
    base = posixpath.dirname(docname)
    return HTML / posixpath.normpath(posixpath.join(base, parts.path))


def test_toc_lists_the_chapters():
    assert TOC[0] == "chapters/intro"
    assert ADAPTATION in TOC
    assert "chapters/references" in TOC


@pytest.mark.parametrize("docname", TOC)
def test_page_exists(docname):
    assert page_path(docname).is_file(), f"{docname} was not built"


@pytest.mark.parametrize("docname", TOC)
def test_page_has_no_error_output(docname):
    html = read_page(docname)
    assert "Traceback" not in html, f"{docname} shows a traceback"
    for marker in ('class="output traceback', 'class="output error'):
        assert marker not in html, f"{docname} shows an error output ({marker!r})"


@pytest.mark.parametrize("docname", TOC)
def test_glued_values_are_filled_in(docname):
    html = read_page(docname)
    assert "{glue:" not in html, f"{docname} has a glue role that was not replaced"
    assert "{glue}" not in html, f"{docname} has a glue role that was not replaced"


@pytest.mark.parametrize("docname", TOC)
def test_widget_javascript_is_local(docname):
    html = read_page(docname)
    scripts = scripts_of(html)
    has_state = any(a.get("type") == WIDGET_STATE for a, _ in scripts)
    sources = [a["src"] for a, _ in scripts if a.get("src")]
    widget_sources = [s for s in sources if posixpath.basename(urlsplit(s).path) in WIDGET_JS]
    if not has_state:
        # Pages without widgets do not load the 3.6 MB widget manager.
        assert widget_sources == [], f"{docname} loads widget JavaScript but has no widgets"
        return
    for src in sources:
        assert urlsplit(src).netloc not in CDN_HOSTS, f"{docname} loads {src} from a CDN"
    for attrs, _ in scripts:
        cdn = attrs.get("data-jupyter-widgets-cdn", "")
        assert not any(h in cdn for h in CDN_HOSTS), f"{docname}: widget CDN set to {cdn!r}"
    names = [posixpath.basename(urlsplit(s).path) for s in widget_sources]
    assert names == list(WIDGET_JS), (
        f"{docname} must load require.js then embed-amd.js, once each; loads {widget_sources}"
    )
    for src in widget_sources:
        target = local_target(docname, src)
        assert target is not None, f"{docname} loads {src} from another site"
        assert target.is_file(), f"{docname} loads {src}, but {target} does not exist"
        assert target.parent == HTML / "_static" / "widgets", target


def test_widget_pages_point_the_widget_modules_at_the_book():
    pages = [d for d in TOC if widget_state(read_page(d)) is not None]
    assert ADAPTATION in pages, f"the adaptation chapter has no widget state; widgets: {pages}"
    for docname in pages:
        sources = [urlsplit(a.get("src", "")).path for a, _ in scripts_of(read_page(docname))]
        names = [posixpath.basename(src) for src in sources]
        names = [name for name in names if name in (*WIDGET_JS, OFFLINE_JS)]
        assert names == [WIDGET_JS[0], OFFLINE_JS, WIDGET_JS[1]], f"{docname} loads {names}"
    assert (HTML / "_static" / "widgets" / OFFLINE_JS).is_file()


@pytest.mark.parametrize("docname", TOC)
def test_scripts_are_local_and_not_repeated(docname):
    scripts = scripts_of(read_page(docname))
    for attrs, _ in scripts:
        src = attrs.get("src", "")
        assert not urlsplit(src).netloc, f"{docname} loads {src} from another site"
    # The same inline script twice (sphinx-thebe's `const THEBE_JS_URL = ...`) throws.
    bodies = [text.strip() for attrs, text in scripts if not attrs.get("src") and text.strip()]
    repeated = sorted({body[:80] for body in bodies if bodies.count(body) > 1})
    assert not repeated, f"{docname} has inline scripts more than once: {repeated}"


@pytest.mark.parametrize("docname", TOC)
def test_mathjax_is_local_and_only_on_pages_with_math(docname):
    html = read_page(docname)
    sources = [a["src"] for a, _ in scripts_of(html) if a.get("src")]
    mathjax = [s for s in sources if "mathjax" in s.lower()]
    if MATH_MARKER not in html:
        assert mathjax == [], f"{docname} has no math but loads {mathjax}"
        return
    assert len(mathjax) == 1, f"{docname} has math and must load MathJax once; loads {mathjax}"
    target = local_target(docname, mathjax[0])
    assert target is not None, f"{docname} loads MathJax from another site: {mathjax[0]}"
    assert target == HTML / MATHJAX, f"{docname} loads MathJax from {target}, not {MATHJAX}"
    assert target.is_file() and target.stat().st_size > 0, f"{target} is missing"
    fonts = target.parent / "output" / "chtml" / "fonts" / "woff-v2"
    assert sorted(fonts.glob("*.woff")), f"MathJax's fonts are missing from {fonts}"


def test_some_pages_have_math():
    # Guards the test above against a marker that no page has (and so checks nothing).
    assert any(MATH_MARKER in read_page(d) for d in TOC), f"no page has {MATH_MARKER!r}"


def test_widget_files_are_in_the_book():
    for name in WIDGET_JS:
        path = HTML / "_static" / "widgets" / name
        assert path.is_file() and path.stat().st_size > 0, f"{path} is missing"


def test_adaptation_page_has_figures():
    html = read_page(ADAPTATION)
    assert re.search(r"<img\b", html), "the adaptation chapter has no <img> figure"


def test_adaptation_widget_state_holds_the_explorer_figures():
    # Without a kernel the explorer shows its grid of figures: PNG images stored in the
    # page's widget state (memnb.widgets), one per setting of its memory menu.
    html = read_page(ADAPTATION)
    state = widget_state(html)
    assert state is not None, f"no {WIDGET_STATE} script in the adaptation chapter"
    assert WIDGET_VIEW in html, "the adaptation chapter has widget state but shows no widget"
    images = [model for model in state["state"].values() if model["model_name"] == "ImageModel"]
    pngs = [
        buffer["data"]
        for model in images
        for buffer in model.get("buffers", [])
        if buffer.get("path") == ["value"]
    ]
    assert images and len(pngs) == len(images), (
        f"the adaptation chapter's widget state has {len(images)} image widgets and "
        f"{len(pngs)} stored images, so its explorer cannot be shown without a kernel"
    )
    for png in pngs:
        assert base64.b64decode(png).startswith(PNG_MAGIC)


def test_the_build_took_every_chapter_from_the_cache():
    # tools/execute_book.py caches one record per chapter; a chapter that myst-nb did not
    # find there would have been executed again by the build and cached a second time.
    records = get_cache(str(BUILD / ".jupyter_cache")).list_cache_records()
    cached = sorted(
        Path(record.uri).relative_to(ROOT).with_suffix("").as_posix() for record in records
    )
    assert cached == sorted(CHAPTERS)


@pytest.mark.parametrize("docname", CHAPTERS)
def test_every_chapter_glues_its_numbers(docname):
    # The numbers in a chapter's prose are glued; a chapter that glued none states none.
    path = BUILD / "jupyter_execute" / f"{docname}.glue.json"
    assert path.is_file(), f"{docname}: the build wrote no glued values ({path} is missing)"
    assert json.loads(path.read_text(encoding="utf-8")), f"{docname} glues nothing"
