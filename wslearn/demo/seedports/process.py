"""Run a seed port in a subprocess: its crash ends that process, never the kernel."""

from __future__ import annotations

import atexit
import contextlib
import selectors
import subprocess
import sys

__all__ = ["SeedProcess", "start_seed"]

READY_TIMEOUT = 10.0  # seconds for the child to print "listening on HOST:PORT"


class SeedProcess:
    """``python -m MODULE --port 0 [ARGS]`` as a child process, on 127.0.0.1.

    ``.port`` is where it listens, ``.alive`` whether it still runs, ``.returncode`` its
    exit status once it ended (1 after Go's ``log.Fatal``), ``.stderr`` what it logged.
    """

    def __init__(self, module: str, *args: str) -> None:
        self.module = module
        self.args = args
        self.host = "127.0.0.1"
        self.port = 0
        self._stderr = ""
        self._process = subprocess.Popen(
            [sys.executable, "-m", module, "--port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            self.port = self._read_port()
        except BaseException:
            self.stop()
            raise

    def _read_port(self) -> int:
        assert self._process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            if not selector.select(READY_TIMEOUT):
                raise TimeoutError(f"{self.module} did not start listening within {READY_TIMEOUT:g} s")
        line = self._process.stdout.readline().decode("utf-8", "replace").strip()
        if not line.startswith("listening on "):
            self.wait(2)
            raise RuntimeError(f"{self.module} did not start: {line or self.stderr or 'no output'}")
        return int(line.rpartition(":")[2])

    def __repr__(self) -> str:
        state = "running" if self.alive else f"ended with exit status {self.returncode}"
        return f"<SeedProcess {self.module} pid={self.pid} on {self.host}:{self.port}, {state}>"

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit status, or None while the process runs."""
        return self._process.poll()

    @property
    def stderr(self) -> str:
        """What the process wrote to stderr (known once it has ended)."""
        if not self.alive:
            self._collect()
        return self._stderr

    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` s for the process to end; its exit status, or None."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout)
        if not self.alive:
            self._collect()
        return self.returncode

    def _collect(self) -> None:
        if self._process.stderr is not None and not self._process.stderr.closed:
            with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
                _, err = self._process.communicate(timeout=1)
                self._stderr += err.decode("utf-8", "replace")

    def stop(self) -> None:
        """End the process (SIGTERM, then SIGKILL after 2 s) and close its pipes."""
        if self.alive:
            self._process.terminate()
            try:
                self._process.wait(2)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(2)
        self._collect()
        for pipe in (self._process.stdout, self._process.stderr):
            if pipe is not None:
                pipe.close()
        if _running.get(self.module) is self:
            del _running[self.module]


_running: dict[str, SeedProcess] = {}


def start_seed(
    module: str = "wslearn.demo.seedports.seed000", *args: str, fresh: bool = False
) -> SeedProcess:
    """The running port of ``module`` (started with ``args``), or a new one when there is
    none, it has crashed, it was started with other ``args``, or ``fresh`` asks for a new one
    (a fresh process: empty state).

    Re-running a cell therefore gives back the same process while it lives, and a fresh one
    after the previous one ended.
    """
    current = _running.get(module)
    if current is not None and current.alive and current.args == args and not fresh:
        return current
    if current is not None:
        current.stop()  # collect its exit status and close its pipes
    _running[module] = SeedProcess(module, *args)
    return _running[module]


@atexit.register
def _stop_all() -> None:
    for process in list(_running.values()):
        process.stop()
