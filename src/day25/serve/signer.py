"""One secret for the session tokens of every ``serve --broker`` node, kept so.

Why: a page reconnects to whichever node the balancer picks, so every node must
accept every other's tokens. They sign with ``$DAY25_SECRET`` or, without it, with
a secret the first node made and kept in Redis (``day25:secret``); ``day25:signer``
holds the fingerprint of the secret the latest node signs with, so a node that
starts beside one signing otherwise warns. A Redis restarted without persistence
forgets both keys, and a node started after that would make a new secret, unseen:
each node's :class:`SignerKeeper` writes them back every :data:`KEEP_EVERY` seconds
(where they are gone), so a later node reads the same secret again, and warns once
per fingerprint when it finds another node's recorded instead.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from day25.realtime.broker import Broker, BrokerUnavailable, describe_url
from day25.serve.holds import KEEP_EVERY, SharedNameHolds, keep_alive
from day25.serve.sessions import Sessions

__all__ = ["KEEP_EVERY", "SECRET_ENV", "SignerKeeper", "SigningError", "broker_sessions"]

SECRET_ENV = "DAY25_SECRET"
"""With ``--broker``: the secret that signs session tokens, the same on every node. When
it is not set, the first node makes one and keeps it in Redis; the others read it."""


class SigningError(Exception):
    """Redis did not answer while the node looked for the secret; the message says what to do."""


def _fingerprint(secret: bytes) -> str:
    return hashlib.sha256(b"day25 session tokens\0" + secret).hexdigest()[:16]


def _warn(url: str, who: str) -> None:
    print(f"warning: {who} on {describe_url(url)} signs session tokens with another "
          "secret; while both run, each refuses the other's tokens (a page that reconnects "
          f"to the other node is signed out). Give every node the same {SECRET_ENV}, or "
          "none.", file=sys.stderr, flush=True)


class SignerKeeper:
    """Writes this node's signer (and the secret kept in Redis, when it signs with that one)
    back where Redis lost them, every ``every`` seconds, while :meth:`run` runs."""

    def __init__(self, url: str, secret: bytes, *, kept_in_redis: bool,
                 every: float = KEEP_EVERY) -> None:
        self.url, self.every = url, every
        self.fingerprint = _fingerprint(secret)
        self._kept = secret.decode() if kept_in_redis else ""  # never write $DAY25_SECRET
        self._warned: set[str] = set()

    async def run(self) -> None:
        broker = Broker(self.url)

        async def keep_once() -> None:
            other = await broker.keep_signer(self.fingerprint, self._kept)
            if other is not None and other not in self._warned:
                self._warned.add(other)
                _warn(self.url, "another node")

        try:
            await keep_alive(self.every, keep_once)
        finally:
            await broker.aclose()


def broker_sessions(url: str) -> tuple[Sessions, list[Callable[[], Coroutine[Any, Any, None]]]]:
    """Sessions whose tokens every node of the chat accepts (signed with ``$DAY25_SECRET``,
    or else with the secret kept in Redis) and whose names are held for every node
    (:class:`~day25.serve.holds.SharedNameHolds`), and what keeps both alive while the
    node runs; :class:`SigningError` if Redis does not answer."""
    try:
        broker = Broker(url)
    except BrokerUnavailable as exc:
        raise SigningError(str(exc)) from exc
    try:
        broker.check()
        given = os.environ.get(SECRET_ENV, "").encode()
        secret = given or broker.shared_secret()
        before = broker.signer_seen(_fingerprint(secret))
    except BrokerUnavailable as exc:
        raise SigningError(str(exc)) from exc
    finally:
        broker.sync().close()
    if before not in (None, _fingerprint(secret)):
        _warn(url, "a node started before this one")
    holds = SharedNameHolds(url)
    keeper = SignerKeeper(url, secret, kept_in_redis=not given)
    return Sessions(secret, holds=holds), [keeper.run, holds.keep]
