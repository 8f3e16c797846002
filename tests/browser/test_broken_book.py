"""The browser checks fail, naming the page, on a tiny book that is broken on purpose.

The book is built with the real book's configuration into a temporary folder. One page
is fine; the others have a figure whose rendering raises (a bad mathtext title) and a
figure file missing from the build, an explorer widget whose drawing function raises,
and broken links next to a script that throws.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from browser_support import ROOT, book_browser

BUILD_TIMEOUT_S = 300
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}

GOOD_FIGURE = """\
import matplotlib.pyplot as plt

fig, ax = plt.subplots()
ax.plot([0, 1, 2], [0, 1, 4])
ax.set_title("a good figure")
plt.show()"""

BAD_FIGURE = """\
fig, ax = plt.subplots()
ax.plot([0, 1], [1, 0])
ax.set_title(r"$\\frac{1$")  # mathtext that cannot be parsed: drawing raises
plt.show()"""

BAD_WIDGET = """\
import ipywidgets as widgets
import memnb


def draw(steps):
    raise RuntimeError(f"cannot draw steps={steps}")


memnb.widgets.explorer(draw, {"steps": widgets.IntSlider(value=3, min=1, max=5)})"""

LINKS = """\
# Links

<a href="missing.html">a page that does not exist</a> and
<a href="#nowhere">an anchor that does not exist</a>.

<script>throw new Error("a script that throws");</script>
"""


def notebook(title: str, *cells: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = KERNEL
    return nb


def book_config() -> dict:
    """The real book's _config.yml, with what points into the repository made absolute."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["title"] = "A broken book"
    config.pop("bibtex_bibfiles", None)
    config["exclude_patterns"] = ["_build", "_static"]
    sphinx = config.setdefault("sphinx", {})
    sphinx["local_extensions"] = {
        name: str(ROOT / path) for name, path in sphinx.get("local_extensions", {}).items()
    }
    return config


def write_book(src: Path) -> None:
    widgets = ROOT / "_static" / "widgets"
    if not (widgets / "embed-amd.js").is_file():
        pytest.fail(f"{widgets} is missing the widget JavaScript; run `make widgets` first")
    shutil.copytree(widgets, src / "_static" / "widgets")
    (src / "_config.yml").write_text(
        yaml.safe_dump(book_config(), sort_keys=False), encoding="utf-8"
    )
    toc = {
        "format": "jb-book",
        "root": "index",
        "chapters": [{"file": "figure"}, {"file": "widget"}, {"file": "links"}],
    }
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    (src / "index.md").write_text("# A broken book\n\nThis page is fine.\n", encoding="utf-8")
    (src / "links.md").write_text(LINKS, encoding="utf-8")
    nbformat.write(notebook("Figures", GOOD_FIGURE, BAD_FIGURE), src / "figure.ipynb")
    nbformat.write(notebook("Widget", BAD_WIDGET), src / "widget.ipynb")


@pytest.fixture(scope="module")
def results(tmp_path_factory, chromium) -> dict[str, book_browser.PageResult]:
    src = tmp_path_factory.mktemp("broken-book")
    out = tmp_path_factory.mktemp("broken-book-out")
    write_book(src)
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "JUPYTER_PREFER_ENV_PATH": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    build = subprocess.run(
        [str(bin_dir / "jupyter-book"), "build", str(src), "--path-output", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    html = out / "_build" / "html"
    assert build.returncode == 0, f"the broken book did not build:\n{build.stdout[-3000:]}"
    # A figure file that went missing from the build: the page links to nothing.
    figure_page = (html / "figure.html").read_text(encoding="utf-8")
    images = sorted(p for p in (html / "_images").iterdir() if p.name in figure_page)
    assert images, "the good figure of figure.html is not in _images/"
    images[0].unlink()
    found = book_browser.check_book(html, chromium, book_browser.book_pages(html))
    return {r.page: r for r in found}


def failure(result: book_browser.PageResult) -> str:
    with pytest.raises(AssertionError) as info:
        book_browser.assert_clean(result)
    message = str(info.value)
    assert message.startswith(f"page {result.page}:"), message
    return message


def test_a_good_page_passes(results):
    book_browser.assert_clean(results["index.html"])


def test_figures_that_fail_to_render_name_the_page(results):
    message = failure(results["figure.html"])
    assert "instead of the figure (not rendered)" in message, message
    assert "shows an error output" in message and "traceback" in message, message
    assert "is not rendered (broken or empty)" in message, message


def test_a_widget_whose_callback_raises_names_the_page(results):
    message = failure(results["widget.html"])
    assert "widget area 1 shows no figure" in message, message
    assert "cannot draw steps=3" in message, message


def test_broken_links_and_scripts_name_the_page(results):
    message = failure(results["links.html"])
    assert "missing.html points to a missing file" in message, message
    assert "no element with id 'nowhere'" in message, message
    assert "a script that throws" in message, message
