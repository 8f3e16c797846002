"""tools/build_book.py: which notebooks start first, and where the executed ones go."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import build_book  # noqa: E402
import toc  # noqa: E402


def _notebook(path: Path, first: bool | None) -> Path:
    notebook = nbformat.v4.new_notebook()
    if first is not None:
        notebook.metadata["memnb"] = {"execute_first": first}
    nbformat.write(notebook, path)
    return path


def test_notebooks_that_ask_start_first_and_the_rest_keep_their_order(tmp_path):
    flags = {"a": None, "b": True, "c": False, "d": None, "e": True}
    paths = [_notebook(tmp_path / f"{name}.ipynb", flag) for name, flag in flags.items()]
    order = [p.stem for p in build_book.execution_order(paths)]
    assert order == ["b", "e", "a", "c", "d"]


def test_the_book_starts_with_its_performance_appendix():
    order = build_book.execution_order(toc.notebooks(ROOT))
    assert order[0].stem == "performance"
    assert sorted(order) == sorted(toc.notebooks(ROOT))
    assert [p for p in order[1:]] == [p for p in toc.notebooks(ROOT) if p.stem != "performance"]


def test_the_executed_notebooks_go_beside_the_built_book(tmp_path):
    book = tmp_path / "book"
    assert build_book.cache_folder(book, ["-W", str(book)]) == book / "_build" / ".jupyter_cache"
    out = tmp_path / "elsewhere"
    options = ["-W", "--path-output", str(out), str(book)]
    assert build_book.cache_folder(book, options) == out / "_build" / ".jupyter_cache"
    options = [f"--path-output={out}", str(book)]
    assert build_book.cache_folder(book, options) == out / "_build" / ".jupyter_cache"


def test_kernels_are_stopped_at_once_after_the_last_cell(tmp_path, monkeypatch):
    """A polite shutdown sometimes cost 2.5-3.5 s (see tools/kernel_polling.py)."""
    seen = {}

    def fake_execution(notebook, **options):
        seen.update(options)
        return type("Result", (), {"err": None, "time": 0.5, "exc_string": None})()

    monkeypatch.setattr(build_book, "single_nb_execution", fake_execution)
    notebook, seconds, error = build_book.execute(_notebook(tmp_path / "a.ipynb", None), 30)
    assert seen["shutdown_kernel"] == "immediate" and seen["timeout"] == 30
    assert (seconds, error) == (0.5, None)
