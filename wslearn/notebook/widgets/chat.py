"""The chat of seed article 003 with several kernel users side by side, no browser needed.

Each user is a :class:`~wslearn.notebook.SyncClient` on ``/chat`` with an event log of its
own. Its messages arrive through :meth:`SyncClient.listen`, on the client loop's thread, and
are shown by setting widget values only. "show frames" lists the frames that user's
connection sent and received, as its client saw them.
"""

from __future__ import annotations

import contextlib
import json
import threading
import weakref
from typing import Any, ClassVar

import ipywidgets as widgets

from wslearn.eventlog import EventLog
from wslearn.i18n import _

from .common import RedrawSoon, Views, esc, fitting_label
from .eventlog import events_html

#: Lines kept per user in the widget, and the characters shown of each.
KEPT_LINES = 50
LINE_CHARS = 200


class ChatUser:
    """One kernel user: a client, its id, what it has received, and its frames."""

    def __init__(self, url: str) -> None:
        from wslearn.notebook import SyncClient

        self.event_log = EventLog(maxlen=200)
        self.client = SyncClient(url, event_log=self.event_log)
        self.uid = str(self.client.recv(timeout=5))  # the chat's first message: our id
        self.lines: list[str] = []
        self.ended = ""
        self._lock = threading.Lock()

    def say(self, text: str) -> None:
        self.client.send(json.dumps({"uid": self.uid, "msg": text}))

    def received(self, message: str | bytes) -> str:
        """Record one message as a line of the transcript; returns the line."""
        line = chat_line(message)
        with self._lock:
            self.lines = [*self.lines, line][-KEPT_LINES:]
        return line

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone: closing twice is not an error here
            self.client.close()


def chat_line(message: str | bytes, limit: int = LINE_CHARS) -> str:
    """A received message as one line: "2: hello" for a chat line, the JSON for anything else
    (cut to ``limit`` characters)."""
    if isinstance(message, bytes):
        return f"(binary, {len(message)} bytes)"
    try:
        value = json.loads(message)
    except ValueError:
        value = None
    line = (
        f"{value['uid']}: {value['msg']}"
        if isinstance(value, dict) and {"uid", "msg"} <= value.keys()
        else message
    )
    return line if len(line) <= limit else line[: limit - 1] + "…"


class ChatWidget(Views, widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """``users`` kernel users in the chat at ``url`` (``server.url + "/chat"``), side by side.

    Re-running the cell closes the previous widget's users: one set of users per URL.
    """

    _live: ClassVar[weakref.WeakValueDictionary[str, ChatWidget]] = weakref.WeakValueDictionary()

    def __init__(self, url: str, users: int = 3, *, refresh_every: float = 0.1) -> None:
        previous = ChatWidget._live.get(url)
        if previous is not None:
            previous.close()
        ChatWidget._live[url] = self
        self.url = url
        self.refresh_every = refresh_every
        self._redraw = RedrawSoon(self.refresh, refresh_every)
        self.users = [ChatUser(url) for _number in range(users)]
        self.show_frames = widgets.Checkbox(value=False, description=_("show frames"))
        self.columns = [self._column(user) for user in self.users]
        super().__init__([self.show_frames, widgets.HBox([column for column, *_views in self.columns])])
        self.add_class("wslearn-chat")
        self.show_frames.observe(lambda _change: self.refresh(), names="value")
        for user in self.users:
            self._listen(user)
        self.refresh()

    def _listen(self, user: ChatUser) -> None:
        def on_message(message: str | bytes) -> None:
            self._received(user, message)

        def on_close(closed: object) -> None:
            self._ended(user, str(closed))

        user.client.listen(on_message, on_close)

    def _column(self, user: ChatUser) -> tuple[widgets.VBox, widgets.HTML, widgets.Text, widgets.HTML]:
        transcript = widgets.HTML(layout=widgets.Layout(height="14em", overflow="auto"))
        # continuous_update=False: the value arrives on Enter (or when the box loses focus)
        box = widgets.Text(
            placeholder="say something", continuous_update=False, layout=widgets.Layout(width="14em")
        )
        send = widgets.Button(description=_("send"), layout=fitting_label())
        frames = widgets.HTML()
        box.observe(lambda _change, user=user, box=box: self.say(user, box), names="value")
        send.on_click(lambda _button, user=user, box=box: self.say(user, box))
        title = widgets.HTML(f"<b>user {esc(user.uid)}</b>")
        column = widgets.VBox(
            [title, transcript, widgets.HBox([box, send]), frames],
            layout=widgets.Layout(width="24em", border="1px solid #ddd", padding="4px", margin="2px"),
        )
        return column, transcript, box, frames

    def say(self, user: ChatUser, box: widgets.Text) -> None:
        """Send what is typed in ``box`` as ``user`` (the send button, or Enter)."""
        text, box.value = box.value, ""
        if text:
            user.say(text)

    def _received(self, user: ChatUser, message: str | bytes) -> None:
        user.received(message)  # on the client loop's thread: widget state only, and rarely
        self._refresh_soon()

    def _ended(self, user: ChatUser, why: str) -> None:
        user.ended = why
        self._refresh_soon()

    def _refresh_soon(self) -> None:
        """Redraw within ``refresh_every`` seconds: one redraw for a burst of messages."""
        self._redraw.soon()

    def _show(self, user: ChatUser) -> None:
        _column, transcript, _entry, frames = self.columns[self.users.index(user)]
        ended = f"<p style='color:#cf222e'>closed: {esc(user.ended)}</p>" if user.ended else ""
        transcript.value = "".join(f"<div>{esc(line)}</div>" for line in user.lines) + ended
        frames.value = events_html(user.event_log.events()[-12:]) if self.show_frames.value else ""

    def refresh(self) -> None:
        """Redraw every column now (safe from any thread)."""
        self._redraw.started()
        for user in self.users:
            self._show(user)

    def close(self) -> None:
        self._redraw.cancel()
        for user in self.users:
            user.close()
        super().close()

    def text(self) -> str:
        parts = []
        for user in self.users:
            parts.append(f"user {user.uid}:" + "".join(f"\n  {line}" for line in user.lines))
        return "\n".join(parts)

    def html(self) -> str:
        cells = "".join(
            f"<td style='vertical-align:top;padding:4px'><b>user {esc(user.uid)}</b>"
            + "".join(f"<div>{esc(line)}</div>" for line in user.lines)
            + "</td>"
            for user in self.users
        )
        return f"<table class='wslearn-chat'><tr>{cells}</tr></table>"


def raw_html_versus_text(message: str) -> Any:
    """How seed 003's page shows ``message`` (inserted as HTML) beside a safe page (as text).

    Both are shown in ``sandbox`` frames with scripts disabled, so even the unsafe one cannot
    run the message's JavaScript here: what you see is the markup the browser *would* build.
    """
    from IPython.display import HTML

    unsafe = f"<div>1: {message}</div>"  # what appending the message as raw HTML builds
    safe = f"<div>1: {esc(message)}</div>"  # what textContent builds

    def frame(title: str, body: str) -> str:
        return (
            f"<figure style='display:inline-block;margin:4px'><figcaption>{esc(title)}</figcaption>"
            f"<iframe sandbox='' srcdoc='{esc(body)}' style='width:22em;height:5em;border:1px solid #ccc'>"
            "</iframe></figure>"
        )

    both = frame("seed 003's page: raw HTML", unsafe) + frame("wslearn's page: textContent", safe)
    return HTML(both)  # type: ignore[no-untyped-call]
