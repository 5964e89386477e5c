"""permessage-deflate (RFC 7692) against node's ``ws``, the library most JavaScript servers use.

Both ways, over real sockets on 127.0.0.1:

* node ``ws`` clients, each offering a different set of parameters (compressing every
  message: ``threshold: 0``), meet wslearn's compressing server in three configurations.
  Each connection checks the response header node received, echoes small, large, binary,
  repeated and fragmented messages, and wslearn's event log shows that the frames went
  both ways with RSV1 set.
* wslearn's client meets node ``ws`` servers configured with each parameter: both ends must
  agree on the same parameters, and node's fragmented compressed messages come through.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import install_node_ws
from conftest import echo, run

from wslearn.aio import WebSocket, connect, serve
from wslearn.deflate import DeflateOffer, DeflateParameters, ServerDeflateConfig
from wslearn.errors import HandshakeError
from wslearn.eventlog import EventLog

TIMEOUT = 60

# Node's side of the client tests: read the cases (JSON) from standard input, run each,
# print one JSON result per case.
NODE_CLIENTS = r"""
const WebSocket = require('ws');
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));  // from standard input

function decode(item) {  // "t:..." text, "b:<base64>" binary
  return item.startsWith('b:') ? Buffer.from(item.slice(2), 'base64') : item.slice(2);
}

function runCase({ url, options, messages, fragments }) {
  return new Promise((resolve) => {
    const result = { answered: null, echoes: [], error: null };
    const ws = new WebSocket(url, { perMessageDeflate: { threshold: 0, ...options } });
    const timer = setTimeout(() => { result.error = 'timeout'; ws.terminate(); }, 20000);
    const expected = messages.map(decode);
    if (fragments.length) expected.push(fragments.join(''));
    const sendNext = () => {
      const index = result.echoes.length;
      if (index < messages.length) {
        const message = expected[index];
        ws.send(message, { binary: typeof message !== 'string' });
      } else if (index === messages.length && fragments.length) {
        fragments.forEach((piece, i) => ws.send(piece, { binary: false, fin: i === fragments.length - 1 }));
      } else {
        ws.close(1000);
      }
    };
    ws.on('upgrade', (response) => {
      result.answered = response.headers['sec-websocket-extensions'] || null;
    });
    ws.on('open', sendNext);
    ws.on('message', (data, isBinary) => {
      const want = expected[result.echoes.length];
      const same = isBinary ? Buffer.isBuffer(want) && want.equals(data) : data.toString() === want;
      result.echoes.push(same);
      sendNext();
    });
    ws.on('error', (error) => { result.error = String(error); });
    ws.on('close', (code) => { clearTimeout(timer); result.code = code; resolve(result); });
  });
}

