"""``doctor()``: check that this environment can run the course, and say what to fix if not.

Each check is one line: a status, a name and a detail a student can act on. The report prints as
text (``print(doctor())``) and as an HTML table in a notebook (``_repr_html_``).
"""

from __future__ import annotations

import html
import http.client
import importlib.metadata
import os
import re
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from wslearn.notebook import urls

Status = Literal["ok", "warn", "fail", "info"]

SYMBOLS: dict[Status, str] = {"ok": "✔", "warn": "!", "fail": "✘", "info": "·"}
COLOURS: dict[Status, str] = {"ok": "#1a7f37", "warn": "#9a6700", "fail": "#cf222e", "info": "#57606a"}

# (distribution, minimum version or None, why it matters, status when missing)
PACKAGES: tuple[tuple[str, tuple[int, ...] | None, str, Status], ...] = (
    ("wslearn", None, "this course", "fail"),
    ("websockets", (14,), "the reference peer the lessons compare against", "fail"),
    ("ipykernel", (7, 4), "older kernels run widget callbacks on the wrong event loop", "fail"),
    ("ipywidgets", (8, 1, 9), "the interactive widgets", "fail"),
    ("nest-asyncio2", (1, 7), "lets asyncio.run() work in a cell", "warn"),
    ("jupyterlab", (4,), "the notebook interface (not needed for headless runs)", "warn"),
)


class HasPort(Protocol):
    @property
    def port(self) -> int: ...


@dataclass(frozen=True)
class Check:
    status: Status
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{SYMBOLS[self.status]} {self.name:<20} {self.detail}"


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """True when nothing failed (warnings are allowed)."""
        return all(check.status != "fail" for check in self.checks)

    def __getitem__(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def __str__(self) -> str:
        verdict = "ready" if self.ok else "NOT ready: fix the ✘ lines"
        return "\n".join([f"wslearn environment check: {verdict}", *map(str, self.checks)])

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))  # IPython's plain-text view (a terminal, nbconvert to text)

    def _repr_html_(self) -> str:
        rows = "".join(_html_row(check) for check in self.checks)
        verdict = "ready" if self.ok else "<b>not ready</b>: fix the ✘ lines"
        return (
            f"<div><p>wslearn environment check: {verdict}</p>"
            f"<table style='text-align:left'>{rows}</table></div>"
        )


def doctor(server: HasPort | None = None, *, environ: Mapping[str, str] | None = None) -> Report:
    """Check Python, the packages, the loopback port, the proxy and the demo server.

    ``server`` defaults to the demo server of :func:`wslearn.notebook.start_demo`, when it runs.
    """
    environ = os.environ if environ is None else environ
    checks = [
        check_python(),
        *(check_package(*spec) for spec in PACKAGES),
        check_archived_nest_asyncio(),
        check_port(),
        check_server_proxy(),
        check_jupyter_server(environ),
        check_demo_server(server if server is not None else running_demo_server(), environ),
    ]
    return Report(tuple(checks))


def check_python(version_info: tuple[int, ...] | None = None) -> Check:
    version_info = tuple(sys.version_info[:3]) if version_info is None else version_info
    version = ".".join(map(str, version_info))
    if version_info[:2] >= (3, 11):
        return Check("ok", "python", version)
    return Check("fail", "python", f"{version}: wslearn needs Python 3.11 or newer")


def check_package(name: str, minimum: tuple[int, ...] | None, why: str, missing: Status) -> Check:
    try:
        version = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return Check(missing, name, f"not installed ({why}): pip install {name}")
    if minimum is None or _version_tuple(version) >= minimum:
        return Check("ok", name, version)
    wanted = ".".join(map(str, minimum))
    return Check("fail", name, f"{version} < {wanted} ({why}): pip install -U '{name}>={wanted}'")


