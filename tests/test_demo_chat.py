"""The /chat route: seed article 003's protocol, several clients, clients that vanish."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect
from websockets.typing import Subprotocol

from wslearn.notebook import BackgroundServer, start_demo

TIMEOUT = 5


@pytest.fixture
def chat() -> Iterator[BackgroundServer]:
    server = start_demo("test chat", ping_interval=None)
    yield server
    server.stop()


def join(server: BackgroundServer, *, notices: bool = False) -> tuple[ClientConnection, str]:
    """A chat client; returns it with the uid the server sent first."""
    subprotocols = [Subprotocol("superchat")] if notices else None
    ws = ws_connect(
        server.url + "/chat",
        subprotocols=subprotocols,
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
        proxy=None,
        legacy=True,  # a connection kept across helpers, closed by the test
    )
    uid = ws.recv(timeout=TIMEOUT)
    assert isinstance(uid, str) and uid.isdigit()  # bare text, not JSON
    return ws, uid


def say(ws: ClientConnection, uid: str, msg: str) -> None:
    ws.send(json.dumps({"uid": uid, "msg": msg}))


def next_chat(ws: ClientConnection) -> dict[str, str]:
    """The next chat message, skipping notices."""
    for _ in range(50):
        value: dict[str, str] = json.loads(ws.recv(timeout=TIMEOUT))
        if "type" not in value:
            return value
    raise AssertionError("no chat message among 50")


def next_notice(ws: ClientConnection, kind: str, user: str | None = None) -> dict[str, object]:
    """The next notice of this kind (about ``user``, when given), skipping the rest."""
    for _ in range(50):
        value: dict[str, object] = json.loads(ws.recv(timeout=TIMEOUT))
        if value.get("type") == kind and user in (None, value["user"]):
            return value
    raise AssertionError(f"no {kind} notice among 50")


def newcomer(ws: ClientConnection, known: set[str]) -> str:
    """The uid of the next user who joins, other than ``known`` ones."""
    for _ in range(50):
        user = str(next_notice(ws, "join")["user"])
        if user not in known:
            return user
    raise AssertionError("nobody new joined")


def test_seed_protocol_two_clients(chat: BackgroundServer) -> None:
    a, uid_a = join(chat)
    b, uid_b = join(chat)
    with a, b:
        assert uid_a != uid_b
        say(a, uid_a, "hello from a")
        expected = {"uid": uid_a, "msg": "hello from a"}
        assert json.loads(a.recv(timeout=TIMEOUT)) == expected  # the sender too
        assert json.loads(b.recv(timeout=TIMEOUT)) == expected


def test_everyone_hears_everyone(chat: BackgroundServer) -> None:
    clients = [join(chat) for _ in range(4)]
    try:
        for ws, uid in clients:
            say(ws, uid, f"i am {uid}")
        for ws, _ in clients:
            heard = [next_chat(ws) for _ in clients]
            assert sorted(m["msg"] for m in heard) == sorted(f"i am {u}" for _, u in clients)
            assert all(m["msg"] == f"i am {m['uid']}" for m in heard)
    finally:
        for ws, _ in clients:
            ws.close()


def test_ids_are_never_reused(chat: BackgroundServer) -> None:
    seen = set()
    for _ in range(3):
        ws, uid = join(chat)
        ws.close()
        seen.add(uid)
    assert len(seen) == 3  # the seed's len(clients)+1 would give "1" three times


def test_the_server_writes_the_real_uid(chat: BackgroundServer) -> None:
    a, uid_a = join(chat)
    with a:
        say(a, "999", "i pretend to be 999")
        assert next_chat(a) == {"uid": uid_a, "msg": "i pretend to be 999"}


def test_seed_clients_receive_no_notices(chat: BackgroundServer) -> None:
    a, _ = join(chat)
    with a:
        b, _ = join(chat, notices=True)
        b.close()
        with pytest.raises(TimeoutError):
            a.recv(timeout=0.3)  # neither the join nor the leave reached a


def test_superchat_notices(chat: BackgroundServer) -> None:
    a, uid_a = join(chat, notices=True)
    with a:
        assert a.subprotocol == "superchat"
        joined = next_notice(a, "join")
        assert joined == {"type": "join", "user": uid_a, "users": [uid_a]}
        b, uid_b = join(chat)
        assert next_notice(a, "join")["users"] == [uid_a, uid_b]
        b.close()
        left = next_notice(a, "leave")
        assert left == {"type": "leave", "user": uid_b, "users": [uid_a]}
        assert "uid" not in left and "msg" not in left


def test_malformed_message_gets_an_error_and_the_chat_goes_on(chat: BackgroundServer) -> None:
    a, uid_a = join(chat)
    b, _ = join(chat)
    with a, b:
        a.send("not json")
        error = json.loads(a.recv(timeout=TIMEOUT))
        assert error["type"] == "error" and '"msg"' in error["error"]
        a.send(json.dumps({"uid": uid_a}))  # no msg
        assert json.loads(a.recv(timeout=TIMEOUT))["type"] == "error"
        say(a, uid_a, "fine now")
        assert next_chat(b) == {"uid": uid_a, "msg": "fine now"}  # b saw no error


def test_binary_is_refused_with_1003(chat: BackgroundServer) -> None:
    a, _ = join(chat)
    with a:
        a.send(b"\x00\x01")
        with pytest.raises(ConnectionClosedError):
            a.recv(timeout=TIMEOUT)
        assert a.protocol.close_rcvd is not None
        assert a.protocol.close_rcvd.code == 1003


# --- Clients that vanish or cannot keep up ------------------------------------------------


def raw_join(port: int, *, receive_buffer: int | None = None) -> socket.socket:
    """A chat client written by hand: the handshake, no reading afterwards."""
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /chat HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)  # one byte at a time: leave the frames in the socket
    assert head.startswith(b"HTTP/1.1 101")
    return sock


def reset(sock: socket.socket) -> None:
    """Vanish: close with SO_LINGER 0, so the peer gets a TCP RST and no Close frame."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_a_client_vanishing_mid_chat_never_breaks_the_broadcast(chat: BackgroundServer) -> None:
    a, uid_a = join(chat, notices=True)
    b, uid_b = join(chat)
    with a, b:
        ghost = raw_join(chat.port)
        ghost_uid = newcomer(a, {uid_a, uid_b})
        say(a, uid_a, "before")
        assert next_chat(b)["msg"] == "before"
        reset(ghost)
        for number in range(20):  # the broadcast goes on while the server notices
            say(a, uid_a, f"after {number}")
            assert next_chat(b)["msg"] == f"after {number}"
        left = next_notice(a, "leave", ghost_uid)
        assert ghost_uid not in left["users"]  # type: ignore[operator]
    closes = [e for e in chat.event_log.events() if e.kind == "close"]
    assert any("1006" in e.preview for e in closes)  # no Close frame: abnormal closure


