"""Fetch MathJax 3 for the built book, so equations are typeset offline.

Sphinx's math extension loads MathJax on the pages with math, from ``mathjax_path``
in ``_config.yml`` (``mathjax/es5/tex-mml-chtml.js``, relative to ``_static/``).
This script downloads the pinned ``mathjax`` release tarball from the npm registry,
checks its published sha512 integrity, and copies into ``_static/mathjax/`` what
typesetting needs:

- ``es5/tex-mml-chtml.js``, the TeX and MathML input with the HTML output;
- the web fonts of that output (``es5/output/chtml/fonts/woff-v2/``), which it
  loads from beside itself;
- the TeX extensions that it loads on demand when a page uses their macros
  (``es5/input/tex/extensions/``).

The accessibility tools of MathJax's context menu (speech, the expression explorer)
are left out. Only the standard library is used; running the script again does
nothing when the files are already in place with the expected content.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fetch_widget_js import (
    ROOT,
    FetchError,
    Package,
    command_line,
    download,
    manifest_holds,
    members,
    write_files,
)

DEFAULT_DEST = ROOT / "_static" / "mathjax"
ENTRY = "es5/tex-mml-chtml.js"
FOLDERS = ("es5/output/chtml/fonts/woff-v2/", "es5/input/tex/extensions/")
SUFFIXES = (".js", ".woff")
LAYOUT = 1

MATHJAX = Package(
    name="mathjax",
    version="3.2.2",
    url="https://registry.npmjs.org/mathjax/-/mathjax-3.2.2.tgz",
    integrity=(
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
    ),
    license_id="Apache-2.0",
    copyright="Copyright (c) 2009-2022 The MathJax Consortium",
)


def select_mathjax(files: dict[str, bytes]) -> dict[str, bytes]:
    """The entry script, its fonts and TeX extensions, and the license, by path below dest."""
    chosen: dict[str, bytes] = {}
    for path, content in files.items():
        if not path.startswith("package/"):
            continue
        name = path.removeprefix("package/")
        in_folder = any(
            name.startswith(folder) and "/" not in name[len(folder) :] for folder in FOLDERS
        )
        if name == ENTRY or (in_folder and name.endswith(SUFFIXES)):
            chosen[name] = content
    if ENTRY not in chosen:
        raise FetchError(f"mathjax tarball has no package/{ENTRY}")
    for folder in FOLDERS:
        if not any(name.startswith(folder) for name in chosen):
            raise FetchError(f"mathjax tarball has no files in package/{folder}")
    try:
        chosen["LICENSE"] = files["package/LICENSE"]
    except KeyError:
        raise FetchError("mathjax tarball has no package/LICENSE") from None
    return chosen


def wanted_manifest() -> dict[str, object]:
    return {
        # Bump when the set of extracted files changes, so older folders are refreshed.
        "layout": LAYOUT,
        "packages": {MATHJAX.name: {"version": MATHJAX.version, "integrity": MATHJAX.integrity}},
    }


def up_to_date(dest: Path) -> bool:
    """True when a previous run left every file in place with the recorded content."""
    return manifest_holds(dest, wanted_manifest(), (ENTRY,))


def fetch(dest: Path, force: bool = False) -> bool:
    """Put MathJax into dest. Returns False when nothing had to be done."""
    if not force and up_to_date(dest):
        return False
    print(f"fetching {MATHJAX.name}@{MATHJAX.version}", flush=True)
    write_files(dest, select_mathjax(members(download(MATHJAX))), wanted_manifest())
    return True


main = command_line(__doc__.splitlines()[0], fetch, DEFAULT_DEST, "MathJax")


if __name__ == "__main__":
    sys.exit(main())
