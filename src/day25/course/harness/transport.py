"""How the grader's HTTP clients reach an app: one pooled transport per app, lent.

Why: a browser keeps its connection to a server open across requests; a test
that posts ten times should pay for one connection, and a client closed by a
test must not close the pool the next test uses. The pool is closed when its app
is replaced or stopped, or when its event loop ends (each test has its own), so
its sockets are closed by the grader rather than by the garbage collector. And
the grader reads what a submission's app answers outside the sandbox's limits: a
body is read up to :data:`MAX_BODY_BYTES` and no further (an app that streamed
120 MiB of JSON had the grader's test process hold gigabytes to parse it).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator

import httpx

from day25.course.harness.errors import SubmissionError

__all__ = ["MAX_BODY_BYTES", "AppPool", "Lent", "tls_context"]

MAX_BODY_BYTES = 8 * 1024 * 1024  # the exercises' bodies are a few KB


class _Capped(httpx.AsyncByteStream):
    """A response body that stops the test past ``MAX_BODY_BYTES``."""

    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self.inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self.inner:
            seen += len(chunk)
            if seen > MAX_BODY_BYTES:
                raise SubmissionError(f"Your app answered with a body of more than "
                                      f"{MAX_BODY_BYTES // (1024 * 1024)} MiB; the grader "
                                      "reads no more.")
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client: building one loads the whole CA bundle."""
    return ssl.create_default_context()


class Lent(httpx.AsyncBaseTransport):
    """An app's pooled transport lent to one client: closing the client keeps it open.

    ``port``: the app serves on TCP there (127.0.0.1); each request goes there and keeps
    the headers it was built with (``Host: localhost``), as over the Unix socket."""

    def __init__(self, inner: httpx.AsyncBaseTransport, port: int | None = None) -> None:
        self.inner = inner
        self.port = port

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.port is not None:
            request.url = request.url.copy_with(host="127.0.0.1", port=self.port)
        response = await self.inner.handle_async_request(request)
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        response.stream = _Capped(stream)
        return response

    async def aclose(self) -> None:
        return None  # the pool is the server's: it ends with the app


class AppPool:
    """One app's pooled transport on one event loop, closed with the app or the loop.

    Why a task: a pool's sockets belong to the loop that opened them and can only
    be closed on it, and a loop has no "about to close" callback. A task that waits
    for ever is one: ``asyncio.run`` and pytest-asyncio cancel every task left
    when they close a loop, and the task's ``finally`` closes the pool there.
    """

    def __init__(self) -> None:
        self._key: tuple[object, object] | None = None
        self._transport: httpx.AsyncHTTPTransport | None = None
        self._closer: asyncio.Task[None] | None = None

    def transport(self, app: object, uds: str | None) -> httpx.AsyncHTTPTransport:
        """The pool of ``app`` on the running loop (if any): the one lent before, or a
        new one (the old one is then closed: its app or its loop is gone)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        key = (app, loop)
        if (self._transport is None or self._key is None or self._key[0] is not app
                or self._key[1] is not loop):
            self.close()
            self._transport = httpx.AsyncHTTPTransport(uds=uds, verify=tls_context())
            self._key = key
            if loop is not None:
                self._closer = loop.create_task(_close_at_end(self._transport),
                                                name="day25: close the app's HTTP pool")
        return self._transport

    def close(self) -> None:
        """Have the pool closed on its own loop: its task is cancelled, and its ``finally``
        closes the pool on that loop's next turn, or as ``asyncio.run`` closes the loop
        (a loop already closed has closed it then)."""
        closer, self._closer = self._closer, None
        self._transport = self._key = None
        if closer is None or closer.done():
            return
        loop = closer.get_loop()
        if loop.is_closed():
            return
        if loop.is_running():
            loop.call_soon_threadsafe(closer.cancel)
        else:
            closer.cancel()


async def _close_at_end(transport: httpx.AsyncHTTPTransport) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        await transport.aclose()
