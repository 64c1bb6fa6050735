"""Exercise 4: notifications with an offline queue, delivered over WebSockets.

Read ``docs/exercises/notification_queueing.md`` (or the notebook
``notification_queueing.ipynb``) for the exact protocol. Your
``create_app(db_path, *, ttl_seconds, max_per_user)`` must return a NexiosApp
with a day25 EventBus as ``app.events`` (``day25.install``) and:

* ``POST /notifications`` with ``{"user", "title", "body"?, "level"?}``: validate
  (422 ``{"error": ...}`` and nothing stored when bad), emit
  ``notification.created``; listeners by priority - HIGH enrich, MEDIUM store
  and push to every open tab of the user, LOW audit - then answer 201
  ``{"id", "seq", "delivered"}``;
* ``/notifications/{user}`` (WebSocket): first the backlog (every stored,
  unacknowledged, unexpired notification in seq order), then
  ``{"type": "backlog_end", "count": K}``, then live notifications;
  ``{"type": "ack", "ids": [...]}`` removes them for good and is answered with
  ``{"type": "acked", "count": N}``; a malformed frame gets a ``bad_frame`` error
  frame and a ``ws.error`` event, and the connection stays open;
* notifications older than ``ttl_seconds`` are never delivered; at most
  ``max_per_user`` are kept per user (overflow: drop the oldest);
* durable: SQLite at ``db_path``, so a restart loses nothing unacknowledged and
  ``seq`` continues.

``day25.realtime`` has ``OfflineQueue`` + ``SQLiteStore`` (ids, seq, TTL, cap)
and ``Rooms`` (push to every tab, dropping dead ones). You may write your own.
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


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}`` with defaults
    (``body`` "", ``level`` "normal"), or ``ValueError`` saying what is wrong."""
    # TODO: check the type of data and of every field (see the protocol).
    raise NotImplementedError("TODO: validate")


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of an ``{"type": "ack", "ids": [...]}`` frame, or ValueError."""
    # TODO: binary frame, not JSON, not an ack, ids not a list of strings -> ValueError.
    raise NotImplementedError("TODO: parse_ack")


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
) -> NexiosApp:
    """A NexiosApp with ``POST /notifications`` and ``/notifications/{user}``."""
    # TODO: build the app. A possible shape:
    #   app = NexiosApp(); events = day25.install(app)
    #   queue = OfflineQueue(SQLiteStore(db_path), ttl_seconds=..., max_per_user=...)
    #   @events.on("notification.created", priority=EventPriority.HIGH) ... MEDIUM ... LOW
    #   @app.post("/notifications") async def create(req, res): ...
    #   @app.ws_route("/notifications/{user}") async def notifications(ws): ...
    #   Hint: a per-user asyncio.Lock keeps "store + push" and "send backlog, then
    #   join the live tabs" from interleaving.
    raise NotImplementedError("TODO: create_app for notification_queueing")
