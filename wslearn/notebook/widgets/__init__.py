"""Interactive widgets for the lessons. The only package of wslearn that imports ipywidgets.

One module per widget (or per family of widgets), named after what it shows:

* :class:`AcceptKeyWidget` (:mod:`.accept`) — type a ``Sec-WebSocket-Key`` and watch the
  server compute ``Sec-WebSocket-Accept`` from it, one step at a time (RFC 6455 §1.3, §4.2.2).
* :class:`FrameBuilder` (:mod:`.frames`) — choose an opcode, FIN, a mask and a payload; see
  the frame's bytes explained field by field (RFC 6455 §5.2).
* :class:`EventLogView` (:mod:`.eventlog`) — a live table of what a server sees: handshakes,
  frames, closes.
* :class:`FragmentationWidget` (:mod:`.fragmentation`) — split a message into frames, put a
  Ping between them, break a rule: watch a server's assembler and its close code (§5.4, §8.1).
* :class:`CloseCodeExplorer` (:mod:`.closecodes`) — every close code of §7.4, and a button
  that provokes each one live against a server in the kernel.
* :class:`CompressionLab` (:mod:`.compression`) — send messages through a permessage-deflate
  sender and see what each costs on the wire, with and without context takeover (RFC 7692).
* :class:`Checkpoint` (:mod:`.checkpoint`) — the quiz at the end of a chapter, checked by
  :mod:`wslearn.exercises`.

Rules every widget here follows:

* it has a text view (``str(widget)``, for headless runs and screen readers) and a static
  HTML view (``widget._repr_html_()``, which survives on GitHub and nbviewer where widgets
  do not render);
* everything from the wire or from a student is untrusted and escaped (:func:`.common.esc`);
* threads: widget callbacks run on the kernel's own thread, but a server running in the
  background (wslearn's runner) records events from *its* thread. A widget never uses
  ``with output:`` or ``print`` there (that would send the text to whichever cell happens to
  run); it assigns a widget value, which ipykernel sends to the browser safely from any thread.
"""

from __future__ import annotations

from .accept import AcceptKeyWidget, key_verdict, steps_html
from .authlab import AuthLab
from .chat import ChatWidget
from .checkpoint import Checkpoint
from .closecodes import CloseCodeExplorer
from .common import RFC_EXAMPLE_KEY, esc
from .compression import CompressionLab
from .eventlog import EventLogView, events_html
from .fragmentation import FragmentationWidget
from .frames import FrameBuilder, masking_key
from .handshake import HandshakeEditor
from .heartbeat import HeartbeatLab, HeartbeatTimeline
from .inspector import FrameInspector, LengthSlider, parse_hex
from .masking import Masking, MaskingView
from .methods import MethodsWidget
from .wiretap import WireTapView

__all__ = [
    "RFC_EXAMPLE_KEY",
    "AcceptKeyWidget",
    "AuthLab",
    "ChatWidget",
    "Checkpoint",
    "CloseCodeExplorer",
    "CompressionLab",
    "EventLogView",
    "FragmentationWidget",
    "FrameBuilder",
    "FrameInspector",
    "HandshakeEditor",
    "HeartbeatLab",
    "HeartbeatTimeline",
    "LengthSlider",
    "Masking",
    "MaskingView",
    "MethodsWidget",
    "WireTapView",
    "esc",
    "events_html",
    "key_verdict",
    "masking_key",
    "parse_hex",
    "steps_html",
]
