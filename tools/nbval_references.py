"""Write the book's executed chapters as nbval's references: the outputs a new run must match.

Usage: ``python tools/nbval_references.py BOOK DIR [--skip NAME ...]``; the counts go to
``_build/reports/nbval_references.json``.

Every chapter of ``_toc.yml`` but those skipped is taken from the book's jupyter-cache as
the build executed it (``tools/execute_book.py``) and written to DIR, where
``pytest --nbval DIR`` executes it again and compares every cell's outputs with these.
Two kinds of cell are tagged ``nbval-ignore-output`` (nbval runs them without comparing):

- a cell that ends with ``;``: nbval runs cells out of the kernel's history, where IPython
  looks for the semicolon, so there the cell also shows its last value (a legend, a line);
- a cell that shows a widget: its Output area reaches nbval as outputs of the cell, which
  has none in the book. Both only draw figures, whose images nbval does not compare.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import nbformat
import toc
from execute_book import CACHE, REPORT
from IPython.core.displayhook import DisplayHook
from jupyter_cache import get_cache

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IGNORE = "nbval-ignore-output"


def only_run(cell: nbformat.NotebookNode) -> bool:
    """Can nbval not compare this code cell's outputs with the book's (see above)?"""
    if any(WIDGET_VIEW in output.get("data", {}) for output in cell.outputs):
        return True
    return bool(cell.source.strip()) and DisplayHook.semicolon_at_end_of_expression(cell.source)


def write_references(book: Path, folder: Path, skip: list[str]) -> tuple[int, int]:
    """Write every chapter but ``skip``; (cells compared, cells only run)."""
    cache = get_cache(str(book / CACHE))
    folder.mkdir(parents=True, exist_ok=True)
    compared = run = 0
    for path in toc.notebooks(book):
        if path.stem in skip:
            continue
        try:
            _, executed = cache.merge_match_into_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            raise SystemExit(
                f"error: {path.relative_to(book)} is not in {book / CACHE} as it is now: "
                "build the book first (make book-strict)"
            ) from None
        for cell in executed.cells:
            if cell.cell_type == "code" and only_run(cell):
                cell.metadata.setdefault("tags", []).append(IGNORE)
                run += 1
            elif cell.cell_type == "code":
                compared += 1
        nbformat.write(executed, folder / path.name)
    return compared, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", type=Path, help="the book's folder (with _toc.yml)")
    parser.add_argument("folder", type=Path, help="where to write the notebooks")
    parser.add_argument("--skip", nargs="*", default=[], metavar="NAME", help="chapters left out")
    args = parser.parse_args(argv)
    if not (args.book / "_toc.yml").is_file():
        parser.error(f"{args.book} is not a book: it has no _toc.yml")
    book = args.book.resolve()
    unknown = set(args.skip) - {path.stem for path in toc.notebooks(book)}
    if unknown:
        parser.error(f"--skip names no chapter of {book / '_toc.yml'}: {sorted(unknown)}")
    compared, run = write_references(book, args.folder, args.skip)
    print(f"nbval references in {args.folder}: {compared} cells to compare, {run} only to run")
    counts = {"compared": compared, "run_only": run, "chapters_run_only": args.skip}
    (book / REPORT).parent.mkdir(parents=True, exist_ok=True)
    (book / REPORT).with_name("nbval_references.json").write_text(json.dumps(counts) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
