"""RedisStore: the notification queue's store in Redis, shared by every node.

Why it exists: with several nodes, a notification POSTed to node A must be in the
backlog of a user who reconnects to node B, and a restart of any node must lose
nothing. :class:`RedisStore` is a :class:`~day25.realtime.NotificationStore`, so an
:class:`~day25.realtime.OfflineQueue` over it keeps exactly the rules it keeps over
SQLite (ids, ``seq`` per user never reused, TTL, cap dropping the oldest, ack
removes for good): the rules live in the queue, once.

Layout: one Redis Stream per user (``notes:{user}``, in ``seq`` order; an entry holds
the id, ``seq``, payload and times), a counter per user (``notes-seq:{user}``, never
reset, like SQLite's ``sequences`` table) and one sorted set of every entry by
expiry time (``notes-expiry``), so purging the expired ones never scans every user.
Each operation is one Lua script or one transaction: atomic, as the protocol asks.

Why a stream per user and not a consumer group: every tab of a user must get every
notification, and an ack (by any tab) removes it for all of them; a consumer group
hands each entry to *one* consumer and tracks acks per group, which is the other
model. ``XRANGE`` / ``XDEL`` on a stream of at most ``max_per_user`` entries is the
queue the protocol describes.

With ``announce`` (an :class:`~day25.realtime.relay.Announcement`), :meth:`append`
also appends the stored notification to the relay's stream *in the same script*,
so every node pushes it to the user's live tabs, in ``seq`` order.

Durability is Redis': with ``appendonly yes`` and ``appendfsync always`` an
acknowledged write survives a crash of Redis; with ``everysec`` (Redis' default for
AOF) up to a second of writes may be lost; without AOF or snapshots, everything.
The API is synchronous, like SQLite's (one short round trip per call, redis-py's
synchronous client); every failure to reach Redis is a
:class:`~day25.realtime.broker.BrokerUnavailable`.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from redis.exceptions import RedisError

from day25.realtime.broker import Broker, unavailable
from day25.realtime.relay import ANNOUNCE_LUA, Announcement
from day25.realtime.stores import Notification

__all__ = ["RedisStore", "Snapshot"]

_KEYS_LUA = """
local prefix, user = ARGV[1], ARGV[2]
local stream = prefix .. ':notes:' .. user
local expiry = prefix .. ':notes-expiry'
"""

# ARGV: prefix user id payload created expires event stream maxlen data
_APPEND_LUA = ANNOUNCE_LUA + _KEYS_LUA + """
local seq = redis.call('INCR', prefix .. ':notes-seq:' .. user)
local entry = redis.call('XADD', stream, '*', 'id', ARGV[3], 'seq', seq, 'p', ARGV[4],
                         'c', ARGV[5], 'x', ARGV[6])
redis.call('ZADD', expiry, ARGV[6], cjson.encode({user, entry}))
if ARGV[7] ~= '' then
  announce(ARGV[8], tonumber(ARGV[9]), ARGV[7], user, seq, ARGV[10])
end
return seq
"""

_DELETE_LUA = """
local function delete(stream, expiry, user, entry)
  redis.call('XDEL', stream, entry)
  redis.call('ZREM', expiry, cjson.encode({user, entry}))
