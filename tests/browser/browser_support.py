"""Paths and small helpers shared by the checks in tests/browser."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

import page_checks  # noqa: E402  (tests/browser/ is not a package)
import toc  # noqa: E402  (tools/ is not a package)

__all__ = ["page_checks"]


def html_dir() -> Path:
    """The built book to check: $MEMNB_BOOK_HTML, or _build/html of the repository."""
    return Path(os.environ.get("MEMNB_BOOK_HTML", ROOT / "_build" / "html")).resolve()


def reports_dir() -> Path:
    """Where the checks write their JSON reports: $MEMNB_REPORTS, or next to html/."""
    return Path(os.environ.get("MEMNB_REPORTS", html_dir().parent / "reports")).resolve()


def write_report(name: str, data: dict) -> Path:
    path = reports_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def toc_pages(book: Path = ROOT) -> list[str]:
    """The HTML pages the table of contents of a book asks for, e.g. chapters/intro.html."""
    return [f"{name}.html" for name in toc.docnames(book)]


def warn_loudly(config: pytest.Config, message: str) -> None:
    """Write a line to the terminal at once, past pytest's output capture."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(message, yellow=True, bold=True)
    else:
        print(message, file=sys.stderr)
