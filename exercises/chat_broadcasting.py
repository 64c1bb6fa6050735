"""Exercise 3: a chat room over WebSockets, driven by ``app.events``.

Read ``docs/exercises/chat_broadcasting.md`` (or the notebook
``chat_broadcasting.ipynb``) for the exact protocol. Your ``create_app()`` must
return a NexiosApp with a day25 EventBus as ``app.events`` (``day25.install``)
and a WebSocket route ``/chat/{room}?user=NAME`` that:

1. accepts the socket (``await ws.accept()``), checks ``room`` and ``user``
   (1-32 characters of ``[A-Za-z0-9_.-]``; otherwise an error frame with code
   ``bad_request`` and close code 4400);
2. sends the joiner the roster, then announces a *user* (not a tab) joining;
3. turns every ``{"type": "message", "text": ...}`` into a ``room.message``
   event on ``app.events``; a listener broadcasts it, with a per-room ``seq``, to
   every connection in the room, the sender included;
4. answers ``ping`` with ``pong``; answers a malformed frame with a ``bad_frame``
   error frame and a ``ws.error`` event, and keeps the connection open;
5. on disconnect (``WebSocketDisconnect`` is a normal leave, not an error!)
   announces the leave when the user's last tab closed.

A broadcast must survive a member that dies mid-send. ``day25.realtime`` has the
pieces: ``Rooms`` (broadcast with per-send timeouts that drops dead members) and
``PresenceTracker`` (user -> set of connections). You may also write your own.
"""

from __future__ import annotations

import re
from typing import Any

from nexios import NexiosApp

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400


def valid_name(value: object) -> bool:
    """Room and user names: 1-32 characters of ``[A-Za-z0-9_.-]``."""
    # TODO: return True only for a str that NAME matches completely (NAME.fullmatch).
    raise NotImplementedError("TODO: valid_name")


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message (``await ws.receive()``) into a command.

    Return ``{"type": "ping"}`` or ``{"type": "message", "text": ...}``; raise
    ``ValueError("what is wrong")`` for a binary frame (``message["text"]`` is
    None), text that is not JSON, JSON that is not an object, an unknown type, or
    a ``text`` that is not a non-empty string of at most MAX_TEXT characters.
    """
    # TODO: implement the checks above.
    raise NotImplementedError("TODO: parse_frame")


def create_app() -> NexiosApp:
    """A NexiosApp with the ``/chat/{room}`` WebSocket route and a day25 EventBus."""
    # TODO: build the app. A possible shape:
    #   app = NexiosApp(); events = day25.install(app)
    #   presence = PresenceTracker(); rooms = Rooms(on_drop=...)  # from day25.realtime
    #   @events.on("room.message") async def broadcast_message(payload): ...  # seq per room
    #   @app.ws_route("/chat/{room}") async def chat(ws): await ws.accept(); ...
    #   return app
    raise NotImplementedError("TODO: create_app for chat_broadcasting")
