"""Broker: the Redis server that several processes ("nodes") of one app share.

Why it exists: everything real-time in one process (a :class:`~day25.realtime.Rooms`,
a :class:`~day25.realtime.PresenceTracker`, an SQLite queue) is invisible to a second
process. With a broker, the pieces that must be shared (the order of a room's events,
who is present, the notification queue) live in Redis, and each node keeps only its
own connections. This module holds what they all need: the clients, the key names,
the node's id, and one clear error when Redis cannot be reached.

One chat is one ``prefix`` on one Redis database: every key starts with it, so two
chats may share a Redis server. Each node gets a ``node`` id of its own (host, pid and
a random part), under which its presence is kept alive (:mod:`shared_presence`).

The asyncio client (redis-py) serves the event loop: the relay, presence. The
notification store (:class:`~day25.realtime.redis_store.RedisStore`) has the
synchronous API of every :class:`~day25.realtime.NotificationStore`, and uses
redis-py's synchronous client, one short round trip per call.
"""

from __future__ import annotations

import os
import secrets
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

__all__ = ["TOLD_CLIENTS", "Broker", "BrokerUnavailable", "describe_url"]

CONNECT_TIMEOUT = 2.0
"""Seconds to wait for a TCP connection to Redis: an unreachable broker is an error
soon, not a hang."""


class BrokerUnavailable(Exception):
    """Redis cannot be reached (or refused a command); the message says which and why."""


TOLD_CLIENTS = "Redis, the store the servers share (--broker), is unreachable"
"""What a client is told when Redis does not answer. A :class:`BrokerUnavailable`'s
message (the broker's address, the error) is for the server's log, not for whoever is
connected."""


def describe_url(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


SYNC_TIMEOUT = 2.0
"""Seconds the synchronous client (the notification store, called on the event loop like
SQLite) waits for a reply: a Redis that hangs stalls a server's loop at most this long
per call. The asyncio client waits longer (its reader blocks in ``XREAD`` for a second)."""


def _options(socket_timeout: float) -> dict[str, Any]:
    """Client options: fail fast, decode to ``str``, and no silent retry loop (the
    caller decides: a relay reconnects, a request gets an error)."""
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": socket_timeout,
        "health_check_interval": 15,
    }
    try:  # redis-py >= 8
        from redis.maint_notifications import MaintNotificationsConfig
    except ImportError:
        return options
    # Its maintenance notifications ("auto" by default) turn off the pool's check of an
    # idle connection before use: after a restart of Redis, each pooled connection's
    # next command would fail once ("Connection closed by server"), a user's message or
    # join among them. Off, the pool reconnects a closed one first.
    options["maint_notifications_config"] = MaintNotificationsConfig(enabled=False)
    return options


_KEEP_SIGNER_LUA = """
if ARGV[2] ~= '' then redis.call('SET', KEYS[1], ARGV[2], 'NX') end
if redis.call('SET', KEYS[2], ARGV[1], 'NX') then return false end
return redis.call('GET', KEYS[2])
"""


class Broker:
    """``Broker("redis://localhost:6379/0")``: one node's handle on the shared Redis.

    ``prefix`` names the app (every key starts with it); ``node`` is this process's id.
    ``redis`` is the asyncio client, :meth:`sync` the synchronous one.
    """

    def __init__(self, url: str, *, prefix: str = "day25", node: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise BrokerUnavailable(
                f"--broker {describe_url(url)!r} is not a Redis URL: "
                "expected redis://HOST:PORT/DB (or rediss:// for TLS)"
            )
        if not prefix or any(c in prefix for c in " \n{}"):
            raise ValueError(f"prefix must be a plain non-empty name, not {prefix!r}")
        self.url = url
        self.prefix = prefix
        self.node = node or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        retry = aioredis.retry.Retry(NoBackoff(), 0)
        self.redis: aioredis.Redis = aioredis.Redis.from_url(url, retry=retry, **_options(10.0))
        self._sync: redis.Redis | None = None

    def key(self, *parts: str) -> str:
        """``prefix:part:part``: the one place key names are made."""
        return ":".join((self.prefix, *parts))

    def sync(self) -> redis.Redis:
        """The synchronous client (made on first use)."""
        if self._sync is None:
            retry = redis.retry.Retry(NoBackoff(), 0)
            self._sync = redis.Redis.from_url(self.url, retry=retry, **_options(SYNC_TIMEOUT))
        return self._sync

    def check(self) -> None:
        """Ping Redis; :class:`BrokerUnavailable` saying what to do if it does not answer."""
        try:
            self.sync().ping()
        except RedisError as exc:
            raise unavailable(self.url, exc) from exc

    def shared_secret(self, name: str = "secret") -> bytes:
        """A random secret made by the first node that asks, read by every later one
        (``SET NX``): how the nodes of one chat sign session tokens alike."""
        key = self.key(name)
        client = self.sync()
        try:
            client.set(key, secrets.token_hex(32), nx=True)
            value = client.get(key)
        except RedisError as exc:
            raise unavailable(self.url, exc) from exc
        assert isinstance(value, str)
        return value.encode()

    def signer_seen(self, fingerprint: str, name: str = "signer") -> str | None:
        """Record ``fingerprint`` (of the secret this node signs tokens with) as the
        latest; the one recorded before it, if any. Nodes that disagree refuse each
        other's tokens, and the one starting is the one that can say so."""
        try:
            before = self.sync().set(self.key(name), fingerprint, get=True)
        except ResponseError:  # Redis before 6.2 has no SET ... GET: nothing to compare
            return None
        except RedisError as exc:
            raise unavailable(self.url, exc) from exc
        return before if isinstance(before, str) else None

    async def keep_signer(self, fingerprint: str, secret: str = "") -> str | None:
        """Write back what a Redis restart without persistence lost: this node's
        ``fingerprint`` as the signer, and ``secret`` as the secret kept in Redis (pass it
        only when this node signs with that one), each only where the key is gone, so a
        node started later reads the same secret again. The fingerprint recorded, when it
        is another node's (they refuse each other's tokens); :class:`RedisError` as raised."""
        seen = await self.redis.eval(
            _KEEP_SIGNER_LUA, 2, self.key("secret"), self.key("signer"), fingerprint, secret)
        return seen if isinstance(seen, str) and seen != fingerprint else None

    async def aclose(self) -> None:
        """Close both clients' connections."""
        await self.redis.aclose()
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    def __repr__(self) -> str:
        return f"<Broker {describe_url(self.url)} prefix={self.prefix!r} node={self.node!r}>"


def unavailable(url: str, exc: BaseException) -> BrokerUnavailable:
    """The one wording of "Redis did not answer", with what to do about it."""
    reason = str(exc) or type(exc).__name__
    return BrokerUnavailable(
        f"the broker at {describe_url(url)} is unreachable ({reason}): start redis-server "
        "there, or check --broker"
    )
