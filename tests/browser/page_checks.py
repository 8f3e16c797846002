"""Open the pages of a built HTML book in headless Chromium and check what a reader sees.

Every page is opened from disk (``file://``), as ``make book`` tells readers to do,
in a fresh browser profile, with every request that leaves the book refused. For each
page it checks that

- no console error, uncaught exception or failed request happens while it loads;
- every image is decoded with a non-zero size;
- no output shows a traceback, an error or stderr, widget outputs included;
- no output is the bare repr of a Python object where a figure or a table was meant
  (``<Figure size 640x480 with 1 Axes>``, ``[<matplotlib.lines.Line2D at 0x...>]``,
  ``<__main__.X object at 0x...>``, a data frame or series printed as text, a whole
  output that is a tuple or dict of results);
- no Markdown source is left in the text: table rows (``| a | b |``), table rules
  (``|---|``) or headings (``## ``) that were shown instead of being rendered;
- no table cell, sentence or printed output shows a missing value as ``NaN``, ``nan``,
  ``NaT``, ``<NA>`` or ``None`` (words in code font are code, and are not checked);
- nothing is wider than the content column: the page does not scroll sideways, and no
  table, figure, image or printed output is wider than the column or scrolls inside it;
- every widget area is rendered from the state stored in the page, and its output
  shows the figure recorded there (the default figure);
- every equation is typeset by MathJax (``mjx-container``), offline, and no TeX
  delimiter (``\\(``, ``\\[``, ``$$``, ``$...$``) is left in the text of the page;
- every link into the book points to a file of the book and, with a ``#fragment``, to
  an element of that page.

A full-page screenshot of each page is saved for a person to look at. Needs the
``playwright`` package and a Chromium binary (Debian's ``chromium``); no browser is
downloaded.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")
# Without the networking switches Chromium's own background connections (updates,
# sync, ...) are refused, many at a time, on a machine without network.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1280, "height": 900}
LOAD_TIMEOUT_MS = 60_000
WIDGET_TIMEOUT_MS = 30_000
SCREENSHOT_TIMEOUT_MS = 60_000
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
TRACEBACK = "Traceback (most recent call last)"
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
MATH_TIMEOUT_MS = 30_000

# Bare reprs of Python objects in an output, each with what the output should have shown.
REPRS = (
    (re.compile(r"<(?:Figure|matplotlib\.figure\.Figure)[^>\n]*>"), "the figure (not rendered)"),
    (
        re.compile(r"<[A-Za-z_][\w.]* (?:object(?: at 0x[0-9a-fA-F]+)?|at 0x[0-9a-fA-F]+)>"),
        "what the object stands for",
    ),
    (
        re.compile(r"<(?:Axes|AxesSubplot|matplotlib\.|pandas\.|seaborn\.)[^>\n]*>"),
        "a figure or a table",
    ),
    (re.compile(r"^\[?(?:Text|Legend|Line2D|Annotation)\(.*\)\]?$", re.M), "a figure"),
    (re.compile(r"^(?:Name: .*, )?dtype: \w+$", re.M), "a table (a series printed as text)"),
    (re.compile(r"^\[\d+ rows x \d+ columns\]$", re.M), "a table (a frame printed as text)"),
    # A whole output that is a tuple or a dict of results, as a cell's last expression
    # ``a, b`` or ``{...}`` shows them (a table's text has tabs between its cells).
    (
        re.compile(
            r"\A\s*(?:\((?:[^()\t]|\([^()\t]*\))*, [^\t]*\)"  # (a, b)
            r"|\{['\"\w][^:\t]*: [^\t]*\})\s*\Z"  # {key: value}
        ),
        "a table or a sentence (a tuple or dict printed as text)",
    ),
)
# Markdown source left in the text: a table rule (smart quotes turn --- into an em
# dash), a row of at least two cells, a heading.
MARKDOWN = (
    (re.compile(r"\|[ \t]*:?(?:-{3,}|[\u2013\u2014])[-\u2013\u2014]*:?[ \t]*\|"), "a table rule"),
    (re.compile(r"^[ \t]*\|(?:[^|\n]*\|){2,}[ \t]*$", re.M), "a table row"),
    (re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S", re.M), "a heading"),
)
# A missing value as Python, NumPy or pandas print it. "None" starting a phrase
# ("None of them ...") is English, not a value.
MISSING = re.compile(r"<NA>|\b(?:NaN|nan|NaT)\b|\bNone\b(?![ \t]+[a-z])")


def find_chromium() -> str | None:
    """The Chromium binary to use: $MEMNB_CHROMIUM, else chromium on PATH, else None."""
    explicit = os.environ.get("MEMNB_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass(frozen=True)
class Event:
    """Something the browser reported while a page was open."""

    kind: str  # "console", "pageerror", "requestfailed" or "blocked"
    text: str
    url: str = ""

    def __str__(self) -> str:
        where = f" ({self.url})" if self.url and self.url not in self.text else ""
        return f"{self.kind}: {self.text}{where}"


@dataclass
class PageResult:
    """What the checks found on one page."""

    page: str  # path relative to the book, e.g. "chapters/adaptation.html"
    problems: list[str] = field(default_factory=list)
    figures: int = 0
    links: int = 0
    widgets: int = 0
    equations: int = 0
    texts: int = 0  # paragraphs, table cells and printed outputs read
    screenshot: Path | None = None

    def failure_message(self) -> str:
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"page {self.page}: {len(self.problems)} problem(s) in the browser:\n{lines}"


def last_line(text: str, limit: int = 200) -> str:
    """The last non-empty line of an output: for a traceback, the exception and message."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def excerpt(text: str, start: int, limit: int = 100) -> str:
    """The text around ``text[start]``, on one line, at most about ``limit`` characters."""
    left = max(0, min(start, len(text) - limit // 2) - limit // 2)
    shown = " ".join(text[left : left + limit].split())
    return ("..." if left else "") + shown + ("..." if left + limit < len(text) else "")


def printed_frame(text: str) -> bool:
    """Whether a printed output is a data frame's text (pandas pads every row to one width)."""
    lines = [line for line in text.strip("\n").splitlines() if line.strip()]
    columns = [line for line in lines if len(re.split(r"\s{2,}", line.strip())) >= 2]
    return len(lines) >= 3 and len({len(line) for line in lines}) == 1 and len(columns) >= 2


def assert_clean(result: PageResult) -> None:
    """Raise AssertionError, naming the page and each problem, when a page has problems."""
    if result.problems:
        raise AssertionError(result.failure_message())


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key == "id" or (key == "name" and tag == "a"):
                self.ids.add(value or "")


def book_pages(html_dir: Path) -> list[str]:
    """Every HTML page of a built book, relative to it, without Sphinx's copies of sources."""
    skip = {"_static", "_sources", "_images", "_downloads"}
    return sorted(
        p.relative_to(html_dir).as_posix()
        for p in html_dir.rglob("*.html")
        if not skip.intersection(p.relative_to(html_dir).parts[:-1])
    )


def widget_pngs(html: str) -> set[str]:
    """The base64 PNGs that the Output widgets of a page's widget state hold."""
    found: set[str] = set()
    for match in re.finditer(
        r'<script type="' + re.escape(WIDGET_STATE) + r'">(.*?)</script>', html, re.DOTALL
    ):
        state = json.loads(match.group(1)).get("state", {})
        for model in state.values():
            if model.get("model_name") != "OutputModel":
                continue
            for output in model.get("state", {}).get("outputs", []):
                png = output.get("data", {}).get("image/png")
                if png:
                    found.add("".join(png.split()))
    return found


# Runs in the page once it has loaded; returns what the checks need in one call.
_INSPECT = r"""
() => {
  const article = document.querySelector("main") || document.body;
  const visible = (el) => !!(el.offsetParent || el.getClientRects().length);
  const images = Array.from(article.querySelectorAll("img")).map((img) => {
    const box = img.getBoundingClientRect();
    return {
      src: img.currentSrc || img.src || "",
      complete: img.complete,
      natural: [img.naturalWidth, img.naturalHeight],
      box: [box.width, box.height],
      visible: visible(img),
      inWidget: !!img.closest(".widget-output"),
    };
  });
  const figures = Array.from(article.querySelectorAll("figure")).map((fig) => ({
    id: fig.id || "",
    images: fig.querySelectorAll("img").length,
    text: (fig.innerText || "").slice(0, 120),
  }));
  const outputs = Array.from(
    article.querySelectorAll(".cell_output, .widget-output, .output")
  ).map((el) => el.innerText || "");
  const errorOutputs = Array.from(article.querySelectorAll(
    ".output.traceback, .output.error, .output.stderr, " +
    '[data-mime-type="application/vnd.jupyter.stderr"], ' +
    '[data-mime-type="application/vnd.jupyter.error"], .widget-error'
  )).map((el) => (el.innerText || "").slice(-5000));
  const views = Array.from(document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]'
  )).map((script, index) => {
    const area = script.previousElementSibling;
    const rendered = !!(area && area.classList.contains("widget-subarea") &&
      area.querySelector(".jupyter-widgets"));
    const outs = rendered ? Array.from(area.querySelectorAll(".widget-output")) : [];
    return {
      index: index,
      rendered: rendered,
      outputs: outs.length,
      images: outs.flatMap((o) => Array.from(o.querySelectorAll("img")).map((img) => ({
        src: img.currentSrc || img.src || "",
        natural: [img.naturalWidth, img.naturalHeight],
        box: [img.getBoundingClientRect().width, img.getBoundingClientRect().height],
      }))),
      text: rendered ? (area.innerText || "").slice(-5000) : "",
    };
  });
  const links = Array.from(document.querySelectorAll("a[href]")).map((a) => a.href);
  // Equations: Sphinx and myst write them as .math elements holding TeX between
  // \\( \\) or \\[ \\]; MathJax replaces that TeX with an mjx-container.
  const math = Array.from(article.querySelectorAll("span.math, div.math")).map((el) => ({
    typeset: !!el.querySelector("mjx-container"),
    text: (el.textContent || "").trim().slice(0, 80),
  }));
  const typeset = article.querySelectorAll("mjx-container").length;
  // TeX left as text anywhere else (code, outputs and typeset math aside).
  const skip = "pre, code, script, style, textarea, mjx-container, .cell_output, .output, " +
    ".highlight, .widget-output";
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  const rawTex = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) { continue; }
    const text = node.nodeValue || "";
    if (/\\\(|\\\[|\$\$|\$[^$\n]*[\\^_{}][^$\n]*\$/.test(text)) {
      rawTex.push(text.trim().slice(0, 80));
    }
  }
  // What a reader reads, code aside: prose, table cells and printed outputs.
  const column = article.querySelector("article") || article;
  const code = "script, style, textarea, code, kbd, samp, .cell_input, .math, mjx-container";
  const blocks = [];
  const readable = "p, li, td, th, dt, dd, caption, figcaption, h1, h2, h3, h4, h5, h6, " +
    ".cell_output pre";
  for (const el of column.querySelectorAll(readable)) {
    if (el.closest(code) || (el.matches("li") && el.querySelector("p"))) { continue; }
    const copy = el.cloneNode(true);
    copy.querySelectorAll(code).forEach((inner) => inner.remove());
    const kind = el.matches("td, th") ? "table cell" : el.matches("pre") ? "output" : "text";
    blocks.push({kind: kind, text: (copy.textContent || "").slice(0, 20000)});
  }
  // Anything wider than the content column, or scrolling sideways inside it.
  const outer = column.getBoundingClientRect();
  const style = getComputedStyle(column);
  const edge = {
    left: outer.left + parseFloat(style.paddingLeft),
    right: outer.right - parseFloat(style.paddingRight),
  };
  const wide = [];
  const boxes = column.querySelectorAll("table, figure, img, .cell_output pre");
  for (const el of boxes) {
    if (!el.getClientRects().length) { continue; }
    const box = el.getBoundingClientRect();
    const scrolls = el.scrollWidth - el.clientWidth;
    if (box.left < edge.left - 1 || box.right > edge.right + 1 || scrolls > 1) {
      wide.push({
        what: el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""),
        text: (el.innerText || el.getAttribute("alt") || "").trim().slice(0, 60),
        width: Math.round(Math.max(box.width, el.scrollWidth)),
      });
    }
  }
  const page = document.documentElement;
  const sideways = page.scrollWidth - page.clientWidth;
  return {images, figures, outputs, errorOutputs, views, links, math, typeset, rawTex,
    blocks, wide, sideways, columnWidth: Math.round(edge.right - edge.left)};
}
"""

# Waits (up to the given ms) until MathJax has typeset the page, when MathJax is loaded.
# Before MathJax runs, window.MathJax is the configuration object, without startup.
_MATH_TYPESET = r"""
async (ms) => {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    await Promise.race([mj.startup.promise, new Promise((done) => setTimeout(done, ms))]);
  }
}
"""

# True once every widget view of the page has been rendered (or there are none).
_WIDGETS_RENDERED = r"""
() => Array.from(document.querySelectorAll(
  'script[type="application/vnd.jupyter.widget-view+json"]'
)).every((script) => {
  const area = script.previousElementSibling;
  return !!(area && area.classList.contains("widget-subarea") &&
    area.querySelector(".jupyter-widgets"));
})
"""


class BookBrowser:
    """A headless Chromium that checks the pages of one built book; use as a context manager."""

    def __init__(self, html_dir: Path, chromium: str, screenshots: Path | None = None) -> None:
        self.html_dir = html_dir.resolve()
        self.chromium = chromium
        self.screenshots = screenshots
        self._ids: dict[Path, set[str]] = {}
        self._playwright = None
        self._browser = None

    def __enter__(self) -> BookBrowser:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=self.chromium,
                args=list(CHROMIUM_ARGS),
                headless=True,
                timeout=LOAD_TIMEOUT_MS,
            )
        except Exception:
            self._playwright.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._browser is not None:
                self._browser.close()
        finally:
            if self._playwright is not None:
                self._playwright.stop()

    def check(self, page_name: str) -> PageResult:
        """Open one page (relative to the book) in a fresh profile and check it."""
        from playwright.sync_api import Error as PlaywrightError

        result = PageResult(page_name)
        path = self.html_dir / page_name
        if not path.is_file():
            result.problems.append(f"{path} does not exist")
            return result
        events: list[Event] = []
        context = self._browser.new_context(viewport=VIEWPORT)
        try:
            context.route("**/*", lambda route: self._route(route, events))
            page = context.new_page()
            page.set_default_timeout(LOAD_TIMEOUT_MS)
            page.on("console", lambda message: self._on_console(message, events))
            page.on("pageerror", lambda e: events.append(Event("pageerror", str(e))))
            page.on(
                "requestfailed",
                lambda r: events.append(Event("requestfailed", r.failure or "failed", r.url)),
            )
            try:
                page.goto(path.as_uri(), wait_until="load", timeout=LOAD_TIMEOUT_MS)
            except PlaywrightError as exc:
                result.problems.append(f"did not load within {LOAD_TIMEOUT_MS // 1000} s: {exc}")
                return result
            try:
                page.wait_for_function(_WIDGETS_RENDERED, timeout=WIDGET_TIMEOUT_MS)
            except PlaywrightError:
                pass  # reported below, widget by widget
            page.evaluate(_MATH_TYPESET, MATH_TIMEOUT_MS)
            # Let late callbacks (widget manager, theme) report their errors.
            page.wait_for_timeout(500)
            seen = page.evaluate(_INSPECT)
            if self.screenshots is not None:
                shot = self.screenshots / Path(page_name).with_suffix(".png")
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=True, timeout=SCREENSHOT_TIMEOUT_MS)
                result.screenshot = shot
        finally:
            context.close()
        html = path.read_text(encoding="utf-8")
        self._check_events(result, events)
        self._check_figures(result, seen)
        self._check_outputs(result, seen)
        self._check_text(result, seen)
        self._check_width(result, seen)
        self._check_widgets(result, seen, widget_pngs(html))
        self._check_math(result, seen)
        self._check_links(result, seen["links"], path)
        result.problems = list(dict.fromkeys(result.problems))  # nested outputs repeat
        return result

    @staticmethod
    def _on_console(message, events: list[Event]) -> None:
        if message.type == "error":
            events.append(Event("console", message.text, message.location.get("url", "")))

    @staticmethod
    def _route(route, events: list[Event]) -> None:
        url = route.request.url
        if url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            events.append(Event("blocked", "request outside the book refused (offline)", url))
            route.abort()

    def _check_events(self, result: PageResult, events: list[Event]) -> None:
        for event in events:
            if event.kind == "blocked":
                result.problems.append(f"loads {event.url} from the network")
            else:
                shown = Event(event.kind, event.text, self._shown(event.url))
                result.problems.append(f"browser reported {shown}")

    def _shown(self, url: str) -> str:
        """A URL as a path inside the book where it is one, shortened where it is data."""
        if url.startswith("data:"):
            return url[:40] + "..."
        parts = urlsplit(url)
        if parts.scheme == "file":
            try:
                return Path(unquote(parts.path)).resolve().relative_to(self.html_dir).as_posix()
            except ValueError:
                pass
        return url

    def _check_figures(self, result: PageResult, seen: dict) -> None:
        for image in seen["images"]:
            result.figures += 1
            shown = self._shown(image["src"])
            if not image["complete"] or min(image["natural"]) <= 0:
                result.problems.append(f"image {shown} is not rendered (broken or empty)")
            elif image["visible"] and min(image["box"]) <= 0:
                result.problems.append(f"image {shown} is shown with zero size")
        for figure in seen["figures"]:
            if figure["images"] == 0:
                name = f"figure #{figure['id']}" if figure["id"] else "a figure"
                result.problems.append(f"{name} has no image: {figure['text']!r}")

    @staticmethod
    def _check_outputs(result: PageResult, seen: dict) -> None:
        for text in seen["errorOutputs"]:
            result.problems.append(f"shows an error output: {last_line(text)!r}")
        if any(TRACEBACK in text for text in seen["outputs"]):
            result.problems.append("an output shows a Python traceback")
        for text in seen["outputs"]:
            taken: set[int] = set()  # one problem per repr, whichever pattern matched it
            for pattern, meant in REPRS:
                for match in pattern.finditer(text):
                    if not taken.intersection(range(match.start(), match.end())):
                        taken.update(range(match.start(), match.end()))
                        shown = match.group(0).strip()
                        result.problems.append(f"an output shows {shown!r} instead of {meant}")

    @staticmethod
    def _check_text(result: PageResult, seen: dict) -> None:
        result.texts = len(seen["blocks"])
        for block in seen["blocks"]:  # the first of each kind of problem in a block
            kind, text = block["kind"], block["text"]
            for pattern, what in MARKDOWN:
                if match := pattern.search(text):
                    shown = excerpt(text, match.start())
                    result.problems.append(f"{kind} shows Markdown source ({what}): {shown!r}")
            if match := MISSING.search(text):
                shown = excerpt(text, match.start())
                result.problems.append(
                    f"{kind} shows {match.group(0)!r} for a missing value: {shown!r} (say what "
                    "was not reached, or leave the cell empty and say why in a note)"
                )
            if kind == "output" and printed_frame(text):
                shown = excerpt(text, 0)
                result.problems.append(f"an output is a frame printed as text: {shown!r}")

    @staticmethod
    def _check_width(result: PageResult, seen: dict) -> None:
        column = seen["columnWidth"]
        if seen["sideways"] > 1:
            result.problems.append(f"the page scrolls sideways by {seen['sideways']} px")
        for box in seen["wide"]:
            result.problems.append(
                f"{box['what']} is {box['width']} px wide, wider than the {column} px content "
                f"column: {box['text']!r}"
            )

    @staticmethod
    def _check_widgets(result: PageResult, seen: dict, stored: set[str]) -> None:
        for view in seen["views"]:
            result.widgets += 1
            number = view["index"] + 1
            if not view["rendered"]:
                result.problems.append(
                    f"widget area {number} was not rendered within {WIDGET_TIMEOUT_MS // 1000} s"
                )
                continue
            if view["outputs"] == 0:
                continue  # a widget without an output area (a bare control)
            pngs = [i for i in view["images"] if i["src"].startswith("data:image/png;base64,")]
            if not pngs:
                result.problems.append(
                    f"widget area {number} shows no figure; it shows {last_line(view['text'])!r}"
                )
                continue
            for image in pngs:
                data = "".join(image["src"].split(",", 1)[1].split())
                if min(image["natural"]) <= 0 or min(image["box"]) <= 0:
                    result.problems.append(f"widget area {number}: its figure has zero size")
                elif data not in stored:
                    result.problems.append(
                        f"widget area {number} shows a figure that is not the one stored "
                        "in the page's widget state"
                    )
                elif not base64.b64decode(data).startswith(b"\x89PNG"):
                    result.problems.append(f"widget area {number}: its figure is not a PNG")

    @staticmethod
    def _check_math(result: PageResult, seen: dict) -> None:
        result.equations = len(seen["math"])
        for equation in seen["math"]:
            if not equation["typeset"]:
                result.problems.append(
                    f"equation {equation['text']!r} is not typeset (MathJax did not run)"
                )
        if seen["math"] and seen["typeset"] == 0:
            result.problems.append(
                f"the page has {len(seen['math'])} equation(s) but no typeset math (mjx-container)"
            )
        for text in seen["rawTex"]:
            result.problems.append(f"TeX source shown as text: {text!r}")

    def _check_links(self, result: PageResult, links: Iterable[str], page: Path) -> None:
        checked: set[str] = set()
        for href in links:
            parts = urlsplit(href)
            if parts.scheme != "file" or href in checked:
                continue
            checked.add(href)
            result.links += 1
            target = Path(unquote(parts.path))
            if target.is_dir():
                target = target / "index.html"
            try:
                shown = target.resolve().relative_to(self.html_dir).as_posix()
            except ValueError:
                result.problems.append(f"link {href} points outside the book")
                continue
            if not target.is_file():
                result.problems.append(f"link {shown} points to a missing file")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html" and fragment not in self._page_ids(target):
                result.problems.append(f"link {shown}#{fragment}: no element with id {fragment!r}")

    def _page_ids(self, target: Path) -> set[str]:
        if target not in self._ids:
            parser = _Ids()
            parser.feed(target.read_text(encoding="utf-8"))
            self._ids[target] = parser.ids
        return self._ids[target]


def check_book(
    html_dir: Path,
    chromium: str,
    pages: Iterable[str] | None = None,
    screenshots: Path | None = None,
    deadline_s: float = 900.0,
) -> list[PageResult]:
    """Check the given pages (default: every page) of a built book, within deadline_s."""
    names = list(pages) if pages is not None else book_pages(html_dir)
    end = time.monotonic() + deadline_s
    results = []
    with BookBrowser(html_dir, chromium, screenshots) as browser:
        for name in names:
            if time.monotonic() > end:
                result = PageResult(name)
                result.problems.append(f"not checked: the run took over {deadline_s:.0f} s")
                results.append(result)
                continue
            results.append(browser.check(name))
    return results


def summary(results: list[PageResult]) -> dict[str, object]:
    """The counts of a run, as written to the browser report."""
    return {
        "pages": len(results),
        "figures": sum(r.figures for r in results),
        "links": sum(r.links for r in results),
        "widgets": sum(r.widgets for r in results),
        "equations": sum(r.equations for r in results),
        "texts": sum(r.texts for r in results),
        "screenshots": sum(1 for r in results if r.screenshot and r.screenshot.is_file()),
        "problems": {r.page: r.problems for r in results if r.problems},
    }
