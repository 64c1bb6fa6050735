"""What passed between a check and the submission's app, told back to the student.

Why: "your server closed the WebSocket" or "a frame never came" is true but
leaves the student to guess *when*. A :class:`Conversation` is the check's end
of one WebSocket and remembers its last frames each way, so a message can end
with what the check sent and what the server answered just before it went
wrong. :func:`reply_text` does the same for an HTTP reply: a 500 whose body is
a traceback reads as the exception and the line of the student's file that
raised it, not as the first 300 characters of the framework's frames.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import PurePath
from typing import Any, Literal, overload

import httpx
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State
from websockets.typing import Data

from day25.course.harness.errors import output_tail
from day25.course.protocol import OUTPUT_MARKER

__all__ = ["Conversation", "close_of", "closed_here", "history", "path_of", "refused", "reply_text",
           "unanswered"]

#: How many frames (both ways together) a message quotes, and how much of each.
KEPT_FRAMES = 8
FRAME_CHARS = 160


def _short(frame: Data) -> str:
    text = frame if isinstance(frame, str) else f"<{len(frame)} bytes of binary data>"
    return text if len(text) <= FRAME_CHARS else f"{text[:FRAME_CHARS]}... ({len(text)} chars)"


class Conversation(ClientConnection):
    """A client WebSocket that keeps the last frames it sent and received."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frames: deque[tuple[str, str]] = deque(maxlen=KEPT_FRAMES)
        self.count = 0  # frames both ways, kept or not

    async def send(self, message: Any, text: bool | None = None) -> None:
        try:
            await super().send(message, text=text)
        except ConnectionClosed:
            self._keep("the check could not send, the socket being closed", message)
            raise
        self._keep("the check sent", message)

    @overload
    async def recv(self, decode: Literal[True]) -> str: ...

    @overload
    async def recv(self, decode: Literal[False]) -> bytes: ...

    @overload
    async def recv(self, decode: bool | None = None) -> Data: ...

    async def recv(self, decode: bool | None = None) -> Data:
        frame = await super().recv(decode)
        self._keep("your server sent", frame)
        return frame

    def _keep(self, who: str, frame: Any) -> None:
        self.count += 1
        self.frames.append((who, _short(frame) if isinstance(frame, (str, bytes)) else "?"))


def closed_here(ws: ClientConnection, exc: ConnectionClosed) -> bool:
    """Whether ``exc`` is ``ws``'s own close, not another socket's, raised in the block of
    ``ws``'s ``connect`` (a check holds several at once: ann's and bob's)."""
    own = ws.protocol
    return ws.state is State.CLOSED and exc.rcvd is own.close_rcvd and exc.sent is own.close_sent


def path_of(ws: ClientConnection) -> str:
    """The path ``ws`` was opened to (``/chat/lobby?user=ann``), for a message: which of a
    check's sockets it is about."""
    request = getattr(ws, "request", None)
    return str(getattr(request, "path", "") or "")


def history(ws: ClientConnection) -> str:
    """The last frames of ``ws``, oldest first, one per line (``""`` for another socket)."""
    if not isinstance(ws, Conversation):
        return ""
    if not ws.count:
        return "Nothing had passed on this WebSocket yet."
    earlier = ws.count - len(ws.frames)
    lines = [f"  {who}: {frame}" for who, frame in ws.frames]
    head = (f"The last {len(ws.frames)} frames on this WebSocket ({earlier} earlier not shown):"
            if earlier else "Everything that passed on this WebSocket:")
    return "\n".join([head, *lines])


def refused(path: str, status: int | None) -> str | None:
    """What an HTTP refusal of a WebSocket handshake means, or None for an unusual one.

    Nexios refuses a handshake with 403 when no route matches and when the
    handler closes, sends or raises before ``websocket.accept``; uvicorn answers
    500 when it returns without accepting. The student saw "HTTP 403" and looked
    for a permission problem that is not there.
    """
    if status == 403:
        why = ("either no `ws_route` of your app matches this path, or its handler closed the "
               "connection, sent a frame or raised before `await ws.accept()`.")
    elif status == 500:
        why = "its handler returned without calling `await ws.accept()`."
    else:
        return None
    return f"Your server refused a WebSocket (HTTP {status}): {why}\nThe WebSocket refused: {path}"


_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+), in (.+)$')
#: Where frames of the framework, the standard library and the grader are (not the student's).
_LIBRARY = re.compile(r"^<|[/\\](site|dist)-packages[/\\]|[/\\]lib[/\\]python3|[/\\]Lib[/\\]"
                      r"|[/\\]day25[/\\]")  # day25 itself, also installed as editable


def reply_text(reply: httpx.Response, limit: int = 300, *, output: str = "") -> str:
    """An HTTP reply's body as a student should read it.

    A body holding a Python traceback (the framework's error page for an
    exception in a route) becomes its last line, the exception, and the last
    frame in a file of the student's (the grader's files show as
    ``<grader file>``, installed packages by their full path); any other body
    is cut at ``limit`` characters. ``output``, the app's output, ends the text of
    a 5xx reply: a route that caught its error and answered 500 by itself logged
    the cause (an ``IntegrityError``) only there, and a route's error is often the
    symptom of a listener's, which the bus logged there.
    """
    text = reply.text
    if "Traceback (most recent call last)" not in text:
        said = text if len(text) <= limit else f"{text[:limit]}..."
        if reply.status_code >= 500 and output.strip():
            said = f"{said}\n{OUTPUT_MARKER}\n{output_tail(output)}"
        return said
    lines = [line for line in text.splitlines() if line.strip()]
    raised = next((line.strip() for line in reversed(lines)
                   if not line.startswith((" ", "\t")) and not line.startswith("Traceback")
                   and "During handling" not in line and "direct cause" not in line),
                  "an exception")
    where = ""
    for i, line in enumerate(lines):
        match = _FRAME.match(line)
        if match and not _LIBRARY.search(match.group(1)):
            code = lines[i + 1].strip() if i + 1 < len(lines) else ""
            code = "" if _FRAME.match(code) or set(code) <= set("^~ ") else code
            name = PurePath(match.group(1).replace("\\", "/")).name
            where = (f" at {name}, line {match.group(2)}, in {match.group(3)}"
                     + (f": {code}" if code else ""))
    said = f"your server raised {raised[:limit]}{where}"
    if output.strip():  # the cause may be in the app's output only (a listener's error)
        said = f"{said}\n{OUTPUT_MARKER}\n{output_tail(output)}"
    return said


def unanswered(exc: httpx.TimeoutException) -> str:
    """An HTTP request the app never answered, as a student should read it (httpx's own
    message is empty: the feedback said only ``httpx.ReadTimeout``)."""
    try:
        what = f"{exc.request.method} {exc.request.url.path}"
    except RuntimeError:  # no request attached
        what = "an HTTP request"
    return (f"Your server did not answer {what} in time ({type(exc).__name__}): a route that "
            "waits without a time limit (a send to a tab that stopped reading, without "
            "asyncio.wait_for; a lock held elsewhere) or loops for ever never answers.")


def close_of(exc: ConnectionClosed) -> str:
    """How the server closed: its code and reason, or that it sent no close frame."""
    if exc.rcvd is None:
        return "without a close frame: the connection just ended"
    return f"code {exc.rcvd.code}" + (f", reason {exc.rcvd.reason!r}" if exc.rcvd.reason else "")
