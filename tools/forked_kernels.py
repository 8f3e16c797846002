"""Kernels forked from a server that has already imported what every chapter imports.

A new kernel spends about 2.5 s of CPU on imports (torch, pandas, matplotlib, memnb).
``with preloaded(modules) as ready:`` starts ``forked_kernels.py serve FORKS MODULE...``,
which imports them once (with ipykernel's ``MPLBACKEND``: matplotlib reads it on import);
``ready()`` waits for that and returns FORKS. A ``BookKernelManager`` with ``forks=FORKS``
starts ``forked_kernels.py kernel FORKS COMMAND...`` for the kernel spec's COMMAND: the
server forks a process that runs COMMAND's module (``-m ipykernel_launcher -f ...``) in
its own session, with this command's folder, environment and standard streams; this
command writes its pid to :func:`pid_file`, passes SIGINT, SIGTERM, SIGHUP and SIGQUIT on
and exits with its status; the fork exits when this command is gone, even killed. Its
environment gains MEMNB_PRELOADED: JSON of the seconds each module's import took. Never
preload modules that read the kernel's environment or IPython on import (ipykernel.kernelapp
reads JPY_PARENT_PID, ipywidgets registers with IPython); pandas's console options are reset.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator


def pid_file(forks: str, pid: int) -> str:
    """Where the kernel command with process id ``pid`` writes the pid of its fork."""
    return f"{forks}.{pid}"


@contextlib.contextmanager
def preloaded(modules: list[str]) -> Iterator[Callable[[], str]]:
    """A server that imports ``modules``, started at once. Yields ``ready``, which waits until
    the imports are done and returns the server's socket path (any thread may call it)."""
    with tempfile.TemporaryDirectory(prefix="memnb-kernels-") as folder:
        command = [sys.executable, __file__, "serve", f"{folder}/forks", *modules]
        with subprocess.Popen(command, stdout=subprocess.PIPE) as server:
            said = []

            def ready() -> str:
                with lock:
                    said[:] = said or [server.stdout.readline()]
                if said[0] != b"ready\n":
                    raise RuntimeError(f"the kernel server {command} failed; it said {said[0]!r}")
                return command[3]

            lock = threading.Lock()
            try:
                yield ready
            finally:
                server.terminate()


def serve(forks: str, modules: list[str]) -> None:
    import importlib

    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    seconds = {}  # module -> seconds its import took, the modules before it imported
    for module in modules:
        start = time.perf_counter()
        importlib.import_module(module)
        seconds[module] = time.perf_counter() - start
    if "pandas" in sys.modules:  # pandas 3.1.1 reads the console on import: give a kernel's
        sys.modules["pandas"].set_option("display.max_columns", 20, "display.encoding", "UTF-8")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.bind(forks)
    server.listen()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the system reaps the forks
    print("ready", flush=True)
    while True:
        connection, _ = server.accept()
        request, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
        if (pid := os.fork()) == 0:
            server.close()
            _kernel(connection, json.loads(request) | {"preloaded": seconds}, fds)
        connection.send(str(pid).encode())
        connection.close()
        for fd in fds:
            os.close(fd)


def _kernel(connection: socket.socket, request: dict, fds: list[int]) -> None:
    """The fork: run the kernel, tell the kernel command its status, exit."""
    status = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        command = os.pidfd_open(request["pid"])  # readable once the command has ended
        gone = threading.Thread(target=lambda: (select.select([command], [], []), os._exit(1)))
        gone.daemon = True
        gone.start()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"], MEMNB_PRELOADED=json.dumps(request["preloaded"]))
        sys.path[0], sys.argv = request["cwd"], request["argv"]  # as `python -m` sets them
        runpy.run_module(request["argv"][0], run_name="__main__", alter_sys=True)
        status = 0
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    except BaseException:  # to stderr, as from a kernel started from scratch; status 1
        __import__("traceback").print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        connection.send(str(status).encode())
        os._exit(status)


def kernel(forks: str, command: list[str]) -> int:
    if "-m" not in command[:-1]:
        raise SystemExit(f"forked_kernels: the kernel command runs no module (-m): {command}")
    argv = command[command.index("-m") + 1 :]
    request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "pid": os.getpid()}
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.connect(forks)
    socket.send_fds(server, [json.dumps(request).encode()], [0, 1, 2])
    pid = int(server.recv(64))
    with open(pid_file(forks, os.getpid()), "w", encoding="utf-8") as file:
        file.write(f"{pid}\n")
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(number, lambda received, _: os.kill(pid, received))
    status = server.recv(64)  # empty if the fork ended without saying
    return int(status) if status else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"] and len(sys.argv) > 2:
        serve(sys.argv[2], sys.argv[3:])
    if sys.argv[1:2] != ["kernel"] or len(sys.argv) < 4:
        sys.exit(f"usage: {__file__} serve FORKS MODULE... | kernel FORKS COMMAND...")
    sys.exit(kernel(sys.argv[2], sys.argv[3:]))
