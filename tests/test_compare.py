"""Polling, long polling, SSE and WebSocket (wslearn.demo.compare), against the real demo server.

The server runs in wslearn's background runner with an update every 50 ms; the clients are
the module's own byte-counting clients, plain sockets and the websockets library. Every
wait is bounded.
"""

from __future__ import annotations

import http.client
import math
import socket
import time
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect as ws_connect

from wslearn.demo import compare
from wslearn.demo.compare import (
    METHODS,
    UpdateClock,
    frame_headers,
    measure,
    measure_all,
    parse_update,
    predict,
    wire_sizes,
)
from wslearn.notebook import BackgroundServer, start_demo

INTERVAL = 0.05
TIMEOUT = 5


@pytest.fixture(scope="module")
def demo() -> Iterator[BackgroundServer]:
    server = start_demo("test compare", update_interval=INTERVAL, ping_interval=None)
    yield server
    server.stop()


def http_get(
    server: BackgroundServer, target: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], str, float]:
    """(status, headers, body, seconds until the answer)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    started = time.monotonic()
    try:
        conn.request(method, target, headers=headers or {})
        response = conn.getresponse()
        body = response.read().decode()
        return response.status, dict(response.getheaders()), body, time.monotonic() - started
    finally:
        conn.close()


def latest(server: BackgroundServer, at_least: int = 5) -> int:
    """The newest update's number, once the server has made ``at_least`` of them."""
    deadline = time.monotonic() + TIMEOUT
    while (number := parse_update(http_get(server, "/poll")[2])[0]) < at_least:
        assert time.monotonic() < deadline
        time.sleep(INTERVAL)
    return number


def host_of(server: BackgroundServer) -> str:
    return f"127.0.0.1:{server.port}"


# --- The clock ----------------------------------------------------------------------------------


def test_one_update_per_interval_at_an_irregular_moment() -> None:
    clock = UpdateClock(0.5, start=1000.0)
    births = [clock.born(n) for n in range(200)]
    for n, born in enumerate(births):
        assert 1000.0 + n * 0.5 <= born < 1000.0 + (n + 1) * 0.5
    assert births == sorted(births)
    phases = [((born - 1000.0) / 0.5) % 1.0 for born in births]
    assert 0.45 < sum(phases) / len(phases) < 0.55  # spread over the interval, not on a beat
    assert len({round(p, 6) for p in phases}) == len(phases)


def test_latest_is_the_inverse_of_born() -> None:
    clock = UpdateClock(0.25, start=50.0)
    assert clock.latest(49.0) == -1
    for n in range(100):
        assert clock.latest(clock.born(n)) == n
        assert clock.latest(math.nextafter(clock.born(n + 1), 0.0)) == n


def test_every_update_has_the_same_size() -> None:
    clock = UpdateClock(1.0)
    texts = [clock.payload(n) for n in (0, 7, 99, 123456)]
    assert {len(text) for text in texts} == {24}
    assert parse_update(texts[2]) == (99, pytest.approx(clock.born(99)))


# --- The routes ---------------------------------------------------------------------------------


def test_poll_without_after_gives_the_newest_update(demo: BackgroundServer) -> None:
    status, headers, body, _ = http_get(demo, "/poll")
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    (line,) = body.splitlines()
    number, born = parse_update(line)
    assert born <= time.time()
    assert number >= 0


def test_poll_after_gives_every_newer_update_or_204(demo: BackgroundServer) -> None:
    newest = latest(demo)
    status, _, body, _ = http_get(demo, f"/poll?after={newest - 3}")
    numbers = [parse_update(line)[0] for line in body.splitlines()]
    assert status == 200
    assert numbers[:3] == [newest - 2, newest - 1, newest]
    status, headers, body, _ = http_get(demo, "/poll?after=999999999")
    assert (status, body) == (204, "")
    assert "Content-Length" not in headers


@pytest.mark.parametrize("target", ["/poll?after=abc", "/longpoll?after=-5"])
def test_a_bad_after_is_a_400_that_says_why(demo: BackgroundServer, target: str) -> None:
    status, _, body, _ = http_get(demo, target)
    assert status == 400
    assert "after must be the number of the last update you have" in body


def test_only_get(demo: BackgroundServer) -> None:
    status, headers, body, _ = http_get(demo, "/poll", method="POST")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"
    assert "POST" in body


