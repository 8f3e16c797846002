"""Sphinx extension of the book: write how long each chapter took to execute.

myst-nb keeps, for every notebook, how it was executed and how long it took (method,
run time, success) in the build environment; with ``tools/build_book.py`` the run time
is that of the execution just before Sphinx started, which myst-nb reads from its cache.
At the end of a build this extension writes that, one entry per executed document, to
``_build/reports/execution.json`` (next to the ``html`` folder), for the summary that
``make test`` prints. The Performance appendix shows the same numbers with myst-nb's
``nb-exec-table``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from myst_nb.sphinx_ import NbMetadataCollector
from sphinx.application import Sphinx

REPORT = Path("reports") / "execution.json"


def execution_times(app: Sphinx) -> dict[str, dict[str, Any]]:
    """``docname -> {"seconds", "succeeded", "method"}`` for every executed document."""
    times = {}
    for docname, data in sorted(NbMetadataCollector.get_doc_data(app.env).items()):
        run = data.get("exec_data")
        if not run:
            continue
        times[docname] = {
            "seconds": run.get("runtime"),
            "succeeded": bool(run.get("succeeded")),
            "method": run.get("method"),
        }
    return times


def write_report(app: Sphinx, exception: Exception | None) -> None:
    if app.builder.format != "html":
        return
    path = Path(app.outdir).parent / REPORT
    path.parent.mkdir(parents=True, exist_ok=True)
    report = {"complete": exception is None, "chapters": execution_times(app)}
    path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("build-finished", write_report)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
