"""Serve a submission's ``create_app()`` in a sandboxed process; talk real HTTP/WebSocket.

Why: exercises 3 and 4 are web apps; the only honest test talks to a real
server. An app process (``python -m day25.course.inside apps``, see
:mod:`day25.course.inside.apps`) serves a fresh ``create_app()`` with uvicorn on
a Unix socket (with the portable runner, on TCP: 127.0.0.1 and a free port,
the same requests, ``Host: localhost`` included); the app's working directory
is private and survives :meth:`AppServer.restart` (so
``create_app(db_path="x.sqlite3")`` finds its database again). Several servers
can share one app process (``app_process=``): the grading fixtures do, so a
test costs an app, not a process.

Typical use in an async test::

    server = AppServer(submission_dir, exercise).start()   # a catalogue entry or its id
    async with server.connect("/chat/lobby?user=ann") as ws:
        roster = await server.recv_json(ws)
    server.events("room.message")   # what the app emitted on app.events
    await server.probe("def probe(module): ...")   # a helper's contract, in the app process

Every wait has a timeout. If the process dies, the next ``connect``/``http``
starts a fresh one; if the app's event loop hangs, the call that noticed raises
:class:`SubmissionTimeout` and the process is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from day25.course.catalogue import Exercise
from day25.course.harness.app_events import AppEvents
from day25.course.harness.app_process import AppProcess, RemoteApp
from day25.course.harness.conversation import (
    Conversation,
    close_of,
    closed_here,
    history,
    path_of,
    refused,
)
from day25.course.harness.errors import (
    SubmissionCrashed,
    SubmissionError,
    SubmissionSettled,
    SubmissionTimeout,
    reply_error,
)
from day25.course.harness.transport import AppPool, Lent, tls_context
from day25.course.sandbox import runner
from day25.course.sandbox.beneath import PinnedSocket, remove_beneath
from day25.course.sandbox.rlimits import Limits
from day25.course.sandbox.zygote import Zygote

__all__ = ["AppServer"]


class AppServer(AppEvents):
    """A submission's app served by uvicorn in a sandboxed app process."""

    base_url = "http://localhost"

    def __init__(
        self,
        submission_dir: str | os.PathLike[str],
        exercise: str | Exercise,
        *,
        factory_kwargs: dict[str, Any] | None = None,
        timeout: float = 5.0,
        startup_timeout: float = 30.0,
        limits: Limits | None = None,
        zygote: Zygote | None = None,
        app_process: AppProcess | None = None,
    ) -> None:
        self.exercise = exercise
        self.zygote = zygote
        self.factory_kwargs = dict(factory_kwargs or {})
        json.dumps(self.factory_kwargs)  # they travel as JSON: fail here, not inside
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.limits = limits
        self._own_process = app_process is None
        self.app_process = app_process or AppProcess(submission_dir, exercise, limits=limits,
                                                     zygote=zygote)
        self._appdir = self.app_process.app_dir()  # made by the app process, so it owns it
        self.data_dir = self._appdir / "data"  # the app's cwd: relative db paths land here
        # no Unix sockets with the portable runner (Windows has none): TCP, the port the app picks
        self.uds = None if runner.portable() else str(self._appdir / "app.sock")
        self._app: RemoteApp | None = None
        self._pool = AppPool()  # the grader's HTTP connections to the running app
        self._socket: PinnedSocket | None = None  # the running app's, as the grader reaches it

    @property
    def processes_started(self) -> int:
        """How many app processes served this server's apps (restarts and crashes add one)."""
        return self.app_process.processes_started

    # -- lifecycle ----------------------------------------------------------
    def start(self) -> AppServer:
        """Start a fresh app unless one is running; wait until it accepts connections."""
        if self._app is not None and self._app.alive():
            return self
        self._discard_app()
        self._app = self.app_process.open(uds=self.uds, cwd=self.data_dir,
                                          kwargs=self.factory_kwargs,
                                          timeout=self.startup_timeout)
        if self.uds is not None:  # in a folder the app can write: pinned, never followed
            try:
                self._socket = PinnedSocket(self.app_process.workdir, Path(self.uds))
            except OSError as exc:
                output = self._app.output
                self._discard_app()
                where = Path(self.uds).relative_to(self.app_process.workdir)
                raise SubmissionError(f"Your app's socket ({where}) or a folder on its way "
                                      "was replaced, so the grader could not reach your app.",
                                      output=output) from exc
        return self

    def stop(self) -> None:
        """Shut the app down and delete the work directory (and any database in it)."""
        if self._app is not None:
            self._app.stop(self.timeout)
            self._app = None
        self._unpin()
        remove_beneath(self.app_process.workdir, self._appdir)
        if self._own_process:
            self.app_process.close()

    def restart(self, **changes: Any) -> AppServer:
        """A server restart: the app shuts down, then a new process serves a fresh app
        with the same work directory and kwargs, but for ``changes`` (a restart with
        another ``ttl_seconds``: the settings are the app's, the data the file's)."""
        json.dumps(changes)  # they travel as JSON: fail here, not inside
        self.factory_kwargs.update(changes)
        if self._app is not None:
            self._app.stop(self.timeout, graceful=True)
            self._app = None
        self.app_process.kill()  # a restart is a new process: nothing in memory survives it
        return self.start()

    def _discard_app(self) -> None:
        if self._app is not None:
            self._app.kill()
            self._app = None
        self._unpin()

    def _unpin(self) -> None:
        self._pool.close()  # its connections went through the socket
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def output(self) -> str:
        """The tail of the app's output (uvicorn's log, the app's prints and tracebacks)."""
        return self._app.output if self._app else ""

    def _running(self) -> RemoteApp:
        if self._app is None or not self._app.alive():
            self.start()
        assert self._app is not None
        return self._app

    def check_alive(self, what: str = "serving", *, grace: float = 0.0) -> None:
        """Raise :class:`SubmissionCrashed` if the app's process died (waiting ``grace`` s)."""
        app = self._app
        if app is None:
            raise SubmissionCrashed(f"Your app is not running (while {what}).")
        if grace:
            with contextlib.suppress(subprocess.TimeoutExpired):
                app.proc.wait(timeout=grace)
        if not app.alive():
            self._app = None
            code = app.proc.poll()
            raise SubmissionCrashed(
                f"The process serving your app exited (code {code}) while {what}.",
                output=app.output,
            )

    # -- talking to the app ---------------------------------------------------
    @asynccontextmanager
    async def connect(self, path: str, **kwargs: Any) -> AsyncIterator[ClientConnection]:
        """A real WebSocket to ``path`` (e.g. ``/chat/lobby?user=ann``).

        A close the check did not expect (a send or receive on a socket the server
        closed, not caught by the check) is told as the server's doing, with the
        frames that came before it.
        """
        app = self._running()
        kwargs.setdefault("open_timeout", self.timeout)
        kwargs.setdefault("close_timeout", 1)
        kwargs.setdefault("create_connection", Conversation)
        try:
            if self._socket is not None:
                conn = await websockets.unix_connect(self._socket.path,
                                                     uri=f"ws://localhost{path}",
                                                     **kwargs)
            else:  # the same request (Host: localhost), sent to the app's TCP port
                conn = await websockets.connect(f"ws://localhost{path}", host="127.0.0.1",
                                                port=app.port, **kwargs)
        except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
            self.check_alive(f"opening a WebSocket to {path}", grace=0.5)
            status = getattr(getattr(exc, "response", None), "status_code", None)
            raise SubmissionError(
                refused(path, status)
                or f"Could not open a WebSocket to {path}: {type(exc).__name__}: {exc}",
                output=self.output,
            ) from exc
        try:
            yield conn
        except websockets.exceptions.ConnectionClosed as exc:
            if not closed_here(conn, exc):
                raise  # another socket's: its own connect() tells it
            self.check_alive("a WebSocket was open", grace=0.0 if exc.rcvd else 0.5)
            raise SubmissionError(f"Your server closed the WebSocket to {path} "
                                  f"({close_of(exc)}) while the check was still using it.\n"
                                  f"{history(conn)}", output=self.output) from None
        finally:
            await conn.close()

    def http(self, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` whose requests go to the app (``async with``).

        Every client of one app on one event loop shares a connection pool, as
        a browser would: a test that posts ten times pays for one connection.
        """
        app = self._running()
        kwargs.setdefault("timeout", self.timeout)
        tls = tls_context()  # unused over a Unix socket, but httpx builds one per client
        uds = self._socket.path if self._socket is not None else None
        transport = self._pool.transport(app, uds)
        return httpx.AsyncClient(transport=Lent(transport, app.port), verify=tls,
                                 base_url=self.base_url, **kwargs)

    async def settled(self, *, quiet: float = 0.05, limit: float = 2.0) -> bool:
        """True once the app has nothing left to do (no ready callbacks, timers or busy threads).

        Why: a check that nothing (more) arrives no longer waits a fixed time
        and hopes; it waits until the server has finished reacting, which is
        both faster and a fairer verdict on a slow machine.
        """
        app = self._app
        if app is None or not app.alive():
            return False
        try:
            reply = await asyncio.to_thread(
                app.request, {"cmd": "settle", "quiet": quiet, "limit": limit},
                timeout=limit + self.timeout + 2, what="settling")
        except SubmissionError:
            self._app = None
            raise
        return bool(reply.get("idle"))

    async def _frame(self, ws: ClientConnection, timeout: float, what: str,  # noqa: ASYNC109
                     undone: str) -> Any:
        """The next frame; a :class:`SubmissionSettled` once the server settled without
        sending it (``undone``: "did not <undone>"), a :class:`SubmissionTimeout` when it
        was still busy at ``timeout``."""
        recv = asyncio.ensure_future(ws.recv())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            await asyncio.wait({recv}, timeout=min(0.1, timeout))
            while not recv.done():
                left = deadline - loop.time()
                if left <= 0:
                    await self._diagnose_silence()
                    raise SubmissionTimeout(f"Waited {timeout:g} s for {what} and none came.",
                                            output=self.output)
                idle = await self.settled(limit=min(2.0, left))
                if not recv.done():
                    await asyncio.wait({recv}, timeout=0.05 if idle else 0.01)
                if idle and not recv.done():
                    raise SubmissionSettled(
                        f"Your server has nothing left to do and did not {undone}."
                        f"{await self._stalled()}\n{history(ws)}", output=self.output)
            return recv.result()
        finally:
            if not recv.done():
                recv.cancel()  # websockets' recv() is safe to cancel: no frame is lost
                await asyncio.gather(recv, return_exceptions=True)

    async def recv_json(self, ws: ClientConnection, timeout: float | None = None,  # noqa: ASYNC109
                        *, expecting: str = "a frame") -> Any:
        """The next frame, parsed as JSON; a SubmissionError says what went wrong.

        ``expecting`` names the frame for the student ("the backlog_end frame"),
        when it does not come.
        """
        timeout = self.timeout if timeout is None else timeout
        try:
            frame = await self._frame(ws, timeout, f"{expecting} from your server",
                                      f"send {expecting}")
        except websockets.exceptions.ConnectionClosed as exc:
            self.check_alive("a WebSocket was open", grace=0.0 if exc.rcvd else 0.5)
            raise SubmissionError(
                f"Your server closed the WebSocket to {path_of(ws)} ({close_of(exc)}); the check "
                f"was waiting for {expecting}.\n{history(ws)}", output=self.output) from None
        try:
            return json.loads(frame)
        except (TypeError, ValueError, RecursionError):  # RecursionError: [[[... too deep
            raise SubmissionError(
                f"Your server sent a frame that is not JSON text: {frame[:200]!r}"
            ) from None

    async def expect_silence(self, ws: ClientConnection, seconds: float = 0.3) -> None:
        """Fail if a frame arrives before the server settles (else within ``seconds``)."""
        recv = asyncio.ensure_future(ws.recv())
        try:
            idle = await self.settled(limit=max(seconds, 2.0))
            await asyncio.wait({recv}, timeout=0.02 if idle else seconds)
        finally:
            if not recv.done():
                recv.cancel()
                await asyncio.gather(recv, return_exceptions=True)
        if recv.cancelled() or recv.exception() is not None:
            return
        raise SubmissionError(f"Expected no frame, but your server sent {recv.result()!r:.300}")

    async def expect_no_traceback(self, why: str) -> None:
        """Fail with ``why`` and the app's log if the app logged a traceback, once it settled
        (the log in whole lines, not cut in the middle of a path)."""
        await self.settled()
        if "Traceback" in self.output:
            raise SubmissionError(why, output=self.output)

    async def expect_close(
        self, ws: ClientConnection, timeout: float | None = None  # noqa: ASYNC109
    ) -> tuple[int | None, str]:
        """Wait for the server to close the socket (frames before it are skipped)."""
        timeout = self.timeout if timeout is None else timeout
        try:
            while True:
                await self._frame(ws, timeout, "your server to close the WebSocket",
                                  "close the WebSocket")
        except websockets.exceptions.ConnectionClosed as exc:
            return (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (None, "")

    async def _stalled(self) -> str:
        """What an app with nothing left to do still waits on, when it is a send to a socket
        that stopped reading: the sentence that says so ("" when none is)."""
        try:
            stalled = int((await asyncio.to_thread(self.faults)).get("stalled_now") or 0)
        except (SubmissionError, TypeError, ValueError):
            return ""
        if stalled <= 0:
            return ""
        sends = "send is" if stalled == 1 else f"{stalled} sends are"
        return (f" It waits: a {sends} still waiting on a socket that stopped reading (the "
                "check's stalled member), and a send without a time limit "
                "(asyncio.wait_for) waits for ever.")

    async def _diagnose_silence(self) -> None:
        """After a timeout: a dead process or a stuck event loop gets its own message."""
        self.check_alive("a frame was awaited")
        await asyncio.to_thread(self._ask, {"cmd": "ping_loop"}, "answering a ping",
                                timeout=self.timeout + 3)  # not ok: blocked, and where

    # -- app.events ---------------------------------------------------------------
    def _ask(self, request: dict[str, Any], what: str, *,
             timeout: float | None = None) -> dict[str, Any]:
        """The app process's reply (``timeout``: for a request with a ``limit`` of its own)."""
        app = self._app
        if app is None or not app.alive():
            self.check_alive(what)
        assert app is not None
        try:
            reply = app.request(request, timeout=timeout or self.timeout, what=what)
        except SubmissionError:
            self._app = None
            raise
        if not reply.get("ok"):
            if reply.get("at") is not None:
                self._discard_app()  # its loop is blocked: the next check starts it afresh
            raise reply_error(reply, what, app.output)
        return reply
