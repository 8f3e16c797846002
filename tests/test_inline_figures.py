"""plots.draw_inline_once: under the inline backend a figure is drawn once per cell.

pyplot's REPL hook redraws every stale figure after a cell, and the inline backend then
renders the figure again for its PNG and closes it, so the hook's drawing is never seen.
These tests execute small notebooks in a kernel and count the figure's ``draw_event``s.
"""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import book_kernel  # noqa: E402  (tools/ is not a package)

SETUP = """import matplotlib.pyplot as plt
from memnb import plots
DRAWS = []
def watched(**kw):
    fig, ax = plt.subplots(**kw)
    fig.canvas.mpl_connect("draw_event", lambda event: DRAWS.append(event.renderer))
    ax.plot([1, 2, 3], label="a line")
    ax.legend(loc="upper left", bbox_to_anchor=(1, 1))
    return fig
"""


def run(*cells: str) -> list[nbformat.NotebookNode]:
    """Execute ``cells`` in a new kernel: the executed cells."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(
        notebook, timeout=120, kernel_manager_class=book_kernel.BookKernelManager
    ).execute()
    return notebook.cells


def images(cell: nbformat.NotebookNode) -> list[Image.Image]:
    return [
        Image.open(io.BytesIO(base64.b64decode(out["data"]["image/png"])))
        for out in cell.outputs
        if "image/png" in out.get("data", {})
    ]


def printed(cell: nbformat.NotebookNode) -> str:
    return "".join(out.get("text", "") for out in cell.outputs).strip()


def test_the_theme_draws_an_inline_figure_once_and_keeps_its_legend():
    cells = run(
        SETUP + "print(plots.set_theme())",
        "fig = watched()",
        "print(len(DRAWS))",
        "print(plots.draw_inline_once())",
    )
    (shown,) = images(cells[1])
    # The layout engine's measuring pass (it renders nothing) and the PNG's own draw.
    assert printed(cells[2]) == "2"
    assert printed(cells[3]) == "True"
    # Nothing clipped: the legend outside the axes is inside the canvas (the figure's own
    # size at its dpi, and the right-hand columns hold the legend's dark text).
    width, height = shown.size
    assert (width, height) == (640, 400), shown.size
    right = shown.convert("L").crop((int(0.75 * width), 0, width, height))
    assert right.getextrema()[0] < 100


def test_without_the_theme_the_hook_and_the_tight_box_draw_it_again():
    cells = run(SETUP, "fig = watched(layout='constrained')", "print(len(DRAWS))")
    assert len(images(cells[1])) == 1
    assert printed(cells[2]) == "3"  # the stock setting: the hook's draw comes on top


def test_outside_ipython_nothing_changes():
    from memnb import plots

    assert plots.draw_inline_once() is False
