"""permessage-deflate with a real headless Chromium (RFC 7692).

Chromium offers ``permessage-deflate; client_max_window_bits`` on every WebSocket. The
demo server with ``compression="deflate"`` accepts it: the page's ``socket.extensions``
says so, and small and large, text and binary messages travel compressed both ways (the
server's event log shows RSV1 on every data frame). Without the option (the default) the
server declines and Chromium sends plain frames.
"""

from __future__ import annotations

from typing import Any

from wslearn.notebook import BackgroundServer, start_demo

TIMEOUT_MS = 20_000

SCRIPT = """
async () => {
  const large = "Compressed by Chromium, decompressed by wslearn. ".repeat(12000);  // 588 KB
  const random = new Uint8Array(60000);
  for (let i = 0; i < random.length; i += 65536) crypto.getRandomValues(random.subarray(i, i + 65536));
  const messages = ["hi", "hi", "", "héllo wörld ✓ 🎉", large, random.buffer, "bye"];
  const socket = new WebSocket(`ws://${location.host}/ws`);
  socket.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error("WebSocket failed"));
  });
  const same = (a, b) => {
    if (typeof a === "string") return a === b;
    const x = new Uint8Array(a), y = new Uint8Array(b);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  };
  const results = [];
  for (const message of messages) {
    const echoed = new Promise((resolve, reject) => {
      socket.onmessage = (event) => resolve(event.data);
      socket.onclose = (event) => reject(new Error("closed " + event.code + " " + event.reason));
      setTimeout(() => reject(new Error("no echo in 10 s")), 10000);
    });
    socket.send(message);
    const echo = await echoed;
    results.push([typeof message === "string" ? message.length : message.byteLength, same(message, echo)]);
  }
  const closed = new Promise((resolve) => { socket.onclose = (event) => resolve(event.code); });
  socket.close(1000);
  return {extensions: socket.extensions, results, closeCode: await closed};
}
"""


def run_page(browser: Any, server: BackgroundServer) -> dict[str, Any]:
    """The script's result, and the chat page's own status line (``"status"``)."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(server.http_url, timeout=TIMEOUT_MS)  # same origin as /ws
        result: dict[str, Any] = page.evaluate(SCRIPT)
        page.wait_for_function("document.querySelector('#status').textContent.startsWith('connected')")
        result["status"] = page.text_content("#status")
    finally:
        page.close()
    assert errors == []
    return result


def data_frames(server: BackgroundServer) -> list[Any]:
    """The data frames of the page's /ws connection (the chat page has its own /chat one)."""
    events = server.event_log.events()
    [echo] = [e.conn_id for e in events if e.kind == "open" and e.preview.startswith("/ws ")]
    return [e for e in events if e.conn_id == echo and e.kind == "frame" and e.opcode in ("TEXT", "BINARY")]


def test_chromium_offer_is_accepted_and_messages_go_compressed(browser: Any) -> None:
    server = start_demo("browser deflate", compression="deflate", ping_interval=None)
    try:
        result = run_page(browser, server)
        frames = data_frames(server)
        handshakes = [e for e in server.event_log.events() if e.kind == "handshake" and e.direction == "in"]
    finally:
        server.stop()
    assert result["extensions"] == "permessage-deflate"
    assert "(subprotocol: superchat, extensions: permessage-deflate)" in result["status"]
    assert result["closeCode"] == 1000
    assert [same for _size, same in result["results"]] == [True] * 7
    assert b"permessage-deflate" in handshakes[-1].raw  # Chromium's own offer
    # Each message once in, once out, every one with RSV1 (Chromium compresses all of them,
    # even the empty one); the large text shrinks to a fraction of its size on the wire.
    assert len(frames) == 14
    assert all(frame.rsv1 and frame.size is not None for frame in frames), [str(f) for f in frames]
    large = [frame for frame in frames if frame.size == 588_000]
    assert len(large) == 2 and all(frame.length < 10_000 for frame in large)
    assert {frame.direction for frame in large} == {"in", "out"}


def test_chromium_without_compression_on_the_server(browser: Any) -> None:
    server = start_demo("browser no deflate", ping_interval=None)  # the default: off
    try:
        result = run_page(browser, server)
        frames = data_frames(server)
    finally:
        server.stop()
    assert result["extensions"] == ""
    assert "(subprotocol: superchat, extensions: none)" in result["status"]
    assert [same for _size, same in result["results"]] == [True] * 7
    assert not any(frame.rsv1 for frame in frames)
    assert max(frame.length for frame in frames) == 588_000
