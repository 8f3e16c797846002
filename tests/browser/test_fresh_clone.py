"""The README's set-up on a fresh machine: a clean clone of HEAD builds the book.

The committed HEAD is cloned into a temporary folder, so nothing that git ignores comes
along (.venv, _build, _static/widgets). The book command of the README's quick start is
run there exactly as written, with the working copy's virtual environment off PATH and
pip, Jupyter, IPython and matplotlib pointed at empty caches and settings, so the clone
installs everything itself (the packages from the registries, the widget JavaScript
from npm). Then every page of the clone's _toc.yml must be in its _build/html.

Only the book command is run in the clone, not `make test`: `make test` runs this test,
so it would recurse. The other checks of `make test` are made by the run that started
this one, on the same committed files (CI runs on a clean clone of HEAD); together with
a set-up and build from nothing here, that covers what a reader does. Timings go to
_build/reports/fresh.json.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from browser_support import ROOT, toc_pages, write_report

CLONE_TIMEOUT_S = 300
BOOK_TIMEOUT_S = 3600
DROPPED = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")


def readme_book_command(readme: Path) -> str:
    """The command of the README's quick start that builds the book."""
    text = readme.read_text(encoding="utf-8")
    quick = re.search(r"^## Quick start\n(.*?)^## ", text, re.DOTALL | re.MULTILINE)
    assert quick, f"{readme} has no '## Quick start' section"
    block = re.search(r"```(?:sh|bash|shell)\n(.*?)```", quick.group(1), re.DOTALL)
    assert block, f"the quick start of {readme} has no shell block"
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    books = [c for c in commands if c.startswith("make book")]
    assert books, f"the quick start of {readme} shows no `make book` command: {commands}"
    return books[0]


def git(*args: str, cwd: Path = ROOT) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=CLONE_TIMEOUT_S
    )
    assert result.returncode == 0, f"git {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout.strip()


def fresh_env(base: Path) -> dict[str, str]:
    """This process's environment without the working copy's venv and with empty caches."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in DROPPED and not k.startswith(("JUPYTER", "PYTEST_"))
    }
    paths = env.get("PATH", "").split(os.pathsep)
    env["PATH"] = os.pathsep.join(p for p in paths if p and not Path(p).is_relative_to(ROOT))
    for name, folder in {
        "PIP_CACHE_DIR": "pip-cache",
        "XDG_CACHE_HOME": "cache",
        "JUPYTER_CONFIG_DIR": "jupyter-config",
        "JUPYTER_DATA_DIR": "jupyter-data",
        "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
        "IPYTHONDIR": "ipython",
        "MPLCONFIGDIR": "matplotlib",
    }.items():
        (base / folder).mkdir()
        env[name] = str(base / folder)
    return env


@pytest.fixture
def workdir():
    # Not pytest's tmp_path: the clone's venv is large and should not be kept around.
    base = Path(tempfile.mkdtemp(prefix="memnb-fresh-")).resolve()
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_readme_book_command_in_a_fresh_clone(workdir):
    command = readme_book_command(ROOT / "README.md")
    start = time.monotonic()
    clone = workdir / "memnb"
    git("clone", "--quiet", "--no-local", str(ROOT), str(clone), cwd=workdir)
    head = git("rev-parse", "HEAD")
    assert git("rev-parse", "HEAD", cwd=clone) == head, "the clone is not at HEAD"
    for ignored in (".venv", "_build", "_static/widgets"):
        assert not (clone / ignored).exists(), f"the clone has {ignored} before the build"

    log = workdir / "make-book.log"
    with log.open("w") as out:
        try:
            result = subprocess.run(
                shlex.split(command),
                cwd=clone,
                env=fresh_env(workdir),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=BOOK_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"`{command}` in a fresh clone took over {BOOK_TIMEOUT_S} s")
    output = log.read_text(encoding="utf-8", errors="replace")
    seconds = time.monotonic() - start
    assert result.returncode == 0, (
        f"`{command}` failed in a fresh clone of {head[:12]} (status {result.returncode}):\n"
        f"{output[-6000:]}"
    )

    html = clone / "_build" / "html"
    assert (html / "index.html").is_file(), f"`{command}` made no {html / 'index.html'}"
    pages = toc_pages(clone)
    missing = [p for p in pages if not (html / p).is_file()]
    assert not missing, f"`{command}` in a fresh clone did not build {missing}"
    assert (html / "_static" / "widgets" / "embed-amd.js").is_file(), (
        "the fresh clone's book has no widget JavaScript"
    )
    # The README says that make book prints the page to open and how long it took.
    assert str(html / "index.html") in output, "make book did not print the page to open"
    assert re.search(r"built in \d+(\.\d+)? ?s\b", output), (
        "make book did not print how long executing and building took"
    )
    write_report(
        "fresh.json",
        {"seconds": round(seconds, 1), "pages": len(pages), "commit": head, "command": command},
    )
