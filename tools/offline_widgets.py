"""Sphinx extension of the book: widget JavaScript only where widgets are shown.

Jupyter Book 1 adds every ``*.js`` file below ``_static/`` to every page of the
book. For the widget files in ``_static/widgets/`` that is wrong: myst-nb
already adds RequireJS and the widget manager, in the right order and with
their attributes, to the pages that hold widget state (``nb_ipywidgets_js`` in
``_config.yml``). Loaded on every page, and in the wrong order, they would
fail on pages without widgets and render widgets twice on pages with them.
This extension takes them out of ``html_js_files`` again, and warns when the
files are missing (run ``python tools/fetch_widget_js.py`` or ``make widgets``).

It also adds a small script to the pages with widgets: ipywidgets typesets
widget labels through the MathJax 2 API (``MathJax.Hub.Queue``), while Sphinx
loads MathJax 3, which has no ``Hub``; on a page with both math and widgets every
label then raises a TypeError. The script provides ``MathJax.Hub.Queue`` and
hands the work to MathJax 3 when it is loaded (it does nothing otherwise, for
example when the page is read offline and MathJax could not be fetched).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

WIDGET_PREFIX = "widgets/"
REQUIRED = ("require.js", "embed-amd.js")

# Runs before embed-amd.js registers its own "load" handler, so MathJax.Hub exists
# before any widget is rendered. MathJax 3 has replaced window.MathJax by then
# (its script is deferred), so the property is set on the final object.
MATHJAX2_SHIM = """
window.addEventListener("load", function () {
  var mj = window.MathJax;
  if (mj === undefined || mj.Hub !== undefined) { return; }
  mj.Hub = {
    Queue: function (job) {
      var element = Array.isArray(job) ? job[2] : undefined;
      if (element && typeof mj.typesetPromise === "function") {
        mj.typesetPromise([element]).catch(function () {});
      }
    }
  };
});
""".strip()


def _filename(entry: Any) -> str:
    return entry[0] if isinstance(entry, tuple | list) else str(entry)


def _drop_global_widget_js(app: Sphinx, config: Config) -> None:
    config.html_js_files = [
        entry
        for entry in config.html_js_files
        if not _filename(entry).replace("\\", "/").startswith(WIDGET_PREFIX)
    ]
    # Jupyter Book appends "_static" again when it is already listed.
    config.html_static_path = list(dict.fromkeys(config.html_static_path))


def _check_widget_files(app: Sphinx) -> None:
    if app.builder is None or app.builder.format != "html":
        return
    static_dirs = [Path(app.confdir, p) for p in app.config.html_static_path]
    for name in REQUIRED:
        if not any((d / WIDGET_PREFIX / name).is_file() for d in static_dirs):
            logger.warning(
                "widget JavaScript %s%s is missing from _static/; widgets will not render "
                "in the built pages (run: python tools/fetch_widget_js.py)",
                WIDGET_PREFIX,
                name,
            )


def _page_has_widgets(app: Sphinx, pagename: str) -> bool:
    try:
        from myst_nb.sphinx_ import NbMetadataCollector
    except ImportError:  # pragma: no cover - myst-nb is always there in this book
        return False
    js_files = NbMetadataCollector.get_js_files(app.env, pagename)  # type: ignore[arg-type]
    return "ipywidgets_state" in js_files


def _add_mathjax2_shim(app: Sphinx, pagename: str, *args: Any) -> None:
    if app.builder is None or app.builder.format != "html":
        return
    if _page_has_widgets(app, pagename):
        # Priority below myst-nb's 500: the script comes before the widget scripts.
        app.add_js_file(None, body=MATHJAX2_SHIM, priority=450)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _drop_global_widget_js)
    app.connect("builder-inited", _check_widget_files)
    app.connect("html-page-context", _add_mathjax2_shim)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
