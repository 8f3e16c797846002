"""Waits for kernel messages that look at their socket every few hundredths of a second.

jupyter_client's asyncio channels (which nbclient uses to execute notebooks) wait for a
kernel's message by polling its socket once, for as long as the caller's timeout. With
several kernels running at once, that one poll sometimes missed the socket's wake-up: a
notebook then waited its whole cell timeout for a reply the kernel had already sent.
``patient_polling`` replaces the wait by polls of at most ``POLL_SLICE`` seconds each,
with the same result and the same overall timeout. ``tools/build_book.py`` and the
check that executes every chapter again both use it.

They also stop each kernel at once after its last cell (``SHUTDOWN``, nbclient's
``shutdown_kernel``). With the default, polite shutdown, about one kernel in thirty did
not exit on the shutdown request: nbclient waited 2.5 s, sent SIGTERM, and the kernel
left at its next whole second, 2.5 to 3.5 s lost. A notebook that has run its last
cell has nothing left to save.
"""

from __future__ import annotations

import time
from queue import Empty

from jupyter_client.channels import AsyncZMQSocketChannel

POLL_SLICE = 0.05  # seconds: the longest a wait on a kernel socket goes without looking
SHUTDOWN = "immediate"  # nbclient's shutdown_kernel: stop the kernel without a request


def patient_polling() -> None:
    """Make every asynchronous wait for a kernel message poll in slices of ``POLL_SLICE``.

    Replaces ``get_msg`` of jupyter_client's asyncio channels (which nbclient uses) with one
    that has the same result and the same overall timeout.
    """
    if getattr(AsyncZMQSocketChannel.get_msg, "patient", False):
        return

    async def get_msg(self: AsyncZMQSocketChannel, timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            step = POLL_SLICE if left is None else min(POLL_SLICE, left)
            if await self.socket.poll(int(step * 1000)):
                return await self._recv()
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty

    get_msg.patient = True
    AsyncZMQSocketChannel.get_msg = get_msg
