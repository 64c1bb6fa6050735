"""Two ``day25 serve --broker`` processes on one real redis-server are one chat and one
inbox: cross-node delivery in one order with one seq, shared presence, a SIGKILLed
node's users reaped, notifications stored and pushed across nodes, tokens valid on
every node, and a name held once for every node."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ..browser.conftest import ServeProcess, request_json
from .cluster import backlog, chat, for_a_while, inbox, recv, recv_until, silent, start_node
from .servers import RedisServer

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def nodes(redis_server: RedisServer) -> Iterator[tuple[ServeProcess, ServeProcess]]:
    a = start_node(redis_server.url)
    b = start_node(redis_server.url)
    yield a, b
    for node in (a, b):
        node.stop()


def messages(frames: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    return [(f["seq"], f["user"], f["text"]) for f in frames if f["type"] == "message"]


def test_a_message_sent_on_one_node_reaches_the_other_in_one_order(
    nodes: tuple[ServeProcess, ServeProcess],
) -> None:
    a, b = nodes
    with chat(a, "lobby", "ann") as ann, chat(b, "lobby", "bob") as bob:
        assert recv(ann) == {"type": "join", "room": "lobby", "user": "ann"}
        assert bob.roster["users"] == ["ann", "bob"]  # type: ignore[attr-defined]
        assert recv(bob) == {"type": "join", "room": "lobby", "user": "bob"}
        assert recv(ann) == {"type": "join", "room": "lobby", "user": "bob"}, "across nodes"

        def send(ws: Any, who: str) -> None:
            for i in range(25):
                ws.send(f'{{"type": "message", "text": "{who}{i}"}}')

        senders = [threading.Thread(target=send, args=(ann, "a")),
                   threading.Thread(target=send, args=(bob, "b"))]
        for t in senders:
            t.start()
        for t in senders:
            t.join()
        got_a = messages(recv_until(ann, lambda f: f.get("seq") == 50))
        got_b = messages(recv_until(bob, lambda f: f.get("seq") == 50))
        assert got_a == got_b, "both nodes deliver one order"
        assert [seq for seq, _, _ in got_a] == list(range(1, 51)), "one seq: no gap, no duplicate"
        assert [t for _, u, t in got_a if u == "ann"] == [f"a{i}" for i in range(25)]
        assert silent(ann, 0.3) == [] and silent(bob, 0.3) == [], "nothing twice"


def test_a_name_in_use_on_one_node_cannot_be_claimed_on_another(
    nodes: tuple[ServeProcess, ServeProcess],
) -> None:
    """Before, each node held names for itself: "ann", connected on a, could be claimed on
    b, whose token every node accepts, and that token opened ann's inbox."""
    a, b = nodes
    assert a.post("/notifications", {"user": "ann", "title": "for ann only"})[0] == 201
    with chat(a, "lobby", "ann"):
        for node in (b, a):
            status, body = request_json(node.url, "POST", "/session", {"user": "ann"})
            assert status == 409, (node.url, status, body)
            assert "'ann' is in use by another session" in body["error"]
    with inbox(b, "ann", b.token("ann")) as tab:  # ann's own token, from a, works on b
        assert [n["title"] for n in backlog(tab)] == ["for ann only"]


def test_a_user_with_tabs_on_two_nodes_is_one_user(nodes: tuple[ServeProcess, ServeProcess]
                                                   ) -> None:
    a, b = nodes
    token = a.token("ann")  # signed by a, accepted by b: one secret for the chat
    with chat(b, "lobby", "bob") as bob:
        recv(bob)  # bob's own join
        with chat(a, "lobby", "ann", token) as tab1:
            assert recv(bob) == {"type": "join", "room": "lobby", "user": "ann"}
            recv(tab1)
            with chat(b, "lobby", "ann", token) as tab2:
                assert tab2.roster["users"] == ["ann", "bob"]  # type: ignore[attr-defined]
                assert silent(bob) == [], "a second tab on another node is not a new user"
            assert silent(bob) == [], "one tab closed: ann is still here"
        assert recv(bob) == {"type": "leave", "room": "lobby", "user": "ann"}
    status, body = request_json(a.url, "GET", "/status.json")
    assert status == 200 and body["broker"].startswith("redis://")


