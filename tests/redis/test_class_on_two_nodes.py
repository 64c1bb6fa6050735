"""What a class does to two ``day25 serve --broker`` nodes that the other tests did not:
a lone surrogate in a chat message (exercise 3: relay it like any text), in a
notification or in an ack id (exercise 4: refuse it, never a 500 or a dropped tab),
a POST while Redis is away (a 503, and no second traceback in the log), and the first
commands after Redis restarted (they work: no pooled connection fails once)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from day25.realtime import Broker

from ..browser.conftest import ServeProcess, request_json
from .cluster import chat, inbox, recv, recv_until, start_node
from .servers import RedisServer

pytestmark = pytest.mark.timeout(60)

LONE = '{"type": "message", "text": "\\ud800 alone"}'  # valid JSON; no UTF-8 holds it


@pytest.fixture
def nodes(redis_server: RedisServer) -> Iterator[tuple[ServeProcess, ServeProcess]]:
    a = start_node(redis_server.url)
    b = start_node(redis_server.url)
    yield a, b
    for node in (a, b):
        node.stop()


def output(node: ServeProcess) -> str:
    return "".join(node.output)


def test_a_lone_surrogate_is_relayed_to_both_nodes_and_the_sender_stays(
    nodes: tuple[ServeProcess, ServeProcess],
) -> None:
    a, b = nodes
    with chat(a, "lobby", "ann") as ann, chat(b, "lobby", "bob") as bob:
        recv_until(ann, lambda f: f == {"type": "join", "room": "lobby", "user": "bob"})
        recv_until(bob, lambda f: f == {"type": "join", "room": "lobby", "user": "bob"})
        ann.send(LONE)
        for ws in (ann, bob):
            assert recv(ws) == {"type": "message", "room": "lobby", "user": "ann",
                                "text": "\ud800 alone", "seq": 1}
        ann.send('{"type": "message", "text": "after"}')
        for ws in (ann, bob):
            assert recv(ws)["text"] == "after", "nobody was dropped"
    for node in (a, b):
        assert "Traceback" not in output(node), output(node)


def test_a_lone_surrogate_in_a_notification_is_a_422_and_uses_no_seq(
    nodes: tuple[ServeProcess, ServeProcess],
) -> None:
    a, _ = nodes
    headers = {"authorization": f"Bearer {a.token('sender')}"}
    status, body = request_json(a.url, "POST", "/notifications",
                                b'{"user": "zed", "title": "\\ud800"}', headers)
    assert status == 422, body
    status, body = request_json(a.url, "POST", "/notifications",
                                b'{"user": "zed", "title": "ok", "body": "\\udfff"}', headers)
    assert status == 422, body
    status, body = a.post("/notifications", {"user": "zed", "title": "fine"})
    assert (status, body["seq"]) == (201, 1), "nothing was stored before"
    assert "Traceback" not in output(a), output(a)


def test_an_ack_id_with_a_lone_surrogate_is_a_bad_frame_and_the_tab_stays(
    nodes: tuple[ServeProcess, ServeProcess],
) -> None:
    a, b = nodes
    status, body = a.post("/notifications", {"user": "zed", "title": "one"})
    assert status == 201, body
    with inbox(b, "zed", b.token("zed")) as tab:
        assert recv_until(tab, lambda f: f["type"] == "backlog_end")[-1]["count"] == 1
        tab.send('{"type": "ack", "ids": ["\\ud800"]}')
        assert recv(tab)["code"] == "bad_frame"
        tab.send(f'{{"type": "ack", "ids": ["{body["id"]}"]}}')
        assert recv(tab) == {"type": "acked", "count": 1}, "the tab is still open"
    assert "Traceback" not in output(b), output(b)


def test_a_post_while_redis_is_away_is_a_503_with_one_logged_error(
    redis_server: RedisServer, nodes: tuple[ServeProcess, ServeProcess],
) -> None:
    a, _ = nodes
    a.token("script")
    redis_server.kill()
    status, body = a.post("/notifications", {"user": "zed", "title": "lost?"})
    assert status == 503, body
    assert "KeyError" not in output(a), "the audit listener ran for a notification never stored"
    redis_server.start()
    with chat(a, "lobby", "ann") as ann:
        ann.send('{"type": "message", "text": "back"}')
        frames = recv_until(ann, lambda f: f["type"] in ("message", "error"))
        assert frames[-1].get("text") == "back", frames


def test_messages_right_after_a_redis_restart_are_sent(
    redis_server: RedisServer, nodes: tuple[ServeProcess, ServeProcess],
) -> None:
    a, _ = nodes
    users = [f"u{i}" for i in range(6)]

    def each_sends(text: str) -> list[dict[str, object]]:
        """Every user, on its own connection, sends ``text`` at the same moment (so that
        the node's pool holds several connections); what each got back."""
        replies: list[dict[str, object]] = []

        def one(user: str) -> None:
            with chat(a, f"room-{user}", user) as ws:
                recv(ws)  # its join
                ws.send(f'{{"type": "message", "text": "{text}"}}')
                replies.append(recv_until(ws, lambda f: f["type"] in ("message", "error"))[-1])

        threads = [threading.Thread(target=one, args=(u,)) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return replies

    assert all(r.get("text") == "warm" for r in each_sends("warm"))
    redis_server.kill()
    redis_server.start()
    replies = each_sends("after")
    assert [r for r in replies if r.get("text") != "after"] == [], "sent once Redis is back"


async def test_the_broker_reconnects_its_idle_connections_after_a_redis_restart(
    redis_server: RedisServer, broker: Broker,
) -> None:
    await asyncio.gather(*(broker.redis.ping() for _ in range(4)))  # 4 pooled connections
    await asyncio.to_thread(redis_server.kill)
    await asyncio.to_thread(redis_server.start)
    results = await asyncio.gather(*(broker.redis.ping() for _ in range(4)),
                                   return_exceptions=True)
    assert results == [True] * 4, "a closed idle connection is reconnected, not used"
