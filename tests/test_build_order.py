"""tools/execute_book.py and tools/nbval_references.py: the order in which chapters run,
what the book build takes from the cache, and the references nbval compares with."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from jupyter_cache import get_cache

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import execute_book  # noqa: E402  (tools/ is not a package)
import nbval_references  # noqa: E402
import toc  # noqa: E402


def _notebook(path: Path, first: bool | None = None, *cells: str) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    if first is not None:
        notebook.metadata["memnb"] = {"execute_first": first}
    nbformat.write(notebook, path)
    return path


def _book(folder: Path, chapters: dict[str, tuple[str, ...]]) -> Path:
    """A book of notebooks (name -> cell sources) with a 20 s cell timeout."""
    (folder / "chapters").mkdir(parents=True)
    config = {"execute": {"execute_notebooks": "cache", "timeout": 20}}
    (folder / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    entries = [{"file": f"chapters/{name}"} for name in chapters]
    toc_yml = {"format": "jb-book", "root": "chapters/intro", "chapters": entries}
    (folder / "_toc.yml").write_text(yaml.safe_dump(toc_yml), encoding="utf-8")
    (folder / "chapters" / "intro.md").write_text("# A book\n", encoding="utf-8")
    for name, cells in chapters.items():
        _notebook(folder / "chapters" / f"{name}.ipynb", None, *cells)
    return folder


def test_notebooks_that_ask_start_first_and_the_rest_keep_their_order(tmp_path):
    flags = {"a": None, "b": True, "c": False, "d": None, "e": True}
    paths = [_notebook(tmp_path / f"{name}.ipynb", flag) for name, flag in flags.items()]
    order = [p.stem for p in execute_book.execution_order(paths)]
    assert order == ["b", "e", "a", "c", "d"]


def test_the_book_starts_with_its_longest_chapter():
    order = execute_book.execution_order(toc.notebooks(ROOT))
    assert order[0].stem == "capacity"
    assert order[1:] == [p for p in toc.notebooks(ROOT) if p.stem != "capacity"]


def test_the_last_builds_times_put_the_longest_first_after_the_new_ones(tmp_path):
    flags = {"a": None, "b": True, "c": None, "d": None, "e": None}
    paths = [_notebook(tmp_path / f"{name}.ipynb", flag) for name, flag in flags.items()]
    seconds = dict(zip(paths[2:], (3.0, 9.0, 5.0), strict=True))  # a and b are new
    order = [p.stem for p in execute_book.execution_order(paths, seconds)]
    assert order == ["b", "a", "d", "e", "c"]


def test_the_cell_timeout_is_the_books(tmp_path):
    assert execute_book.cell_timeout(ROOT) == 300
    assert execute_book.cell_timeout(_book(tmp_path, {})) == 20


def test_every_chapter_goes_into_a_new_cache_that_the_build_can_match(tmp_path):
    book = _book(tmp_path, {"one": ("import os\nos.getcwd()",), "two": ("2 + 2",)})
    (book / execute_book.CACHE).mkdir(parents=True)
    (book / execute_book.CACHE / "left-over").write_text("from an earlier build")
    assert execute_book.last_seconds(book) == {}  # the left-over is no cache
    assert execute_book.execute_all(book, jobs=2)
    cache = get_cache(str(book / execute_book.CACHE))
    seconds = execute_book.last_seconds(book)
    assert sorted(seconds) == toc.notebooks(book) and all(s > 0 for s in seconds.values())
    assert not (book / execute_book.CACHE / "left-over").exists()
    assert len(cache.list_cache_records()) == 2
    for name, shown in (("one", repr(str(book / "chapters"))), ("two", "4")):
        # What myst-nb does in `execute_notebooks: cache` mode, with the committed source.
        source = nbformat.read(book / "chapters" / f"{name}.ipynb", as_version=4)
        _, executed = cache.merge_match_into_notebook(source)
        assert executed.cells[0].outputs[0]["data"]["text/plain"] == shown
    report = json.loads((book / execute_book.REPORT).read_text(encoding="utf-8"))
    assert sorted(report["chapters"]) == ["chapters/one", "chapters/two"]
    assert report["jobs"] == 2 and all(s > 0 for s in report["chapters"].values())


def test_a_failing_chapter_stops_the_build_and_caches_nothing(tmp_path, capsys):
    book = _book(tmp_path, {"good": ("1",), "bad": ("assert 1 == 2, 'a claim that fails'",)})
    assert not execute_book.execute_all(book, jobs=2)
    err = capsys.readouterr().err
    assert "chapters/bad.ipynb failed to execute" in err and "a claim that fails" in err
    assert "good" not in err
    assert not (book / execute_book.CACHE).exists()


def test_kernels_are_stopped_at_once_after_the_last_cell(tmp_path, monkeypatch):
    """A polite shutdown sometimes cost 2.5-3.5 s (see execute_book.execute)."""
    seen = {}

    class Client:
        def __init__(self, notebook, **options):
            seen.update(options)

        def execute(self):
            pass

    monkeypatch.setattr(execute_book, "NotebookClient", Client)
    execute_book.execute(_notebook(tmp_path / "a.ipynb"), 30)
    assert seen["shutdown_kernel"] == "immediate" and seen["timeout"] == 30
    assert seen["kernel_manager_class"].__name__ == "BookKernelManager"
    assert seen["config"].BookKernelManager.forks == ""  # no server: a kernel from scratch
    assert seen["resources"] == {"metadata": {"path": str(tmp_path)}}


def test_the_command_line_names_a_bad_book_or_job_count(tmp_path, capsys):
    with pytest.raises(SystemExit):
        execute_book.main([str(tmp_path)])
    assert "has no _toc.yml" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        execute_book.main([str(ROOT), "--jobs", "0"])
    assert "--jobs must be a positive integer, got 0" in capsys.readouterr().err


def _code(source: str, *outputs: dict) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def test_cells_that_nbval_cannot_compare_are_only_run():
    view = {"output_type": "execute_result", "execution_count": 1, "metadata": {}}
    view["data"] = {"application/vnd.jupyter.widget-view+json": {}, "text/plain": "VBox()"}
    assert nbval_references.only_run(_code("ax.legend();  # a comment"))
    assert nbval_references.only_run(_code("explorer()", view))
    assert not nbval_references.only_run(_code("x = 'a;'"))
    assert not nbval_references.only_run(_code("frame.head()"))
    assert not nbval_references.only_run(_code(""))


def test_references_come_from_the_cache_with_their_tags(tmp_path, capsys):
    book = _book(tmp_path / "book", {"a": ("1 + 1", "print(2);"), "skip": ("3",)})
    assert execute_book.execute_all(book, jobs=1)
    out = tmp_path / "references"
    assert nbval_references.main([str(book), str(out), "--skip", "skip"]) == 0
    assert "1 cells to compare, 1 only to run" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["a.ipynb"]
    cells = nbformat.read(out / "a.ipynb", as_version=4).cells
    assert cells[0].outputs[0]["data"]["text/plain"] == "2"
    assert "tags" not in cells[0].metadata
    assert cells[1].metadata["tags"] == [nbval_references.IGNORE]
    counts = json.loads((book / "_build" / "reports" / "nbval_references.json").read_text())
    assert counts == {"compared": 1, "run_only": 1, "chapters_run_only": ["skip"]}


def test_references_of_a_chapter_changed_since_the_build_are_refused(tmp_path):
    book = _book(tmp_path / "book", {"a": ("1 + 1",)})
    assert execute_book.execute_all(book, jobs=1)
    _notebook(book / "chapters" / "a.ipynb", None, "1 + 2")
    with pytest.raises(SystemExit, match="chapters/a.ipynb is not in .* as it is now"):
        nbval_references.write_references(book, tmp_path / "references", [])
    with pytest.raises(SystemExit):
        nbval_references.main([str(book), str(tmp_path / "references"), "--skip", "nope"])


def test_every_chapter_reports_its_kernel_cpu_by_what_its_cells_do(tmp_path):
    cells = ("import math", "sum(i * i for i in range(10**6))", "x = 1")
    book = _book(tmp_path, {"one": cells})
    assert execute_book.execute_all(book, jobs=1)
    report = json.loads((book / execute_book.REPORT).read_text(encoding="utf-8"))
    split = report["cpu_seconds"]["chapters/one"]
    assert set(split) == {"kernel", *execute_book.KINDS}
    assert split["kernel"] > 0 and split["experiments"] > 0
    assert split["figures"] == 0 == split["glue"]


def test_cells_are_classified_by_what_they_do():
    image = {"output_type": "display_data", "metadata": {}, "data": {"image/png": ""}}
    glued = {"output_type": "display_data", "metadata": {}}
    glued["data"] = {"application/papermill.record/text/plain": "1"}
    table = {"output_type": "execute_result", "execution_count": 1, "metadata": {}}
    table["data"] = {"text/plain": "frame"}
    hidden = _code("claims.check('x', True)")
    hidden.metadata["tags"] = ["remove-cell"]
    assert execute_book.kind(_code("import torch\nx = 1")) == "imports"
    assert execute_book.kind(_code("ax = plots.curve(frame)", image)) == "figures"
    assert execute_book.kind(_code("claims.glue(n=1)", glued)) == "glue"
    assert execute_book.kind(hidden) == "glue"
    assert (
        execute_book.kind(_code("frame = capacity(memory)\nframe.head()", table)) == "experiments"
    )
    assert execute_book.kind(_code("%time 1")) == "experiments"


def test_the_book_tools_stay_lean():
    # The scaffolding of the build (tools/) is kept to 800 lines: where a maintained tool
    # does a job, it does it instead.
    files = [path for path in (ROOT / "tools").iterdir() if path.is_file()]
    lines = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in files}
    assert sum(lines.values()) <= 800, f"tools/ has {sum(lines.values())} lines: {lines}"


def test_the_table_of_contents_is_read_in_order_through_parts_and_sections(tmp_path):
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n"
        "  - caption: One\n    chapters:\n"
        "      - file: a.ipynb\n        sections:\n          - file: a1\n          - file: a2.md\n"
        "      - file: b\n"
        "  - caption: Two\n    chapters:\n      - file: c\n      - url: https://example.org\n"
        "        title: elsewhere\n",
        encoding="utf-8",
    )
    for name in ("intro.md", "a.ipynb", "a1.ipynb", "a2.md", "b.md", "c.ipynb"):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    assert toc.docnames(tmp_path) == ["intro", "a", "a1", "a2", "b", "c"]
    assert [path.name for path in toc.notebooks(tmp_path)] == ["a.ipynb", "a1.ipynb", "c.ipynb"]
