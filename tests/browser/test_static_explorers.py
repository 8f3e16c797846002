"""Every explorer of the built book responds to its controls without a kernel, in Chromium.

For each chapter page with explorers, opened from disk (``file://``) and from a local
HTTP server (``python -m http.server`` on 127.0.0.1 and a free port), with every other
request refused: each control an explorer shows is moved to another of its values; the
figure shown must change, and must be the precomputed figure that the page's widget
state stores for the controls' new values. Every control of an explorer is one of those
grid controls (none is inert), and the page reports no error. Screenshots of each
explorer before and after its first move go to _build/screenshots/explorers/.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser_support import ROOT, html_dir, page_checks

HTML = html_dir()
SHOTS = HTML.parent / "screenshots" / "explorers"
CHANGE_TIMEOUT_S = 15

if not (HTML / "index.html").is_file():
    pytest.skip(
        f"the book is not built ({HTML / 'index.html'} is missing); run `make book` first",
        allow_module_level=True,
    )

# The chapters whose notebooks show an explorer, and so must have one in their page.
CHAPTERS = sorted(
    f"chapters/{path.stem}.html"
    for path in (ROOT / "chapters").glob("*.ipynb")
    if re.search(r"widgets\.\w+_explorer\(", path.read_text(encoding="utf-8"))
)

# The widget area of each explorer (its view script names the model), marked for locators.
_MARK = """(ids) => {
  const found = [];
  for (const script of document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]')) {
    const id = JSON.parse(script.textContent).model_id;
    const area = script.previousElementSibling;
    if (ids.includes(id) && area) { area.setAttribute("data-explorer", id); found.push(id); }
  }
  return found;
}"""

# The bytes of the figure an explorer shows, base64, and how many figures it shows.
_SHOWN = """async (area) => {
  const images = Array.from(area.querySelectorAll("img"));
  if (images.length !== 1) { return {count: images.length, data: null}; }
  const bytes = new Uint8Array(await (await fetch(images[0].src)).arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  }
  return {count: 1, data: btoa(text), width: images[0].naturalWidth};
}"""

# Everything in an explorer a reader can operate, and how much of it is a grid control.
_CONTROLS = """(area) => {
  const all = Array.from(area.querySelectorAll("select, input, button, textarea, .noUi-handle"));
  return {all: all.length, grid: all.filter((el) => el.closest(".memnb-grid-control")).length};
}"""


def widget_state(page: Path) -> dict:
    html = page.read_text(encoding="utf-8")
    match = re.search(
        r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>',
        html,
        re.DOTALL,
    )
    assert match, f"page {page.name}: no widget state stored"
    return json.loads(match.group(1))["state"]


def explorers(state: dict) -> dict[str, dict]:
    """Each explorer of a page: its grid controls' option labels, and its figures as a
    nested list (one level per control) of base64 PNGs, as stored in the page."""

    def ref(value: str) -> str:
        return value.removeprefix("IPY_MODEL_")

    def figures(model_id: str):
        model = state[model_id]
        if model["model_name"] == "ImageModel":
            buffers = {tuple(b["path"]): b["data"] for b in model.get("buffers", [])}
            return buffers[("value",)]
        return [figures(ref(child)) for child in model["state"]["children"]]

    found = {}
    for model_id, model in state.items():
        if "memnb-explorer" not in model["state"].get("_dom_classes", []):
            continue
        row, stack, _note = (ref(child) for child in model["state"]["children"])
        controls = [state[ref(c)]["state"] for c in state[row]["state"]["children"]]
        found[model_id] = {
            "labels": [c["_options_labels"] for c in controls],
            "kinds": [state[ref(c)]["model_name"] for c in state[row]["state"]["children"]],
            "figures": figures(stack),
        }
    return found


def expected(figures, indices: list[int]) -> str:
    for index in indices:
        figures = figures[index]
    return figures


@pytest.fixture(scope="module")
def server():
    """A local HTTP server on the built book, on a free port; stopped at the end."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=HTML,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/index.html", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"python -m http.server did not start on port {port}")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_every_chapter_with_an_explorer_was_found():
    assert len(CHAPTERS) >= 7, f"only {CHAPTERS} show an explorer"
    for page in CHAPTERS:
        assert explorers(widget_state(HTML / page)), f"page {page}: no explorer in its state"


