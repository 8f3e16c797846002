"""Chapters in a real JupyterLab, driven through headless Chromium as a reader would.

JupyterLab is started on 127.0.0.1 with a random port and token, on a copy of chapters/
($MEMNB_LAB_CHAPTERS to use another folder; the originals are never written to), with
its config, data, runtime, settings and workspace folders in a temporary folder. For
each chapter the test runs all cells from the Run menu, waits for the kernel to go
idle, checks that every code cell ran without a traceback, then moves the first slider
of the chapter's explorer one step with the keyboard and checks that the explorer's
figure (its PNG bytes) changes. JupyterLab is shut down in the fixture's teardown, also
when a test fails. Counts go to _build/reports/lab.json.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_support import ROOT, write_report

CHAPTERS = ["adaptation", "forgetting"]
START_TIMEOUT_S = 120
KERNEL_TIMEOUT_MS = 120_000
RUN_ALL_TIMEOUT_MS = 900_000
REDRAW_TIMEOUT_MS = 180_000
STOP_TIMEOUT_S = 30
VIEWPORT = {"width": 1400, "height": 1000}

# JupyterLab user settings: no news or update prompts (they would also need the
# network), no autosave, and every cell attached to the page, so none is skipped.
SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

PROMPTS = (
    "() => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))"
    ".map((p) => p.innerText.trim())"
)

# Every code cell has an execution count and the kernel is idle, or a cell failed and
# the rest of the queue was dropped (prompts back to "[ ]:", none running).
RUN_FINISHED = """() => {
  const prompts = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
    .map((p) => p.innerText.trim());
  const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
  const idle = !!indicator && indicator.dataset.status === 'idle';
  const running = prompts.some((p) => p === '[*]:');
  const ran = prompts.some((p) => /^\\[\\d+\\]:$/.test(p));
  return prompts.length > 0 && idle && !running && ran;
}"""

CELL_ERRORS = """() => Array.from(document.querySelectorAll('.jp-CodeCell')).flatMap((cell, i) =>
  Array.from(cell.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]'))
    .map((o) => o.innerText || '')
    .filter((t) => t.includes('Traceback') || /^\\w*(Error|Exception)\\b/m.test(t))
    .map((t) => [i + 1, t.slice(-3000)]))"""


@dataclass
class Lab:
    url: str
    token: str
    process: subprocess.Popen
    log: Path

    def api(self, path: str, method: str = "GET") -> bytes:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_settings(folder: Path) -> None:
    for plugin, values in SETTINGS.items():
        path = folder / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


def start_lab(base: Path) -> Lab:
    notebooks = base / "chapters"
    source = Path(os.environ.get("MEMNB_LAB_CHAPTERS", ROOT / "chapters"))
    shutil.copytree(source, notebooks, ignore=shutil.ignore_patterns(".ipynb_*"))
    state = {name: base / name for name in ("config", "data", "runtime", "settings", "workspaces")}
    for folder in state.values():
        folder.mkdir()
    write_settings(state["settings"])
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "JUPYTER_PREFER_ENV_PATH": "1",
        "JUPYTER_CONFIG_DIR": str(state["config"]),
        "JUPYTER_DATA_DIR": str(state["data"]),
        "JUPYTER_RUNTIME_DIR": str(state["runtime"]),
        "JUPYTERLAB_SETTINGS_DIR": str(state["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(state["workspaces"]),
        "IPYTHONDIR": str(base / "ipython"),
        "MPLCONFIGDIR": str(base / "matplotlib"),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    port, token = free_port(), secrets.token_hex(24)
    command = [
        str(bin_dir / "jupyter"),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={notebooks}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = base / "jupyterlab.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    lab = Lab(f"http://127.0.0.1:{port}", token, process, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with status {process.returncode}:\n{lab.log_tail()}")
        try:
            lab.api("/api/status")
            return lab
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                stop_lab(lab)
                pytest.fail(f"JupyterLab did not start in {START_TIMEOUT_S} s:\n{lab.log_tail()}")
            time.sleep(0.5)


def stop_lab(lab: Lab) -> None:
    """Ask the server to shut down (kernels included); end its process group if it does not."""
    try:
        lab.api("/api/shutdown", method="POST")
    except (urllib.error.URLError, OSError):
        pass
    try:
        lab.process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(lab.process.pid, signal.SIGTERM)
        try:
            lab.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(lab.process.pid, signal.SIGKILL)
            lab.process.wait(STOP_TIMEOUT_S)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = start_lab(tmp_path_factory.mktemp("jupyterlab"))
    try:
        yield lab
    finally:
        stop_lab(lab)


@pytest.fixture(scope="module")
def report():
    counts = {"chapters": [], "slider_changes": 0}
    yield counts
    write_report("lab.json", counts)


@contextlib.contextmanager
def step(notebook: str, what: str):
    """Turn a browser timeout or error into a failure that names the chapter and the step."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        yield
    except PlaywrightError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        pytest.fail(f"chapter {notebook} in JupyterLab: could not {what}: {first}")


