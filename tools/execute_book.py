"""Execute every chapter of the book, several at a time, into a new jupyter-cache.

Usage: ``python tools/execute_book.py [--jobs N] BOOK`` (default: one job per CPU), then
``jupyter-book build BOOK``, which takes every chapter from the cache (``execute_notebooks:
cache`` in ``_config.yml``) instead of executing them one after another. Each notebook of
``_toc.yml`` runs in its own kernel, forked from a server that has imported
:data:`PRELOAD` once (``forked_kernels.py``: about 2 s of imports saved per chapter), from
its own folder, with the cell timeout of ``_config.yml``, the longest in the last build
first (:func:`execution_order`), into a new cache in
``BOOK/_build/.jupyter_cache`` (myst-nb's default place). ``_build/reports/execution.json``
gets each chapter's wall time and its kernel's CPU seconds by what its cells do
(:func:`kind`), which compare builds on a busy machine where wall times cannot. If a
chapter fails, its traceback is printed, the exit status is 1 and nothing is cached.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import psutil
import toc
import yaml
from book_kernel import BookKernelManager
from forked_kernels import preloaded
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from nbclient import NotebookClient
from nbclient.exceptions import CellControlSignal, DeadKernelError
from traitlets.config import Config

CACHE = Path("_build") / ".jupyter_cache"
REPORT = Path("_build") / "reports" / "execution.json"


def cell_timeout(book: Path) -> int | None:
    """``execute.timeout`` of ``_config.yml`` (seconds per cell; None: no limit)."""
    config = yaml.safe_load((book / "_config.yml").read_text(encoding="utf-8")) or {}
    timeout = (config.get("execute") or {}).get("timeout", 30)
    return None if timeout is None or timeout < 0 else int(timeout)


def execution_order(notebooks: list[Path], seconds: dict[Path, float] | None = None) -> list[Path]:
    """The longest in the last build (``seconds``, :func:`last_seconds`) first, so that none
    starts last and finishes alone. Those without a time start before them: first those
    with ``"memnb": {"execute_first": true}`` in their metadata, then in ``_toc.yml`` order."""
    seconds = seconds or {}

    def key(path: Path) -> tuple[int, float]:
        if path in seconds:
            return (2, -seconds[path])
        metadata = nbformat.read(path, as_version=4).metadata
        return (0 if metadata.get("memnb", {}).get("execute_first", False) else 1, 0.0)

    return sorted(notebooks, key=key)


def last_seconds(book: Path) -> dict[Path, float]:
    """Each notebook's execution time in the cache of the last build (unreadable: none)."""
    if not (book / CACHE).is_dir():
        return {}
    try:
        records = get_cache(str(book / CACHE)).list_cache_records()
    except Exception as error:  # only the order depends on it
        print(f"note: the times of the last build are unreadable ({error})", file=sys.stderr)
        return {}
    times = {Path(r.uri): (r.data or {}).get("execution_seconds") for r in records}
    return {path: float(s) for path, s in times.items() if isinstance(s, int | float)}


# What every chapter imports, imported once by the server the kernels are forked from
# (never memnb.widgets or ipykernel.kernelapp: see forked_kernels).
PRELOAD = ["ipykernel.ipkernel", "torch", "memnb.experiments", "memnb.plots", "memnb.claims"]
KINDS = ("imports", "experiments", "figures", "glue")  # what a cell does (see kind)
GLUED = "application/papermill.record/"  # the MIME prefix of myst-nb's glued outputs
SHOWN = ("image/", "application/vnd.jupyter.widget-view+json")  # figures and widgets
HIDDEN = {"remove-cell", "remove-input"}  # the tags of the cells that check claims


def kind(cell: nbformat.NotebookNode) -> str:
    """What an executed code cell does: ``imports`` (an import statement), ``figures`` (it
    shows an image or a widget), ``glue`` (hidden, or it shows glued values only), else
    ``experiments`` (the protocols, their summaries and tables), in this precedence."""
    try:
        if any(isinstance(n, ast.Import | ast.ImportFrom) for n in ast.parse(cell.source).body):
            return "imports"
    except SyntaxError:  # IPython syntax (a magic): judged by its outputs
        pass
    mimes = [m for out in cell.get("outputs", []) for m in out.get("data", {})]
    if any(m.startswith(SHOWN) for m in mimes):
        return "figures"
    if HIDDEN & set(cell.metadata.get("tags", [])) or (
        mimes and all(m.startswith(GLUED) for m in mimes)
    ):
        return "glue"
    return "experiments"


