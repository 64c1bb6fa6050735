"""Who holds a name in ``day25 serve``: in one process, or shared by every ``--broker`` node.

Why two: one server keeps its holds in memory (:class:`NameHolds`), bounded like the
rest of its state. Several servers on one Redis are one chat, so a name must be one
hold there too (:class:`SharedNameHolds`): with a hold per server, a name in use on node
A could be claimed on node B, whose token every node accepts, and read that user's
inbox. Both have the same methods; :class:`~day25.serve.sessions.Sessions` uses either.

The rule, in both: a name is held while it has an open connection and for ``name_idle``
seconds after; ``claim`` takes a free name, ``hold`` keeps (or takes back) the name of a
session that already has a token, unless another session holds it now.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from redis.exceptions import RedisError

from day25.realtime import IdleCache
from day25.realtime.broker import SYNC_TIMEOUT, Broker, unavailable

__all__ = ["KEEP_EVERY", "Holds", "NameHolds", "SharedNameHolds", "keep_alive"]

KEEP_EVERY = 2.0
"""Seconds between two writes-back of what a ``--broker`` node keeps alive in Redis: the
holds of the names connected to it, and its signer (:mod:`day25.serve.signer`)."""


async def keep_alive(every: float, step: Callable[[], Awaitable[None]]) -> None:
    """Run ``step`` every ``every`` seconds until cancelled: how a ``--broker`` node writes
    back what Redis may have lost. A Redis that is away is tried again next time (the apps
    tell their clients themselves)."""
    while True:
        await asyncio.sleep(every)
        with contextlib.suppress(RedisError, OSError):
            await step()
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # cancelled in the middle of a command: redis-py may have turned that into a
            # RedisError, or finished the command, and the loop must still end
            raise asyncio.CancelledError


class Holds(Protocol):
    """What :class:`~day25.serve.sessions.Sessions` needs of the holds (either kind)."""

    name_idle: float

    async def claim(self, user: str, sid: str) -> bool: ...

    async def hold(self, user: str, sid: str) -> str | None: ...

    def connected(self, user: str, sid: str) -> None: ...

    def disconnected(self, user: str, sid: str) -> None: ...

    def sizes(self) -> dict[str, int]: ...


class _Connections:
    """This process's open connections: ``name -> {session id: count}``. Two sessions of
    one name are counted apart (with a broker, one may hold the name while the other's
    connections, opened before Redis lost its keys, are still open)."""

    def __init__(self) -> None:
        self.open: dict[str, dict[str, int]] = {}

    def connected(self, user: str, sid: str) -> bool:
        """Count one more; True for the name's first connection here."""
        sessions = self.open.setdefault(user, {})
        sessions[sid] = sessions.get(sid, 0) + 1
        return len(sessions) == 1 and sessions[sid] == 1

    def disconnected(self, user: str, sid: str) -> bool:
        """Count one less; True when that was the name's last connection here."""
        sessions = self.open.get(user, {})
        if sid not in sessions:
            return False
        sessions[sid] -= 1
        if sessions[sid] == 0:
            del sessions[sid]
        if sessions:
            return False
        del self.open[user]
        return True

    def pairs(self) -> list[tuple[str, str]]:
        """Every (name, session id) with a connection here."""
        return [(user, sid) for user, sessions in self.open.items() for sid in sessions]


class NameHolds:
    """The holds of one server, in memory. Names without a connection are kept in an
    :class:`~day25.realtime.IdleCache` (at most ``idle_names``), so inventing names cannot
    grow the server's memory."""

    def __init__(self, *, name_idle: float = 600.0, idle_names: int = 1000) -> None:
        self.name_idle = name_idle
        self._connections = _Connections()
        self._idle: IdleCache[str, str] = IdleCache(ttl=name_idle, capacity=idle_names)

    async def claim(self, user: str, sid: str) -> bool:
        """Hold ``user`` for ``sid`` if nobody holds it; whether it did."""
        if self._holder(user) is not None:
            return False
        self._idle.put(user, sid)
        return True

    async def hold(self, user: str, sid: str) -> str | None:
        """The other session holding ``user``, or None after holding it for ``sid`` (its
        idle time restarts)."""
        holder = self._holder(user)
        if holder is not None and holder != sid:
            return holder
        if user not in self._connections.open:
            self._idle.put(user, sid)
        return None

    def connected(self, user: str, sid: str) -> None:
        if self._connections.connected(user, sid):
            self._idle.pop(user, "")

    def disconnected(self, user: str, sid: str) -> None:
        if self._connections.disconnected(user, sid):
            self._idle.put(user, sid)

    def sizes(self) -> dict[str, int]:
        """How many names are held: with connections, and idle (at most ``idle_names``)."""
        return {"connected_names": len(self._connections.open), "idle_names": len(self._idle)}

    def _holder(self, user: str) -> str | None:
        connected = self._connections.open.get(user)
        if connected:
            return next(iter(connected))  # in one process, only the holder can connect
        return self._idle.get(user, "") or None