end
"""

# ARGV: prefix user id...
_ACK_LUA = _DELETE_LUA + _KEYS_LUA + """
local wanted = {}
for i = 3, #ARGV do wanted[ARGV[i]] = true end
local removed = 0
for _, item in ipairs(redis.call('XRANGE', stream, '-', '+')) do
  local fields = item[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'id' and wanted[fields[i + 1]] then
      delete(stream, expiry, user, item[1])
      wanted[fields[i + 1]] = nil
      removed = removed + 1
    end
  end
end
if redis.call('XLEN', stream) == 0 then redis.call('DEL', stream) end
return removed
"""

# ARGV: prefix user keep
_TRIM_LUA = _DELETE_LUA + _KEYS_LUA + """
local extra = redis.call('XLEN', stream) - tonumber(ARGV[3])
if extra <= 0 then return {} end
local gone = redis.call('XRANGE', stream, '-', '+', 'COUNT', extra)
for _, item in ipairs(gone) do delete(stream, expiry, user, item[1]) end
if redis.call('XLEN', stream) == 0 then redis.call('DEL', stream) end
return gone
"""

# ARGV: prefix now limit
_PURGE_LUA = _DELETE_LUA + """
local prefix = ARGV[1]
local expiry = prefix .. ':notes-expiry'
local due = redis.call('ZRANGEBYSCORE', expiry, '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do
  local user_entry = cjson.decode(member)
  local stream = prefix .. ':notes:' .. user_entry[1]
  delete(stream, expiry, user_entry[1], user_entry[2])
  if redis.call('XLEN', stream) == 0 then redis.call('DEL', stream) end
end
return #due
"""

PURGE_BATCH = 1000


class Snapshot(NamedTuple):
    """A user's backlog, read together with where the announcements were at that instant."""

    pending: list[Notification]
    last_seq: int
    position: str


class RedisStore:
    """``OfflineQueue(RedisStore(broker))``: the queue's store in Redis (see the module).

    ``announce``: where :meth:`append` also announces each notification (for live
    push on every node); ``None`` to only store.
    """

    def __init__(
        self, broker: Broker, *, announce: Announcement | None = None, space: str = "inbox"
    ) -> None:
        self.broker = broker
        self.announce = announce
        self.prefix = broker.key(space)
        client = broker.sync()
        self._append = client.register_script(_APPEND_LUA)
        self._ack = client.register_script(_ACK_LUA)
        self._trim = client.register_script(_TRIM_LUA)
        self._purge = client.register_script(_PURGE_LUA)

    def append(
        self, user: str, id: str, payload: dict[str, Any], created_at: float, expires_at: float
    ) -> Notification:
        text = json.dumps(payload, ensure_ascii=False)
        payload = json.loads(text)  # what a reader will get back
        created, expires = repr(float(created_at)), repr(float(expires_at))
        announce: list[Any] = ["", "", 0, ""]
        if self.announce is not None:
            shown = {**payload, "id": id, "user": user, "created_at": float(created_at),
                     "expires_at": float(expires_at)}  # the relay adds "seq"
            announce = [self.announce.event, self.announce.stream, self.announce.maxlen,
                        json.dumps(shown, ensure_ascii=False)]
        seq = self._call(self._append, user, id, text, created, expires, *announce)
        return Notification(id, int(seq), user, payload, float(created), float(expires))

    def pending(self, user: str, now: float) -> list[Notification]:
        try:
            entries: Any = self.broker.sync().xrange(f"{self.prefix}:notes:{user}")
        except RedisError as exc:
            raise unavailable(self.broker.url, exc) from exc
        notes = (_note(user, fields) for _, fields in entries)
        return [n for n in notes if n.expires_at > now]

    def snapshot(self, user: str, now: float) -> Snapshot:
        """:meth:`pending`, the last ``seq`` given to ``user`` and the last entry of the
        announcement stream, read at one instant: a notification announced later has a
        higher ``seq`` and comes after that entry."""
        pipe = self.broker.sync().pipeline(transaction=True)
        pipe.xrange(f"{self.prefix}:notes:{user}")
        pipe.get(f"{self.prefix}:notes-seq:{user}")
        if self.announce is not None:
            pipe.xrevrange(self.announce.stream, count=1)
        try:
            entries, last, *announced = pipe.execute()
        except RedisError as exc:
            raise unavailable(self.broker.url, exc) from exc
        notes = [_note(user, fields) for _, fields in entries]
        position = announced[0][0][0] if announced and announced[0] else "0-0"
        return Snapshot([n for n in notes if n.expires_at > now], int(last or 0), position)

    def ack(self, user: str, ids: list[str]) -> int:
        if not ids:
            return 0
        return int(self._call(self._ack, user, *ids))

    def trim(self, user: str, keep: int) -> list[Notification]:
        gone = self._call(self._trim, user, max(keep, 0))
        return [_note(user, _pairs(fields)) for _, fields in gone]

    def purge(self, now: float) -> int:
        removed = 0
        while True:
            count = int(self._call(self._purge, repr(float(now)), PURGE_BATCH))
            removed += count
            if count < PURGE_BATCH:
                return removed

    def close(self) -> None:
        """Nothing to do: the connections belong to the broker."""

    def _call(self, script: Any, *args: Any) -> Any:
        try:
            return script(args=[self.prefix, *args])
        except RedisError as exc:
            raise unavailable(self.broker.url, exc) from exc


def _pairs(flat: list[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _note(user: str, fields: dict[str, str]) -> Notification:
    return Notification(
        fields["id"], int(fields["seq"]), user, json.loads(fields["p"]),
        float(fields["c"]), float(fields["x"]),
    )