def test_head_gets_the_headers_and_no_body(demo: BackgroundServer) -> None:
    for path in ("/poll", "/sse"):
        status, _headers, body, _ = http_get(demo, path, method="HEAD")
        assert status == 200, path
        assert body == "", path


def test_an_upgrade_to_a_plain_http_route_points_to_the_websocket_one(demo: BackgroundServer) -> None:
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    status, _, body, _ = http_get(demo, "/sse", headers)
    assert status == 400
    assert "/updates" in body


def test_the_404_page_lists_the_new_routes(demo: BackgroundServer) -> None:
    status, _, body, _ = http_get(demo, "/nothing-here")
    assert status == 404
    for path in ("/poll", "/longpoll", "/sse", "/updates", "/push"):
        assert path in body


def test_a_long_poll_waits_for_the_next_update(demo: BackgroundServer) -> None:
    newest = latest(demo)
    status, _, body, _ = http_get(demo, f"/longpoll?after={newest}")
    assert status == 200
    number, born = parse_update(body.splitlines()[0])
    assert number == newest + 1
    assert time.time() - born < 1.0  # answered when it was born, not a poll interval later
    # An old "after" is answered at once, with what the client missed.
    status, _, body, _ = http_get(demo, f"/longpoll?after={newest - 2}")
    assert status == 200
    assert parse_update(body.splitlines()[0])[0] == newest - 1


