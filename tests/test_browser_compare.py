"""The comparison routes in a real headless Chromium: fetch() polls, EventSource, WebSocket.

What the byte-counting clients of wslearn.demo.compare assume about the formats, a browser
must agree with: an EventSource parses our event stream (ids included), fetch() reads a poll
and a long poll, and a page's WebSocket receives the updates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from wslearn.demo.compare import parse_update
from wslearn.notebook import BackgroundServer, start_demo

TIMEOUT_MS = 10_000

SCRIPT = """
async () => {
  const timeout = (what) => new Promise((_, reject) =>
    setTimeout(() => reject(new Error(what + ": no answer in 5 s")), 5000));
  const sse = await Promise.race([timeout("EventSource"), new Promise((resolve, reject) => {
    const events = [];
    const source = new EventSource("/sse");
    source.onmessage = (event) => {
      events.push([event.lastEventId, event.data]);
      if (events.length === 3) { source.close(); resolve(events); }
    };
    source.onerror = () => { source.close(); reject(new Error("EventSource failed")); };
  })]);
  const poll = await fetch("/poll");
  const pollText = await poll.text();
  const newest = parseInt(pollText.split(" ")[0], 10);
  const longPoll = await fetch("/longpoll?after=" + newest);
  const longPollText = await longPoll.text();
  const ws = await Promise.race([timeout("WebSocket"), new Promise((resolve, reject) => {
    const got = [];
    const socket = new WebSocket(`ws://${location.host}/updates`);
    socket.onmessage = (event) => {
      got.push(event.data);
      if (got.length === 2) { socket.close(1000); resolve(got); }
    };
    socket.onerror = () => reject(new Error("WebSocket failed"));
  })]);
  return {sse, pollStatus: poll.status, pollText, newest, longPollStatus: longPoll.status,
          longPollText, ws};
}
"""


@pytest.fixture
def server() -> Iterator[BackgroundServer]:
    running = start_demo("browser compare", update_interval=0.05, ping_interval=None)
    yield running
    running.stop()


def test_a_browser_reads_all_four_methods(browser: Any, server: BackgroundServer) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(server.http_url, timeout=TIMEOUT_MS)  # same origin as the routes
        result = page.evaluate(SCRIPT)
    finally:
        page.close()
    assert errors == []
    numbers = [parse_update(data)[0] for _id, data in result["sse"]]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    assert [event_id for event_id, _data in result["sse"]] == [f"{n:06d}" for n in numbers]
    assert result["pollStatus"] == 200
    assert parse_update(result["pollText"])[0] == result["newest"]
    assert result["longPollStatus"] == 200
    assert parse_update(result["longPollText"].splitlines()[0])[0] == result["newest"] + 1
    ws_numbers = [parse_update(text)[0] for text in result["ws"]]
    assert ws_numbers == [ws_numbers[0], ws_numbers[0] + 1]