def explorer_png(box) -> str | None:
    image = box.locator(".widget-output img").first
    if image.count() == 0:
        return None
    src = image.get_attribute("src") or ""
    prefix = "data:image/png;base64,"
    return src[len(prefix) :] if src.startswith(prefix) else None


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_runs_and_its_slider_redraws(browser, lab, report, chapter):
    from playwright.sync_api import Error as PlaywrightError

    name = f"{chapter}.ipynb"
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        # A workspace of its own per chapter: JupyterLab would reopen the last one's tabs.
        url = f"{lab.url}/lab/workspaces/{chapter}/tree/{name}?reset&token={lab.token}"
        with step(name, "open the notebook"):
            page.goto(url, timeout=KERNEL_TIMEOUT_MS)
            page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=KERNEL_TIMEOUT_MS)
        open_notebooks = page.locator(".jp-NotebookPanel").count()
        assert open_notebooks == 1, f"chapter {name}: {open_notebooks} notebooks open, not 1"
        # Run All before the kernel is connected queues nothing; wait until it is idle.
        with step(name, "start its kernel"):
            page.get_by_text(re.compile(r"\| Idle$")).wait_for(timeout=KERNEL_TIMEOUT_MS)
        with step(name, "Run > Run All Cells"):
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        with step(name, f"run all cells within {RUN_ALL_TIMEOUT_MS // 1000} s"):
            page.wait_for_function(RUN_FINISHED, timeout=RUN_ALL_TIMEOUT_MS, polling=1000)

        errors = page.evaluate(CELL_ERRORS)
        assert not errors, (
            f"chapter {name} in JupyterLab: code cell {errors[0][0]} failed:\n{errors[0][1]}"
        )
        prompts = page.evaluate(PROMPTS)
        not_run = [i + 1 for i, p in enumerate(prompts) if not p[1:-2].isdigit()]
        assert not not_run, f"chapter {name} in JupyterLab: code cells {not_run} did not run"

        # An explorer turns live (full controls, an output the kernel redraws) once the
        # kernel hears that JupyterLab shows it, which may come after the last cell.
        boxes = page.locator(".jp-Notebook .widget-vbox:has(.widget-output img)")
        with contextlib.suppress(PlaywrightError):
            boxes.first.wait_for(timeout=REDRAW_TIMEOUT_MS)
        assert boxes.count() > 0, f"chapter {name} in JupyterLab: no explorer shows a figure"
        # Pin the explorer: once redrawn it may no longer match the selector above.
        boxes.last.evaluate("(box) => box.setAttribute('data-explorer-under-test', '')")
        box = page.locator("[data-explorer-under-test]")
        box.scroll_into_view_if_needed()
        before = explorer_png(box)
        assert before, f"chapter {name} in JupyterLab: the explorer's figure is not a PNG"
        slider = box.locator(".widget-slider:not(.mod-disabled)").first
        assert slider.count() == 1, f"chapter {name} in JupyterLab: the explorer has no slider"
        with step(name, "move the explorer's slider with the keyboard"):
            readout = slider.locator(".widget-readout").inner_text()
            slider.locator(".noUi-handle").focus()
            page.keyboard.press("ArrowRight")

        deadline = time.monotonic() + REDRAW_TIMEOUT_MS / 1000
        after = before
        while after == before and time.monotonic() < deadline:
            page.wait_for_timeout(500)
            after = explorer_png(box) or before
            if "Traceback" in box.locator(".widget-output").inner_text():
                break
        moved = slider.locator(".widget-readout").inner_text()
        assert moved != readout, (
            f"chapter {name} in JupyterLab: the slider did not move (readout {readout!r})"
        )
        output = box.locator(".widget-output").inner_text()
        assert "Traceback" not in output, (
            f"chapter {name} in JupyterLab: the explorer raised after the slider moved "
            f"({readout} -> {moved}):\n{output[-2000:]}"
        )
        changed = after != before  # a bool, so a failure does not print both PNGs
        assert changed, (
            f"chapter {name} in JupyterLab: the figure did not change within "
            f"{REDRAW_TIMEOUT_MS // 1000} s after the slider moved ({readout} -> {moved})"
        )
        assert base64.b64decode(after).startswith(b"\x89PNG"), (
            f"chapter {name} in JupyterLab: the redrawn figure is not a PNG"
        )
        report["chapters"].append(chapter)
        report["slider_changes"] += 1
    finally:
        context.close()
        shutdown_kernels(lab)


def shutdown_kernels(lab: Lab) -> None:
    """End the chapter's kernel, so the next chapter does not share the CPU with it."""
    try:
        sessions = json.loads(lab.api("/api/sessions"))
        for session in sessions:
            lab.api(f"/api/sessions/{session['id']}", method="DELETE")
    except (urllib.error.URLError, OSError, ValueError):
        pass
