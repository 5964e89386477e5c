"""Browser-visible URLs: direct on this machine, through jupyter-server-proxy under a Jupyter server."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from wslearn.notebook import urls


@pytest.fixture
def with_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(urls, "has_server_proxy", lambda: True)


@pytest.fixture
def without_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(urls, "has_server_proxy", lambda: False)


def server_file(runtime: Path, pid: int, **info: object) -> dict[str, str]:
    """Write the jpserver-PID.json a Jupyter server writes; return a kernel's environment."""
    runtime.mkdir(parents=True, exist_ok=True)
    (runtime / f"jpserver-{pid}.json").write_text(json.dumps({"pid": pid, **info}))
    return {"JPY_PARENT_PID": str(pid), "JUPYTER_RUNTIME_DIR": str(runtime)}


def test_direct_url() -> None:
    assert urls.direct_url(8765) == "http://127.0.0.1:8765/"
    assert urls.direct_url(8765, "chat") == "http://127.0.0.1:8765/chat"
    assert urls.direct_url(8765, "/ws", host="localhost") == "http://localhost:8765/ws"


@pytest.mark.parametrize(
    ("base_url", "path", "expected"),
    [
        ("/", "/", "/proxy/8765/"),
        ("", "/", "/proxy/8765/"),
        ("/user/ada/", "/", "/user/ada/proxy/8765/"),
        ("/user/ada", "/", "/user/ada/proxy/8765/"),
        ("user/ada", "chat", "/user/ada/proxy/8765/chat"),
    ],
)
def test_proxy_path(base_url: str, path: str, expected: str) -> None:
    assert urls.proxy_path(8765, path, base_url=base_url) == expected


def test_plain_python_gets_the_direct_url(with_proxy: None) -> None:
    assert urls.find_jupyter_server({}) is None
    assert urls.browser_url(8765, environ={}) == "http://127.0.0.1:8765/"


def test_jupyterhub_and_binder_get_the_proxy_path(with_proxy: None) -> None:
    environ = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada-lovelace-abc123/"}
    assert urls.browser_url(8765, environ=environ) == "/user/ada-lovelace-abc123/proxy/8765/"
    server = urls.find_jupyter_server(environ)
    assert server == urls.JupyterServer("/user/ada-lovelace-abc123/", None, "JUPYTERHUB_SERVICE_PREFIX")


def test_without_jupyter_server_proxy_only_the_direct_url_can_work(without_proxy: None) -> None:
    environ = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"}
    assert urls.browser_url(8765, environ=environ) == "http://127.0.0.1:8765/"


def test_local_jupyter_server_found_through_the_kernels_parent(tmp_path: Path, with_proxy: None) -> None:
    environ = server_file(tmp_path, 4321, port=8888, base_url="/lab-here/", token="s3cret")
    assert urls.find_jupyter_server(environ) == urls.JupyterServer(
        "/lab-here/", 8888, "Jupyter server info file"
    )
    # JupyterLab on this machine: the browser is here too, and reaches the server directly
    # (through the proxy it would see 1005 instead of the server's 1001 when the server stops).
    assert urls.browser_url(8765, "/chat", environ=environ) == "http://127.0.0.1:8765/chat"
    assert urls.page_link(8765, environ=environ).url == "http://127.0.0.1:8765/"


def test_binder_without_a_prefix_variable_uses_the_servers_base_url(tmp_path: Path, with_proxy: None) -> None:
    environ = server_file(tmp_path, 4321, port=8888, base_url="/binder/x/")
    environ["BINDER_LAUNCH_HOST"] = "https://mybinder.org/"
    assert urls.on_a_hub(environ)
    assert urls.browser_url(8765, "/chat", environ=environ) == "/binder/x/proxy/8765/chat"


def test_a_local_server_can_ask_for_the_proxy(tmp_path: Path, with_proxy: None) -> None:
    environ = server_file(tmp_path, 4321, port=8888, base_url="/lab-here/")
    environ[urls.OVERRIDE_VARIABLE] = "proxy"  # the browser is on another machine (a container)
    assert urls.browser_url(8765, environ=environ) == "/lab-here/proxy/8765/"


def test_hub_prefix_wins_over_the_server_file(tmp_path: Path, with_proxy: None) -> None:
    environ = server_file(tmp_path, 4321, port=8888, base_url="/")
    environ["JUPYTERHUB_SERVICE_PREFIX"] = "/user/ada/"
    server = urls.find_jupyter_server(environ)
    assert server is not None
    assert (server.base_url, server.port) == ("/user/ada/", 8888)


def test_server_file_of_another_process_is_ignored(tmp_path: Path, with_proxy: None) -> None:
    environ = server_file(tmp_path, 4321, port=8888, base_url="/")
    environ["JPY_PARENT_PID"] = "9999"  # a kernel started by something else (nbclient, an editor)
    assert urls.browser_url(8765, environ=environ) == "http://127.0.0.1:8765/"


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", ""])
def test_broken_server_file_means_no_server(tmp_path: Path, content: str) -> None:
    (tmp_path / "jpserver-4321.json").write_text(content)
    environ = {"JPY_PARENT_PID": "4321", "JUPYTER_RUNTIME_DIR": str(tmp_path)}
    assert urls.read_server_info(environ) is None


def test_parent_pid_must_be_a_number() -> None:
    assert urls.read_server_info({"JPY_PARENT_PID": "../etc"}) is None


@pytest.mark.parametrize(
    ("override", "expected"),
    [("direct", "http://127.0.0.1:8765/"), ("proxy", "/user/ada/proxy/8765/"), ("", None)],
)
def test_override_variable(override: str, expected: str | None, with_proxy: None) -> None:
    environ = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/", urls.OVERRIDE_VARIABLE: override}
    assert urls.browser_url(8765, environ=environ) == (expected or "/user/ada/proxy/8765/")


def test_explicit_via_beats_everything(with_proxy: None) -> None:
    hub = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"}
    assert urls.browser_url(8765, via="direct", environ=hub) == "http://127.0.0.1:8765/"
    assert urls.browser_url(8765, via="proxy", environ={}) == "/proxy/8765/"


def test_has_server_proxy_matches_the_installed_packages() -> None:
    import importlib.util

    expected = importlib.util.find_spec("jupyter_server_proxy") is not None
    assert urls.has_server_proxy() is expected


def test_runtime_dir_defaults_to_jupyters_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_core.paths import jupyter_runtime_dir

    monkeypatch.delenv("JUPYTER_RUNTIME_DIR", raising=False)
    assert urls._runtime_dir({}) == Path(jupyter_runtime_dir())
    assert urls._runtime_dir({"JUPYTER_RUNTIME_DIR": os.sep + "x"}) == Path(os.sep + "x")


def test_page_link_html_is_a_link_and_an_iframe(with_proxy: None) -> None:
    link = urls.page_link(8765, environ={"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"})
    assert str(link) == "/user/ada/proxy/8765/"
    page = link._repr_html_()
    assert "href='/user/ada/proxy/8765/'" in page
    assert "<iframe src='/user/ada/proxy/8765/'" in page


def test_page_link_escapes_what_it_shows() -> None:
    link = urls.PageLink("/x'onmouseover='alert(1)/", "<b>chat</b>", iframe_height=None)
    page = link._repr_html_()
    assert "'onmouseover" not in page and "<b>" not in page
    assert "iframe" not in page
