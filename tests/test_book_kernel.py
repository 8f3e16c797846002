"""tools/book_kernel.py: kernel waits that survive a missed wake-up, and a quiet kernel start."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from queue import Empty

import nbformat
import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.session import Session
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import book_kernel  # noqa: E402  (tools/ is not a package)

TIMEOUT = 1.0  # seconds: the caller's timeout for one message
WARNING = "running over TCP without encryption"


class MissesFirstWakeUp(zmq.asyncio.Socket):
    """An asyncio socket whose first wait misses a message that is already there."""

    missed = False

    def poll(self, timeout: int | None = None, flags: int = zmq.POLLIN) -> asyncio.Future:
        if self.missed:
            return super().poll(timeout, flags)
        self.missed = True
        return asyncio.ensure_future(asyncio.sleep((timeout or 0) / 1000, result=0))


async def wait_for_reply(channel_class: type[AsyncZMQSocketChannel]) -> tuple[object, float]:
    """(the message or Empty, seconds) for a reply that is waiting when the wait starts."""
    context, session = zmq.asyncio.Context(), Session(key=b"")
    receiver = context.socket(zmq.PAIR, socket_class=MissesFirstWakeUp)
    sender = context.socket(zmq.PAIR)
    try:
        receiver.bind("inproc://kernel")
        sender.connect("inproc://kernel")
        await sender.send_multipart(session.serialize(session.msg("execute_reply", {"n": 1})))
        start = time.monotonic()
        try:
            message = await channel_class(receiver, session).get_msg(timeout=TIMEOUT)
        except Empty:
            message = Empty
        return message, time.monotonic() - start
    finally:
        receiver.close(linger=0)
        sender.close(linger=0)
        context.term()


def test_a_missed_wake_up_costs_the_stock_channel_its_whole_timeout():
    message, seconds = asyncio.run(wait_for_reply(AsyncZMQSocketChannel))
    assert message is Empty and seconds >= TIMEOUT, (message, seconds)


def test_a_missed_wake_up_costs_the_patient_channel_one_slice():
    message, seconds = asyncio.run(wait_for_reply(book_kernel.PatientChannel))
    assert message["content"] == {"n": 1}, message
    assert seconds < 5 * book_kernel.POLL_SLICE < TIMEOUT, seconds


def test_the_patient_channel_keeps_the_overall_timeout():
    async def nothing_comes() -> float:
        context = zmq.asyncio.Context()
        socket = context.socket(zmq.PAIR)
        socket.bind("inproc://silent")
        start = time.monotonic()
        with pytest.raises(Empty):
            await book_kernel.PatientChannel(socket, Session(key=b"")).get_msg(timeout=0.3)
        socket.close(linger=0)
        context.term()
        return time.monotonic() - start

    assert 0.3 <= asyncio.run(nothing_comes()) < 0.3 + 2 * book_kernel.POLL_SLICE


def run_notebook(manager: type[AsyncKernelManager], folder: Path) -> list:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os\nos.getcwd()")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    client = NotebookClient(
        notebook,
        timeout=60,
        kernel_manager_class=manager,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return notebook.cells[0].outputs


def test_book_kernels_run_from_the_folder_given_without_the_transport_warning(tmp_path, capfd):
    outputs = run_notebook(book_kernel.BookKernelManager, tmp_path)
    assert outputs[0]["data"]["text/plain"] == repr(str(tmp_path))
    assert WARNING not in capfd.readouterr().err


def test_a_stock_kernel_prints_the_transport_warning(tmp_path, capfd):
    # The check above could not fail if the warning went elsewhere: here it is caught.
    run_notebook(AsyncKernelManager, tmp_path)
    assert WARNING in capfd.readouterr().err


def test_book_kernels_get_patient_channels_and_ask_for_encryption():
    manager = book_kernel.BookKernelManager()
    client = manager.client()
    assert client.shell_channel_class is book_kernel.PatientChannel
    assert client.iopub_channel_class is book_kernel.PatientChannel
    assert manager.transport_encryption == "auto"
