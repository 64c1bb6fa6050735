"""Name holds shared by every ``--broker`` node, on a real redis-server.

Before: each node held names in its own memory, so "ann", connected on node A, could
be claimed on node B, whose token every node accepts, and B's "ann" could read ann's
inbox. Now a name is one hold for the whole chat (:class:`SharedNameHolds`): claimed
once, kept while it has a connection on any node and ``name_idle`` seconds after (at
most ``2 * every`` more), and when Redis does not answer a session is refused with 503
to its sender only, while open connections go on.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from day25.serve import SessionRefused, Sessions
from day25.serve.holds import SharedNameHolds

from .servers import RedisServer

IDLE, EVERY = 0.8, 0.1
SECRET = b"one secret for the chat"


class Node:
    """One node's sessions (the same secret as every other) and its keeper, running."""

    def __init__(self, url: str) -> None:
        self.holds = SharedNameHolds(url, name_idle=IDLE, every=EVERY, timeout=0.5)
        self.sessions = Sessions(SECRET, holds=self.holds)
        self.keeper = asyncio.create_task(self.holds.keep())

    async def stop(self) -> None:
        self.keeper.cancel()
        await asyncio.gather(self.keeper, return_exceptions=True)


@pytest.fixture
async def nodes(redis_server: RedisServer) -> AsyncIterator[tuple[Node, Node]]:
    a, b = Node(redis_server.url), Node(redis_server.url)
    yield a, b
    await a.stop()
    await b.stop()


async def refused(call: Awaitable[object]) -> SessionRefused:
    with pytest.raises(SessionRefused) as caught:
        await call
    return caught.value


