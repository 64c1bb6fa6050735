"""EventRelay: emit an event on every node's bus, in one order, through a Redis Stream.

Why it exists: ``await bus.emit("room.message", ...)`` reaches the listeners of one
process. With several processes behind a load balancer, a message sent on node A
must reach the room's members on node B, every node must see a room's events in
the same order, and a room's messages need one ``seq`` (no gaps, no duplicates).

How: :meth:`EventRelay.publish` appends the event to one Redis Stream (``XADD``),
and each node's reader task reads that stream (``XREAD BLOCK``) and emits every
entry on its own bus, one after the other. A counter per key (``INCR``) gives the
``seq``, in the same Lua script as the ``XADD``: Redis runs a script alone, so the
stream's order *is* the ``seq`` order, and a ``seq`` is never taken without its
entry (a node that dies mid-publish cannot leave a gap).

Why a stream and not pub/sub: pub/sub forgets a message sent while a node's
connection is down, so that node's members would see a gap; a stream keeps the
last ``maxlen`` entries, and a reader that reconnects goes on from the last entry
id it delivered. One stream for all keys (rather than one per room) keeps one
blocking read per node and needs no reorder buffer; the price is that every node
reads every room's events and skips those of rooms it has no members in (the
listeners do that: a broadcast to an empty room costs nothing). See
``docs/guides/scaling.md``.

Other scripts append entries of the same shape (:data:`ANNOUNCE_LUA`), so that a
change they make in Redis and its announcement are one atomic step: presence
(:mod:`day25.realtime.shared_presence`), the notification store
(:mod:`day25.realtime.redis_store`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Collection
from typing import Any, NamedTuple

from redis.exceptions import RedisError

from day25.bus import EventBus
from day25.realtime.broker import Broker, unavailable

__all__ = ["ANNOUNCE_LUA", "Announcement", "EventRelay", "Published", "finish"]

logger = logging.getLogger("day25.realtime.relay")

ANNOUNCE_LUA = """
local function announce(stream, maxlen, event, key, seq, data)
  return redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*',
                    'e', event, 'k', key, 's', seq, 'd', data)
