"""What every widget shares: escaping untrusted text, and the colours of a verdict."""

from __future__ import annotations

import html

#: The example of RFC 6455 §1.3: this key must give "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
RFC_EXAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
#: The colour of a refusal or a failed check.
RED = "#cf222e"
#: The colour of a passed check.
GREEN = "#1a7f37"


def esc(text: object) -> str:
    """``text`` made safe to put inside HTML: everything from the wire or a student is untrusted."""
    return html.escape(str(text), quote=True)


class Views:
    """The two views every widget has besides the live one.

    ``str(widget)`` is the text view (headless runs, screen readers, ``print``); the
    ``text/html`` output from :meth:`_repr_html_` is stored with the notebook and shown by
    GitHub and nbviewer, where the live widget cannot render. A widget subclass defines
    :meth:`text` and :meth:`html` for what it shows *now*.
    """

    def text(self) -> str:
        raise NotImplementedError

    def html(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:  # ipywidgets puts repr() in the text/plain output
        return self.text()

    def _repr_html_(self) -> str:
        return self.html()