async def until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 10) -> float:
    """Seconds until ``check()`` holds."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < seconds, what
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def claims(node: Node, user: str) -> bool:
    try:
        await node.sessions.issue(user)
    except SessionRefused as refusal:
        assert refusal.status == 409, refusal.message
        return False
    return True


async def test_a_name_claimed_on_one_node_is_refused_on_every_other(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    token = await a.sessions.issue("ann")
    refusal = await refused(b.sessions.issue("ann"))
    assert (refusal.status, refusal.code) == (409, "name_taken")
    assert "'ann' is in use by another session" in refusal.message
    session = await b.sessions.verify(token)  # ann's own token works on every node
    assert session.user == "ann"
    assert not await claims(b, "Ann"), "names that differ only in capitals are one name"
    assert await claims(b, "bob") and not await claims(a, "bob")
    waited = await until(lambda: claims(a, "bob"), "a name claimed and never used is freed")
    assert IDLE - EVERY <= waited <= IDLE + 2 * EVERY + 0.5, waited


async def test_a_connected_name_stays_held_past_name_idle_then_goes(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    token = await a.sessions.issue("ann")
    session = await a.sessions.verify(token)
    a.sessions.connected(session)
    await asyncio.sleep(3 * IDLE)  # connected on a: its keeper keeps the hold
    assert not await claims(b, "ann")
    renewed = await b.sessions.issue("ann", token)  # ann's own token renews, on any node
    assert await b.sessions.verify(renewed) == session
    a.sessions.disconnected(session)
    waited = await until(lambda: claims(b, "ann"), "the name was freed")
    assert IDLE - EVERY <= waited <= IDLE + 2 * EVERY + 0.5, "name_idle after the last close"
    assert (await refused(b.sessions.issue("ann", token))).status == 409, "now another's"
    stale = await refused(a.sessions.verify(token))  # the new holder's, not the old token's
    assert (stale.status, stale.code) == (401, "unauthorized")
    assert "now held by another session" in stale.message


async def test_any_open_connection_on_any_node_keeps_the_name(
    nodes: tuple[Node, Node], redis_server: RedisServer,
) -> None:
    a, b = nodes
    c = Node(redis_server.url)
    try:
        token = await a.sessions.issue("ann")
        on_a, on_b = await a.sessions.verify(token), await b.sessions.verify(token)
        a.sessions.connected(on_a)
        a.sessions.connected(on_a)  # ann's second tab, on a
        b.sessions.connected(on_b)  # and her third, on b
        a.sessions.disconnected(on_a)
        b.sessions.disconnected(on_b)
        await asyncio.sleep(3 * IDLE)
        assert not await claims(c, "ann"), "her tab left on a holds the name"
        assert a.sessions.sizes() == {"connected_names": 1}
        a.sessions.disconnected(on_a)
        await until(lambda: claims(c, "ann"), "freed after ann's last tab, on any node")
    finally:
        await c.stop()


async def test_the_names_of_a_node_that_dies_are_freed_name_idle_later(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    a.sessions.connected(await a.sessions.verify(await a.sessions.issue("ann")))
    await asyncio.sleep(2 * EVERY)
    await a.stop()  # a crash: its connections end, and nobody says so to Redis
    waited = await until(lambda: claims(b, "ann"), "the dead node's name was freed")
    assert waited <= IDLE + 2 * EVERY + 0.5, waited


async def test_without_redis_sessions_are_refused_with_503_and_open_ones_go_on(
    nodes: tuple[Node, Node], redis_server: RedisServer,
) -> None:
    a, b = nodes
    token = await a.sessions.issue("ann")
    session = await a.sessions.verify(token)
    a.sessions.connected(session)
    redis_server.kill()
    for call in (a.sessions.issue("bob"), b.sessions.verify(token)):
        refusal = await refused(call)
        assert (refusal.status, refusal.code) == (503, "unavailable"), refusal.message
        assert refusal.message.startswith("service unavailable: Redis, the store the servers")
        assert "is unreachable" in refusal.message and "try again" in refusal.message
        assert str(redis_server.port) not in refusal.message, "its address is for the log"
    await asyncio.sleep(3 * EVERY)  # the keeper meets the dead Redis and goes on
    assert not a.keeper.done() and a.sessions.sizes() == {"connected_names": 1}
    redis_server.start()  # back, empty (no persistence): ann's hold is written back
    await until(lambda: _held(redis_server, "ann"), "the connected name's hold came back")
    assert not await claims(b, "ann")
    assert (await b.sessions.verify(token)).user == "ann"


async def _held(server: RedisServer, user: str) -> bool:
    return server.client().get(f"day25:name:{user}") is not None


async def test_using_a_token_restarts_the_names_idle_time_on_every_node(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    token = await a.sessions.issue("ann")
    await asyncio.sleep(0.6 * IDLE)
    await b.sessions.verify(token)  # ann comes back, on the other node
    await asyncio.sleep(0.6 * IDLE)  # past name_idle since the claim, not since the use
    assert not await claims(a, "ann")
    await until(lambda: claims(a, "ann"), "freed name_idle after its last use")


async def test_a_keeper_never_takes_a_name_another_session_holds(
    nodes: tuple[Node, Node], redis_server: RedisServer,
) -> None:
    """After Redis lost its keys, another session may claim a connected name before the
    keeper writes it back: the first claim wins, and the keeper leaves it alone."""
    a, _ = nodes
    a.sessions.connected(await a.sessions.verify(await a.sessions.issue("ann")))
    redis_server.client().set("day25:name:ann", "another-session")
    await asyncio.sleep(3 * EVERY)
    assert redis_server.client().get("day25:name:ann") == "another-session"


async def test_two_sessions_of_one_name_on_a_node_are_counted_apart(
    nodes: tuple[Node, Node], redis_server: RedisServer,
) -> None:
    """After Redis lost its keys, another session can claim a connected name before the
    keeper's next round; both sessions' tabs may then be open on one node. When they
    close, nothing of either stays held: the name is free name_idle later."""
    a, b = nodes
    first = await a.sessions.verify(await a.sessions.issue("hal"))
    a.sessions.connected(first)
    redis_server.client().delete("day25:name:hal")  # what a restart without persistence does
    second = await a.sessions.verify(await b.sessions.issue("hal"))  # claimed in the gap
    a.sessions.connected(second)
    assert a.sessions.sizes() == {"connected_names": 1}
    a.sessions.disconnected(first)
    a.sessions.disconnected(second)
    assert a.sessions.sizes() == {"connected_names": 0}
    await until(lambda: claims(b, "hal"), "no connection left holds hal")


async def test_a_redis_that_hangs_refuses_sessions_after_the_timeout(
    nodes: tuple[Node, Node], redis_server: RedisServer,
) -> None:
    a, _ = nodes
    token = await a.sessions.issue("ann")
    assert redis_server.proc is not None
    os.kill(redis_server.proc.pid, signal.SIGSTOP)  # alive, but it answers nothing
    try:
        for call in (a.sessions.issue("bob"), a.sessions.verify(token)):
            started = time.monotonic()
            refusal = await refused(call)
            assert (refusal.status, refusal.code) == (503, "unavailable")
            assert time.monotonic() - started < 2, "the holds' timeout (0.5 s), not Redis' own"
    finally:
        os.kill(redis_server.proc.pid, signal.SIGCONT)
    assert (await a.sessions.verify(token)).user == "ann"


async def test_a_keeper_ends_when_cancelled_even_in_the_middle_of_a_command() -> None:
    """redis-py may turn the cancellation of a command into a RedisError (or finish the
    command first): the keeper's loop then went on for ever, and a node's (or a test's)
    shutdown waited on it. Seen in CI as two 300 s timeouts of this file under load."""
    from redis.exceptions import RedisError

    from day25.serve.holds import keep_alive

    in_command = asyncio.Event()

    async def step() -> None:
        in_command.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise RedisError("Connection closed by server.") from None

    keeper = asyncio.create_task(keep_alive(0.01, step))
    await in_command.wait()
    keeper.cancel()
    await asyncio.wait({keeper}, timeout=2)
    assert keeper.cancelled(), "the keeper went on after it was cancelled"
