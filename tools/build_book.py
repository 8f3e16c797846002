"""Build the book with ``jupyter-book build``, reading (and so executing) chapters in parallel.

Usage: ``python tools/build_book.py [--jobs N] [jupyter-book build options] PATH``.

Jupyter Book 1 builds with one Sphinx process and has no option for more. Sphinx itself
reads documents in parallel worker processes when asked, and myst-nb, which executes a
notebook while reading it, supports that. This runs the ``jupyter-book build`` command
with Sphinx told to use ``--jobs`` processes (default: the number of CPUs), each taking
one document at a time, so a long chapter does not hold back a batch of others. Every
other option is passed to ``jupyter-book build`` unchanged.

Sphinx reads in parallel only when every extension says it may. One that Jupyter Book
always loads, sphinx_multitoc_numbering, says nothing, so Sphinx would fall back to one
process; all it does is replace how section numbers are assigned, which Sphinx does in
the main process after every document has been read, so it is declared safe here.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable, Sequence

import jupyter_book.sphinx
import sphinx.builders
import sphinx_multitoc_numbering
from jupyter_book.cli.main import build


def one_per_chunk(arguments: Sequence[str], nproc: int, maxbatch: int = 10) -> list[list[str]]:
    """Sphinx's work split for parallel reading, one document per task."""
    return [[name] for name in arguments]


def _declared_safe(setup: Callable[[object], object]) -> Callable[[object], dict]:
    @functools.wraps(setup)
    def wrapped(app: object) -> dict:
        setup(app)
        return {"parallel_read_safe": True, "parallel_write_safe": True}

    return wrapped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=False)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    known, rest = parser.parse_known_args(argv)
    if known.jobs < 1:
        parser.error(f"--jobs must be a positive integer, got {known.jobs}")
    jupyter_book.sphinx.build_sphinx = functools.partial(
        jupyter_book.sphinx.build_sphinx, jobs=known.jobs
    )
    sphinx.builders.make_chunks = one_per_chunk
    sphinx_multitoc_numbering.setup = _declared_safe(sphinx_multitoc_numbering.setup)
    return build.main(rest, prog_name="jupyter-book build", standalone_mode=True)


if __name__ == "__main__":
    sys.exit(main())
