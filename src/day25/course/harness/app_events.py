"""The app's ``app.events`` as a check reaches it: what was emitted, emitting, probing.

Why a module of its own: these are the checks' questions about the app's bus,
asked of the app process over :mod:`day25.course.protocol`, while
:class:`~day25.course.harness.app_server.AppServer` itself is about serving the
app and talking HTTP and WebSockets to it. :class:`AppEvents` is its base class.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

from day25.course.harness.errors import SubmissionSettled, SubmissionTimeout

__all__ = ["AppEvents"]


class _Served(Protocol):
    """What these questions need of the server they are asked through (an ``AppServer``)."""

    timeout: float

    @property
    def output(self) -> str: ...

    def _ask(self, request: dict[str, Any], what: str, *,
             timeout: float | None = None) -> dict[str, Any]: ...

    async def settled(self, *, quiet: float = 0.05, limit: float = 2.0) -> bool: ...

    def events(self, name: str | None = None) -> list[dict[str, Any]]: ...


class AppEvents:
    """The ``app.events`` part of :class:`~day25.course.harness.app_server.AppServer`
    (a base class whose methods ask through the server: ``self`` is a :class:`_Served`)."""

    def events(self: _Served, name: str | None = None) -> list[dict[str, Any]]:
        """What the app emitted on ``app.events``, oldest first: ``{"event", "args", "kwargs"}``."""
        found: list[dict[str, Any]] = self._ask({"cmd": "events"}, "listing events")["events"]
        return [e for e in found if name is None or e["event"] == name]

    async def emit(self: _Served, event: str, payload: Any) -> list[str]:
        """Emit ``event`` with ``payload`` on the app's ``app.events``, as its own code
        would: where a text says a *listener* acts on an event, this checks that one
        does. Returns what its listeners raised (``"Type: message"``)."""
        request = {"cmd": "emit", "event": event, "payload": payload}
        reply = await asyncio.to_thread(self._ask, request, f"emitting {event!r} on app.events")
        return list(reply.get("errors") or [])

    async def probe(self: _Served, source: str) -> Any:
        """``source``'s ``probe(module)`` on the app's module; ``app_events`` in it: its bus."""
        request = {"cmd": "probe", "source": source, "limit": self.timeout}
        return (await asyncio.to_thread(self._ask, request, "probing",
                                        timeout=self.timeout + 3)).get("value")

    def faults(self: _Served) -> dict[str, int]:
        """What the injected faults did: sends each kind took over (``"raise"``,
        ``"stall"``, ``"slow"``), and ``"stalled_at_once"``, the most sends stalled
        at one time. Lets a check count instead of timing (fair on a loaded machine)."""
        return dict(self._ask({"cmd": "faults"}, "counting faults").get("faults") or {})

    async def wait_for_event(
        self: _Served, name: str, *, count: int = 1, timeout: float | None = None  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """Poll :meth:`events` until ``name`` was emitted ``count`` times.

        Like a frame that never comes, an event that never comes is decided by the
        app settling (nothing left to do, and still too few), not by the timeout:
        a missing emit costs a fraction of a second, on a slow machine as on a fast one.
        """
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            found = await asyncio.to_thread(self.events, name)
            if len(found) >= count:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise SubmissionTimeout(
                    f"Expected your app to emit {name!r} on app.events {count} time(s) within "
                    f"{timeout:g} s; it emitted it {len(found)} time(s).",
                    output=self.output,
                )
            if await self.settled(limit=min(2.0, left)):
                found = await asyncio.to_thread(self.events, name)
                if len(found) >= count:
                    return found
                raise SubmissionSettled(
                    f"Expected your app to emit {name!r} on app.events {count} time(s); it "
                    f"emitted it {len(found)} time(s) and then had nothing left to do.",
                    output=self.output,
                )
