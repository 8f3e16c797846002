"""The documents a Jupyter Book (jb-book format) lists in its ``_toc.yml``."""

from __future__ import annotations

from pathlib import Path

import yaml

SUFFIXES = (".ipynb", ".md", ".rst")


def _files(entry: object) -> list[str]:
    """Every ``root`` and ``file`` of a table of contents, nested parts and sections too."""
    if isinstance(entry, list):
        return [name for item in entry for name in _files(item)]
    if not isinstance(entry, dict):
        return []
    found = [str(entry[key]) for key in ("root", "file") if key in entry]
    for key in ("parts", "chapters", "sections"):
        found += _files(entry.get(key, []))
    return found


def docnames(book: Path) -> list[str]:
    """The book's documents in table-of-contents order, root first, without suffix."""
    toc = yaml.safe_load((book / "_toc.yml").read_text(encoding="utf-8"))
    names = []
    for name in _files(toc):
        for suffix in SUFFIXES:
            name = name.removesuffix(suffix)
        names.append(name)
    return names


def notebooks(book: Path) -> list[Path]:
    """The documents of the table of contents that are notebooks, as paths."""
    paths = [book / f"{name}.ipynb" for name in docnames(book)]
    return [path for path in paths if path.is_file()]
