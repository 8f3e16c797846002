"""The documents of a Jupyter Book's ``_toc.yml``, as sphinx-external-toc reads it."""

from __future__ import annotations

from pathlib import Path

from sphinx_external_toc.api import FileItem
from sphinx_external_toc.parsing import parse_toc_yaml

SUFFIXES = (".ipynb", ".md", ".rst")  # a file may be named with its suffix


def docnames(book: Path) -> list[str]:
    """The book's documents in table-of-contents order, root first, without suffix."""
    site = parse_toc_yaml(book / "_toc.yml")

    def below(name: str) -> list[str]:
        items = [item for tree in site[name].subtrees for item in tree.items]
        return [name] + [
            found for item in items if isinstance(item, FileItem) for found in below(item)
        ]

    return [
        next((n.removesuffix(s) for s in SUFFIXES if n.endswith(s)), n)
        for n in below(site.root.docname)
    ]


def notebooks(book: Path) -> list[Path]:
    """The documents of the table of contents that are notebooks, as paths."""
    return [path for name in docnames(book) if (path := book / f"{name}.ipynb").is_file()]
