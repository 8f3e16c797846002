"""Sphinx extension of the book: vendored JavaScript only where it is needed, once.

Jupyter Book 1 adds every ``*.js`` file below ``_static/`` to every page of the
book. For the widget files in ``_static/widgets/`` that is wrong: myst-nb
already adds RequireJS and the widget manager, in the right order and with
their attributes, to the pages that hold widget state (``nb_ipywidgets_js`` in
``_config.yml``). Loaded on every page, and in the wrong order, they would
fail on pages without widgets and render widgets twice on pages with them.
The same holds for MathJax in ``_static/mathjax/``: Sphinx's math extension
loads it (``mathjax_path``), with its configuration, on the pages with math.
This extension takes both folders out of ``html_js_files`` again, and warns
when the files are missing (run ``make widgets``, which runs
``tools/fetch_widget_js.py`` and ``tools/fetch_mathjax.py``).

On the pages with widgets it tells RequireJS where the widget modules live. The
widget manager loads its icon fonts from the folder of its own module URL, which
RequireJS derives from the module's name (``@jupyter-widgets/...``) relative to
the page; without the mapping the fonts are asked for next to the page, where
there are none, instead of in ``_static/widgets/``.

Sphinx 7.4 adds an inline script that an extension registers after the builder
is set up (sphinx-thebe's configuration, sphinx-togglebutton's selector) twice
to every page: once as registered and once again, as a different entry, when the
pages are written. The second ``const THEBE_JS_URL`` then throws. The extension
removes such repeated scripts from each page.

It also adds a small script to the pages with widgets: ipywidgets typesets
widget labels through the MathJax 2 API (``MathJax.Hub.Queue``), while Sphinx
loads MathJax 3, which has no ``Hub``; on a page with both math and widgets every
label then raises a TypeError. The script provides ``MathJax.Hub.Queue`` and
hands the work to MathJax 3 when it is loaded (it does nothing otherwise, for
example on a page without math, where MathJax is not loaded).
"""

from __future__ import annotations

import json
import posixpath
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

WIDGET_PREFIX = "widgets/"
MATHJAX_PREFIX = "mathjax/"
VENDORED_PREFIXES = (WIDGET_PREFIX, MATHJAX_PREFIX)
REQUIRED = ("require.js", "embed-amd.js")
WIDGET_MANAGER = "embed-amd.js"
# The AMD modules that embed-amd.js defines; each one finds its files (the icon fonts)
# in the folder of its module URL, which RequireJS derives from these names.
WIDGET_MODULES = (
    "@jupyter-widgets/base",
    "@jupyter-widgets/base7",
    "@jupyter-widgets/controls",
    "@jupyter-widgets/controls7",
    "@jupyter-widgets/html-manager",
    "@jupyter-widgets/html-manager/dist/libembed-amd",
)

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


def _vendored(entry: Any) -> bool:
    return _filename(entry).replace("\\", "/").startswith(VENDORED_PREFIXES)


def _drop_global_vendored_js(app: Sphinx, config: Config) -> None:
    config.html_js_files = [entry for entry in config.html_js_files if not _vendored(entry)]
    config.html_css_files = [entry for entry in config.html_css_files if not _vendored(entry)]
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
    mathjax_path = str(app.config.mathjax_path or "")
    if mathjax_path.startswith(MATHJAX_PREFIX) and not any(
        (d / mathjax_path).is_file() for d in static_dirs
    ):
        logger.warning(
            "MathJax %s is missing from _static/; equations will not be typeset "
            "in the built pages (run: python tools/fetch_mathjax.py)",
            mathjax_path,
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


def _script_key(script: Any) -> tuple:
    attributes = getattr(script, "attributes", {})
    return (
        getattr(script, "filename", script) or "",
        getattr(script, "priority", 500),
        tuple(sorted((k, str(v)) for k, v in attributes.items())),
    )


def _drop_repeated_scripts(scripts: list[Any]) -> None:
    """Keep the first of each script (same file or inline body, same attributes)."""
    seen: set[tuple] = set()
    kept = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    scripts[:] = kept


def widget_module_paths(pagename: str) -> dict[str, str]:
    """RequireJS paths of the widget modules, relative to the page: in _static/widgets/."""
    folder = posixpath.relpath("_static/widgets", posixpath.dirname(pagename) or ".")
    return {name: f"{folder}/{name.rsplit('/', 1)[-1]}" for name in WIDGET_MODULES}


def _add_widget_module_paths(app: Sphinx, pagename: str, scripts: list[Any]) -> None:
    """Insert require.config({paths}) between require.js and the widget manager."""
    names = [posixpath.basename(str(getattr(s, "filename", "") or "")) for s in scripts]
    if WIDGET_MANAGER not in names:
        return
    index = names.index(WIDGET_MANAGER)
    body = f"require.config({{paths: {json.dumps(widget_module_paths(pagename))}}});"
    before = len(scripts)
    # Same priority as the widget manager, so sorting by priority keeps it just before.
    app.add_js_file(None, body=body, priority=getattr(scripts[index], "priority", 500))
    if len(scripts) == before + 1:
        scripts.insert(index, scripts.pop())


def _tidy_page_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, *args: Any
) -> None:
    if app.builder is None or app.builder.format != "html":
        return
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    _drop_repeated_scripts(scripts)
    _add_widget_module_paths(app, pagename, scripts)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _drop_global_vendored_js)
    app.connect("builder-inited", _check_widget_files)
    app.connect("html-page-context", _add_mathjax2_shim)
    # After every other handler has added its scripts to the page.
    app.connect("html-page-context", _tidy_page_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
