"""The nodes of one chat sign session tokens with one secret, or the operator is told.

A token signed by one node must be accepted by every other (a page reconnects to
whichever node the balancer picks). Nodes started with different ``DAY25_SECRET``s, or
some with it and some without (those sign with the secret kept in Redis), refuse each
other's tokens; nothing said so. Now a node that starts beside one signing otherwise
warns, naming the cure, and a node that agrees says nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..browser.conftest import ServeProcess
from .cluster import start_node
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