def test_a_slow_client_is_dropped_with_1013_and_nobody_waits(chat: BackgroundServer) -> None:
    a, uid_a = join(chat, notices=True)
    with a:
        slow = raw_join(chat.port, receive_buffer=4096)  # never reads
        slow_uid = newcomer(a, {uid_a})
        text = "x" * 4000
        dropped = False
        for number in range(5000):
            say(a, uid_a, f"{number} {text}")
            while True:  # a reads its own message back at once: a is fast
                value = json.loads(a.recv(timeout=TIMEOUT))
                if value.get("type") == "leave" and value["user"] == slow_uid:
                    dropped = True
                if value.get("msg", "").startswith(f"{number} "):
                    break
            if dropped:
                break
        assert dropped, "the slow client was never dropped"
        slow.close()
    errors = [e.preview for e in chat.event_log.events() if e.kind == "error"]
    assert any("closing with 1013" in text for text in errors), errors
    print(f"slow client dropped after {number + 1} messages of 4 kB")


def test_many_clients_come_and_go(chat: BackgroundServer) -> None:
    a, uid_a = join(chat)
    with a:
        for round_ in range(10):
            others = [join(chat) for _ in range(5)]
            say(a, uid_a, f"round {round_}")
            for ws, _ in others:
                assert next_chat(ws)["msg"] == f"round {round_}"
            for index, (ws, _) in enumerate(others):
                if index % 2:
                    ws.close()
                else:
                    ws.close_socket()  # abrupt: no Close frame
            assert next_chat(a)["msg"] == f"round {round_}"
        say(a, uid_a, "still alive")
        assert next_chat(a)["msg"] == "still alive"