(async () => {
  for (const item of cases) console.log(JSON.stringify(await runCase(item)));
})();
"""

# Node's side of the server tests: an echo server; "fragments" asks for a fragmented reply.
NODE_SERVER = r"""
const WebSocket = require('ws');
const options = JSON.parse(process.argv[2]);
const perMessageDeflate = { threshold: 0, ...options };
const server = new WebSocket.WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate });
server.on('listening', () => console.log(`READY ${server.address().port}`));
server.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    if (!isBinary && data.toString() === 'fragments') {
      ['first, ', 'second, ', 'third: '.repeat(500), 'the end'].forEach((piece, i, all) =>
        ws.send(piece, { binary: false, fin: i === all.length - 1 }));
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
"""

CHAT = json.dumps(
    {"type": "chat", "from": "alice", "text": "Is the meeting still at ten? I have the slides."}
)
NOISE = random.Random(7).randbytes(100_000)
TEXTS = ["hi", CHAT, json.dumps([CHAT] * 2000), *[CHAT] * 3, ""]
BINARIES = [NOISE, bytes(range(256)) * 4096]  # incompressible, and 1 MiB that compresses
MESSAGES = [f"t:{text}" for text in TEXTS] + [f"b:{base64.b64encode(data).decode()}" for data in BINARIES]
FRAGMENTS = ["one ", "two " * 1000, "three"]


@pytest.fixture(scope="module")
def node_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the npm package ``ws`` installed and the two scripts."""
    folder = tmp_path_factory.mktemp("node-ws-deflate")
    install_node_ws(folder)
    (folder / "clients.js").write_text(NODE_CLIENTS)
    (folder / "server.js").write_text(NODE_SERVER)
    return folder


# --- node clients, wslearn's server -----------------------------------------------------

# node's perMessageDeflate client options -> what its offer says
CLIENT_OPTIONS: dict[str, dict[str, Any]] = {
    "node's default offer": {},
    "server_no_context_takeover": {"serverNoContextTakeover": True},
    "client_no_context_takeover": {"clientNoContextTakeover": True},
    "server_max_window_bits=11": {"serverMaxWindowBits": 11},
    "client_max_window_bits=12": {"clientMaxWindowBits": 12},
}

SERVER_CONFIGS = {
    "defaults": ServerDeflateConfig(),
    "small windows": ServerDeflateConfig(server_max_window_bits=10, client_max_window_bits=10),
    "no context takeover": ServerDeflateConfig(
        server_no_context_takeover=True, client_no_context_takeover=True
    ),
}


def node_clients(folder: Path, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done = subprocess.run(
        ["node", "clients.js"],
        input=json.dumps(cases),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 2,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.parametrize("config_name", SERVER_CONFIGS)
def test_node_clients_and_wslearns_compressing_server(node_ws: Path, config_name: str) -> None:
    config = SERVER_CONFIGS[config_name]
    log = EventLog(maxlen=100_000)

    async def scenario() -> list[dict[str, Any]]:
        async with await serve(
            echo, "127.0.0.1", 0, compression=config, ping_interval=None, event_log=log
        ) as server:
            url = f"ws://127.0.0.1:{server.port}/"
            cases = [
                {"url": url, "options": options, "messages": MESSAGES, "fragments": FRAGMENTS}
                for options in CLIENT_OPTIONS.values()
            ]
            return await asyncio.to_thread(node_clients, node_ws, cases)

    results = run(scenario(), timeout=TIMEOUT * 3)
    assert len(results) == len(CLIENT_OPTIONS)
    for name, result in zip(CLIENT_OPTIONS, results, strict=True):
        assert result["error"] is None, (name, result)
        assert result["code"] == 1000, (name, result)
        assert result["echoes"] == [True] * (len(MESSAGES) + 1), (name, result)
        answered = result["answered"]
        assert answered is not None and answered.startswith("permessage-deflate"), (name, result)
        if config.server_max_window_bits == 10:
            assert "server_max_window_bits=10" in answered
        if config.client_max_window_bits == 10 and "clientMaxWindowBits" not in CLIENT_OPTIONS[name]:
            assert "client_max_window_bits=10" in answered  # node's offer allows it
        if CLIENT_OPTIONS[name].get("serverNoContextTakeover") or config.server_no_context_takeover:
            assert "server_no_context_takeover" in answered
    frames = [event for event in log.events() if event.kind == "frame" and event.opcode in ("TEXT", "BINARY")]
    compressed = {(event.direction, event.rsv1) for event in frames}
    assert ("in", True) in compressed and ("out", True) in compressed  # node's and ours
    assert all(event.rsv1 for event in frames if event.direction == "out")  # wslearn compresses every one


def test_node_clients_offer_what_the_table_says(node_ws: Path) -> None:
    """The offers above are what node sends (so the test grades the parameters it names)."""
    offers: list[str | None] = []

    async def handler(ws: WebSocket) -> None:
        assert ws.request is not None
        offers.append(ws.request.headers.get("Sec-WebSocket-Extensions"))
        await echo(ws)

    async def scenario() -> list[dict[str, Any]]:
        async with await serve(handler, "127.0.0.1", 0, compression="deflate", ping_interval=None) as server:
            url = f"ws://127.0.0.1:{server.port}/"
            cases = [
                {"url": url, "options": o, "messages": [], "fragments": []} for o in CLIENT_OPTIONS.values()
            ]
            return await asyncio.to_thread(node_clients, node_ws, cases)

    results = run(scenario(), timeout=TIMEOUT)
    assert [result["code"] for result in results] == [1000] * len(CLIENT_OPTIONS)
    assert offers == [
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_no_context_takeover; client_max_window_bits",
        "permessage-deflate; client_no_context_takeover; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=11; client_max_window_bits",
        "permessage-deflate; client_max_window_bits=12",
    ]


# --- wslearn's client, node servers -----------------------------------------------------

# node's perMessageDeflate server options -> the parameters both ends must agree on
NODE_SERVERS: dict[str, tuple[dict[str, Any], DeflateParameters]] = {
    "defaults": ({}, DeflateParameters()),
    "serverNoContextTakeover": (
        {"serverNoContextTakeover": True},
        DeflateParameters(server_no_context_takeover=True),
    ),
    "clientNoContextTakeover": (
        {"clientNoContextTakeover": True},
        DeflateParameters(client_no_context_takeover=True),
    ),
    "serverMaxWindowBits 9": ({"serverMaxWindowBits": 9}, DeflateParameters(server_max_window_bits=9)),
    "clientMaxWindowBits 10": ({"clientMaxWindowBits": 10}, DeflateParameters(client_max_window_bits=10)),
}


@pytest.fixture(params=list(NODE_SERVERS))
def node_server(
    request: pytest.FixtureRequest, node_ws: Path
) -> Iterator[tuple[str, DeflateParameters | None]]:
    options, agreed = NODE_SERVERS[request.param]
    server = subprocess.Popen(
        ["node", "server.js", json.dumps(options)],
        cwd=node_ws,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("READY "), line
        yield f"ws://127.0.0.1:{line.split()[1]}/", agreed
    finally:
        assert server.stdin is not None
        server.stdin.close()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


@pytest.mark.parametrize(
    "offer", [DeflateOffer(), DeflateOffer(client_max_window_bits=None)], ids=["chrome", "firefox"]
)
def test_wslearns_client_and_node_servers(
    node_server: tuple[str, DeflateParameters], offer: DeflateOffer
) -> None:
    url, agreed = node_server
    messages: list[str | bytes] = [*TEXTS, *BINARIES]

    async def scenario() -> tuple[DeflateParameters | None, list[str | bytes], str | bytes]:
        # A 1 MiB message may take more than 1 MiB compressed. With a 2**9-byte window zlib
        # looks back at most 250 bytes (the window less its 262-byte lookahead), so the
        # message that repeats every 256 bytes goes out in stored blocks: 1,050,886 bytes.
        async with connect(url, compression=offer, max_message_size=2**22) as ws:
            echoes = []
            for message in messages:
                await ws.send(message)
                echoes.append(await ws.recv())
            await ws.send("fragments")
            return ws.deflate, echoes, await ws.recv()

    if offer.client_max_window_bits is None and agreed.client_max_window_bits < 15:
        # RFC 7692 §7.1.2.2 forbids limiting a client's window it did not offer to limit.
        # node then refuses the whole handshake rather than declining compression.
        with pytest.raises(HandshakeError) as refused:
            run(scenario(), timeout=TIMEOUT)
        assert refused.value.status == 400
        assert "Sec-WebSocket-Extensions" in str(refused.value)
        return
    params, echoes, fragmented = run(scenario(), timeout=TIMEOUT)
    assert params == agreed
    assert echoes == messages
    assert fragmented == "first, second, " + "third: " * 500 + "the end"
