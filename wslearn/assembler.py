"""From frames to messages: fragmentation and UTF-8 (RFC 6455 §5.4, §5.6, §8.1).

A message may be split into fragments: a TEXT or BINARY frame with FIN=0, then any
number of CONTINUATION frames, the last one with FIN=1 (RFC 6455 §5.4). Control frames
(ping, pong, close) may arrive *between* fragments; they never reach the assembler.

The assembler checks two things as early as it can:

* text must be valid UTF-8 (§8.1). It decodes incrementally, so an invalid byte fails
  the connection with 1007 the moment it arrives, even in the first fragment of a long
  message and even when a multi-byte character is split across two fragments. Inside
  one frame too: :meth:`Assembler.check_partial` checks the bytes of a text frame that
  is still arriving;
* a message must fit in ``max_size`` bytes, else 1009, before more memory is spent.
  Each fragment counts at least ``MIN_FRAGMENT_COST`` bytes, payload or not: a million
  empty fragments (6 bytes each on the wire) would otherwise cost memory and time without
  ever nearing the limit. The partial message grows in one buffer.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass

from .errors import CloseCode, ProtocolError
from .frames import Frame, Opcode

__all__ = ["DEFAULT_MAX_SIZE", "MIN_FRAGMENT_COST", "Assembler", "Message"]

DEFAULT_MAX_SIZE = 2**20  # 1 MiB
# What a fragment counts toward max_size at least: an empty one too (see the module doc).
# 64 lets Autobahn's 9.3/9.4 cases (4 MiB in fragments of 64 bytes and up) through.
MIN_FRAGMENT_COST = 64


@dataclass(frozen=True, slots=True)
class Message:
    """A whole message: ``str`` for a text message, ``bytes`` for a binary one."""

    data: str | bytes

    @property
    def is_text(self) -> bool:
        return isinstance(self.data, str)


class Assembler:
    """Collects data frames into messages. Feed it frames in order with :meth:`receive`."""

    def __init__(self, max_size: int | None = DEFAULT_MAX_SIZE) -> None:
        self.max_size = max_size
        self._opcode: Opcode | None = None  # TEXT or BINARY while a message is open
        self._data = bytearray()  # a binary message so far
        self._size = 0  # what the fragments so far count toward max_size
        self._decoder: codecs.IncrementalDecoder | None = None
        self._text = io.StringIO()  # a text message so far, decoded
        self._probe: codecs.IncrementalDecoder | None = None  # see check_partial

    @property
    def in_progress(self) -> bool:
        """True between the first fragment of a message and its last."""
        return self._opcode is not None

    @property
    def size(self) -> int:
        """What the fragments of the message in progress count toward ``max_size``."""
        return self._size

    def receive(self, frame: Frame) -> Message | None:
        """Take one data frame; return the message it completes, if any."""
        self._probe = None
        if frame.fin and self._opcode is None and frame.opcode is not Opcode.CONTINUATION:
            return self._unfragmented(frame)  # the common case: a whole message in one frame
        self._check_order(frame.opcode)
        if frame.opcode is not Opcode.CONTINUATION:
            self._start(frame.opcode)
        self._add(frame.payload, final=frame.fin)
        return self._finish() if frame.fin else None

    def begin_frame(self, opcode: Opcode) -> bool:
        """A data frame has begun to arrive: check its place in the message (§5.4), and
        get ready for :meth:`check_partial`. Returns whether its payload is text."""
        self._check_order(opcode)
        self._probe = self._new_probe(opcode)
        return self._probe is not None

    def check_partial(self, data: bytes) -> None:
        """Fail fast inside one frame: ``data`` are the next bytes of the text frame
        begun with :meth:`begin_frame`. A byte that can never be valid UTF-8 raises
        :class:`ProtocolError` (1007) now; :meth:`receive` decodes the whole frame later."""
        if self._probe is None:
            return
        try:
            self._probe.decode(data, False)
        except UnicodeDecodeError as exc:
            raise ProtocolError(
                CloseCode.INVALID_FRAME_PAYLOAD_DATA,
                f"the text is not valid UTF-8 ({exc.reason}, in a frame) (§8.1)",
            ) from None
        _check_surrogate_start(self._probe)

    def _new_probe(self, opcode: Opcode) -> codecs.IncrementalDecoder | None:
        """A decoder for a text frame in progress, in the state the message is in."""
        if opcode is Opcode.BINARY or (opcode is Opcode.CONTINUATION and self._decoder is None):
            return None
        probe = codecs.getincrementaldecoder("utf-8")("strict")
        if self._decoder is not None:
            probe.setstate(self._decoder.getstate())  # a character split by the last fragment
        return probe

    def _check_order(self, opcode: Opcode) -> None:
        """§5.4: continuation frames continue a message; a new one waits for the last."""
        if opcode is Opcode.CONTINUATION:
            if self._opcode is None:
                raise ProtocolError(
                    CloseCode.PROTOCOL_ERROR,
                    "a continuation frame arrived, but no message was started (§5.4)",
                )
        elif self._opcode is not None:
            raise ProtocolError(
                CloseCode.PROTOCOL_ERROR,
                f"a new {opcode.name} message started before the fragmented "
                f"{self._opcode.name} message ended (§5.4)",
            )

    def _unfragmented(self, frame: Frame) -> Message:
        """The common case: a whole message in one frame, decoded in one go."""
        payload = frame.payload
        self._check_size(len(payload))
        if frame.opcode is Opcode.BINARY:
            return Message(payload)
        try:
            return Message(payload.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ProtocolError(
                CloseCode.INVALID_FRAME_PAYLOAD_DATA, f"the text is not valid UTF-8 ({exc.reason}) (§8.1)"
            ) from None

    def _check_size(self, size: int, fragments: str = "") -> None:
        if self.max_size is not None and size > self.max_size:  # §10.4
            raise ProtocolError(
                CloseCode.MESSAGE_TOO_BIG,
                f"the message has grown to {size} bytes{fragments}; the limit is {self.max_size} (§7.4.1)",
            )

    def _start(self, opcode: Opcode) -> None:
        self._opcode = opcode
        if opcode == Opcode.TEXT:
            self._decoder = codecs.getincrementaldecoder("utf-8")("strict")

    def _add(self, payload: bytes, final: bool) -> None:
        self._size += max(len(payload), MIN_FRAGMENT_COST)
        self._check_size(self._size, f" (a fragment counts {MIN_FRAGMENT_COST} bytes at least)")
        if self._decoder is None:
            self._data += payload
            return
        try:
            # final=False keeps an incomplete character for the next fragment, but any
            # byte that can never become valid UTF-8 raises at once: "fail fast".
            self._text.write(self._decoder.decode(payload, final))
        except UnicodeDecodeError as exc:
            where = "at the end of the message" if final else "in a fragment"
            raise ProtocolError(
                CloseCode.INVALID_FRAME_PAYLOAD_DATA,
                f"the text is not valid UTF-8 ({exc.reason}, {where}) (§8.1)",
            ) from None
        _check_surrogate_start(self._decoder)

    def _finish(self) -> Message:
        data: str | bytes = self._text.getvalue() if self._decoder is not None else bytes(self._data)
        self._opcode = None
        self._decoder = None
        self._data = bytearray()
        self._text = io.StringIO()
        self._size = 0
        return Message(data)


def _check_surrogate_start(decoder: codecs.IncrementalDecoder) -> None:
    """Python's decoder keeps ED A0..ED BF waiting for a third byte, but no third byte
    can save it: it would encode a surrogate, U+D800-U+DFFF, which UTF-8 excludes (RFC
    3629 §3). Fail fast on it like on every other impossible byte."""
    waiting, _ = decoder.getstate()
    if len(waiting) >= 2 and waiting[0] == 0xED and waiting[1] >= 0xA0:
        raise ProtocolError(
            CloseCode.INVALID_FRAME_PAYLOAD_DATA,
            "the text is not valid UTF-8 (ED A0-BF begins a surrogate) (§8.1)",
        )