class KernelClock:
    """CPU seconds (user and system, children included) of a client's kernel before its first
    cell and after each cell (nbclient's ``on_cell_execute`` and ``on_cell_executed``)."""

    def __init__(self) -> None:
        self.client: NotebookClient | None = None
        self.start: float | None = None  # before the first cell: the kernel's own start
        self.after: dict[int, float] = {}  # cell index -> kernel CPU seconds after it ran

    def _used(self) -> float:
        times = psutil.Process(self.client.km.kernel_pid).cpu_times()
        return times.user + times.system + times.children_user + times.children_system

    def before_cell(self, **_: object) -> None:
        if self.start is None:
            self.start = self._used()

    def after_cell(self, cell_index: int, **_: object) -> None:
        self.after[cell_index] = self._used()

    def split(self, notebook: nbformat.NotebookNode) -> dict[str, float]:
        """CPU seconds by :func:`kind`, and ``kernel``: its start, before the first cell."""
        seconds = dict.fromkeys(("kernel", *KINDS), 0.0)
        seconds["kernel"] = before = self.start or 0.0
        for index in sorted(self.after):
            seconds[kind(notebook.cells[index])] += self.after[index] - before
            before = self.after[index]
        return seconds


def execute(
    path: Path, timeout: int | None, forks: str = ""
) -> tuple[nbformat.NotebookNode, float, str | None, dict[str, float]]:
    """Execute one notebook in a new kernel (forked from the server at ``forks``, if given)
    from its folder: (notebook, seconds, error,
    :meth:`KernelClock.split`). The kernel is stopped at once after the last cell: a polite
    shutdown request sometimes went unanswered, and nbclient then waited 2.5 s for it."""
    notebook = nbformat.read(path, as_version=4)
    clock = KernelClock()
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_manager_class=BookKernelManager,
        config=Config({"BookKernelManager": {"forks": forks}}),
        shutdown_kernel="immediate",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_execute=clock.before_cell,
        on_cell_executed=clock.after_cell,
    )
    clock.client = client
    start, error = time.perf_counter(), None
    try:
        client.execute()
    except (CellControlSignal, DeadKernelError) as failure:  # a failed cell, a timeout
        error = str(failure)
    return notebook, time.perf_counter() - start, error, clock.split(notebook)


def execute_all(book: Path, jobs: int, fork: bool = True) -> bool:
    """Execute every notebook, ``jobs`` at a time, into a new cache; False if one failed.
    ``fork=False`` starts every kernel from scratch, not only the first one."""
    notebooks = execution_order(toc.notebooks(book), last_seconds(book))
    timeout = cell_timeout(book)
    print(f"executing {len(notebooks)} chapters, {jobs} at a time", flush=True)
    shutil.rmtree(book / CACHE, ignore_errors=True)
    start = time.perf_counter()
    # While the server imports (about 3 s), the first notebook runs in a kernel of its own,
    # so that both cores work from the start; the others wait for the server's forks.
    server = preloaded(PRELOAD) if fork else contextlib.nullcontext(lambda: "")
    with server as ready, ThreadPoolExecutor(max_workers=jobs) as pool:
        runs = [pool.submit(execute, path, timeout) for path in notebooks[:1]]
        runs += [pool.submit(lambda p: execute(p, timeout, ready()), p) for p in notebooks[1:]]
        try:
            results = [run.result() for run in runs]
        finally:  # after a Ctrl-C (or a failed server), no further chapter starts
            pool.shutdown(cancel_futures=True)
    failed = [(p, run[2]) for p, run in zip(notebooks, results, strict=True) if run[2]]
    for path, error in failed:
        print(f"error: {path.relative_to(book)} failed to execute:\n{error}", file=sys.stderr)
    if failed:
        return False
    cache = get_cache(str(book / CACHE))
    times, cpu = {}, {}
    for path, (notebook, seconds, _, split) in zip(notebooks, results, strict=True):
        bundle = CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds})
        cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
        name = path.relative_to(book).with_suffix("").as_posix()
        times[name], cpu[name] = seconds, split
    report = {"jobs": jobs, "seconds": time.perf_counter() - start, "chapters": times}
    report |= {"cpu_seconds": cpu, "forked": fork}
    (book / REPORT).parent.mkdir(parents=True, exist_ok=True)
    (book / REPORT).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("book", type=Path, help="the book's folder (with _toc.yml)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--fresh-kernels", action="store_true", help="start no kernel server")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be a positive integer, got {args.jobs}")
    if not (args.book / "_toc.yml").is_file():
        parser.error(f"{args.book} is not a book: it has no _toc.yml")
    return 0 if execute_all(args.book.resolve(), args.jobs, not args.fresh_kernels) else 1


if __name__ == "__main__":
    sys.exit(main())