# --- One member's bad input never changes what the others receive --------------------------


def read_frames(sock: socket.socket, wanted: int) -> list[str]:
    """Read ``wanted`` text messages sent by the server (unmasked, unfragmented) from a raw socket."""
    from wslearn.frames import parse_frame

    buffer = bytearray()
    texts: list[str] = []
    while len(texts) < wanted:
        chunk = sock.recv(1 << 20)
        assert chunk, f"the connection ended after {len(texts)} messages"
        buffer += chunk
        while (parsed := parse_frame(bytes(buffer))) is not None:
            frame, used = parsed
            del buffer[:used]
            texts.append(frame.payload.decode("utf-8"))
    return texts


def backed_up(chat: BackgroundServer, uid: str) -> bool:
    """Does the server hold messages for member ``uid`` (its socket buffer is over the high-water mark)?"""

    async def check() -> bool:
        room = chat.server.handler.__self__.chat  # type: ignore[attr-defined]
        ws = room.members[uid].ws
        return ws.buffered_amount > ws._high_water

    return chat.call(check())


BAD_INPUTS = {
    "lone surrogate": '{"uid": "1", "msg": "\\ud800"}',
    "lone low surrogate in a pair of fields": '{"msg": "ok \\udfff", "x": "\\ud83d"}',
    "deep nesting": "[" * 100_000,
    "deep nesting in an object": '{"msg": ' + "[" * 100_000,
}


@pytest.mark.parametrize("bad", list(BAD_INPUTS))
def test_bad_input_reaches_nobody_and_delays_nobody(chat: BackgroundServer, bad: str) -> None:
    """The attack: while member C is backed up (messages wait in its send queue), A sends
    a message the server cannot re-encode or parse. Before, the sender's handler crashed
    (1011), the broadcast stopped half way and C's writer task died, losing its queue."""
    a, uid_a = join(chat)
    b, uid_b = join(chat)
    with a, b:
        slow = raw_join(chat.port, receive_buffer=4096)
        c_uid = read_frames(slow, 1)[0]
        big = "😀" * 4000  # 16 kB of UTF-8 per message
        sent: list[str] = []
        while not backed_up(chat, c_uid):
            assert len(sent) < 2000, "C never got backed up"
            sent.append(f"fill {len(sent)} {big}")
            say(b, uid_b, sent[-1])
            assert next_chat(b)["msg"] == sent[-1]  # A and B read at once: they are fast
            assert next_chat(a)["msg"] == sent[-1]
        for number in range(3):
            sent.append(f"queued {number}")
            say(b, uid_b, sent[-1])
        a.send(BAD_INPUTS[bad])
        for _ in range(4):  # the 3 queued messages, then the answer: only the sender hears of it
            answer = json.loads(a.recv(timeout=TIMEOUT))
            if answer.get("type") == "error":
                break
        assert answer["type"] == "error" and answer["error"], answer
        for number in range(3):
            sent.append(f"after {number}")
            say(b, uid_b, sent[-1])
        say(a, uid_a, "a is still here")  # the sender's connection survived
        heard_by_b = [next_chat(b)["msg"] for _ in range(7)]
        assert heard_by_b == [*sent[-6:], "a is still here"]
        # C reads now: everything, in order, nothing from the bad message.
        messages = [json.loads(text) for text in read_frames(slow, len(sent) + 1)]
        assert [m["msg"] for m in messages] == [*sent, "a is still here"]
        slow.close()
    print(f"C was backed up after {len(sent) - 6} messages of 16 kB")
    closes = [e.preview for e in chat.event_log.events() if e.kind == "close"]
    assert not any("1011" in text for text in closes), closes
