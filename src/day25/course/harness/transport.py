"""How the grader's HTTP clients reach an app: one pooled transport per app, lent.

Why: a browser keeps its connection to a server open across requests; a test
that posts ten times should pay for one connection, and a client closed by a
test must not close the pool the next test uses.
"""

from __future__ import annotations

import functools
import ssl

import httpx

__all__ = ["Lent", "tls_context"]


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
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        return None  # the pool is the server's: it ends with the app