end
"""
"""A Lua function other scripts prepend: one entry of the relay's stream. ``e`` the
event, ``k`` its key (room, user), ``s`` its ``seq`` (``''`` for none), ``d`` the JSON
payload; the reader emits ``d`` with ``seq`` added."""

_PUBLISH_LUA = ANNOUNCE_LUA + """
local seq = ''
if KEYS[2] ~= '' then seq = redis.call('INCR', KEYS[2]) end
local id = announce(KEYS[1], tonumber(ARGV[4]), ARGV[1], ARGV[2], seq, ARGV[3])
return {id, seq}
"""


class Published(NamedTuple):
    """Where an event went: its stream entry id, and its ``seq`` (``None`` when not counted)."""

    id: str
    seq: int | None


class Announcement(NamedTuple):
    """What another script needs to append an entry: the stream, its length cap, the event."""

    stream: str
    maxlen: int
    event: str


class EventRelay:
    """``relay = EventRelay(broker, bus, events={"room.message"})``; ``await relay.start()``.

    ``await relay.publish("room.message", room, payload, seq=True)`` emits ``payload``
    (plus ``"seq"``: the key's next number) on the bus of every node, this one
    included, in the stream's order. Only the ``events`` named are relayed; entries
    of other events are skipped. The reader reconnects on its own when Redis goes
    away (``healthy`` says whether it is reading) and goes on where it stopped.
    """

    def __init__(
        self,
        broker: Broker,
        bus: EventBus,
        *,
        events: Collection[str],
        stream: str = "events",
        maxlen: int = 10_000,
        block: float = 1.0,
        batch: int = 500,
    ) -> None:
        if not events:
            raise ValueError("name the events to relay")
        self.broker = broker
        self.bus = bus
        self.events = frozenset(events)
        self.stream = broker.key(stream)
        self.maxlen = maxlen
        self.block = block
        self.batch = batch
        self.position: str | None = None  # the last entry delivered (or the start)
        self.healthy = False
        self._counters = broker.key("seq", stream)
        self._publish = broker.redis.register_script(_PUBLISH_LUA)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._advanced = asyncio.Event()  # set (then cleared) each time position moves

    def announcement(self, event: str) -> Announcement:
        """For a script that appends ``event`` entries itself (see :data:`ANNOUNCE_LUA`)."""
        self._check(event)
        return Announcement(self.stream, self.maxlen, event)

    async def publish(
        self, event: str, key: str, data: dict[str, Any], *, seq: bool = False
    ) -> Published:
        """Append ``event`` for ``key``; with ``seq=True`` it gets ``key``'s next number.
        :class:`~day25.realtime.broker.BrokerUnavailable` if Redis does not answer."""
        self._check(event)
        counter = f"{self._counters}:{key}" if seq else ""
        text = json.dumps(data, separators=(",", ":"))  # escaped: a lone surrogate too
        try:
            entry, number = await self._publish(
                keys=[self.stream, counter], args=[event, key, text, self.maxlen]
            )
        except RedisError as exc:
            raise unavailable(self.broker.url, exc) from exc
        return Published(str(entry), int(number) if number != "" else None)

    # -- the reader --------------------------------------------------------------------
    async def start(self) -> None:
        """Start reading after the stream's current last entry (what is published from
        now on). If Redis does not answer yet, the reader finds that entry as soon as
        it does (nothing published before then is delivered here)."""
        if self._task is not None:
            raise RuntimeError("this relay is already running")
        try:
            await self._find_start()
        except RedisError as exc:
            logger.error("%s; the relay starts reading when it answers",
                         unavailable(self.broker.url, exc))
        self._task = asyncio.get_running_loop().create_task(
            self._read(), name=f"day25-relay:{self.stream}"
        )

    async def _find_start(self) -> None:
        last: Any = await self.broker.redis.xrevrange(self.stream, count=1)
        self.position = str(last[0][0]) if last else "0-0"
        self.healthy = True

    async def stop(self) -> None:
        """Stop reading. The reader finishes its current blocking read (at most ``block``
        seconds) rather than being cancelled in the middle of one: a redis-py command
        cancelled mid-read can leave its task waiting on the connection."""
        task, self._task = self._task, None
        self._stopping = True
        if task is not None:
            await finish(task, grace=self.block + 2.0)
        self.healthy = False

    async def _read(self) -> None:
        pause = 0.05
        self._stopping = False
        while not self._stopping:
            try:
                if self.position is None:
                    await self._find_start()
                assert self.position is not None
                found: Any = await self.broker.redis.xread(
                    {self.stream: self.position},
                    count=self.batch,
                    block=max(1, int(self.block * 1000)),
                )
            except (RedisError, OSError) as exc:
                if self.healthy:
                    logger.error("%s; the relay retries until it answers", unavailable(
                        self.broker.url, exc))
                self.healthy = False
                await asyncio.sleep(pause)
                pause = min(pause * 2, 1.0)
                continue
            if not self.healthy:
                logger.warning("the broker answers again: the relay goes on from %s",
                               self.position)
            self.healthy, pause = True, 0.05
            for _stream, entries in found or ():
                for entry_id, fields in entries:
                    if self._stopping:
                        return
                    self.position = entry_id
                    await self._deliver(fields)
                self._advanced.set()
                self._advanced.clear()

    async def caught_up(self, position: str) -> None:
        """Wait until this node has delivered every entry up to ``position`` (an entry id
        read from the stream earlier): what was announced before it can no longer
        arrive after this returns. Waits while Redis is away: bound it with a timeout."""
        wanted = _entry_id(position)
        while self.position is None or _entry_id(self.position) < wanted:
            await self._advanced.wait()

    async def _deliver(self, fields: dict[str, str]) -> None:
        event = fields.get("e", "")
        if event not in self.events:
            return
        try:
            data = json.loads(fields["d"])
        except (KeyError, ValueError):
            logger.error("skipped a malformed entry of %s: %r", self.stream, fields)
            return
        if fields.get("s"):
            data["seq"] = int(fields["s"])
        await self.bus.emit(event, data)  # listeners' errors are logged by the bus

    def _check(self, event: str) -> None:
        if event not in self.events:
            raise ValueError(f"{event!r} is not one of the relayed events {sorted(self.events)}")

    def __repr__(self) -> str:
        state = "reading" if self.healthy else "not reading"
        return f"<EventRelay {self.stream} {state} at {self.position}>"



def _entry_id(text: str) -> tuple[int, int]:
    """A stream entry id (``"1712345678901-3"``) as a comparable pair."""
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


async def finish(task: asyncio.Task[None], *, grace: float) -> None:
    """Wait up to ``grace`` seconds for a background task that was asked to stop; then
    cancel it, and give up on it after one more second (logged) rather than hang."""
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=1.0)
    if not done:
        logger.warning("%s did not stop; left behind", task.get_name())
    elif not task.cancelled() and task.exception() is not None:
        logger.error("%s ended with %r", task.get_name(), task.exception())
