"""How the grader's HTTP clients reach an app: one pooled transport per app, lent.

Why: a browser keeps its connection to a server open across requests; a test
that posts ten times should pay for one connection, and a client closed by a
test must not close the pool the next test uses. And the grader reads what a
submission's app answers outside the sandbox's limits: a body is read up to
:data:`MAX_BODY_BYTES` and no further (an app that streamed 120 MiB of JSON had
the grader's test process hold gigabytes to parse it).
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator

import httpx

from day25.course.harness.errors import SubmissionError

__all__ = ["MAX_BODY_BYTES", "Lent", "tls_context"]

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
