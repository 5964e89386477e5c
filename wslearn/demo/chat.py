"""The group chat of seed article 003, done safely.

The protocol, kept exactly so that the article's page and clients still work:

1. when a client connects, the server's first message to it is its user id as bare
   text, e.g. ``3``;
2. a client sends JSON text ``{"uid": "3", "msg": "hello"}``;
3. the server broadcasts ``{"uid": "3", "msg": "hello"}`` to every client, the sender
   included.

What the article's server gets wrong, and what this one does instead:

* it numbers users ``len(clients) + 1``, so after someone leaves two users share an id;
  here ids come from a counter and are never reused;
* it believes the ``uid`` a client writes, so anyone can speak as anyone; here the
  server puts the sender's real id in every broadcast;
* it never removes a client that left, and one dead client breaks every broadcast; here
  a client that closes, or vanishes without a Close frame (RFC 6455 §7.1.5, code 1006),
  is removed at once;
* one slow client blocks everybody; here a broadcast uses
  :meth:`WebSocket.send_nowait`, which never waits: it writes the text to each member's
  socket at once. A member with ``max_queue`` messages already waiting behind a full
  socket buffer reads more slowly than the room talks: its connection is closed with 1013
  (try again later) and it is removed; nobody else notices.

Extras (join and leave notices, the user list) are JSON objects with a ``"type"`` key and
no ``"uid"``/``"msg"``::

    {"type": "join", "user": "3", "users": ["1", "2", "3"]}
    {"type": "leave", "user": "2", "users": ["1", "3"]}
    {"type": "error", "error": "expected JSON text like {\\"uid\\": \\"3\\", \\"msg\\": \\"hi\\"}"}

What would the article's page do with them? It treats any text that is not a JSON object
as its new user id, and shows any JSON object as a chat line, so a notice would appear
as a line "id: undefined, message: undefined". No text at all is *silently* ignored by
that page. So notices only go to clients that ask for them by negotiating the
``superchat`` subprotocol (RFC 6455 §1.9: a subprotocol names the application protocol
spoken over the connection). Our page asks for it; the article's page offers no
subprotocol and receives exactly the article's protocol. The single exception is the
``error`` answer to a malformed message, sent only to its sender: a client that sends
malformed JSON is not the article's page.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wslearn.errors import ConnectionClosed

if TYPE_CHECKING:
    from wslearn.aio.connection import WebSocket

__all__ = ["MAX_CHAT_TEXT", "NOTICES_SUBPROTOCOL", "ChatRoom"]

NOTICES_SUBPROTOCOL = "superchat"
MAX_CHAT_TEXT = 4096  # characters in one chat message; a longer one gets an "error" notice
_EXAMPLE = '{"uid": "3", "msg": "hi"}'


@dataclass(eq=False)
class Member:
    """One connected client: its id and its connection."""

    uid: str
    ws: WebSocket
    wants_notices: bool


class ChatRoom:
    """Everyone connected to ``/chat``. Use :meth:`join` as the route's handler."""

    def __init__(self) -> None:
        self.members: dict[str, Member] = {}
        self._next_uid = itertools.count(1)

    # --- One member's life -----------------------------------------------------------

    async def join(self, ws: WebSocket) -> None:
        """Handle one client from its first message to its last."""
        uid = str(next(self._next_uid))
        member = Member(uid, ws, wants_notices=ws.subprotocol == NOTICES_SUBPROTOCOL)
        ws.send_nowait(uid)  # 1. the id, as bare text, before anything else
        self.members[uid] = member
        self._notify("join", uid)
        try:
            await self._read(member)
        finally:
            self._remove(member)

    async def _read(self, member: Member) -> None:
        """Read until the connection ends; a vanished client (1006) is a normal end here."""
        try:
            async for message in member.ws:
                if isinstance(message, bytes):
                    # RFC 6455 §7.4.1: 1003 is for an endpoint that only understands text.
                    await member.ws.close(1003, "the chat accepts text messages only")
                    return
                self._on_text(member, message)
        except ConnectionClosed:
            pass  # closed without a clean closing handshake: still just a leave

    # --- Messages --------------------------------------------------------------------

    def _on_text(self, member: Member, text: str) -> None:
        """2. a chat message arrives: check it, then 3. broadcast it."""
        problem = _check_chat_message(text)
        if problem is not None:
            self._post(member, _notice("error", error=problem))
            return
        value = json.loads(text)
        # The sender's real id, whatever "uid" it wrote.
        self.broadcast(json.dumps({"uid": member.uid, "msg": value["msg"]}, ensure_ascii=False))

    def broadcast(self, text: str, *, notices_only: bool = False) -> None:
        """Send ``text`` to every member. Never waits, so one slow member blocks nobody."""
        for member in list(self.members.values()):
            if member.wants_notices or not notices_only:
                self._post(member, text)

    def _post(self, member: Member, text: str) -> None:
        try:
            member.ws.send_nowait(text)
        except ConnectionClosed:
            # Gone, or just closed with 1013 because its send queue was full.
            self._remove(member)

    def _remove(self, member: Member) -> None:
        if self.members.get(member.uid) is member:
            del self.members[member.uid]
            self._notify("leave", member.uid)

    def _notify(self, kind: str, uid: str) -> None:
        """Tell the members that asked for notices who joined or left, and who is here."""
        self.broadcast(_notice(kind, user=uid, users=list(self.members)), notices_only=True)


def _check_chat_message(text: str) -> str | None:
    """What is wrong with a chat message, or None. Checked *before* anything is broadcast,
    so one member's bad input never reaches, delays or reorders the others' messages."""
    try:
        value: Any = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deeply to parse
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("msg"), str):
        return f"expected JSON text like {_EXAMPLE}"
    msg: str = value["msg"]
    if len(msg) > MAX_CHAT_TEXT:
        return f"at most {MAX_CHAT_TEXT} characters"
    try:
        msg.encode("utf-8")
    except UnicodeEncodeError as exc:
        # JSON may write "\ud800", a lone surrogate: not a character, so not valid text
        # in a WebSocket text message (RFC 6455 §8.1 wants UTF-8; RFC 3629 §3 excludes
        # surrogates).
        return f"msg has a lone surrogate (U+{ord(msg[exc.start]):04X}) at position {exc.start}"
    return None


def _notice(kind: str, **fields: object) -> str:
    """A notice: JSON with a "type" key and no "uid"/"msg" (see the module doc)."""
    return json.dumps({"type": kind, **fields}, ensure_ascii=False)
