"""What every widget shares: escaping untrusted text, and the colours of a verdict."""

from __future__ import annotations

import html
from typing import Any

#: The example of RFC 6455 §1.3: this key must give "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
RFC_EXAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
#: The colour of a refusal or a failed check.
RED = "#cf222e"
#: The colour of a passed check.
GREEN = "#1a7f37"


def esc(text: object) -> str:
    """``text`` made safe to put inside HTML: everything from the wire or a student is untrusted."""
    return html.escape(str(text), quote=True)


def fitting_label() -> Any:
    """A button layout as wide as its label, so a translated label ("发送帧") is never cut to "发…".

    ipywidgets draws a button 148 px wide and lets a crowded row shrink it; either way a label
    that does not fit ends in "…". This one neither shrinks nor stops short of its label.
    """
    import ipywidgets as widgets

    return widgets.Layout(width="auto", min_width="max-content", flex="0 0 auto")


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
