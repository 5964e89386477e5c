"""Chapter 09 against real servers on 127.0.0.1: the scenarios on the demo's room (all pass)
and on the seed's port in a subprocess (each bug shows), the slow member, the ChatWidget with
three kernel users, and SyncClient.listen/abort that the widget and the scenarios use."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from wslearn.demo.chatlab import EXPECTED, XSS, audit, ids_after_a_leave, slow_member
from wslearn.demo.seedports import start_seed
from wslearn.notebook import SyncClient, start_demo, stop_all

SEED = "wslearn.demo.seedports.seed003"


@pytest.fixture(scope="module")
def chat_url() -> Iterator[str]:
    server = start_demo("test-chat-lab")
    yield server.url + "/chat"
    stop_all()


def fresh_seed(*args: str) -> str:
    return f"ws://127.0.0.1:{start_seed(SEED, *args, fresh=True).port}"


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_demo_room_passes_every_scenario(chat_url: str) -> None:
    rows = audit(lambda _name: chat_url)
    assert [observed for _, _, observed in rows] == list(EXPECTED.values())


def test_the_seed_room_shows_its_bugs() -> None:
    observed = {name: got for name, _, got in audit(lambda _name: fresh_seed())}
    assert observed["member 2 writes member 1's uid"] == "the forged id"
    assert observed["a member vanishes without a Close frame"] == "the room stopped: nothing arrived"
    # the leave makes the seed's process die (gorilla's repeated-read panic)
    assert observed["the id of a newcomer after someone left"].startswith("the server is gone")
    assert observed["a newcomer's first message"] == EXPECTED["a newcomer's first message"]
    assert observed["a member sends <img src=x onerror=alert(1)>"] == "the same text, unchanged"
    start_seed(SEED).stop()


def test_a_leave_floods_the_seed_room_then_its_process_dies() -> None:
    seed = start_seed(SEED, fresh=True)
    url = f"ws://127.0.0.1:{seed.port}"
    first, second = SyncClient(url), SyncClient(url)
    first.recv(timeout=5)
    uid2 = second.recv(timeout=5)
    second.send(json.dumps({"uid": uid2, "msg": "bye!"}))
    second.close()
    stale = 0
    with pytest.raises(Exception, match="1006"):
        while stale < 5000:
            assert json.loads(first.recv(timeout=5))["msg"] == "bye!"
            stale += 1
    assert stale > 100, "the stale message was not repeated"
    assert seed.wait(5) == 2
    assert "repeated read on failed websocket connection" in seed.stderr


def test_the_half_fix_reuses_ids() -> None:
    assert ids_after_a_leave(fresh_seed("--remove-left")).startswith("a reused id: the newcomer got '2'")
    start_seed(SEED).stop()


def test_a_slow_member_stalls_the_seed_room_and_is_closed_by_the_demo(chat_url: str) -> None:
    seed = slow_member(fresh_seed(), wait=2)
    start_seed(SEED).stop()
    assert seed.received < seed.sent and seed.slow_close is None and not seed.slow_dropped
    demo = slow_member(chat_url, wait=10)  # generous under load: it ends when all 2000 are in
    assert demo.received == demo.sent == 4000  # 16 MB: more than the kernel buffers hold for the slow one
    # 1013, or (when its Close frame waited behind data it did not read for longer than the
    # close timeout) a dropped connection; either way the server gave up on it:
    assert demo.slow_close == 1013 or demo.slow_dropped


def test_listen_delivers_every_message_and_the_close(chat_url: str) -> None:
    with SyncClient(chat_url) as speaker, SyncClient(chat_url) as listener:
        uid = speaker.recv(timeout=5)
        listener.recv(timeout=5)
        got: list[str | bytes] = []
        closed = threading.Event()
        listener.listen(got.append, lambda _closed: closed.set())
        for number in range(20):
            speaker.send(json.dumps({"uid": uid, "msg": str(number)}))
        wait_for(lambda: len(got) >= 20)
        assert [json.loads(m)["msg"] for m in got[-20:]] == [str(n) for n in range(20)]
        listener.close()
        assert closed.wait(5)


def test_abort_leaves_without_a_close_frame(chat_url: str) -> None:
    client = SyncClient(chat_url)
    client.recv(timeout=5)
    client.abort()
    wait_for(lambda: client.closed is not None)
    assert client.closed is not None and client.closed.code == 1006


def test_the_chat_widget_with_three_users(chat_url: str) -> None:
    from wslearn.notebook.widgets import ChatWidget

    room = ChatWidget(chat_url, users=3, refresh_every=0.02)
    try:
        _, second, third = room.users
        box = room.columns[1][2]
        box.value = XSS
        room.say(second, box)
        assert box.value == ""
        for user in room.users:
            wait_for(lambda user=user: f"{second.uid}: {XSS}" in user.lines)
        transcript = room.columns[2][1]
        wait_for(lambda: "onerror" in transcript.value)
        assert "<img" not in transcript.value and "&lt;img src=x onerror=alert(1)&gt;" in transcript.value
        assert "<img" not in room.html()
        assert f"user {third.uid}:\n  {second.uid}: {XSS}" in room.text()
        room.show_frames.value = True
        wait_for(lambda: "TEXT" in room.columns[0][3].value)
        again = ChatWidget(chat_url, users=1)  # re-running the cell closes the previous users
        wait_for(lambda: all(user.client.closed is not None for user in room.users))
        again.close()
    finally:
        room.close()


def test_raw_html_is_shown_in_script_free_frames() -> None:
    from wslearn.notebook.widgets.chat import raw_html_versus_text

    page = raw_html_versus_text(XSS).data
    assert page.count("<iframe sandbox=''") == 2
    assert "<img" not in page  # inside srcdoc the markup is an escaped attribute value
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&amp;lt;img" in page  # the safe frame's text is escaped once more
