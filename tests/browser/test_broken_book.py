"""The browser checks fail, naming the page, on a tiny book that is broken on purpose.

The book is built with the real book's configuration into a temporary folder. One page
is fine (with a Markdown table, and words that look like missing values but are not), and
so is a page of equations typeset by the book's MathJax; the others have a figure whose
rendering raises (a bad mathtext title) and a figure file missing from the build, an
explorer widget whose drawing function raises, broken links next to a script that
throws, equations whose MathJax is loaded from a CDN (so, offline, they stay TeX),
Markdown shown as text instead of rendered, missing values shown as NaN and <NA>, outputs
wider than the content column, and outputs that are the repr of a Python object where a
figure or a table was meant.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from browser_support import ROOT, page_checks

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

MATH = """\
# Math

An inline equation $M \\leftarrow M + v k^\\top$ and a displayed one:

$$
\\sum_{n=1}^{N} v_n k_n^\\top
$$
"""
GOOD = """\
# A broken book

This page is fine. None of its words is a missing value; a reader's code may return
`NaN` or `None`, written as code.

| memory | capacity |
|---|---:|
| slots | 42 |
"""

# Markdown that reaches the page as text: a table rendered as CommonMark (which has no
# tables) and a heading printed instead of displayed.
RAW_MARKDOWN = (
    """\
from IPython.display import Markdown

Markdown("| memory | capacity |\\n|---|---:|\\n| slots | 42 |\\n| matrix | 136 |")""",
    'print("## Results\\n\\nThe capacity of each memory.")',
)

MISSING_VALUES = (
    """\
import numpy as np
import pandas as pd

pd.Series([pd.NA, 8], index=[0.01, 0.1], dtype="Int64").to_frame("elbow")""",
    'pd.DataFrame({"capacity": [np.nan, 42.0]}, index=["slots", "matrix"])',
)
NAN_PROSE = "The capacity of the slot memory is NaN here."

WIDE = (
    'print(" ".join(["wide"] * 10) + "-".join(["unbroken"] * 60))',
    """\
import pandas as pd

pd.DataFrame([[1.234567] * 30], columns=[f"column {i}" for i in range(30)])""",
)

REPRS = (
    """\
import matplotlib.pyplot as plt

fig, ax = plt.subplots()
ax.plot([0, 1], [1, 0])""",
    """\
fig, ax = plt.subplots()
ax.plot([0, 1], [0, 1])
ax.set_title("a title")""",
    """\
class Memory:
    pass


Memory()""",
    """\
import pandas as pd

print(pd.DataFrame({"capacity": [42.0, 136.1, 26.8]}, index=["slots", "matrix", "delta"]))""",
    """\
