"""SharedPresence: who is in a room across all nodes, and who left when a node died.

Why it exists: :class:`~day25.realtime.PresenceTracker` counts a user's connections in
one process. With several nodes, a user with a tab on node A and one on node B is
still *one* user: they join when their first connection anywhere opens and leave
when their last one anywhere closes. And a node that is SIGKILLed never says goodbye,
so its users must be announced as left by someone else, soon.

How (all of it in Redis, each step one Lua script, so two nodes never decide the
same transition twice):

* ``{space}:where:{room}:{user}``: a hash, node -> how many connections that node
  holds; ``{space}:users:{room}``: the room's users; ``{space}:held:{node}``: the
  ``room, user`` pairs a node holds (what to clean up when it dies).
* Tracking a connection adds one for this node; the user *joined* when no node held
  them before. Untracking takes one away; the user *left* when no node holds them
  any more. Both transitions are announced on the relay's stream in the same script
  (:data:`~day25.realtime.relay.ANNOUNCE_LUA`), so every node sees them in order with
  the room's messages.
* Each node keeps ``{space}:alive:{node}`` alive with a TTL (``ttl`` seconds),
  refreshed every ``interval`` seconds, and every node reaps: a node in
  ``{space}:nodes`` whose key expired is removed with its pairs, and its users who are
  held nowhere else are announced as left. A node's users are gone at most
  ``ttl + interval`` seconds after it died.
* A node that was reaped while alive (its Redis connection was down longer than
  ``ttl``), or whose untrack could not reach Redis, writes its own truth back on the
  next heartbeat that gets through (``resync``): its users join again.
* A Redis restarted without persistence forgets everything; ``{space}:kept:{node}``
  (set by the node's first heartbeat, kept a day by each later one; a reaper leaves it
  alone) is how each node tells. Its users join again, and a user whose last
  connection closed while Redis was away is announced as left by the node it left:
  Redis no longer knows them, so no one else could say it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from redis.exceptions import RedisError

from day25.realtime.broker import Broker, BrokerUnavailable, unavailable
from day25.realtime.relay import ANNOUNCE_LUA, EventRelay, finish

__all__ = ["PRESENCE_JOIN", "PRESENCE_LEAVE", "SharedPresence"]

logger = logging.getLogger("day25.realtime.shared_presence")

PRESENCE_JOIN = "presence.join"
"""Announced for every tracked connection: ``{room, user, node, conn, first, roster}``
(``first``: the user just joined; ``roster``: the room's users right after)."""
PRESENCE_LEAVE = "presence.leave"
"""Announced when a user's last connection anywhere is gone: ``{room, user}``."""

_KEYS_LUA = """
local prefix, node, room, user = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local where = prefix .. ':where:' .. room .. ':' .. user
local users = prefix .. ':users:' .. room
local held = prefix .. ':held:' .. node
local pair = cjson.encode({room, user})
"""

# ARGV: prefix node room user mode(add|set) amount conn stream maxlen gone
# (gone: 'gone' when Redis forgot the user, whose leave is then announced all the same)
_CHANGE_LUA = ANNOUNCE_LUA + _KEYS_LUA + """
local had = redis.call('HLEN', where) > 0
local count
if ARGV[5] == 'add' then
  count = redis.call('HINCRBY', where, node, tonumber(ARGV[6]))
else
  count = tonumber(ARGV[6])
end
if count > 0 then
  redis.call('HSET', where, node, count)
  redis.call('SADD', held, pair)
  redis.call('SADD', users, user)
else
  redis.call('HDEL', where, node)
  redis.call('SREM', held, pair)
end
local has = redis.call('HLEN', where) > 0
if not has then redis.call('SREM', users, user) end
local stream, maxlen = ARGV[8], tonumber(ARGV[9])
if stream ~= '' then
  if ARGV[7] ~= '' or (has and not had) then
    local roster = redis.call('SORT', users, 'ALPHA')
    announce(stream, maxlen, 'presence.join', room, '', cjson.encode({
      room = room, user = user, node = node, conn = ARGV[7],
      first = (has and not had), roster = roster}))
  end
  if (had or ARGV[10] == 'gone') and not has then
    announce(stream, maxlen, 'presence.leave', room, '', cjson.encode({room = room, user = user}))
  end
end
if has and not had then return 1 end
if had and not has then return -1 end
return 0
"""

# ARGV: prefix node(the dead one) stream maxlen
_REAP_LUA = ANNOUNCE_LUA + """
local prefix, dead, stream, maxlen = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
if redis.call('EXISTS', prefix .. ':alive:' .. dead) == 1 then return -1 end
local held = prefix .. ':held:' .. dead
local left = 0
for _, pair in ipairs(redis.call('SMEMBERS', held)) do
  local room_user = cjson.decode(pair)
  local room, user = room_user[1], room_user[2]
  local where = prefix .. ':where:' .. room .. ':' .. user
  redis.call('HDEL', where, dead)
  if redis.call('HLEN', where) == 0 then
    redis.call('SREM', prefix .. ':users:' .. room, user)
    left = left + 1
    if stream ~= '' then
      announce(stream, maxlen, 'presence.leave', room, '', cjson.encode({room = room, user = user}))
    end
  end
end
redis.call('DEL', held)
redis.call('SREM', prefix .. ':nodes', dead)
return left
"""

# ARGV: prefix node ttl_ms kept_ms; {missing, forgot}: missing is 1 when this node was
# not registered (new, reaped, or Redis forgot it), forgot when Redis lost this node's
# kept key (new, or Redis forgot it; a reaper leaves the key alone)
_HEARTBEAT_LUA = """
local prefix, node = ARGV[1], ARGV[2]
local missing = redis.call('SADD', prefix .. ':nodes', node)
redis.call('SET', prefix .. ':alive:' .. node, '1', 'PX', tonumber(ARGV[3]))
local kept = prefix .. ':kept:' .. node
local forgot = redis.call('SET', kept, '1', 'NX', 'PX', tonumber(ARGV[4])) and 1 or 0
if forgot == 0 then redis.call('PEXPIRE', kept, tonumber(ARGV[4])) end
return {missing, forgot}
"""
KEPT_MS = 86_400_000  # how long a dead node's kept key outlives it


class SharedPresence:
    """``presence = SharedPresence(broker, relay, space="chat")``; ``await presence.start()``.

    ``await presence.track(room, user, conn)`` / ``untrack(room, user)`` count this
    node's connections; ``roster(room)`` and ``connection_count(room, user)`` read the
    whole cluster. With a ``relay``, joins and leaves are announced as
    :data:`PRESENCE_JOIN` / :data:`PRESENCE_LEAVE` entries (``conn`` names the tracked
    connection, so its node can let it in at exactly that point of the stream).
    """

    def __init__(
        self,
        broker: Broker,
        relay: EventRelay | None = None,
        *,
        space: str = "presence",
        ttl: float = 5.0,
        interval: float = 1.0,
    ) -> None:
        if not 0 < interval < ttl:
            raise ValueError(f"need 0 < interval < ttl, not interval={interval}, ttl={ttl}")
        self.broker = broker
        self.relay = relay
        self.prefix = broker.key(space)
        self.ttl = ttl
        self.interval = interval
        self.local: dict[tuple[str, str], int] = {}  # this node's truth: (room, user) -> conns
        self.dirty = True  # write the local truth back on the next heartbeat
        self.unsent: set[tuple[str, str]] = set()  # last connection gone, Redis not told
        self.forgot = False  # Redis lost everything since this node's last resync
        self.reaped = 0  # users this node announced as left for dead nodes
        redis = broker.redis
        self._change = redis.register_script(_CHANGE_LUA)
        self._reap = redis.register_script(_REAP_LUA)
        self._heartbeat = redis.register_script(_HEARTBEAT_LUA)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Register this node, then keep it alive and reap dead nodes in the background
        (if Redis does not answer yet, the first heartbeat that gets through registers it)."""
        try:
            await self.beat()
        except BrokerUnavailable as exc:
            logger.error("presence heartbeat failed: %s", exc)
            self.dirty = True
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"day25-presence:{self.prefix}"
        )

    async def stop(self, *, forget: bool = True) -> None:
        """Stop the heartbeat; with ``forget``, untrack this node's users now (a clean
        shutdown) instead of letting the TTL do it."""
        task, self._task = self._task, None
        self._stopping.set()
        if task is not None:
            await finish(task, grace=self.interval + 2.0)
        if forget:
            try:
                for room, user in list(self.local):
                    await self._apply(room, user, "set", 0, "")
                await self.broker.redis.delete(f"{self.prefix}:alive:{self.broker.node}",
                                               f"{self.prefix}:kept:{self.broker.node}")
                await self.broker.redis.srem(f"{self.prefix}:nodes", self.broker.node)
            except RedisError as exc:
                logger.warning("could not untrack this node's users: %s", exc)
            self.local.clear()

    # -- this node's connections ---------------------------------------------------------
    async def track(self, room: str, user: str, conn: str = "") -> bool:
        """One more connection of ``user`` in ``room`` on this node; True when the user
        just joined (nobody held them anywhere)."""
        key = (room, user)
        self.local[key] = self.local.get(key, 0) + 1
        try:
            return bool(await self._apply(room, user, "add", 1, conn) == 1)
        except RedisError as exc:
            self._forget_one(key)
            raise unavailable(self.broker.url, exc) from exc

    async def untrack(self, room: str, user: str) -> bool:
        """One connection fewer; True when the user just left everywhere. If Redis does
        not answer, the next heartbeat that gets through writes this node's truth back."""
        key = (room, user)
        if key not in self.local:
            return False
        self._forget_one(key)
        try:
            return bool(await self._apply(room, user, "add", -1, "") == -1)
        except RedisError as exc:
            self.dirty = True
            if key not in self.local:
                self.unsent.add(key)
            logger.warning("untrack %s in %s: %s (fixed on the next heartbeat)", user, room, exc)
            return False

    def _forget_one(self, key: tuple[str, str]) -> None:
        left = self.local.get(key, 0) - 1
        if left > 0:
            self.local[key] = left
        else:
            self.local.pop(key, None)

    # -- the whole cluster -----------------------------------------------------------------
    async def roster(self, room: str) -> list[str]:
        """The users present in ``room`` on any node, sorted."""
        try:
            users: Any = await self.broker.redis.smembers(f"{self.prefix}:users:{room}")
            return sorted(users)
        except RedisError as exc:
            raise unavailable(self.broker.url, exc) from exc

    async def connection_count(self, room: str, user: str) -> int:
        """How many connections ``user`` has in ``room`` on all nodes."""
        try:
            counts = await self.broker.redis.hvals(f"{self.prefix}:where:{room}:{user}")
        except RedisError as exc:
            raise unavailable(self.broker.url, exc) from exc
        return sum(int(c) for c in counts)

    # -- heartbeat, reaper, resync ---------------------------------------------------------
    async def beat(self) -> None:
        """Refresh this node's key, write its truth back if needed, reap dead nodes."""
        node, redis = self.broker.node, self.broker.redis
        ttl_ms = int(self.ttl * 1000)
        try:
            missing, forgot = await self._heartbeat(args=[self.prefix, node, ttl_ms, KEPT_MS])
            self.forgot = self.forgot or bool(forgot)
            if missing or self.dirty:
                await self._resync()
            for other in await redis.smembers(f"{self.prefix}:nodes"):
                if other != node:
                    left = await self._reap(args=[self.prefix, other, *self._stream()])
                    if left > 0:
                        self.reaped += left
                        logger.warning("node %s is gone: %d of its users left", other, left)
        except RedisError as exc:
            raise unavailable(self.broker.url, exc) from exc

    async def _run(self) -> None:
        down = False
        self._stopping.clear()
        while True:
            try:
                await asyncio.wait_for(self._stopping.wait(), self.interval)
                return
            except TimeoutError:
                pass
            try:
                await self.beat()
            except Exception as exc:  # Redis away: keep trying, say it once
                if not down:
                    logger.error("presence heartbeat failed: %s", exc)
                down = self.dirty = True
            else:
                if down:
                    logger.warning("presence heartbeat works again")
                down = False

    async def _resync(self) -> None:
        """Make Redis say what this node holds: its local counts, nothing else.

        ``self.forgot``: Redis lost everything (a resync cut short keeps it true). A user
        this node could not untrack is then in no ``held`` set, and their leave is
        announced here or nowhere. Otherwise Redis still has them (a ``stale`` pair), or
        the reaper already announced them.
        """
        held = await self.broker.redis.smembers(f"{self.prefix}:held:{self.broker.node}")
        stale = {tuple(json.loads(pair)) for pair in held} - set(self.local)
        gone = (self.unsent - set(self.local) - stale) if self.forgot else set()
        for room, user in stale:
            await self._apply(room, user, "set", 0, "")
        for room, user in gone:
            await self._apply(room, user, "set", 0, "", gone=True)
        for (room, user), count in list(self.local.items()):
            await self._apply(room, user, "set", count, "")
        self.unsent.clear()
        self.dirty = self.forgot = False

    async def _apply(
        self, room: str, user: str, mode: str, amount: int, conn: str, *, gone: bool = False
    ) -> Any:
        return await self._change(args=[self.prefix, self.broker.node, room, user, mode, amount,
                                        conn, *self._stream(), "gone" if gone else ""])

    def _stream(self) -> list[Any]:
        if self.relay is None:
            return ["", 0]
        return [self.relay.stream, self.relay.maxlen]
