"""Exercise 3: chat_broadcasting.

A chat room over WebSockets, driven by ``app.events``. The protocol (every
frame, event and close code) is in the notebook ``chat_broadcasting.ipynb`` and
in ``docs/exercises/chat_broadcasting.md``. Write the five parts below; each
docstring is the contract the checks hold you to. Write presence and the
broadcast yourself: ``day25.realtime`` (and ``day25.serve``) are off limits in
this file, and importing them fails the exercise's checks with a message
saying so. The bus (``import day25``, ``day25.install``) is yours to use.

Check your work with ``day25 check chat_broadcasting``; ask for a hint with
``day25 hint chat_broadcasting``.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``.

    Those 65 ASCII characters and no others: not ``ö`` or ``名`` (letters to
    ``\\w`` and ``str.isalnum``), not ``٣`` (a digit to ``\\d``), not a trailing
    newline (which ``$`` lets through). Any other value (None, a number, a
    list, a dict) is False, never an exception.
    """
    raise NotImplementedError("valid_name")


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message (what ``await ws.receive()`` returns) into a command.

    Return ``{"type": "ping"}`` or ``{"type": "message", "text": T}``. Raise
    ``ValueError("<what is wrong>")`` for a binary frame (``message["text"]`` is
    None, whatever its bytes), text that is not JSON, JSON that is not an
    object, a missing or unknown ``type``, or a ``text`` that is not a
    non-empty string of at most MAX_TEXT characters.

    Never raise anything else, whatever the frame holds: "not JSON" is what
    ``json.loads`` refuses, with ValueError (also for an integer of more than
    4300 digits, or a leading byte order mark) or RecursionError (100 000
    nested ``[`` or ``{"a": ``, at the start or anywhere inside the frame); a
    repeated key is JSON, the last value winning. ``type``
    may be a list or an object (not hashable); a message quoting it should use
    ``repr``. ``len(T)`` counts characters, not bytes; whitespace and control
    characters (``\\n``, ``\\t``) are text; a lone surrogate (``"\\ud800"``) is
    text too. Other fields are ignored.
    """
    raise NotImplementedError("parse_frame")


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections.

    A user with two tabs is one user: they join when their first connection
    opens and leave when their last one closes.
    """

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn`` to ``user``'s connections in ``room``.

        True when the user just arrived (0 -> 1 connections), else False.
        """
        raise NotImplementedError("Presence.join")

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``. True when it was the user's last connection (1 -> 0).

        Leaving with a connection that is not (or no longer) there returns False
        and changes nothing, so a clean close after a failed send never
        announces a leave twice.
        """
        raise NotImplementedError("Presence.leave")

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once (an empty room: ``[]``)."""
        raise NotImplementedError("Presence.roster")

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room`` (every tab of every user)."""
        raise NotImplementedError("Presence.connections")


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed.

    * Serialise ``frame`` to JSON once with ``json.dumps`` and send the text
      with ``await conn.send_text(text)`` to each member (not ``send_json``,
      which writes raw UTF-8 and fails on a text holding a lone surrogate).
      Await what ``conn.send_text(text)`` returns, whatever ``send_text`` is (an
      ``async def`` method, or a plain function or lambda returning the coroutine);
      what the send itself returns (None, a byte count) is not a failure.
    * A member whose send raises, or does not finish within ``timeout``
      seconds, is returned; every other member still gets the frame, and the
      whole broadcast takes about ``timeout`` at most, however many members stall.
      A send that ran out of time is ended (cancelled), not left running after
      ``broadcast`` returned.
    * Work on a copy of ``conns``: a member joining or leaving while the
      broadcast runs changes the next broadcast, not this one. Leave ``conns``
      itself as it was: return the failed members, do not remove them from it.
    """
    raise NotImplementedError("broadcast")


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route.

    The route speaks the protocol of ``docs/exercises/chat_broadcasting.md``;
    a listener of ``room.message`` does the broadcast, and a member whose send
    failed or took longer than ``send_timeout`` seconds is dropped, leaves
    like one that closed, and is closed with code 1011 (if it still can be).
    Members dropped by one broadcast leave together: forget them all before
    announcing any of their leaves (no leave is sent to a member being dropped).
    Each call's app has state of its own (seq counters, send_timeout): two apps
    made in one process share nothing.
    """
    raise NotImplementedError("create_app")