def read_sse(server: BackgroundServer, events: int, headers: str = "") -> tuple[bytes, list[bytes]]:
    """The response head and the first ``events`` events of /sse, from a raw socket."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET /sse HTTP/1.1\r\nHost: {host_of(server)}\r\n{headers}\r\n".encode())
        data = b""
        while data.count(b"\n\n") < events + 1:  # the head ends with \r\n\r\n, which has no \n\n
            chunk = sock.recv(4096)
            assert chunk, "the stream ended"
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest.split(b"\n\n")[:events]


def test_sse_streams_one_event_per_update(demo: BackgroundServer) -> None:
    head, events = read_sse(demo, 3)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: text/event-stream" in head
    assert b"Content-Length" not in head  # the body ends when the connection does
    ids = []
    for event in events:
        id_line, data_line = event.split(b"\n")
        number, _born = parse_update(data_line.removeprefix(b"data: ").decode())
        assert id_line == f"id: {number:06d}".encode()
        ids.append(number)
    assert ids == [ids[0], ids[0] + 1, ids[0] + 2]


def test_sse_resumes_after_last_event_id(demo: BackgroundServer) -> None:
    newest = latest(demo)
    _, events = read_sse(demo, 2, headers=f"Last-Event-ID: {newest - 5}\r\n")
    assert [int(event.split(b"\n")[0][4:]) for event in events] == [newest - 4, newest - 3]


def test_the_websocket_route_sends_each_update_as_text(demo: BackgroundServer) -> None:
    with ws_connect(demo.url + "/updates", open_timeout=TIMEOUT, proxy=None) as ws:
        ws.send("ignored")  # the route reads and drops what the client says
        numbers = [parse_update(str(ws.recv(timeout=TIMEOUT)))[0] for _ in range(3)]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_a_client_that_leaves_an_sse_stream_ends_it(demo: BackgroundServer) -> None:
    read_sse(demo, 1)
    deadline = time.monotonic() + TIMEOUT
    # The stream's writer notices at its next write or two and the connection task ends.
    while time.monotonic() < deadline and demo_handshaking(demo):
        time.sleep(0.05)
    assert not demo_handshaking(demo)


def demo_handshaking(server: BackgroundServer) -> int:
    """Connections the server is answering with plain HTTP (a stream, a long poll)."""
    return len(server.server._handshaking)


# --- The measurements ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["sse", "websocket"])
def test_one_connection_methods_match_the_model_exactly(demo: BackgroundServer, method: str) -> None:
    result = measure(method, demo.http_url, 8, poll_interval=INTERVAL)
    assert result.total == predict(method, 8, wire_sizes(host_of(demo)))
    assert result.requests == 1
    assert len(result.latencies) == 8


def test_long_polling_costs_one_request_per_answer(demo: BackgroundServer) -> None:
    result = measure("longpoll", demo.http_url, 8, poll_interval=INTERVAL)
    s = wire_sizes(host_of(demo))
    line = len(compare.UpdateClock(1.0).payload(0)) + 1
    head = s["answer with one update"] - line
    # First request, then one per answer; every answer has the same head; 9 updates arrived
    # (the first answer's included). Exact, even if one answer carried two updates.
    expected = (
        s["longpoll: first request (no after)"]
        + (result.requests - 1) * s["longpoll: request ?after=N"]
        + result.requests * head
        + (8 + 1) * line
    )
    assert result.total == expected
    assert result.requests <= 9


def test_polling_is_close_to_the_model(demo: BackgroundServer) -> None:
    result = measure("poll", demo.http_url, 12, poll_interval=INTERVAL)
    # The model assumes one new update per poll; the poller also gets a few empty 204s and
    # a few answers with two updates, so the count is off by a few polls: 15 % is 2 polls.
    assert result.total == pytest.approx(predict("poll", 12, wire_sizes(host_of(demo))), rel=0.15)
    assert result.requests >= 12


def test_polling_waits_about_half_an_interval_the_others_do_not(demo: BackgroundServer) -> None:
    results = {m.method: m for m in measure_all(demo.http_url, 16, poll_interval=INTERVAL)}
    assert [m for m in results] == list(METHODS)
    for m in results.values():
        assert min(m.latencies) > -0.002  # nobody receives an update before it is born
    # An update waits from 0 to one interval for the next poll: INTERVAL / 2 on average, a
    # little more with the round trip. Load on the machine only makes it longer.
    assert results["poll"].mean_latency > 0.3 * INTERVAL
    for method in ("longpoll", "sse", "websocket"):
        assert sorted(results[method].latencies)[8] < results["poll"].mean_latency


def test_a_cookie_is_paid_per_request(demo: BackgroundServer) -> None:
    plain = measure("sse", demo.http_url, 3, poll_interval=INTERVAL)
    cookie = measure("sse", demo.http_url, 3, cookie_bytes=1000, poll_interval=INTERVAL)
    assert cookie.sent - plain.sent == len("Cookie: \r\n") + 1000
    ws = measure("websocket", demo.http_url, 3, cookie_bytes=1000, poll_interval=INTERVAL)
    assert ws.sent == wire_sizes(host_of(demo), 1000)["websocket: handshake request"]
    poll = measure("longpoll", demo.http_url, 3, cookie_bytes=1000, poll_interval=INTERVAL)
    assert poll.sent >= poll.requests * 1000


def test_frame_headers_measured(demo: BackgroundServer) -> None:
    assert frame_headers(demo.url, 10) == compare.FrameHeaders(10, 6, 2)
    assert frame_headers(demo.url, 200) == compare.FrameHeaders(200, 8, 4)
    assert frame_headers(demo.url, 70_000) == compare.FrameHeaders(70_000, 14, 10)


def test_the_exercises_agree_with_the_measurements(demo: BackgroundServer) -> None:
    from wslearn.exercises import get

    headers = get("01.frame_headers").reference
    for size in (10, 200):
        measured = frame_headers(demo.url, size)
        assert headers[f"server, {size} bytes"] == measured.server_to_client
        assert headers[f"client, {size} bytes"] == measured.client_to_server
    bytes_60 = get("01.bytes_60").reference
    assert bytes_60 == {m: predict(m, 60, wire_sizes(host_of(demo))) for m in METHODS}


def test_bad_arguments_say_what_is_wrong(demo: BackgroundServer) -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        measure("pigeon", demo.http_url)
    with pytest.raises(ValueError, match="updates must be at least 1"):
        measure("poll", demo.http_url, 0)
    with pytest.raises(ValueError, match="with a host and a port"):
        measure("poll", "http://127.0.0.1/")
    with pytest.raises(TimeoutError, match="did not all arrive within"):
        measure("sse", demo.http_url, 50, timeout=0.2)


def test_the_plot_shows_what_was_measured(demo: BackgroundServer) -> None:
    results = measure_all(demo.http_url, 3, poll_interval=INTERVAL)
    figure = compare.plot(results, interval=INTERVAL)
    by_bytes, by_latency = figure.axes
    heights = [bar.get_height() for bar in by_bytes.patches]
    assert heights == pytest.approx([m.bytes_per_update for m in results])
    assert [label.get_text() for label in by_bytes.get_xticklabels()] == list(METHODS)
    assert len(by_latency.patches) == 4
