"""Turn "the stub raised NotImplementedError" at first use into an answer the page can show.

Why this is needed: Nexios catches handler exceptions itself. A WebSocket
handler that raises is closed with 1011 "Internal Server Error" and an HTTP one
answers 500 with a traceback, so the browser would only see a crash (and the page
would reconnect forever). Nexios logs the traceback on the ``nexios`` logger in
the same task, so a per-connection capture (a context variable read by one
logging handler) learns that it was a ``NotImplementedError`` and in which
function, and :class:`StubAwareSend` rewrites the crash into a clear error.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["NOT_IMPLEMENTED_CLOSE", "StubAwareSend", "install_capture"]

NOT_IMPLEMENTED_CLOSE = 4501
Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]

_capture: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "day25_serve_capture", default=None
)
_FRAME = re.compile(r'File "[^"]*?(\w+)\.py", line \d+, in (\w+)')


class _CaptureHandler(logging.Handler):
    """Copies ``NotImplementedError`` tracebacks into the current connection's capture."""

    def emit(self, record: logging.LogRecord) -> None:
        captured = _capture.get()
        if captured is None:
            return
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        if "NotImplementedError" in text:
            captured.append(text)


_HANDLER = _CaptureHandler(level=logging.ERROR)


def install_capture() -> None:
    """Attach the capture handler to the ``nexios`` logger (idempotent)."""
    logger = logging.getLogger("nexios")
    if _HANDLER not in logger.handlers:
        logger.addHandler(_HANDLER)


def describe(exercise: str, traceback_text: str) -> str:
    """``exercise 'x' is not implemented yet: x.fn() raises NotImplementedError (detail)``."""
    frames = [fn for module, fn in _FRAME.findall(traceback_text) if module == exercise]
    function = frames[-1] if frames else "?"
    detail = ""
    for line in reversed(traceback_text.splitlines()):
        if line.startswith("NotImplementedError"):
            detail = line.partition(":")[2].strip()
            break
    message = (
        f"exercise {exercise!r} is not implemented yet: "
        f"{exercise}.{function}() raises NotImplementedError"
    )
    return f"{message} ({detail})" if detail else message


class StubAwareSend:
    """Wraps one connection's ``send``: a 1011 close or a 500 caused by a stub becomes a
    ``not_implemented`` error frame (close 4501) or a 501 JSON answer."""

    def __init__(self, exercise: str, send: Send) -> None:
        self.exercise = exercise
        self.send = send
        self.captured: list[str] = []
        self.accepted = False
        self.swallow_body = False
        self.token = _capture.set(self.captured)

    def stub_message(self) -> str | None:
        if not self.captured:
            return None
        return describe(self.exercise, self.captured[-1])

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            self.accepted = True
        elif kind == "websocket.close" and message.get("code") == 1011:
            text = self.stub_message()
            if text is not None:
                logging.getLogger("day25.serve").error(text)
                if not self.accepted:
                    await self.send({"type": "websocket.accept"})
                frame = {"type": "error", "code": "not_implemented", "message": text}
                await self.send({"type": "websocket.send", "text": json.dumps(frame)})
                await self.send({"type": "websocket.close", "code": NOT_IMPLEMENTED_CLOSE})
                return
        elif kind == "http.response.start" and message.get("status") == 500:
            text = self.stub_message()
            if text is not None:
                body = json.dumps({"error": text}).encode()
                headers = [(b"content-type", b"application/json"),
                           (b"content-length", str(len(body)).encode())]
                await self.send({"type": "http.response.start", "status": 501, "headers": headers})
                await self.send({"type": "http.response.body", "body": body})
                self.swallow_body = True
                return
        elif kind == "http.response.body" and self.swallow_body:
            return
        await self.send(message)

    def done(self) -> None:
        _capture.reset(self.token)
