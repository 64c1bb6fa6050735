"""Session tokens for ``day25 serve``: which user a request speaks for, signed by the server.

Why: the exercise protocols take the user from the URL (``/chat/{room}?user=NAME``,
``/notifications/{user}``), so without more, anyone can read, and by acking
delete, anyone's notifications. The demo does not change those protocols; it
puts a check in front of them (:mod:`day25.serve.guard`): a user first asks
for a token (``POST /session {"user": NAME}``), and every connection must carry
one issued for the name in its URL.

Names are claimed first come, first served, as nicknames in a chat are: a name
is held while it has an open connection and for ``name_idle`` seconds after,
and a second ``POST /session`` for a held name is refused. Held names without a
connection are kept in an :class:`~day25.realtime.IdleCache` (at most
``idle_names`` of them), so inventing names cannot grow the server's memory.
This is not authentication (there are no passwords): a name idle for longer
than ``name_idle`` may be taken by anyone, with the notifications still queued
for it. The tokens are signed with ``itsdangerous`` under a secret made at
start-up, so a restart ends every session (the page simply joins again).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from day25.realtime import IdleCache

__all__ = ["NAME_RULE", "Session", "SessionRefused", "Sessions", "valid_name"]

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
NAME_RULE = "1-32 characters: letters A-Z a-z, digits 0-9, '_', '.' or '-'"
HOW_TO_JOIN = (
    'get one with POST /session {"user": NAME} and send it as ?token= on a WebSocket '
    "or as Authorization: Bearer TOKEN on HTTP"
)


def valid_name(value: object) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None


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
    """Issues and checks session tokens, and holds each claimed name for its session."""

    def __init__(
        self,
        secret: bytes | None = None,
        *,
        max_age: int = 86400,
        name_idle: float = 600.0,
        idle_names: int = 1000,
    ) -> None:
        self.max_age = max_age
        self.name_idle = name_idle
        self._signer = URLSafeTimedSerializer(
            secret or secrets.token_bytes(32), salt="day25-serve-session"
        )
        self._connected: dict[str, tuple[str, int]] = {}  # name -> (sid, open connections)
        self._idle: IdleCache[str, str] = IdleCache(ttl=name_idle, capacity=idle_names)

    def issue(self, user: object) -> str:
        """A token for ``user``, who now holds the name; :class:`SessionRefused` if the
        name is invalid or held by another session."""
        if not valid_name(user):
            raise SessionRefused(422, "bad_request", f"the name must be {NAME_RULE}")
        assert isinstance(user, str)
        if self._holder(user) is not None:
            minutes = round(self.name_idle / 60)
            raise SessionRefused(
                409,
                "name_taken",
                f"the name {user!r} is in use by another session: pick another name, or "
                f"wait until it has been idle for {minutes} minutes",
            )
        sid = secrets.token_urlsafe(12)
        self._idle.put(user, sid)
        return str(self._signer.dumps({"u": user, "s": sid}))

    def verify(self, token: str | None) -> Session:
        """The session a token stands for; :class:`SessionRefused` (401) saying why not."""
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
        holder = self._holder(session.user)
        if holder is not None and holder != session.sid:
            raise SessionRefused(
                401,
                "unauthorized",
                f"the name {session.user!r} is now held by another session: join again",
            )
        if session.user not in self._connected:
            self._idle.put(session.user, session.sid)  # (re)claim it, and its idle time restarts
        return session

    def connected(self, session: Session) -> None:
        """A connection of ``session`` opened: its name is held until it closes."""
        sid, count = self._connected.get(session.user, (session.sid, 0))
        if count == 0:
            self._idle.pop(session.user, "")
        self._connected[session.user] = (sid, count + 1)

    def disconnected(self, session: Session) -> None:
        """A connection closed; the last one leaves the name held for ``name_idle`` seconds."""
        sid, count = self._connected.get(session.user, ("", 0))
        if sid != session.sid:
            return
        if count > 1:
            self._connected[session.user] = (sid, count - 1)
        else:
            del self._connected[session.user]
            self._idle.put(session.user, sid)

    def sizes(self) -> dict[str, int]:
        """How many names are held: with connections, and idle (bounded by ``idle_names``)."""
        return {"connected_names": len(self._connected), "idle_names": len(self._idle)}

    def _holder(self, user: str) -> str | None:
        connected = self._connected.get(user)
        if connected is not None:
            return connected[0]
        return self._idle.get(user, "") or None
