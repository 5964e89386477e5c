"""doctor(): every check, its text and HTML views, and the proxy probe against real HTTP servers."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wslearn.notebook import doctor as doctor_module
from wslearn.notebook import urls
from wslearn.notebook.doctor import Check, Report, doctor

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class FakePort:
    port: int


def test_this_environment_is_ready() -> None:
    report = doctor(environ={})
    assert report.ok, str(report)
    names = [check.name for check in report.checks]
    for package in ("wslearn", "websockets", "ipykernel", "ipywidgets", "nest-asyncio2"):
        assert package in names
    assert report["loopback port"].status == "ok"
    assert report["jupyter server"].status == "info"  # pytest is no Jupyter server
    assert str(report).startswith("wslearn environment check: ready")
    with pytest.raises(KeyError):
        report["no such check"]


def test_ipython_shows_the_text_view() -> None:
    from IPython.lib.pretty import pretty

    report = Report((Check("ok", "python", "3.12.1"),))
    assert pretty(report) == str(report)


def test_report_views_list_every_check_and_escape_html() -> None:
    report = Report((Check("ok", "python", "3.12.1"), Check("fail", "<thing>", "needs <b> & more")))
    assert not report.ok
    text = str(report)
    assert "NOT ready" in text
    assert "✘ <thing>" in text
    page = report._repr_html_()
    assert "&lt;thing&gt;" in page and "needs &lt;b&gt; &amp; more" in page
    assert "<b>" not in page.replace("<b>not ready</b>", "")


@pytest.mark.parametrize(
    ("version", "status"), [((3, 10, 14), "fail"), ((3, 11, 0), "ok"), ((3, 13, 1), "ok")]
)
def test_check_python(version: tuple[int, ...], status: str) -> None:
    assert doctor_module.check_python(version).status == status


def test_check_package_missing_tells_how_to_install() -> None:
    check = doctor_module.check_package("no-such-distribution-here", (1,), "a reason", "warn")
    assert check.status == "warn"
    assert "pip install no-such-distribution-here" in check.detail


def test_check_package_too_old() -> None:
    check = doctor_module.check_package("pytest", (999,), "a reason", "fail")
    assert check.status == "fail"
    assert "< 999" in check.detail and "pip install -U 'pytest>=999'" in check.detail


@pytest.mark.parametrize(
    ("version", "parsed"),
    [("8.1.9", (8, 1, 9)), ("7.4.0rc1", (7, 4, 0)), ("17.4", (17, 4)), ("dev", ())],
)
def test_version_tuple(version: str, parsed: tuple[int, ...]) -> None:
    assert doctor_module._version_tuple(version) == parsed


def test_archived_nest_asyncio_is_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "nest_asyncio", raising=False)
    assert doctor_module.check_archived_nest_asyncio().status == "ok"
    monkeypatch.setitem(sys.modules, "nest_asyncio", types.ModuleType("nest_asyncio"))
    check = doctor_module.check_archived_nest_asyncio()
    assert check.status == "warn" and "nest_asyncio2" in check.detail


def test_check_port_reports_a_port_that_cannot_be_had(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoListening(socket.socket):
        def bind(self, address: object) -> None:
            raise PermissionError(13, "Permission denied")

    assert doctor_module.check_port().status == "ok"
    monkeypatch.setattr(doctor_module.socket, "socket", NoListening)
    check = doctor_module.check_port()
    assert check.status == "fail" and "Permission denied" in check.detail


def test_demo_server_direct_url() -> None:
    check = doctor_module.check_demo_server(FakePort(8765), {})
    assert check == Check("ok", "demo server", "browser URL http://127.0.0.1:8765/")


def test_stopped_demo_server() -> None:
    from wslearn.notebook import start_demo

    server = start_demo("doctor-test")
    server.stop()
    check = doctor_module.check_demo_server(server, {})
    assert check.status == "warn" and "stopped" in check.detail


def test_no_demo_server_shows_the_url_pattern() -> None:
    check = doctor_module.check_demo_server(None, {})
    assert check.status == "info" and "http://127.0.0.1:PORT/" in check.detail


def test_doctor_finds_the_running_demo_server() -> None:
    from wslearn.notebook import running_servers, start_demo

    already_running = "demo" in running_servers()
    server = start_demo()
    try:
        detail = doctor(environ={})["demo server"].detail
        assert detail == f"browser URL http://127.0.0.1:{server.port}/"
    finally:
        if not already_running:
            server.stop()


# --- The proxy probe, against a real HTTP server standing in for Jupyter ---------------------


class FakeJupyter(http.server.BaseHTTPRequestHandler):
    """Answers GET /proxy/PORT/ with 200 when the token is right, 403 otherwise (like Jupyter)."""

    token = "s3cret"

    def do_GET(self) -> None:
        good = self.headers.get("Authorization") == f"token {self.token}"
        self.send_response(200 if good and self.path.startswith("/proxy/") else 403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def fake_jupyter() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeJupyter)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def kernel_environ(runtime: Path, jupyter_port: int, token: str) -> dict[str, str]:
    info = {"pid": 4321, "port": jupyter_port, "base_url": "/", "token": token}
    (runtime / "jpserver-4321.json").write_text(json.dumps(info))
    # The prefix makes it a hub's single-user server, whose browsers use the proxy.
    return {"JPY_PARENT_PID": "4321", "JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTERHUB_SERVICE_PREFIX": "/"}


def test_proxy_probe_with_the_servers_token(
    tmp_path: Path, fake_jupyter: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(urls, "has_server_proxy", lambda: True)
    environ = kernel_environ(tmp_path, fake_jupyter, FakeJupyter.token)
    check = doctor_module.check_demo_server(FakePort(8765), environ)
    assert check.status == "ok"
    assert check.detail == "browser URL /proxy/8765/ (answered HTTP 200 through the proxy)"
    assert FakeJupyter.token not in str(doctor(environ=environ))  # never shown


def test_proxy_probe_refused(tmp_path: Path, fake_jupyter: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(urls, "has_server_proxy", lambda: True)
    environ = kernel_environ(tmp_path, fake_jupyter, "wrong")
    check = doctor_module.check_demo_server(FakePort(8765), environ)
    assert check.status == "warn" and "HTTP 403" in check.detail


def test_proxy_probe_when_jupyter_is_gone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(urls, "has_server_proxy", lambda: True)
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    check = doctor_module.check_demo_server(FakePort(8765), kernel_environ(tmp_path, port, "t"))
    assert check.status == "ok" and check.detail.endswith("(through jupyter-server-proxy)")


# --- The real thing: a Jupyter server with jupyter-server-proxy, and a kernel-like process ---


def test_doctor_inside_a_real_jupyter_server(tmp_path: Path) -> None:
    """A process whose JPY_PARENT_PID is a running Jupyter server finds it, and the probe
    reaches the demo server through jupyter-server-proxy."""
    runtime = tmp_path / "runtime"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))},
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        "--IdentityProvider.token=t0ken",
        f"--ServerApp.root_dir={tmp_path}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (tmp_path / "jupyter.log").open("wb")
    jupyter = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_file(runtime / f"jpserver-{jupyter.pid}.json", jupyter, tmp_path / "jupyter.log")
        script = textwrap.dedent(
            """
            from wslearn.notebook import start_demo
            from wslearn.notebook.doctor import doctor
            server = start_demo()
            print(server.port)
            print(doctor()["jupyter server"].detail)
            print(doctor()["demo server"].detail)
            server.stop()
            """
        )
        # As a hub's single-user server (the prefix is set): the browser goes through the proxy.
        hub_env = {**env, "JPY_PARENT_PID": str(jupyter.pid), "JUPYTERHUB_SERVICE_PREFIX": "/"}
        done = subprocess.run(
            [sys.executable, "-c", script], env=hub_env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        port, server_line, demo_line = done.stdout.splitlines()
        assert server_line.startswith("base_url /")
        assert demo_line == f"browser URL /proxy/{port}/ (answered HTTP 200 through the proxy)"
        assert "t0ken" not in done.stdout
        # Started on this machine: the browser is here too and uses the server's own address.
        local_env = {**env, "JPY_PARENT_PID": str(jupyter.pid)}
        done = subprocess.run(
            [sys.executable, "-c", script], env=local_env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        port, server_line, demo_line = done.stdout.splitlines()
        assert server_line.startswith("base_url /, port ")
        assert demo_line == f"browser URL http://127.0.0.1:{port}/"
    finally:
        jupyter.terminate()
        try:
            jupyter.wait(15)
        except subprocess.TimeoutExpired:
            jupyter.kill()
            jupyter.wait(5)
        log.close()


def wait_for_file(path: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None, log.read_text()[-2000:]
        assert time.monotonic() < deadline, f"no {path.name} after 60 s:\n{log.read_text()[-2000:]}"
        time.sleep(0.1)
