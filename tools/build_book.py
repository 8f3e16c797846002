"""Build the book with ``jupyter-book build``, executing the chapters several at a time.

Usage: ``python tools/build_book.py [--jobs N] [jupyter-book build options] PATH``.

Jupyter Book 1 executes the notebooks one after another while Sphinx reads them. This
executes every notebook of ``_toc.yml`` first, ``--jobs`` at a time (default: the number
of CPUs), each in a new kernel started from the notebook's folder with the timeout of
``_config.yml``, exactly as myst-nb would. The executed notebooks, with their execution
times, go into a new jupyter-cache folder (``_build/.jupyter_cache``, below
``--path-output`` when given), and the book is
then built by ``jupyter-book build`` with myst-nb told to take every notebook from that
cache (``nb_execution_mode = "cache"``), so nothing is executed twice and nothing from an
earlier build is used. A notebook that fails stops the build before Sphinx starts, with
its traceback and its name. Every other option is passed to ``jupyter-book build``.
Notebooks whose metadata holds ``"memnb": {"execute_first": true}`` are started before
the others.

The kernels are started from threads of this one process. While several kernels ran at
once (in these threads, or in the worker processes of Sphinx's own parallel reading), a
chapter sometimes waited the whole cell timeout (300 s) for a reply that its kernel had
already sent, and then went on: the wait on the kernel's socket had missed the socket's
wake-up and only looked again when its timeout ran out. ``kernel_polling`` makes every
wait on a kernel socket look again every few hundredths of a second, so such a miss
costs almost nothing.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jupyter_book.sphinx
import nbformat
import toc
import yaml
from jupyter_book.cli.main import build
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution
from kernel_polling import SHUTDOWN, patient_polling

CACHE = Path("_build") / ".jupyter_cache"


def cell_timeout(root: Path) -> int | None:
    """``execute.timeout`` of ``_config.yml`` (seconds per cell; None: no limit)."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    timeout = (config.get("execute") or {}).get("timeout", 30)
    return None if timeout is None or timeout < 0 else int(timeout)


def execute(path: Path, timeout: int | None) -> tuple[nbformat.NotebookNode, float, str | None]:
    """Execute one notebook in a new kernel from its folder; (notebook, seconds, error)."""
    notebook = nbformat.read(path, as_version=4)
    print(f"{path}: executing", flush=True)
    result = single_nb_execution(
        notebook,
        cwd=str(path.parent),
        timeout=timeout,
        allow_errors=False,
        meta_override=True,
        shutdown_kernel=SHUTDOWN,
    )
    error = None if result.err is None else (result.exc_string or repr(result.err))
    status = "failed" if error else f"executed in {result.time:.2f} s"
    print(f"{path}: {status}", flush=True)
    return notebook, result.time, error


def starts_first(path: Path) -> bool:
    """Does the notebook ask to be executed before the others (``memnb.execute_first``)?"""
    metadata = nbformat.read(path, as_version=4).metadata
    return bool(metadata.get("memnb", {}).get("execute_first", False))


def execution_order(notebooks: list[Path]) -> list[Path]:
    """The notebooks that ask to start first, then the others, each in ``_toc.yml`` order.

    With several kernels at once, a long notebook that started last would finish alone
    while the other cores idle; the Performance appendix, the longest, asks to start first.
    """
    return sorted(notebooks, key=lambda path: not starts_first(path))


def execute_all(root: Path, jobs: int, cache_dir: Path) -> bool:
    """Execute every notebook, ``jobs`` at a time, into a new cache; False if one failed."""
    notebooks, timeout = execution_order(toc.notebooks(root)), cell_timeout(root)
    patient_polling()
    shutil.rmtree(cache_dir, ignore_errors=True)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda p: execute(p, timeout), notebooks))
    failed = [(p, error) for p, (_, _, error) in zip(notebooks, results, strict=True) if error]
    for path, error in failed:
        print(f"\nerror: {path} failed to execute:\n{error}", file=sys.stderr)
    if failed:
        return False
    cache = get_cache(str(cache_dir))
    for path, (notebook, seconds, _) in zip(notebooks, results, strict=True):
        bundle = CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds})
        cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
    print(
        f"executed {len(notebooks)} notebooks, {jobs} at a time, in "
        f"{time.perf_counter() - start:.1f} s",
        flush=True,
    )
    return True


def cache_folder(root: Path, options: list[str]) -> Path:
    """Where the executed notebooks go: ``_build/.jupyter_cache`` beside the built book,
    below ``--path-output`` when jupyter-book is given one, else below the book's folder."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--path-output", type=Path, default=None)
    known, _ = parser.parse_known_args(options)
    return (root if known.path_output is None else known.path_output.resolve()) / CACHE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=False)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    known, rest = parser.parse_known_args(argv)
    if known.jobs < 1:
        parser.error(f"--jobs must be a positive integer, got {known.jobs}")
    sources = [a for a in rest if not a.startswith("-") and Path(a).is_dir()]
    if len(sources) != 1:
        parser.error(f"give the book's folder once among the options, got {sources or 'none'}")
    root = Path(sources[0]).resolve()
    cache_dir = cache_folder(root, rest)
    if not execute_all(root, known.jobs, cache_dir):
        return 1
    overrides = {"nb_execution_mode": "cache", "nb_execution_cache_path": str(cache_dir)}
    original = jupyter_book.sphinx.build_sphinx

    @functools.wraps(original)
    def from_cache(*args: object, confoverrides: dict | None = None, **kwargs: object) -> object:
        return original(*args, confoverrides={**(confoverrides or {}), **overrides}, **kwargs)

    jupyter_book.sphinx.build_sphinx = from_cache
    return build.main(rest, prog_name="jupyter-book build", standalone_mode=True)


if __name__ == "__main__":
    sys.exit(main())
