"""Every chapter, executed a second time in a fresh kernel, glues exactly the same values.

The book build (``make book-strict``) executes each chapter once; myst-nb keeps what the
chapter glued in ``_build/jupyter_execute/<chapter>.glue.json``. Here every chapter
notebook of ``_toc.yml`` is executed again, two at a time, each in its own kernel, and
every glued value (the numbers the prose states) must be equal to the build's, key by
key and byte for byte. A cell that raises (a failed assert included) fails its
chapter's test, as it fails the build.

Chapters whose glued values are timings of this machine (the Performance appendix) are
executed by the build only: a measured time is not expected to repeat. They are named
in ``MEASURES_TIME`` and reported as skipped.

The execution times of this second run go to ``_build/reports/repeat.json`` for the
summary of ``make test``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import toc  # noqa: E402
from kernel_polling import SHUTDOWN, patient_polling  # noqa: E402  (as the build does)

BUILD = ROOT / "_build"
EXECUTED = BUILD / "jupyter_execute"
REPORT = BUILD / "reports" / "repeat.json"
MEASURES_TIME = {"chapters/performance"}
CELL_TIMEOUT = 300  # seconds, as in _config.yml
WORKERS = min(2, os.cpu_count() or 1)


CHAPTERS = [p.relative_to(ROOT).with_suffix("").as_posix() for p in toc.notebooks(ROOT)]

if not EXECUTED.is_dir():
    pytest.skip(
        f"the book is not built ({EXECUTED} is missing); run `make book-strict` first",
        allow_module_level=True,
    )


def glued(notebook: nbformat.NotebookNode) -> dict[str, dict[str, object]]:
    """``name -> mime bundle`` of every value a notebook glued (myst-nb's ``glue``)."""
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            if not record:
                continue
            prefix = record.get("mime_prefix", "")
            values[record["name"]] = {
                mime.removeprefix(prefix): content for mime, content in output["data"].items()
            }
    return values


def execute(docname: str) -> dict[str, object]:
    """Execute one chapter in a new kernel, from its own folder, as the build does."""
    path = ROOT / f"{docname}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name=notebook.metadata.get("kernelspec", {}).get("name", "python3"),
        resources={"metadata": {"path": str(path.parent)}},
        shutdown_kernel=SHUTDOWN,
    )
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as failure:
        error = str(failure)
    return {
        "seconds": time.perf_counter() - start,
        "error": error,
        "glue": glued(notebook),
    }


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, object]]:
    chapters = [c for c in CHAPTERS if c not in MEASURES_TIME]
    patient_polling()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = dict(zip(chapters, pool.map(execute, chapters), strict=True))
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "workers": WORKERS,
        "seconds": time.perf_counter() - start,
        "chapters": {
            c: {"seconds": r["seconds"], "ok": r["error"] is None} for c, r in results.items()
        },
    }
    REPORT.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return results


def test_the_toc_has_chapters():
    assert len(CHAPTERS) >= 7, CHAPTERS


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapter_executes_again(runs, docname):
    if docname in MEASURES_TIME:
        pytest.skip(f"{docname} glues timings of this machine; the build executes it once")
    error = runs[docname]["error"]
    assert error is None, f"{docname}: a cell failed when executed again:\n{error[-3000:]}"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_glued_values_repeat(runs, docname):
    if docname in MEASURES_TIME:
        pytest.skip(f"{docname} glues timings of this machine; the build executes it once")
    path = EXECUTED / f"{docname}.glue.json"
    assert path.is_file(), f"{docname}: the build wrote no glued values ({path} is missing)"
    built = {k: v["data"] for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
    again = runs[docname]["glue"]
    assert runs[docname]["error"] is None, f"{docname} did not execute again (see the other test)"
    assert built, f"{docname} glues nothing: its prose states no computed number"
    assert sorted(again) == sorted(built), (
        f"{docname}: the second execution glued other names: only in the build "
        f"{sorted(set(built) - set(again))}, "
        f"only in the second run {sorted(set(again) - set(built))}"
    )
    changed = {k: (built[k], again[k]) for k in built if built[k] != again[k]}
    assert not changed, (
        f"{docname}: {len(changed)} glued values changed between two executions: "
        + "; ".join(
            f"{k}: {a.get('text/plain', a)!s:.60} then {b.get('text/plain', b)!s:.60}"
            for k, (a, b) in list(changed.items())[:10]
        )
    )
