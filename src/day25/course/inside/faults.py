"""Faults a check asks for in a WebSocket's sends: a member that stopped reading, a
connection gone, a slow reader, as the app's own ``await ws.send_...()`` meets them.

Why a module of its own: it is ASGI middleware around each served app
(:mod:`day25.course.inside.apps`), the one part of the app process a hidden test
steers through a request header (``FAULT_HEADER``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from day25.course.inside.settle import SETTLE_HORIZON
from day25.course.protocol import FAULT_HEADER

__all__ = ["Faults"]


class Faults:
    """ASGI middleware: the fault a WebSocket's ``FAULT_HEADER`` asks for, in its sends.

    Why: a member that stopped reading, or whose connection is gone, must be
    testable without filling megabytes of socket buffers or racing the kernel.
    The app sees the very ``await ws.send_...()`` that would stall or raise for
    a real client; the header itself is taken out of the scope it sees.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        # what the faults did, for checks that must not depend on the clock: how many
        # sends each kind of fault took over, and the most sends stalled at one time
        self.counts: dict[str, int] = {"raise": 0, "stall": 0, "slow": 0, "stalled_at_once": 0}
        self._stalled = 0

    @property
    def stalled(self) -> int:
        """How many sends are stalled now (a member that stopped reading, still awaited)."""
        return self._stalled

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)  # uvicorn and tests may look at the app's attributes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        header = FAULT_HEADER.encode()
        fault = next((v.decode() for k, v in scope.get("headers", ()) if k == header), None)
        if scope.get("type") != "websocket" or fault is None:
            await self.app(scope, receive, send)
            return
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != header]}
        kind, _, after = fault.partition(":")
        number, _, prompt = after.partition(":")
        value = int(number) if number.isdigit() else 0
        # sends that succeed at once before the fault: stall:N, stuck:N, raise:N, slow:MS:N
        healthy = (int(prompt) if prompt.isdigit() else 0) if kind == "slow" else value

        async def faulty_send(message: Any) -> None:
            nonlocal healthy
            counts = self.counts
            if message.get("type") == "websocket.send" and healthy > 0:
                healthy -= 1
            elif kind == "slow":  # every send takes `value` ms: a client that reads slowly
                if message.get("type") == "websocket.send":
                    counts["slow"] += 1
                    left = value / 1000
                    while left > 0:  # in steps due within the horizon: a send under way
                        step = min(left, SETTLE_HORIZON / 2)  # is work, not an idle app
                        await asyncio.sleep(step)
                        left -= step
            elif message.get("type") == "websocket.send" or (
                    kind == "stuck" and message.get("type") == "websocket.close"):
                counts[kind] = counts.get(kind, 0) + 1
                if kind in ("stall", "stuck"):
                    self._stalled += 1
                    counts["stalled_at_once"] = max(counts["stalled_at_once"], self._stalled)
                    try:
                        await asyncio.Event().wait()  # never set: the client stopped reading
                    finally:
                        self._stalled -= 1
                raise OSError(f"injected fault {kind!r}: the connection is gone")
            await send(message)

        await self.app(scope, receive, faulty_send)
