"""BackgroundServer: serve an ASGI app with uvicorn in a background thread.

Why it exists: a notebook cell cannot call ``uvicorn.run`` (it blocks, and the
Jupyter kernel already runs an event loop). Running uvicorn on its own loop in
a thread lets a cell start a real server, connect real WebSocket clients to it,
and stop it again. The server binds its socket itself before starting, so
``port=0`` gives a free port whose number is known at once.

Why :func:`listen_socket` names ``IPPROTO_TCP``: asyncio turns Nagle's algorithm
off (``TCP_NODELAY``) only on accepted sockets whose ``proto`` is ``IPPROTO_TCP``,
and an accepted socket inherits the listener's ``proto``. A listener made with
``socket.socket(AF_INET, SOCK_STREAM)`` has ``proto`` 0, so every response that
uvicorn writes in two pieces (head, then body) waits for the client's delayed ACK.
uvicorn's own ``host``/``port`` binding goes through asyncio and gets it right;
handing uvicorn a socket means doing it ourselves.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

import uvicorn

__all__ = ["BackgroundServer", "listen_socket"]

T = TypeVar("T")


def listen_socket(host: str, port: int, *, backlog: int = 128) -> socket.socket:
    """A listening TCP socket on ``host:port`` whose connections have ``TCP_NODELAY``.

    ``port=0`` picks a free port (read it back with ``getsockname()``). An
    ``OSError`` (address in use, no such address) propagates with the socket closed.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


class BackgroundServer:
    """``with BackgroundServer(app) as server: ... server.url ... server.ws_url("/chat/x")``.

    ``start()`` returns once uvicorn has started (or raises after
    ``startup_timeout`` seconds); ``stop()`` asks it to exit and joins the thread.
    ``call(coro)`` runs a coroutine on the server's loop and returns its result,
    which is how a notebook touches the app's state (for example
    ``server.call(app.events.emit(...))``; mind that an emit with only sync
    listeners runs them at once, in the calling thread: wrap it in an ``async
    def`` to run them on the server's loop).
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        startup_timeout: float = 10.0,
        log_level: str = "warning",
    ) -> None:
        self.app = app
        self.host = host
        self.startup_timeout = startup_timeout
        self._requested_port = port
        self._log_level = log_level
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> BackgroundServer:
        if self._thread is not None:
            raise RuntimeError("this BackgroundServer is already running")
        sock = listen_socket(self.host, self._requested_port)
        self._port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.app, ws="websockets-sansio", lifespan="auto", log_level=self._log_level
        )
        server = uvicorn.Server(config)
        self._server = server
        self._error = None
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.serve(sockets=[sock]))
            except BaseException as exc:  # reported by start()/stop(), never lost
                self._error = exc
            finally:
                sock.close()
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name=f"day25-server:{self._port}", daemon=True)
        self._thread.start()
        waited = 0.0
        while not server.started:
            if not self._thread.is_alive() or waited >= self.startup_timeout:
                error = self._error
                self.stop()
                raise RuntimeError(
                    f"the server did not start within {self.startup_timeout}s"
                    + (f": {error!r}" if error else "")
                ) from error
            self._thread.join(0.02)
            waited += 0.02
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for the thread; no thread is left running."""
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(timeout)
            if thread.is_alive():
                raise RuntimeError(f"the server thread did not stop within {2 * timeout}s")
        self._thread = None
        self._server = None
        self._loop = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses --------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server has not been started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def ws_url(self, path: str = "/") -> str:
        if not path.startswith("/"):
            path = "/" + path
        return f"ws://{self.host}:{self.port}{path}"

    # -- talking to the app -------------------------------------------------------
    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on the server's loop and return its result (or raise)."""
        loop = self._loop
        if loop is None or not self.running:
            coro.close()
            raise RuntimeError("the server is not running")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        where = f" {self.url}" if self._port is not None else ""
        return f"<BackgroundServer{where} {state}>"
