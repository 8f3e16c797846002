"""Sphinx extension of the book: each page loads the book's own JavaScript once, where needed.

- Jupyter Book adds every ``*.js`` file below ``_static/`` to every page. There, those are
  the widget manager (``widgets/``, with RequireJS and ``offline_widgets.js``) and MathJax
  (``mathjax/``), which the pages that need them already load, in order: myst-nb on the
  pages with widgets (``nb_ipywidgets_js`` in ``_config.yml``), Sphinx on the pages with
  math (``mathjax_path``). Loaded everywhere, the widget manager would fail on pages
  without widgets and render widgets twice on the others. This takes them out again.
- Sphinx 7.4 writes an inline script that an extension adds after the builder is set up
  (sphinx-thebe's configuration, sphinx-togglebutton's selector) twice into every page,
  and the second ``const THEBE_JS_URL`` throws. This keeps the first of each.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config


def _drop_static_js(app: Sphinx, config: Config) -> None:
    config.html_js_files = []


def _drop_repeated_scripts(app: Sphinx, pagename: str, template: str, context: dict, *_: Any):
    scripts, kept, seen = context.get("script_files", []), [], set()
    for script in scripts:
        key = repr((script.filename or "", script.priority, sorted(script.attributes.items())))
        if key not in seen:
            kept.append(script)
            seen.add(key)
    scripts[:] = kept


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _drop_static_js)
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}
