"""MethodsWidget: the cookie slider re-measures the four methods against the real demo server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wslearn.demo.compare import METHODS, Measurement
from wslearn.notebook import BackgroundServer, start_demo
from wslearn.notebook.widgets import MethodsWidget
from wslearn.notebook.widgets.methods import rows

INTERVAL = 0.02


@pytest.fixture(scope="module")
def demo() -> Iterator[BackgroundServer]:
    server = start_demo("test methods widget", update_interval=INTERVAL, ping_interval=None)
    yield server
    server.stop()


def test_it_measures_at_once_and_again_when_the_slider_moves(demo: BackgroundServer) -> None:
    widget = MethodsWidget(demo.http_url, updates=5, poll_interval=INTERVAL)
    assert [m.method for m in widget.measurements] == list(METHODS)
    before = {m.method: m.bytes_per_update for m in widget.measurements}
    widget.slider.value = 2048  # what the browser does when the slider is let go
    after = {m.method: m.bytes_per_update for m in widget.measurements}
    assert {m.cookie_bytes for m in widget.measurements} == {2048}
    # One request per update: the cookie is paid for every update (and for the first request).
    assert after["poll"] - before["poll"] > 2048
    # One request in all: the cookie is paid once, spread over the 5 updates.
    assert after["websocket"] - before["websocket"] < 2048 / 5 + 100
    assert "2048 bytes" in widget.text()
    assert "2048 bytes" in widget.table.value
    for method in METHODS:
        assert method in widget.text()
        assert method in widget.html()
    assert "wslearn-methods" in widget._dom_classes


def test_a_stopped_server_is_shown_not_raised() -> None:
    server = start_demo("test methods widget, stopped", update_interval=INTERVAL, ping_interval=None)
    url = server.http_url
    server.stop()
    widget = MethodsWidget(url, updates=2, poll_interval=INTERVAL)
    assert widget.measurements == []
    assert "could not measure" in widget.text()
    assert "could not measure" in widget.html()


def test_the_views_escape_what_they_show() -> None:
    fake = Measurement("<script>alert(1)</script>", 1, 10, 20, 1, [0.001])

    def measure(*_args: object, **_kwargs: object) -> list[Measurement]:
        return [fake]

    widget = MethodsWidget("http://127.0.0.1:1", updates=1, measure=measure)
    assert "<script>" not in widget.html()
    assert "&lt;script&gt;" in widget.html()
    assert rows([fake]) == [("<script>alert(1)</script>", "30", "10", "20", "1.0 ms")]
