"""Starting benchmark processes, bounded in time, and always stopping them by PID."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    """The environment of every child: the repository first on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTHONASYNCIODEBUG", None)
    return env


def read_line(stream: IO[str], timeout: float) -> str:
    """One line from a child's stdout, or TimeoutError after `timeout` seconds.

    Reads the pipe byte by byte, unbuffered, so no line can hide in a buffer where
    select() would not see it.
    """
    fd, line = stream.fileno(), bytearray()
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            if not selector.select(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"no output within {timeout:g} s")
            byte = os.read(fd, 1)
            if not byte:
                raise EOFError("the process exited")
            line += byte
    return line.decode().strip()


def stop(proc: subprocess.Popen[str], grace: float = 5.0) -> None:
    """Close the child's stdin (its signal to finish), then kill it by PID if it lingers."""
    if proc.stdin is not None and not proc.stdin.closed:
        with suppress(OSError):
            proc.stdin.close()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def tail(path: Path, limit: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


@dataclass
class ServerProcess:
    kind: str
    mode: str
    pid: int
    port: int
    proc: subprocess.Popen[str] = field(repr=False)

    @property
    def url(self) -> str:
        path = "/ws" if self.kind == "wslearn-demo" else "/"  # the demo server echoes on /ws
        return f"ws://127.0.0.1:{self.port}{path}"


def python_child(module: str, *args: str, stderr: Any) -> subprocess.Popen[str]:
    """``python -m MODULE ARGS`` in a child process, talking text over stdin/stdout."""
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        cwd=ROOT,
        env=child_env(),
    )


@contextmanager
def server_process(
    kind: str, mode: str, *, lifetime: float = 900, options: Sequence[str] = ()
) -> Iterator[ServerProcess]:
    """A server from bench.servers in its own process, stopped when the block ends."""
    with tempfile.NamedTemporaryFile("w+", prefix=f"bench-{kind}-", suffix=".log") as log:
        proc = python_child("bench.servers", kind, mode, "--lifetime", str(lifetime), *options, stderr=log)
        try:
            assert proc.stdout is not None
            try:
                line = read_line(proc.stdout, timeout=30)
            except (TimeoutError, EOFError) as exc:
                raise RuntimeError(f"{kind} server did not start ({exc}): {tail(Path(log.name))}") from exc
            yield ServerProcess(kind, mode, proc.pid, int(line.split()[1]), proc)
        finally:
            stop(proc)


def run_client(command: str, args: dict[str, Any], timeout: float) -> Any:
    """Run ``python -m bench.clients COMMAND`` to completion; return the JSON it prints."""
    proc = python_child("bench.clients", command, json.dumps(args), stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"client {command} did not finish within {timeout:g} s") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    if proc.returncode != 0:
        raise RuntimeError(f"client {command} failed: {err.strip()[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


@contextmanager
def interactive_client(command: str, args: dict[str, Any]) -> Iterator[subprocess.Popen[str]]:
    """A client that talks line by line over stdin/stdout; stopped (by PID if need be) at the end."""
    with tempfile.NamedTemporaryFile("w+", prefix=f"bench-client-{command}-", suffix=".log") as log:
        proc = python_child("bench.clients", command, json.dumps(args), stderr=log)
        try:
            yield proc
        except (TimeoutError, EOFError) as exc:
            raise RuntimeError(f"client {command}: {exc}: {tail(Path(log.name))}") from exc
        finally:
            stop(proc)


def send_line(proc: subprocess.Popen[str], line: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()


def expect(proc: subprocess.Popen[str], prefix: str, timeout: float) -> str:
    """Wait for the next line of `proc`, which must start with `prefix`."""
    assert proc.stdout is not None
    line = read_line(proc.stdout, timeout)
    if not line.startswith(prefix):
        raise RuntimeError(f"expected {prefix!r} from the client, got {line!r}")
    return line
