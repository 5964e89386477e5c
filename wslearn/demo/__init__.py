"""The demo server of the course: the seed articles' examples, done correctly.

=============  ==============================================================
module         what is in it
=============  ==============================================================
``app``        :func:`demo_server`, the builder used by the CLI and notebooks
``routes``     the WebSocket routes (echo, heartbeat, push) and HTTP answers
``chat``       the group chat room
``compare``    polling, long polling, SSE and WebSocket, measured
``auth``       the Origin policy and four ways to authenticate
``cli``        ``python -m wslearn serve``
=============  ==============================================================
"""

from .app import SUBPROTOCOLS, DemoOptions, DemoServer, demo_server

__all__ = ["SUBPROTOCOLS", "DemoOptions", "DemoServer", "demo_server"]
