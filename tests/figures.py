"""What the figure tests share: the pixels of a small figure drawn in the book's theme."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from memnb import plots


def pixels(draw, figsize: tuple[float, float] = (3.2, 2.4)) -> np.ndarray:
    """The RGBA pixels of a small figure on which ``draw(ax)`` drew."""
    plots.set_theme()
    fig, ax = plt.subplots(figsize=figsize, dpi=60)
    draw(ax)
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba()).copy()
    plt.close(fig)
    return rgba