def test_a_killed_node_s_users_leave_within_the_presence_ttl(
    nodes: tuple[ServeProcess, ServeProcess],
) -> None:
    a, b = nodes
    with chat(b, "lobby", "bob") as bob:
        recv(bob)
        ann_ws = chat(a, "lobby", "ann")
        ann_ws.__enter__()
        assert recv(bob)["user"] == "ann"
        a.proc.kill()  # SIGKILL: no close frames, no goodbye
        killed = time.monotonic()
        frame = recv(bob, timeout=15)
        took = time.monotonic() - killed
        assert frame == {"type": "leave", "room": "lobby", "user": "ann"}
        assert took <= 10, f"ann was announced as left {took:.1f} s after her node died"
        with chat(b, "lobby", "cid") as cid:
            assert cid.roster["users"] == ["bob", "cid"]  # type: ignore[attr-defined]


def test_a_notification_posted_to_one_node_reaches_the_users_tabs_on_every_node(
    nodes: tuple[ServeProcess, ServeProcess],
) -> None:
    a, b = nodes
    token = b.token("ann")
    with inbox(a, "ann", token) as tab_a, inbox(b, "ann", token) as tab_b:
        assert backlog(tab_a) == [] and backlog(tab_b) == []
        time.sleep(0.2)
        status, reply = a.post("/notifications", {"user": "ann", "title": "one"})
        assert status == 201 and reply["seq"] == 1
        assert reply["delivered"] == 2, "two tabs, one on each node"
        for tab in (tab_a, tab_b):
            frame = recv(tab)
            assert (frame["type"], frame["id"], frame["seq"]) == ("notification", reply["id"], 1)
    # offline: stored on a, delivered from the backlog by b
    posted = [a.post("/notifications", {"user": "ann", "title": f"t{i}"})[1] for i in range(3)]
    assert [p["seq"] for p in posted] == [2, 3, 4] and posted[0]["delivered"] == 0
    with inbox(b, "ann", token) as tab:
        notes = backlog(tab)
        assert [n["seq"] for n in notes] == [1, 2, 3, 4], "unacked ones, in seq order"
        tab.send(json.dumps({"type": "ack", "ids": [notes[0]["id"], notes[2]["id"]]}))
        assert recv(tab) == {"type": "acked", "count": 2}
    with inbox(a, "ann", token) as tab:
        assert [n["seq"] for n in backlog(tab)] == [2, 4], "acked on b: gone on a too"


def test_a_tab_connecting_while_notifications_arrive_gets_each_once_in_order(
    nodes: tuple[ServeProcess, ServeProcess],
) -> None:
    a, b = nodes
    token = a.token("ann")
    stop = threading.Event()
    a.token("script")  # the posters' session, made once
    failed: list[object] = []

    def post_many() -> None:  # as fast as a can store them: b's reader trails behind
        while not stop.is_set():
            status, body = a.post("/notifications", {"user": "ann", "title": "x"})
            if status != 201:
                failed.append((status, body))

    posters = [threading.Thread(target=post_many) for _ in range(2)]
    for poster in posters:
        poster.start()
    try:
        for _ in range(8):  # connect on b while a keeps storing
            with inbox(b, "ann", token) as tab:
                notes = [n["seq"] for n in backlog(tab)]
                live = [f["seq"] for f in for_a_while(tab, 0.5)]
                seen = notes + live
                assert seen == sorted(set(seen)), f"out of order or twice: {seen}"
                assert seen == list(range(seen[0], seen[-1] + 1)), f"a gap: {seen}"
    finally:
        stop.set()
        for poster in posters:
            poster.join()
    assert failed == [], failed
