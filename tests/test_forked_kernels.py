"""tools/forked_kernels.py: kernels forked from a server with the chapters' imports done
behave as kernels started from scratch (folder, environment, streams, signals, exit)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from nbclient import NotebookClient
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import book_kernel  # noqa: E402  (tools/ is not a package)
import execute_book  # noqa: E402
import forked_kernels  # noqa: E402

# What a kernel reports about itself; each line must read the same in both kinds of kernel
# (JPY_SESSION_NAME and the parent's pid are the same for both: one client process).
PROBE = """
import json, os, re, signal, sys
import matplotlib
import pandas as pd
described = pd.describe_option("display", _print_desc=False)
from ipykernel.kernelapp import IPKernelApp
app = IPKernelApp.instance()
print(json.dumps({
    "cwd": os.getcwd(),
    "path0": sys.path[0],
    "environment": sorted(set(os.environ) - {"JPY_SESSION_NAME", "MEMNB_PRELOADED"}),
    "preloaded": json.loads(os.environ.get("MEMNB_PRELOADED", "{}")),
    "parent": os.environ.get("JPY_PARENT_PID"),
    "parent_handle": app.parent_handle,
    "backend": matplotlib.get_backend(),
    "own_session": os.getsid(0) == os.getpid(),
    "sigchld": str(signal.getsignal(signal.SIGCHLD)),
    "sigint": getattr(signal.getsignal(signal.SIGINT), "__name__", "?"),
    "widgets_loaded": "ipywidgets" in sys.modules,
    "pandas": {k: repr(pd.get_option(k)) for k in re.findall(r"^(display\\S+) :", described, re.M)},
    "matplotlib": [matplotlib.is_interactive(), sorted(map(repr, matplotlib.rcParams.items()))],
    "argv0": os.path.basename(sys.argv[0]),
}, sort_keys=True))
"""


@pytest.fixture(scope="module")
def server():
    with forked_kernels.preloaded(execute_book.PRELOAD) as ready:  # the book's modules
        yield ready()


def run(code: str, folder: Path, forks: str, **options) -> NotebookClient:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    options = {"timeout": 60, "shutdown_kernel": "immediate"} | options
    client = NotebookClient(
        notebook,
        kernel_manager_class=book_kernel.BookKernelManager,
        config=Config({"BookKernelManager": {"forks": forks}}),
        resources={"metadata": {"path": str(folder)}},
        **options,
    )
    client.execute()
    return client


def report(folder: Path, forks: str) -> dict:
    outputs = run(PROBE, folder, forks).nb.cells[0].outputs
    return json.loads(outputs[0]["text"])


def test_a_forked_kernel_reports_what_a_new_kernel_reports(server, tmp_path):
    forked, plain = report(tmp_path, server), report(tmp_path, "")
    seconds = forked.pop("preloaded")  # what the server imported, and how long each took
    assert sorted(seconds) == sorted(execute_book.PRELOAD) and all(s > 0 for s in seconds.values())
    assert plain.pop("preloaded") == {}
    assert forked == plain
    assert forked["cwd"] == str(tmp_path) and forked["parent"] == str(os.getpid())
    assert forked["backend"] == "module://matplotlib_inline.backend_inline"
    assert forked["own_session"] and not forked["widgets_loaded"]


def test_the_server_has_the_modules_and_the_kernel_command_is_the_fork_command(server):
    manager = book_kernel.BookKernelManager(forks=server)
    manager.kernel_id = "k"
    manager.connection_file = "/tmp/kernel-k.json"
    command = manager.format_kernel_cmd()
    assert command[2:5] == [forked_kernels.__file__, "kernel", server]
    assert (
        command[5:]
        == book_kernel.BookKernelManager(
            connection_file="/tmp/kernel-k.json", kernel_id="k"
        ).format_kernel_cmd()
    )


def test_the_kernel_clock_measures_the_fork_not_the_command(server, tmp_path):
    pids = {}

    def seen(**_):
        km = client.km
        pids.update(kernel=km.kernel_pid, command=km.provisioner.pid)

    code = "import os\nos.getpid()"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    client = NotebookClient(
        notebook,
        timeout=60,
        kernel_manager_class=book_kernel.BookKernelManager,
        config=Config({"BookKernelManager": {"forks": server}}),
        shutdown_kernel="immediate",
        on_cell_executed=seen,
    )
    client.execute()
    reported = int(notebook.cells[0].outputs[0]["data"]["text/plain"])
    assert pids["kernel"] == reported != pids["command"]


def test_an_interrupt_reaches_the_fork(server, tmp_path):
    code = "import time\ntime.sleep(30)"
    start = time.monotonic()
    with pytest.raises(Exception, match="KeyboardInterrupt"):
        run(code, tmp_path, server, interrupt_on_timeout=True, timeout=2)
    assert time.monotonic() - start < 20


def test_the_fork_ends_with_its_command_even_when_that_is_killed(server):
    async def kill_the_command() -> None:
        manager = book_kernel.BookKernelManager(forks=server)
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)
        fork = psutil.Process(manager.kernel_pid)
        client.stop_channels()
        os.kill(manager.provisioner.pid, signal.SIGKILL)
        await manager.provisioner.wait()
        await manager.cleanup_resources()
        fork.wait(timeout=10)  # raises psutil.TimeoutExpired if the fork is still there

    asyncio.run(kill_the_command())


def test_a_server_that_cannot_import_says_so(capfd):
    with pytest.raises(RuntimeError, match="no_such_module_for_the_kernels"):
        with forked_kernels.preloaded(["no_such_module_for_the_kernels"]) as ready:
            ready()
    assert "ModuleNotFoundError" in capfd.readouterr().err


def test_a_kernel_command_without_a_module_is_refused(server):
    with pytest.raises(SystemExit, match="runs no module"):
        forked_kernels.kernel(server, [sys.executable, "kernel.py"])


@pytest.mark.parametrize("forked", [True, False])
def test_the_wait_for_a_new_kernel_ends_when_it_answers_and_fails_when_it_died(server, forked):
    async def start_and_kill() -> None:
        manager = book_kernel.BookKernelManager(forks=server if forked else "")
        await manager.start_kernel()
        client = manager.client()
        client.start_channels()
        await client.wait_for_ready(timeout=60)  # answered: returns
        assert (await client.execute_interactive("1 + 1", timeout=30))["content"]["status"] == "ok"
        os.kill(manager.kernel_pid, signal.SIGKILL)
        await manager.provisioner.wait()
        with pytest.raises(RuntimeError, match="died|respond"):
            await client.wait_for_ready(timeout=3)
        client.stop_channels()
        await manager.cleanup_resources()

    asyncio.run(start_and_kill())
