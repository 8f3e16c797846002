"""The kernel manager that executes the book's chapters: patient waits, encrypted transport.

``BookKernelManager`` is an ``AsyncKernelManager`` configured through its traits, for
``nbclient.NotebookClient(kernel_manager_class=BookKernelManager)``:

- Its clients wait for kernel messages in slices of ``POLL_SLICE`` seconds. pyzmq's
  asyncio sockets (pyzmq 27.3.0, libzmq 4.3.5, jupyter_client 8.10.0, nbclient 0.11.0)
  wait on zmq's edge-triggered file descriptor; with several kernels at once that wait
  sometimes missed a message that had arrived, and ``AsyncZMQSocketChannel.get_msg``,
  which polls once for the caller's whole timeout, then waited the cell timeout (300 s).
  ``PatientChannel.get_msg`` polls again every slice within the same timeout, so a miss
  costs at most a slice. Blocking clients (nbval's) poll with ``zmq_poll``: no miss.
- ``transport_encryption = "auto"``: jupyter_client gives the kernel CurveZMQ keys, since
  the kernel spec of ipykernel declares Curve support. Without them ipykernel warns on
  every start that the kernel "is running over TCP without encryption".
- A new kernel is ready once it has answered kernel_info and IOPub has been quiet for
  ``QUIET`` s (jupyter_client waits for 0.2 s of quiet: a third of a forked kernel's start).
- ``forks``: the socket of a ``forked_kernels.preloaded`` server, whose forks have already
  imported what the chapters import; "" (the default) starts each kernel from scratch.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from queue import Empty
from typing import Any

from forked_kernels import pid_file
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from traitlets import Type, Unicode, default

POLL_SLICE = 0.05  # seconds: the longest a wait on a kernel socket goes without looking
QUIET = 0.02  # seconds without a message on IOPub that end the wait for a new kernel


class PatientChannel(AsyncZMQSocketChannel):
    """A kernel channel whose wait for a message looks at the socket every slice."""

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE if deadline is None else deadline - time.monotonic()
            if await self.socket.poll(int(1000 * max(0.0, min(POLL_SLICE, left)))):
                return await super().get_msg(timeout=0)
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty


class PatientKernelClient(AsyncKernelClient):
    """An asyncio kernel client with patient channels and a shorter wait for a new kernel."""

    shell_channel_class = Type(PatientChannel)
    iopub_channel_class = Type(PatientChannel)
    stdin_channel_class = Type(PatientChannel)
    control_channel_class = Type(PatientChannel)

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """jupyter_client's wait, ending after ``QUIET`` s of quiet on IOPub: a message that
        comes later answers no request of nbclient's, which passes over it."""
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            with contextlib.suppress(Empty):
                reply = await self.shell_channel.get_msg(timeout=1)
                if reply["msg_type"] == "kernel_info_reply":
                    await self.iopub_channel.get_msg(timeout=0.2)
                    break
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        self._handle_kernel_info_reply(reply)  # the protocol version it speaks
        with contextlib.suppress(Empty):
            while True:
                await self.iopub_channel.get_msg(timeout=QUIET)


class BookKernelManager(AsyncKernelManager):
    """An asyncio kernel manager with patient clients and an encrypted transport."""

    forks = Unicode("", help="the socket of a forked_kernels.preloaded server").tag(config=True)

    @default("client_factory")
    def _patient_client(self) -> type[PatientKernelClient]:
        return PatientKernelClient

    @default("transport_encryption")
    def _encrypted_transport(self) -> str:
        return "auto"

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        command = super().format_kernel_cmd(extra_arguments)
        if not self.forks:
            return command
        fork = str(Path(__file__).with_name("forked_kernels.py"))
        return [sys.executable, "-I", fork, "kernel", self.forks, *command]

    @property
    def kernel_pid(self) -> int:
        """The pid of the kernel process (a fork's is in its pid file)."""
        if not self.forks:
            return self.provisioner.pid
        return int(Path(pid_file(self.forks, self.provisioner.pid)).read_text(encoding="utf-8"))
