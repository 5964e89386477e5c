"""Chapter 00, start here: the checkpoint quiz on the tour of the bench."""

from __future__ import annotations

from .core import Question, register_quiz

register_quiz(
    "00.checkpoint",
    "Checkpoint: the tour of the bench",
    [
        Question(
            "Which HTTP status code does a server answer a WebSocket handshake it accepts with?",
            101,
            "101 Switching Protocols (§4.2.2). After that line the connection carries frames, not HTTP.",
            rfc="§4.2.2",
        ),
        Question(
            "Which frames are masked on the wire?",
            0,
            "A client masks every frame it sends, with a fresh random key (§5.3); a server never masks"
            " (§5.1). The masking keeps a script in a web page from choosing the bytes a proxy sees (§10.3).",
            choices=(
                "every frame a client sends",
                "every frame a server sends",
                "every frame, both ways",
                "only frames that carry text",
            ),
            rfc="§5.1",
        ),
        Question(
            "How many characters long is a Sec-WebSocket-Accept value?",
            28,
            "It is the base64 of a SHA-1 digest: 20 bytes make 28 base64 characters, the last one '='"
            " (§4.2.2).",
            rfc="§4.2.2",
        ),
        Question(
            "Why does wslearn run the demo server in a background thread of the kernel?",
            1,
            "A cell runs on the kernel's event loop: a server sharing that loop would stop answering while"
            " a cell blocks, and a cell waiting for its answer would wait forever.",
            choices=(
                "threads make the server faster than asyncio",
                "so that a cell that blocks does not stop the server",
                "a server in the main thread could not listen on 127.0.0.1",
                "so that the server keeps a fixed port",
            ),
        ),
        Question(
            "server.stop() closes every connection with which close code?",
            1001,
            "1001, going away (§7.4.1): the endpoint is leaving, like a server shutting down or a"
            " browser tab closing.",
            rfc="§7.4.1",
        ),
    ],
)
