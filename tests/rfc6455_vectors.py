"""The examples RFC 6455 prints, written out once for every test that needs them.

Copied from the RFC by hand, never computed by the code under test: §1.3 (the opening
handshake and its key) and §5.7 (the example frames and their masking key).
"""

from __future__ import annotations

from wslearn.frames import Frame, Opcode

# §1.3: the client's key, and the accept the server derives from it.
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

# §1.3: the opening handshake from the client...
REQUEST = (
    b"GET /chat HTTP/1.1\r\n"
    b"Host: server.example.com\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Origin: http://example.com\r\n"
    b"Sec-WebSocket-Protocol: chat, superchat\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"\r\n"
)

# ... and the server's answer.
RESPONSE = (
    b"HTTP/1.1 101 Switching Protocols\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    b"Sec-WebSocket-Protocol: chat\r\n"
    b"\r\n"
)

# §5.7: the masking key of every masked example, and "Hello" masked with it.
MASKING_KEY = bytes.fromhex("37fa213d")
MASKED_HELLO_PAYLOAD = bytes.fromhex("7f9f4d5158")

UNMASKED_HELLO = bytes.fromhex("810548656c6c6f")  # a single-frame unmasked text message
MASKED_HELLO = bytes.fromhex("818537fa213d7f9f4d5158")  # the same, masked (client to server)

PAYLOAD_256 = bytes(range(256))
PAYLOAD_64K = bytes(range(256)) * 256  # 65536 bytes

# (name, bytes on the wire, the frame they encode): every example of §5.7.
FRAMES: list[tuple[str, bytes, Frame]] = [
    ("single-frame unmasked text 'Hello'", UNMASKED_HELLO, Frame(Opcode.TEXT, b"Hello")),
    (
        "single-frame masked text 'Hello'",
        MASKED_HELLO,
        Frame(Opcode.TEXT, b"Hello", masking_key=MASKING_KEY),
    ),
    (
        "fragmented unmasked text, first fragment 'Hel'",
        bytes.fromhex("010348656c"),
        Frame(Opcode.TEXT, b"Hel", fin=False),
    ),
    (
        "fragmented unmasked text, last fragment 'lo'",
        bytes.fromhex("80026c6f"),
        Frame(Opcode.CONTINUATION, b"lo"),
    ),
    ("unmasked ping 'Hello'", bytes.fromhex("890548656c6c6f"), Frame(Opcode.PING, b"Hello")),
    (
        "masked pong 'Hello'",
        bytes.fromhex("8a8537fa213d7f9f4d5158"),
        Frame(Opcode.PONG, b"Hello", masking_key=MASKING_KEY),
    ),
    (
        "256 bytes binary in a single unmasked frame (16-bit length)",
        bytes.fromhex("827e0100") + PAYLOAD_256,
        Frame(Opcode.BINARY, PAYLOAD_256),
    ),
    (
        "64 KiB binary in a single unmasked frame (64-bit length)",
        bytes.fromhex("827f0000000000010000") + PAYLOAD_64K,
        Frame(Opcode.BINARY, PAYLOAD_64K),
    ),
]
