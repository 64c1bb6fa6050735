"""Exercise 4: notification_queueing.

Notifications with an offline queue, delivered over WebSockets. The protocol
(every request, frame, event and close code) is in the notebook
``notification_queueing.ipynb`` and in ``docs/exercises/notification_queueing.md``.
Write the parts below; each docstring is the contract the checks hold you to.
Write the queue yourself, with the standard library's ``sqlite3``:
``day25.realtime`` (and ``day25.serve``) are off limits in this file, and
importing them fails the exercise's checks with a message saying so. The bus
(``import day25``, ``day25.install``, ``day25.EventPriority``) is yours to use.

Check your work with ``day25 check notification_queueing``; ask for a hint
with ``day25 hint notification_queueing``.
"""

from __future__ import annotations

import re
from typing import Any

from nexios import NexiosApp

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError.

    ``body`` defaults to ``""`` and ``level`` to ``"normal"`` when the field is
    missing (``null`` or ``""`` is not missing: it is refused); other fields are
    ignored. Raise ``ValueError("<what is wrong>")`` when ``data`` is not a dict,
    ``user`` is not 1-32 characters of ``[A-Za-z0-9_.-]`` and nothing else,
    ``title`` is not a string of 1-MAX_TITLE characters (``len(title)``, as
    given, neither stripped nor Unicode-normalised) holding at least one
    non-whitespace character (``str.isspace``: ``"\\u3000"`` is whitespace
    too), ``body`` is not a string of at most MAX_BODY characters, ``title``
    or ``body`` holds
    a lone surrogate (``"\\ud800"``: valid escaped JSON, but not text, and it
    could never be stored or sent as UTF-8; refusing it is this module's choice,
    the text also allows keeping it and sending it escaped), or ``level`` is not exactly one of
    LEVELS (case matters).
    """
    raise NotImplementedError("validate")


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``.

    Raise ``ValueError("<what is wrong>")`` for a binary frame, text that is not
    JSON (nesting too deep to parse is bad JSON too), anything but an object
    whose ``type`` is ``"ack"``, or
    ``ids`` that is not a list of strings without lone surrogates (refusing such an id
    is this module's choice: the text also allows it to count 0 as no id of yours). Never raise
    anything else, whatever the frame holds: ``json.loads`` raises
    ``RecursionError`` for 100,000 nested ``[``.
    """
    raise NotImplementedError("parse_ack")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``.

    Durable: a new ``Store`` on the same file (a restarted server) finds every
    unacknowledged notification, and each user's ``seq`` continues where it was.
    """

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        raise NotImplementedError("Store.__init__")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user`` from ``fields`` (``title``, ``body``, ``level``).

        Return it as ``{"id", "seq", "user", "title", "body", "level",
        "created_at", "expires_at"}``: ``id`` a new unique string; ``seq`` the
        user's next number (1, 2, 3, ...), never reused, not even after an ack,
        an expiry or a restart; ``created_at`` now and ``expires_at`` ``created_at +
        ttl_seconds`` (Unix seconds). Afterwards the user has at most
        ``max_per_user`` stored notifications: the oldest (lowest seq) go.
        """
        raise NotImplementedError("Store.add")

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order.

        Each in the shape :meth:`add` returns. An expired one (``expires_at`` is
        now or past) is never returned again: the ``expires_at`` it was stored
        with, whatever ``ttl_seconds`` this Store was opened with.
        """
        raise NotImplementedError("Store.pending")

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``: they are never returned by :meth:`pending` again.

        Return how many distinct ids among ``ids`` were this user's pending
        notifications, ids matching exactly as strings. Unknown ids, another
        user's ids and ids acknowledged before count 0 and change nothing.
        ``ids`` has no length limit (a thousand or more in one call).
        """
        raise NotImplementedError("Store.ack")


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events``, ``POST /notifications``
    and the ``/notifications/{user}`` WebSocket route.

    It speaks the protocol of ``docs/exercises/notification_queueing.md``,
    keeps its queue in a :class:`Store` at ``db_path``, and drops a live tab
    whose push failed or took longer than ``send_timeout`` seconds. A body that
    is not UTF-8 JSON text (100,000 nested ``[``, latin-1 bytes...) is a 422
    like any bad field: never a 500. A notification is committed before it
    is pushed, so an app killed between the two loses nothing.
    """
    raise NotImplementedError("create_app")