overlap, right = 0.2094, {"classical": 0, "modern": 12}
overlap, right""",
)

MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"


def notebook(title: str, *cells: str, prose: str = "") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\n{prose}".strip())]
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
    mathjax = ROOT / "_static" / "mathjax"
    if not (mathjax / "es5" / "tex-mml-chtml.js").is_file():
        pytest.fail(f"{mathjax} is missing MathJax; run `make widgets` first")
    shutil.copytree(mathjax, src / "_static" / "mathjax")
    (src / "_config.yml").write_text(
        yaml.safe_dump(book_config(), sort_keys=False), encoding="utf-8"
    )
    toc = {
        "format": "jb-book",
        "root": "index",
        "chapters": [
            {"file": "figure"},
            {"file": "widget"},
            {"file": "links"},
            {"file": "equations"},
            {"file": "math"},
            {"file": "markdown"},
            {"file": "missing_values"},
            {"file": "wide"},
            {"file": "reprs"},
        ],
    }
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    (src / "index.md").write_text(GOOD, encoding="utf-8")
    (src / "links.md").write_text(LINKS, encoding="utf-8")
    (src / "equations.md").write_text(MATH.replace("# Math", "# Equations"), encoding="utf-8")
    (src / "math.md").write_text(MATH, encoding="utf-8")
    nbformat.write(notebook("Figures", GOOD_FIGURE, BAD_FIGURE), src / "figure.ipynb")
    nbformat.write(notebook("Widget", BAD_WIDGET), src / "widget.ipynb")
    nbformat.write(notebook("Markdown", *RAW_MARKDOWN), src / "markdown.ipynb")
    missing = notebook("Missing values", *MISSING_VALUES, prose=NAN_PROSE)
    nbformat.write(missing, src / "missing_values.ipynb")
    nbformat.write(notebook("Wide outputs", *WIDE), src / "wide.ipynb")
    nbformat.write(notebook("Reprs", *REPRS), src / "reprs.ipynb")


@pytest.fixture(scope="module")
def results(tmp_path_factory, chromium) -> dict[str, page_checks.PageResult]:
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
    # The equations page loads MathJax from a CDN, as Sphinx does by default.
    math_page = html / "math.html"
    local = re.compile(r'src="_static/mathjax/es5/tex-mml-chtml\.js[^"]*"')
    text, count = local.subn(f'src="{MATHJAX_CDN}"', math_page.read_text(encoding="utf-8"))
    assert count == 1, "math.html does not load the book's MathJax once"
    math_page.write_text(text, encoding="utf-8")
    found = page_checks.check_book(html, chromium, page_checks.book_pages(html))
    return {r.page: r for r in found}


def failure(result: page_checks.PageResult) -> str:
    with pytest.raises(AssertionError) as info:
        page_checks.assert_clean(result)
    message = str(info.value)
    assert message.startswith(f"page {result.page}:"), message
    return message


def test_a_good_page_passes(results):
    page_checks.assert_clean(results["index.html"])
    page_checks.assert_clean(results["equations.html"])
    assert results["equations.html"].equations == 2, results["equations.html"]


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


def test_equations_that_are_not_typeset_name_the_page(results):
    message = failure(results["math.html"])
    assert f"loads {MATHJAX_CDN} from the network" in message, message
    assert "is not typeset (MathJax did not run)" in message, message
    assert "but no typeset math (mjx-container)" in message, message
    assert "TeX source shown as text" in message, message


def test_markdown_shown_as_text_names_the_page(results):
    message = failure(results["markdown.html"])
    assert "text shows Markdown source (a table rule)" in message, message
    assert "text shows Markdown source (a table row): '| memory | capacity |" in message, message
    assert "output shows Markdown source (a heading): '## Results" in message, message


def test_missing_values_shown_as_nan_name_the_page(results):
    message = failure(results["missing_values.html"])
    assert "table cell shows '<NA>' for a missing value" in message, message
    assert "table cell shows 'NaN' for a missing value" in message, message
    assert "text shows 'NaN' for a missing value: 'The capacity of the slot memory is NaN" in (
        message
    ), message


def test_outputs_wider_than_the_column_name_the_page(results):
    message = failure(results["wide.html"])
    assert re.search(r"- pre\S* is \d+ px wide, wider than the \d+ px content column", message), (
        message
    )
    assert re.search(r"- table is \d+ px wide, wider than the \d+ px content column", message), (
        message
    )


def test_reprs_instead_of_figures_or_tables_name_the_page(results):
    message = failure(results["reprs.html"])
    lines = r"shows '<matplotlib\.lines\.Line2D at 0x[0-9a-f]+>' instead"  # what ax.plot returns
    assert re.search(lines, message), message
    assert "shows \"Text(0.5, 1.0, 'a title')\" instead of a figure" in message, message
    assert re.search(r"shows '<__main__\.Memory (object )?at 0x[0-9a-f]+>' instead", message), (
        message
    )
    assert "an output is a frame printed as text: 'capacity slots 42.0" in message, message
    tuple_shown = "shows \"(0.2094, {'classical': 0, 'modern': 12})\" instead of a table"
    assert tuple_shown in message, message
