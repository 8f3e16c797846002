"""Seconds each explorer of the book takes to redraw its figure at its default settings.

An explorer (``memnb.widgets.*_explorer``) redraws by calling its drawing function
(``memnb.widgets.*_figure``) with the controls' values and showing the figure; its
default settings are the explorer's own defaults, which is its first draw. A redraw here
is that call plus rendering the figure to PNG as Jupyter's inline backend does under the
book's theme (``IPython.core.pylabtools.print_figure`` without a tight bounding box, see
``memnb.plots.draw_inline_once``), timed in CPU seconds of
this process (``time.process_time``): on a machine shared with other work, the CPU time
of a one-thread run is what it would take on an idle one, where wall time is not. A
redraw should take less than ``TARGET`` seconds, so that moving a slider feels immediate.

Run: ``python benchmarks/explorers.py`` (``--help`` for the options).
"""

from __future__ import annotations

import argparse
import inspect
import time

import matplotlib.pyplot as plt
from _timing import machine, set_threads
from IPython.core.pylabtools import print_figure

from memnb import plots, widgets

TARGET = 0.5  # seconds: the longest a redraw should take
EXPLORERS = (
    "adaptation",
    "capacity",
    "forgetting",
    "keys",
    "completion",
    "dimensions",
    "sequences",
)


def defaults(name: str) -> dict[str, object]:
    """The default settings of ``name``'s explorer (its first draw)."""
    explorer = getattr(widgets, f"{name}_explorer")
    return {
        p.name: p.default
        for p in inspect.signature(explorer).parameters.values()
        if p.default is not inspect.Parameter.empty
    }


def redraw(name: str, settings: dict[str, object]) -> float:
    """CPU seconds of one redraw of ``name``'s explorer with ``settings``, its experiment
    computed afresh (the drawing functions keep their last results; a reader who moves a
    control to a new setting gets none of them)."""
    draw = getattr(widgets, f"{name}_figure")
    widgets._RESULTS.clear()
    start = time.process_time()
    fig = draw(**settings)
    print_figure(fig, "png", bbox_inches=None)
    seconds = time.process_time() - start
    plt.close(fig)
    return seconds


def measure(names: tuple[str, ...] = EXPLORERS, repeats: int = 2) -> list[dict]:
    """The fastest of ``repeats`` redraws of each explorer at its defaults, one row each
    (the first call of a process also loads code, which a reader's redraws do not pay)."""
    plots.set_theme()
    rows = []
    for name in names:
        settings = defaults(name)
        seconds = min(redraw(name, settings) for _ in range(repeats))
        rows.append(dict(explorer=name, settings=settings, seconds=seconds))
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| explorer | default settings | redraw (CPU s) | under target |",
        "|---|---|---:|---|",
    ]
    for r in rows:
        settings = ", ".join(f"{k}={v}" for k, v in r["settings"].items())
        verdict = "yes" if r["seconds"] < TARGET else "**no**"
        lines.append(f"| {r['explorer']} | {settings} | {r['seconds']:.2f} | {verdict} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    set_threads(args.threads)
    print(__doc__.splitlines()[0])
    print(f"fastest of {args.repeats} redraws, CPU seconds; target {TARGET} s; {machine()}")
    print(table(measure(repeats=args.repeats)))


if __name__ == "__main__":
    main()
