"""TLS in the kernel: a certificate authority of our own, and what goes wrong without one.

``wss://`` is WebSocket inside TLS (RFC 6455 §3, §4.1 item 5 of the client's requirements:
"perform a TLS handshake over the connection"). TLS needs a certificate that the client
trusts. On the web a public authority signs it; in a lesson we make an authority of our
own in the kernel (with :mod:`trustme`), issue a certificate for ``127.0.0.1`` and
``localhost``, and hand the client a context that trusts that authority and nothing else::

    from wslearn.notebook import SyncClient, start_demo
    from wslearn.notebook.tls import kernel_ca

    ca = kernel_ca()
    server = start_demo("tls demo", ssl=ca.server_context())   # wss://127.0.0.1:PORT
    with SyncClient(server.url + "/ws", ssl=ca.client_context()) as ws:
        ...

The authority lives only in this kernel's memory: nothing is written to disk, and no
browser trusts it (which is why a browser refuses the page, and why the notebook shows
that refusal instead).

:func:`first_bytes` shows why a plain client and a TLS server never understand each other:
a TLS connection starts with a record whose first byte is ``0x16`` (a *handshake* record,
RFC 8446 §5.1), an HTTP request with the letters ``GET``.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TLS_HANDSHAKE_BYTE", "KernelCA", "first_bytes", "kernel_ca"]

#: The first byte of a TLS connection: ContentType handshake(22) (RFC 8446 §5.1).
TLS_HANDSHAKE_BYTE = 0x16
#: The names the kernel's certificate is valid for.
NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass
class KernelCA:
    """A certificate authority made in the kernel, and one server certificate it signed."""

    names: tuple[str, ...] = NAMES
    _ca: Any = field(default=None, repr=False)
    _server: ssl.SSLContext | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        try:
            import trustme  # only when TLS is wanted
        except ModuleNotFoundError:
            raise ModuleNotFoundError(
                "TLS in the kernel makes its certificates with trustme: pip install trustme"
            ) from None
        self._ca = trustme.CA(organization_name="wslearn kernel CA")

    def server_context(self) -> ssl.SSLContext:
        """The server's side: the certificate for ``names`` and its private key.

        The same context each time, so re-running ``start_demo(..., ssl=...)`` returns the
        running server instead of starting a new one.
        """
        if self._server is None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._ca.issue_cert(*self.names).configure_cert(context)
            self._server = context
        return self._server

    def client_context(self) -> ssl.SSLContext:
        """A client's side that trusts this authority only (and checks the host name)."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=None)
        context.load_verify_locations(cadata=self.ca_pem())
        return context

    def ca_pem(self) -> str:
        """The authority's certificate in PEM: what a browser or ``curl --cacert`` would need."""
        return str(self._ca.cert_pem.bytes().decode("ascii"))


@functools.cache
def kernel_ca() -> KernelCA:
    """This kernel's certificate authority (made once, on first use)."""
    return KernelCA()


def first_bytes(data: bytes) -> str:
    """What the first bytes of a connection say it is: TLS, HTTP, or something else."""
    if not data:
        return "nothing: the peer sent no bytes"
    if data[0] == TLS_HANDSHAKE_BYTE:
        return (
            f"0x{data[0]:02x}: a TLS handshake record (a ClientHello), so this peer speaks TLS:"
            " it wants wss://, not ws://"
        )
    if data[:4] in (b"GET ", b"HTTP"):
        return f"{data[:4]!r}: plain HTTP, no TLS: this peer speaks ws://, not wss://"
    return f"0x{data[0]:02x}: neither TLS nor HTTP"