class Explorer:
    """One explorer in the open page: read its controls and figure, move a control."""

    def __init__(self, page, model_id: str, stored: dict) -> None:
        self.page, self.stored = page, stored
        self.area = page.locator(f'[data-explorer="{model_id}"]')
        self.controls = self.area.locator(".memnb-grid-control")

    def shown(self) -> dict:
        return self.area.evaluate(_SHOWN)

    def indices(self) -> list[int]:
        found = []
        for number, (kind, labels) in enumerate(
            zip(self.stored["kinds"], self.stored["labels"], strict=True)
        ):
            control = self.controls.nth(number)
            if kind == "DropdownModel":
                found.append(control.locator("select").evaluate("(s) => s.selectedIndex"))
            else:
                found.append(labels.index(control.locator(".widget-readout").inner_text()))
        return found

    def move(self, number: int, index: int) -> None:
        """Move control ``number`` to option ``index`` as a reader would."""
        control = self.controls.nth(number)
        if self.stored["kinds"][number] == "DropdownModel":
            control.locator("select").select_option(index=index)
            return
        handle = control.locator(".noUi-handle")
        handle.focus()
        now = self.indices()[number]
        for _ in range(abs(index - now)):
            self.page.keyboard.press("ArrowRight" if index > now else "ArrowLeft")


@pytest.mark.parametrize("served", ["file", "http"])
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_explorer_shows_the_stored_figure_for_each_setting(browser, server, served, chapter):
    stored = explorers(widget_state(HTML / chapter))
    url = (HTML / chapter).as_uri() if served == "file" else f"{server}/{chapter}"
    allowed = ("file:" if served == "file" else server, "data:", "blob:", "about:")
    problems: list[str] = []
    context = browser.new_context(viewport=page_checks.VIEWPORT)
    try:

        def route(route):
            if route.request.url.startswith(allowed):
                route.continue_()
            else:
                problems.append(f"request outside the book refused: {route.request.url}")
                route.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.goto(url, wait_until="load", timeout=page_checks.LOAD_TIMEOUT_MS)
        marked = page.evaluate(_MARK, list(stored))
        assert sorted(marked) == sorted(stored), f"{chapter}: explorers without a view"
        for number, (model_id, grid) in enumerate(stored.items()):
            explorer = Explorer(page, model_id, grid)
            explorer.area.locator(".memnb-grid-control").first.wait_for(timeout=30_000)
            explorer.area.scroll_into_view_if_needed()
            shots = None
            if served == "file":
                shots = SHOTS / f"{Path(chapter).stem}-{number + 1}"
            check_explorer(explorer, f"{chapter} ({served}), explorer {number + 1}", shots)
        assert not problems, f"{chapter} ({served}): " + "; ".join(problems)
    finally:
        context.close()


def check_explorer(explorer: Explorer, where: str, shots: Path | None) -> None:
    """Move each grid control of ``explorer`` to its next value and check the figure;
    with ``shots``, save screenshots before and after the first move (``shots``-*.png)."""
    grid = explorer.stored
    reach = explorer.area.evaluate(_CONTROLS)
    assert reach["grid"] > 0 and reach["all"] == reach["grid"], (
        f"{where}: {reach['all'] - reach['grid']} of its {reach['all']} controls are not "
        "grid controls, and would do nothing without a kernel"
    )
    assert explorer.controls.count() == len(grid["labels"])
    indices = explorer.indices()
    shown = explorer.shown()
    assert shown["count"] == 1, f"{where}: it shows {shown['count']} figures, not one"
    assert shown["data"] == expected(grid["figures"], indices), (
        f"{where}: the figure shown at first is not the stored one for {indices}"
    )
    for number, labels in enumerate(grid["labels"]):
        target = (indices[number] + 1) % len(labels)
        if number == 0 and shots is not None:
            shots.parent.mkdir(parents=True, exist_ok=True)
            explorer.area.screenshot(path=f"{shots}-before.png")
        before = shown["data"]
        explorer.move(number, target)
        deadline = time.monotonic() + CHANGE_TIMEOUT_S
        while shown["data"] == before and time.monotonic() < deadline:
            explorer.area.page.wait_for_timeout(100)
            shown = explorer.shown()
        indices = explorer.indices()
        assert indices[number] == target, (
            f"{where}: control {number + 1} did not move to {labels[target]!r}"
        )
        assert shown["count"] == 1 and shown["data"] != before, (
            f"{where}: the figure did not change when control {number + 1} moved to "
            f"{labels[target]!r}: the control is inert"
        )
        setting = [ls[i] for ls, i in zip(grid["labels"], indices, strict=True)]
        assert shown["data"] == expected(grid["figures"], indices), (
            f"{where}: after moving control {number + 1} to {labels[target]!r} the figure "
            f"shown is not the one stored for {setting}"
        )
        assert base64.b64decode(shown["data"]).startswith(b"\x89PNG")
        if number == 0 and shots is not None:
            explorer.area.screenshot(path=f"{shots}-after.png")
