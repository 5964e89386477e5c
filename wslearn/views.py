"""Where a core object finds its HTML view, without the core importing the views.

Jupyter shows the last value of a cell with its ``_repr_html_`` when it has one. The core
objects (:class:`~wslearn.frames.Frame`, :class:`~wslearn.frames.Close`,
:class:`~wslearn.http.Request`, :class:`~wslearn.http.Response`,
:class:`~wslearn.handshake.AcceptSteps`) have one, and it only asks this registry::

    def _repr_html_(self) -> str | None:
        return html_view(self)

The HTML itself is drawn a layer above, in :mod:`wslearn.explain`, which registers its
renderers when it is imported (``wslearn.notebook`` imports it, so a notebook always has
them). The imports go one way only: the core imports this module, ``explain`` imports the
core and this module, and the core never imports ``explain``. Before anything is
registered, ``_repr_html_`` returns ``None`` and Jupyter shows ``str()`` instead, which
every core object defines itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["html_view", "register_html"]

T = TypeVar("T")

_RENDERERS: dict[type, Callable[[Any], str]] = {}


def register_html(cls: type[T], render: Callable[[T], str]) -> None:
    """Draw every ``cls`` (and subclass) with ``render``; a later call replaces an earlier one."""
    _RENDERERS[cls] = render


def html_view(obj: object) -> str | None:
    """The HTML of ``obj`` from the renderer registered for its class, or None."""
    for cls in type(obj).__mro__:
        render = _RENDERERS.get(cls)
        if render is not None:
            return render(obj)
    return None