# GET the holder; another's: return it. Else hold it for ARGV[1], for at least ARGV[2] ms.
_HOLD_LUA = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return holder end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return false
"""
# Each KEYS[i] held by ARGV[i] (or by nobody) is held by it for ARGV[#ARGV] ms more.
_KEEP_LUA = """
local ms = ARGV[#ARGV]
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if not holder or holder == ARGV[i] then redis.call('SET', key, ARGV[i], 'PX', ms) end
end
return #KEYS
"""


class SharedNameHolds:
    """The holds of every node of one chat, in Redis: a key per held name (``day25:name:
    NAME``, its value the session's id), set with ``NX`` by :meth:`claim` and expiring
    ``name_idle`` seconds after its last use.

    While a name has connections on a node, :meth:`keep` (run beside the app) sets its
    key to expire ``name_idle + 2 * every`` seconds later, every ``every`` seconds; when
    the last one closes, nothing is sent: the key simply runs out, at most ``2 * every``
    seconds later than in one process. A node that dies leaves no hold behind for longer.
    Redis keeps only names claimed or used in the last ``name_idle`` seconds, each a short
    key. When Redis does not answer (within ``timeout`` seconds), :meth:`claim` and
    :meth:`hold` raise :class:`~day25.realtime.BrokerUnavailable`; connections already
    open go on.

    After Redis lost its keys (a restart without persistence), the names connected here
    are held again at the keeper's next round; until then (at most ``every`` seconds) a
    name in use can be claimed by another session, which then holds it: the keeper never
    takes a name back, and the older session's connections stay open until they close.
    Redis with persistence (``appendonly yes``) keeps the holds across a restart.
    """

    def __init__(self, url: str, *, name_idle: float = 600.0, every: float = KEEP_EVERY,
                 timeout: float = SYNC_TIMEOUT, broker: Broker | None = None) -> None:
        self.name_idle = name_idle
        self.every = every
        self.timeout = timeout
        self.broker = broker or Broker(url)
        self._connections = _Connections()

    def _key(self, user: str) -> str:
        return self.broker.key("name", user)

    def _ms(self, seconds: float) -> int:
        return max(1, round(seconds * 1000))

    async def claim(self, user: str, sid: str) -> bool:
        """Hold ``user`` for ``sid`` if no session on any node holds it; whether it did."""
        done = await self._ask(self.broker.redis.set(self._key(user), sid, nx=True,
                                                     px=self._ms(self.name_idle)))
        return bool(done)

    async def hold(self, user: str, sid: str) -> str | None:
        """The other session holding ``user`` (on any node), or None after holding it for
        ``sid`` for at least ``name_idle`` seconds more."""
        holder = await self._ask(self.broker.redis.eval(
            _HOLD_LUA, 1, self._key(user), sid, self._ms(self.name_idle)))
        return holder if isinstance(holder, str) else None

    async def _ask(self, command: Awaitable[Any]) -> Any:
        """Redis' answer within ``timeout`` seconds (a Redis that hangs is one that does
        not answer); :class:`~day25.realtime.BrokerUnavailable` if none came."""
        try:
            async with asyncio.timeout(self.timeout):
                return await command
        except TimeoutError as exc:
            raise unavailable(self.broker.url, TimeoutError(
                f"no answer within {self.timeout:g} s")) from exc
        except (RedisError, OSError) as exc:
            raise unavailable(self.broker.url, exc) from exc

    def connected(self, user: str, sid: str) -> None:
        self._connections.connected(user, sid)  # held in Redis by hold(); kept by keep()

    def disconnected(self, user: str, sid: str) -> None:
        self._connections.disconnected(user, sid)

    def sizes(self) -> dict[str, int]:
        """The names with connections on this node (the idle ones live in Redis)."""
        return {"connected_names": len(self._connections.open)}

    async def keep_once(self) -> None:
        """Refresh the keys of the names connected here (:class:`RedisError` as raised)."""
        pairs = self._connections.pairs()
        ms = str(self._ms(self.name_idle + 2 * self.every))
        for start in range(0, len(pairs), 500):
            batch = pairs[start:start + 500]
            await self.broker.redis.eval(
                _KEEP_LUA, len(batch), *(self._key(user) for user, _ in batch),
                *(sid for _, sid in batch), ms)

    async def keep(self) -> None:
        """Run :meth:`keep_once` every ``every`` seconds until cancelled (:func:`keep_alive`)."""
        try:
            await keep_alive(self.every, self.keep_once)
        finally:
            await self.broker.aclose()

