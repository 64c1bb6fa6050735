"""The nodes of one chat sign session tokens with one secret, or the operator is told.

A token signed by one node must be accepted by every other (a page reconnects to
whichever node the balancer picks). Nodes started with different ``DAY25_SECRET``s, or
some with it and some without (those sign with the secret kept in Redis), refuse each
other's tokens; nothing said so. Now a node that starts beside one signing otherwise
warns, naming the cure, and a node that agrees says nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from ..browser.conftest import ServeProcess
from .cluster import chat, start_node
from .servers import RedisServer

pytestmark = pytest.mark.timeout(120)

WARNING = "warning: a node started before this one on"


@pytest.fixture
def started() -> Iterator[list[ServeProcess]]:
    nodes: list[ServeProcess] = []
    yield nodes
    for node in nodes:
        node.stop()


def _start(url: str, nodes: list[ServeProcess]) -> str:
    nodes.append(start_node(url))
    return "".join(nodes[-1].output)


def test_a_node_signing_with_another_secret_is_warned_and_one_that_agrees_is_not(
    redis_server: RedisServer, started: list[ServeProcess], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAY25_SECRET", "the-class-secret")
    assert WARNING not in _start(redis_server.url, started)  # the first node
    assert WARNING not in _start(redis_server.url, started)  # the same secret
    monkeypatch.delenv("DAY25_SECRET")
    said = " ".join(_start(redis_server.url, started).split())  # the secret kept in Redis
    assert WARNING in said, said
    assert "signs session tokens with another secret" in said
    assert "Give every node the same DAY25_SECRET, or none." in said
    assert WARNING not in _start(redis_server.url, started)  # agrees with the one before


def test_nodes_that_share_the_secret_kept_in_redis_are_not_warned(
    redis_server: RedisServer, started: list[ServeProcess], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DAY25_SECRET", raising=False)
    for _ in range(2):
        assert WARNING not in _start(redis_server.url, started)


def _until(check: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_a_redis_restarted_without_persistence_gets_the_secret_back(
    redis_server: RedisServer, started: list[ServeProcess], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before: Redis restarted without persistence forgot the secret, a node started after
    that made a new one, and it refused the tokens of the node before it, unseen. Each node
    now writes its signer, and the secret it signs with, back where they are gone."""
    monkeypatch.delenv("DAY25_SECRET", raising=False)
    _start(redis_server.url, started)
    token = started[0].token("ann")
    kept = redis_server.client().get("day25:secret")
    redis_server.restart()  # no AOF, no RDB: every key is gone
    assert redis_server.client().get("day25:secret") is None
    _until(lambda: redis_server.client().get("day25:secret") == kept, "the secret came back")
    assert WARNING not in _start(redis_server.url, started)
    with chat(started[1], "lobby", "ann", token) as ws:  # b accepts a's token
        assert ws.roster["users"] == ["ann"]  # type: ignore[attr-defined]


def test_a_node_that_finds_another_signer_after_a_restart_says_so_once(
    redis_server: RedisServer, started: list[ServeProcess], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A node started in the seconds after the restart, before the others wrote the secret
    back, makes its own: it cannot know, but the nodes before it can, and say so."""
    monkeypatch.setenv("DAY25_SECRET", "the-class-secret")
    _start(redis_server.url, started)
    redis_server.restart()
    client = redis_server.client()
    client.set("day25:signer", "0123456789abcdef")  # what a node with another secret records
    said = lambda: " ".join("".join(started[0].output).split())  # noqa: E731
    _until(lambda: "warning: another node on" in said(), "the first node warned")
    assert "signs session tokens with another secret" in said()
    assert client.get("day25:secret") is None, "a DAY25_SECRET is never written to Redis"
    time.sleep(5)  # two more rounds of the keeper: the same fingerprint is told once
    assert said().count("warning: another node on") == 1
