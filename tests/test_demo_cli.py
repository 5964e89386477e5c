"""``python -m wslearn serve`` in a subprocess: URLs printed, Ctrl-C closes with 1001, exit 0."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK
from websockets.sync.client import connect as ws_connect

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 10


class Output:
    """The server's stdout, read by a thread so that every wait can have a timeout."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.put(line)

    def line(self) -> str:
        return self.lines.get(timeout=TIMEOUT)

    def rest(self) -> str:
        self.thread.join(TIMEOUT)
        return "".join(self.lines.queue)


def start(*args: str) -> tuple[subprocess.Popen[str], Output, str]:
    """Start the server on a free port; returns it and its ws:// URL."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", *args, "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    output = Output(process)
    first = output.line()
    match = re.search(r"ws://127\.0\.0\.1:\d+", first)
    assert match, first
    return process, output, match.group()


@pytest.mark.parametrize("command", [("wslearn", "serve"), ("wslearn.demo",)])
def test_serve_prints_urls_and_stops_on_ctrl_c(command: tuple[str, ...]) -> None:
    process, output, url = start(*command)
    try:
        routes = [output.line() for _ in range(5)]
        assert any(line.split()[0] == url.replace("ws", "http", 1) + "/" for line in routes)
        assert any(line.split()[0] == url + "/chat" for line in routes)
        with ws_connect(url + "/ws", open_timeout=TIMEOUT, proxy=None) as ws:
            ws.send("hello cli")
            assert ws.recv(timeout=TIMEOUT) == "hello cli"
            process.send_signal(signal.SIGINT)  # Ctrl-C
            with pytest.raises(ConnectionClosedOK):
                ws.recv(timeout=TIMEOUT)
            assert ws.protocol.close_rcvd is not None
            assert ws.protocol.close_rcvd.code == 1001
        assert process.wait(TIMEOUT) == 0
        assert "stopping: closing 1 connection(s) with 1001" in output.rest()
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(TIMEOUT)


def test_serve_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "wslearn", "serve", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wslearn", "serve", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0
    assert "--port" in done.stdout and "--host" in done.stdout


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--port", "70000"], "70000 is not a TCP port"),
        (["--port", "-1"], "-1 is not a TCP port"),
        (["--port", "http"], "'http' is not a whole number"),
        (["--max-message-size", "0"], "a size is at least 1"),
    ],
)
def test_serve_options_out_of_range_are_clear_errors(option: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "wslearn", "serve", *option],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_max_message_size_sets_the_limit_of_the_routes() -> None:
    process, _, url = start("wslearn", "serve", "--max-message-size", str(3 * 2**20))
    try:
        with ws_connect(url + "/ws", open_timeout=TIMEOUT, proxy=None, max_size=None) as ws:
            big = bytes(3 * 2**20)  # three times the default limit: now accepted
            ws.send(big)
            assert ws.recv(timeout=TIMEOUT) == big
            ws.send(big + b"!")
            with pytest.raises(ConnectionClosedError):
                ws.recv(timeout=TIMEOUT)
            assert ws.protocol.close_rcvd is not None
            assert ws.protocol.close_rcvd.code == 1009
    finally:
        process.send_signal(signal.SIGINT)
        if process.wait(TIMEOUT) is None:
            process.kill()