def check_archived_nest_asyncio() -> Check:
    # The archived nest-asyncio makes "Run All" silently skip the cells after asyncio.run()
    # on ipykernel >= 7.3; its maintained fork nest-asyncio2 does not.
    if "nest_asyncio" in sys.modules:
        return Check("warn", "old nest_asyncio", "imported: use its maintained fork nest_asyncio2")
    return Check("ok", "old nest_asyncio", "not imported (good: it breaks Run All)")


def check_port(host: str = "127.0.0.1") -> Check:
    """Can we listen on the loopback interface? Port 0 lets the system pick a free port."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
            listener.bind((host, 0))
            listener.listen()
            port = listener.getsockname()[1]
    except OSError as error:
        return Check("fail", "loopback port", f"cannot listen on {host}: {error}")
    return Check("ok", "loopback port", f"listened on {host}:{port} (then released it)")


def check_server_proxy() -> Check:
    try:
        version = importlib.metadata.version("jupyter-server-proxy")
    except importlib.metadata.PackageNotFoundError:
        detail = "not installed: browsers on another machine (JupyterHub, Binder) cannot reach us"
        return Check("warn", "jupyter-server-proxy", detail)
    return Check("ok", "jupyter-server-proxy", f"{version}: relays {{base_url}}proxy/PORT/")


def check_jupyter_server(environ: Mapping[str, str]) -> Check:
    server = urls.find_jupyter_server(environ)
    if server is None:
        detail = "none found (plain Python or a headless run): browsers use http://127.0.0.1:PORT/"
        return Check("info", "jupyter server", detail)
    port = f", port {server.port}" if server.port else ""
    return Check("ok", "jupyter server", f"base_url {server.base_url}{port} ({server.source})")


def running_demo_server() -> HasPort | None:
    """The demo server started by ``start_demo()`` in this kernel, if any.

    Only looked up when the runner was imported: ``doctor()`` itself starts nothing.
    """
    if "wslearn.notebook.runner" not in sys.modules:
        return None
    from wslearn.notebook.runner import running_servers

    return running_servers().get("demo")


def check_demo_server(server: HasPort | None, environ: Mapping[str, str]) -> Check:
    if server is None:
        example = urls.browser_url(8765, environ=environ).replace("8765", "PORT")
        return Check("info", "demo server", f"not started yet; a browser would open {example}")
    if not getattr(server, "running", True):  # a BackgroundServer after stop()
        return Check("warn", "demo server", "stopped: start it again with start_demo()")
    url = urls.browser_url(server.port, environ=environ)
    if not url.startswith("/"):
        return Check("ok", "demo server", f"browser URL {url}")
    status = _proxy_status(url, environ)
    if status is None:
        return Check("ok", "demo server", f"browser URL {url} (through jupyter-server-proxy)")
    if status < 400:
        return Check("ok", "demo server", f"browser URL {url} (answered HTTP {status} through the proxy)")
    detail = f"browser URL {url} answered HTTP {status}: the proxy did not reach the server"
    return Check("warn", "demo server", detail)


def _proxy_status(path: str, environ: Mapping[str, str], timeout: float = 3.0) -> int | None:
    """GET ``path`` through the local Jupyter server, with its token; None when we cannot try."""
    info = urls.read_server_info(environ)
    if not info or not info.get("port"):
        return None
    token = info.get("token") or environ.get("JUPYTERHUB_API_TOKEN", "")
    headers = {"Authorization": f"token {token}"} if token else {}
    connection = http.client.HTTPConnection("127.0.0.1", int(info["port"]), timeout=timeout)
    try:
        connection.request("GET", path, headers=headers)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def _version_tuple(version: str) -> tuple[int, ...]:
    """Turn "8.1.9" into (8, 1, 9) and "7.4.0rc1" into (7, 4, 0): enough to compare."""
    match = re.match(r"\d+(\.\d+)*", version)
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def _html_row(check: Check) -> str:
    colour = COLOURS[check.status]
    return (
        f"<tr><td style='color:{colour}'>{SYMBOLS[check.status]}</td>"
        f"<td style='text-align:left'><code>{html.escape(check.name)}</code></td>"
        f"<td style='text-align:left'>{html.escape(check.detail)}</td></tr>"
    )
