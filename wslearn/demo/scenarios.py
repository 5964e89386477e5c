"""Clients that misbehave on purpose, to make a server show each close code (RFC 6455 §7.4).

A well-behaved library never sends a fragmented Ping or hangs up without a Close frame, so
the lessons need a client that can: :class:`RawClient` speaks RFC 6455 on a plain blocking
socket, with wslearn's own frame builder (:mod:`wslearn.frames`) and handshake
(:mod:`wslearn.handshake`), and sends exactly the frames it is told to send::

    with RawClient(server.url + "/ws") as client:
        client.send(Opcode.TEXT, "Hello, WebSocket!")
        print(client.recv())          # TEXT (FIN, 17 bytes): 'Hello, WebSocket!'
        client.hang_up()              # TCP closed, no Close frame: the server sees 1006

Every wait is bounded (``timeout`` seconds), so a cell using it never hangs.
"""

from __future__ import annotations

import os
import socket
from types import TracebackType

from wslearn.aio.client import parse_url
from wslearn.errors import HandshakeError
from wslearn.frames import Close, CloseCode, Frame, Opcode, parse_frame, serialize_frame
from wslearn.handshake import Response, build_request, check_response, generate_key

__all__ = ["RawClient"]

READ_SIZE = 65536


class RawClient:
    """A WebSocket client on a blocking socket that sends whatever it is asked to."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 2.0,
        extra_headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        target = parse_url(url)
        self.timeout = timeout
        self.key = generate_key()
        self.sock = socket.create_connection((target.host, target.port), timeout=timeout)
        self._buffer = bytearray()
        self.sent: list[Frame] = []  # every frame this client sent, in order
        self.received: list[Frame] = []  # every frame the server sent, in order
        request = build_request(target.host_header, target.target, key=self.key, extra_headers=extra_headers)
        self.sock.sendall(request.serialize())
        self.response = self._read_response()

    def _read_response(self) -> Response:
        while True:
            parsed = Response.parse(self._buffer)
            if parsed is not None:
                response, used = parsed
                del self._buffer[:used]
                break
            data = self._read()
            if not data:
                self.sock.close()
                raise HandshakeError(0, "the server closed the connection during the handshake")
            self._buffer += data
        if response.status != 101:
            self.sock.close()
            raise HandshakeError(response.status, response.reason)
        check_response(response, key=self.key)  # RFC 6455 §4.1: the accept value is right
        return response

    def _read(self) -> bytes:
        try:
            return self.sock.recv(READ_SIZE)
        except ConnectionError:  # a reset: the same as an end of stream here
            return b""

    # --- Frames ----------------------------------------------------------------------

    def send(
        self, opcode: Opcode, payload: bytes | str = b"", *, fin: bool = True, mask: bool = True
    ) -> None:
        """Send one frame, masked with a fresh key unless ``mask=False`` (§5.3)."""
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        frame = Frame(opcode, data, fin=fin, masking_key=os.urandom(4) if mask else None)
        self.send_raw(serialize_frame(frame))
        self.sent.append(frame)

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are (a broken frame, a header cut in two)."""
        self.sock.sendall(data)

    def recv(self) -> Frame | None:
        """The server's next frame; ``None`` once the server has closed TCP (or after ``timeout``)."""
        while True:
            parsed = parse_frame(self._buffer)
            if parsed is not None:
                frame, used = parsed
                del self._buffer[:used]
                self.received.append(frame)
                return frame
            try:
                data = self._read()
            except TimeoutError:
                return None
            if not data:
                return None
            self._buffer += data

    def recv_close(self) -> Close | None:
        """Read until the server's Close frame; its code and reason, or ``None`` if none came."""
        while (frame := self.recv()) is not None:
            if frame.opcode is Opcode.CLOSE:
                return Close.parse(frame.payload) if frame.payload else Close(CloseCode.NO_STATUS_RCVD)
        return None

    # --- Ending ------------------------------------------------------------------------

    def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> Close | None:
        """The closing handshake (§7.1.2): our Close, the server's answer, then TCP."""
        self.send(Opcode.CLOSE, Close(code, reason).serialize())
        answer = self.recv_close()
        self.sock.close()
        return answer

    def hang_up(self) -> None:
        """Close TCP without a Close frame, as seed 000's client does: the server sees 1006."""
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.sock.close()
