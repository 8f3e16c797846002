"""What the explorers' precomputed grids cost the built book: build time and page size.

Each explorer stores, in its page's widget state, the CPU seconds its kernel spent drawing
its grid (``grid_cpu_seconds``, see memnb.widgets) and the grid's figures as Image
models. ``measure(html_dir)`` reads both from every built page; ``report(html_dir)`` is
the text that ``tools/report.py build`` prints.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

STATE = re.compile(
    r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', re.DOTALL
)


def measure(html_dir: Path) -> dict[str, dict[str, float]]:
    """Per page with explorers: explorers, figures, grid CPU seconds, image and page bytes."""
    pages = {}
    for path in sorted(html_dir.rglob("*.html")):
        html = path.read_text(encoding="utf-8")
        found = {"explorers": 0, "figures": 0, "cpu_seconds": 0.0, "image_bytes": 0}
        for match in STATE.finditer(html):
            for model in json.loads(match.group(1)).get("state", {}).values():
                state = model.get("state", {})
                if "memnb-explorer" in state.get("_dom_classes", []):
                    found["explorers"] += 1
                    found["cpu_seconds"] += float(state.get("grid_cpu_seconds", 0.0))
                elif model.get("model_name") == "ImageModel":
                    found["figures"] += 1
                    found["image_bytes"] += len(json.dumps(model))
        if found["explorers"]:
            found["page_bytes"] = len(html.encode("utf-8"))
            pages[path.relative_to(html_dir).as_posix()] = found
    return pages


def report(html_dir: Path) -> str:
    """Lines on the grids of the built book, for the build report."""
    pages = measure(html_dir)
    if not pages:
        return "explorer grids: none found in the built pages"
    largest = max(pages, key=lambda page: pages[page]["image_bytes"])
    top = pages[largest]
    return (
        f"explorer grids: {sum(p['figures'] for p in pages.values())} figures for "
        f"{sum(p['explorers'] for p in pages.values())} explorers on {len(pages)} pages, "
        f"drawn in {sum(p['cpu_seconds'] for p in pages.values()):.1f} s of kernel CPU time "
        f"(at most {max(p['cpu_seconds'] for p in pages.values()):.1f} s in a chapter); "
        f"they add {sum(p['image_bytes'] for p in pages.values()) / 1e3:.0f} kB to the pages, "
        f"at most {top['image_bytes'] / 1e3:.0f} kB to one ({largest}, "
        f"{top['page_bytes'] / 1e3:.0f} kB in all)"
    )
