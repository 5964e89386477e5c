"""wslearn: learn the WebSocket protocol (RFC 6455) byte by byte, inside Jupyter.

The core modules need nothing but the standard library and are read beside the RFC:

* :mod:`wslearn.errors`: what can go wrong, how it is answered on the wire, close codes (§7.4)
* :mod:`wslearn.http`: HTTP/1.1 requests and responses, header fields (RFC 9110, 9112)
* :mod:`wslearn.handshake`: what RFC 6455 §4 adds: the upgrade checks, Sec-WebSocket-Accept
* :mod:`wslearn.frames`: frame bytes, masking, Close payloads (§5, §7.4)
* :mod:`wslearn.assembler`: fragments into messages, UTF-8 rules (§5.4, §8.1)
* :mod:`wslearn.protocol`: the connection as a sans-I/O state machine (§4–§7)
* :mod:`wslearn.redaction`: credentials hidden from every view and log
* :mod:`wslearn.views`: where a core object finds its HTML view (registered from above)

Above the core, and never imported by it: :mod:`wslearn.explain` (field-by-field views of
frames and handshakes, text and HTML; it registers the HTML views), :mod:`wslearn.eventlog`
(what crossed the wire). On top of them: :mod:`wslearn.aio` (server and client on asyncio
streams), :mod:`wslearn.demo` (the demo server's routes), :mod:`wslearn.notebook` (running it
all inside a kernel) and :mod:`wslearn.conformance` (a report card for any WebSocket server).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # ``wslearn.doctor()`` without paying for its imports when it is not used.
    if name == "doctor":
        from .notebook.doctor import doctor

        return doctor
    raise AttributeError(f"module 'wslearn' has no attribute {name!r}")
