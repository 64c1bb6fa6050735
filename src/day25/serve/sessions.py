"""Session tokens for ``day25 serve``: which user a request speaks for, signed by the server.

Why: the exercise protocols take the user from the URL (``/chat/{room}?user=NAME``,
``/notifications/{user}``), so without more, anyone can read, and by acking
delete, anyone's notifications. The demo does not change those protocols; it
puts a check in front of them (:mod:`day25.serve.guard`): a user first asks
for a token (``POST /session {"user": NAME}``), and every connection must carry
one issued for the name in its URL.

Names are claimed first come, first served, as nicknames in a chat are: a name
is held while it has an open connection and for ``name_idle`` seconds after,
and a second ``POST /session`` for a held name is refused. Who holds which name
is kept by :mod:`day25.serve.holds`: in memory (bounded: inventing names cannot
grow the server's memory), or in Redis for every ``--broker`` node at once.
This is not authentication (there are no passwords): a name idle for longer
than ``name_idle`` may be taken by anyone, with the notifications still queued
for it. The tokens are signed with ``itsdangerous`` under a secret made at
start-up, so a restart ends every session (the page simply joins again); with
``--broker``, every node signs with one secret (:mod:`day25.serve.signer`), so a
restart of one ends none.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from day25.realtime import TOLD_CLIENTS, BrokerUnavailable
from day25.serve.holds import Holds, NameHolds

__all__ = ["NAME_RULE", "Session", "SessionRefused", "Sessions", "held", "valid_name"]

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
NAME_RULE = "1-32 characters: letters A-Z a-z, digits 0-9, '_', '.' or '-'"
T = TypeVar("T")
logger = logging.getLogger("day25.serve")
UNAVAILABLE = (f"service unavailable: {TOLD_CLIENTS}, so the session could not be checked; "
               "nothing was done; try again in a moment; see the server's log")
HOW_TO_JOIN = (
    'get one with POST /session {"user": NAME} and send it as ?token= on a WebSocket '
    "or as Authorization: Bearer TOKEN on HTTP"
)


def valid_name(value: object) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def held(user: str) -> str:
    """The name a hold is for: names that differ only in capitals are one name, so nobody
    can claim ``Ned`` while ``ned`` is in use and pass for him."""
    return user.lower()


@dataclass(frozen=True)
class Session:
    """One joined user: the name, and the id of the session that holds it."""

    user: str
    sid: str


class SessionRefused(Exception):
    """No session: ``status`` (HTTP), ``code`` (for error frames) and a message saying why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Sessions:
    """Issues and checks session tokens; ``holds`` (by default :class:`~day25.serve.holds.
    NameHolds` of ``name_idle`` and ``idle_names``) says who holds each claimed name."""

    def __init__(
        self,
        secret: bytes | None = None,
        *,
        max_age: int = 86400,
        name_idle: float = 600.0,
        idle_names: int = 1000,
        holds: Holds | None = None,
    ) -> None:
        self.max_age = max_age
        self.holds = holds or NameHolds(name_idle=name_idle, idle_names=idle_names)
        self.name_idle = self.holds.name_idle
        self._signer = URLSafeTimedSerializer(
            secret or secrets.token_bytes(32), salt="day25-serve-session"
        )

    async def issue(self, user: object, renew: object = None) -> str:
        """A token for ``user``, who now holds the name; :class:`SessionRefused` if the
        name is invalid or held by another session (or, with a broker, Redis is away).

        ``renew``: the token this user had, expired or not. When the server signed it, for
        this very name, its session keeps its id, and gets the name back unless another
        session holds it now. Why: a page open for longer than ``max_age`` keeps its
        sockets; when one drops, the page's token has expired, and a plain claim would be
        refused for ``name_idle`` seconds, because the page's own session still holds the
        name. Renewing gives nothing the token's holder could not already do: its session
        holds the name, or the name is free for anyone. A token that is not the server's,
        or is another name's, renews nothing: the request is an ordinary claim."""
        if not valid_name(user):
            raise SessionRefused(422, "bad_request", f"the name must be {NAME_RULE}")
        assert isinstance(user, str)
        if renew is not None and not isinstance(renew, str):
            raise SessionRefused(422, "bad_request", "renew must be the session token (a string)")
        own = self._own_session(user, renew) if renew else None
        if own is not None:
            sid = own
            taken = await _asked(self.holds.hold(held(user), sid)) is not None
        else:
            sid = secrets.token_urlsafe(12)
            taken = not await _asked(self.holds.claim(held(user), sid))
        if taken:
            minutes = round(self.name_idle / 60)
            raise SessionRefused(
                409,
                "name_taken",
                f"the name {user!r} is in use by another session (names that differ only in "
                f"capitals are one name): pick another name, or wait until it has been idle "
                f"for {minutes} minutes",
            )
        return str(self._signer.dumps({"u": user, "s": sid}))

    def _own_session(self, user: str, token: str) -> str | None:
        """The session id in ``token`` if this server signed it for ``user`` (at any age)."""
        try:
            data = self._signer.loads(token)
        except BadSignature:
            return None
        if not isinstance(data, dict) or data.get("u") != user:
            return None
        return str(data["s"])

    async def verify(self, token: str | None) -> Session:
        """The session a token stands for, whose name it now holds (again);
        :class:`SessionRefused` saying why not (401; 503 when a broker is away)."""
        if not token:
            raise SessionRefused(401, "unauthorized", f"no session token: {HOW_TO_JOIN}")
        try:
            data = self._signer.loads(token, max_age=int(self.max_age))
        except SignatureExpired:
            raise SessionRefused(
                401, "unauthorized", "the session token has expired: join again"
            ) from None
        except BadSignature:
            raise SessionRefused(
                401,
                "unauthorized",
                "the session token is not valid (the server restarted, or it was altered): "
                "join again",
            ) from None
        session = Session(str(data["u"]), str(data["s"]))
        if await _asked(self.holds.hold(held(session.user), session.sid)) is not None:
            raise SessionRefused(
                401,
                "unauthorized",
                f"the name {session.user!r} is now held by another session: join again",
            )
        return session

    def connected(self, session: Session) -> None:
        """A connection of ``session`` opened: its name is held until it closes."""
        self.holds.connected(held(session.user), session.sid)

    def disconnected(self, session: Session) -> None:
        """A connection closed; the last one leaves the name held for ``name_idle`` seconds."""
        self.holds.disconnected(held(session.user), session.sid)

    def sizes(self) -> dict[str, int]:
        """How many names are held (see the holds' ``sizes``)."""
        return self.holds.sizes()


async def _asked(answer: Awaitable[T]) -> T:
    """The holds' answer. A broker that does not answer is a 503 to this sender only, in a
    fixed sentence: the details (the broker's address, the error) go to the server's log."""
    try:
        return await answer
    except BrokerUnavailable as exc:
        logger.warning("a session was refused: %s", exc)
        raise SessionRefused(503, "unavailable", UNAVAILABLE) from None
