"""``day25 serve``: resolve the implementation, bind the port, run uvicorn.

Why the port is bound here and handed to uvicorn: binding first turns "address
already in use" into one clear sentence before anything starts, and there is no
window in which another process could take the port between check and use.
"""

from __future__ import annotations

import contextlib
import errno
import math
import socket
import sqlite3
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from day25.realtime.broker import BrokerUnavailable, describe_url
from day25.realtime.server import listen_socket
from day25.serve.dispatch import Dispatcher
from day25.serve.guard import Guard
from day25.serve.loading import (
    ImplementationError,
    LoadedApps,
    data_folder,
    load_apps,
    resolve_impl,
)
from day25.serve.origins import OriginPolicy, is_loopback
from day25.serve.sessions import Sessions
from day25.serve.signer import SigningError, broker_sessions

__all__ = [
    "DEFAULT_PORT",
    "ServeError",
    "Served",
    "bind",
    "build_app",
    "default_db_path",
    "run_command",
    "serve",
    "uvicorn_config",
]

DEFAULT_PORT = 8025


class ServeError(Exception):
    """``day25 serve`` cannot start; the message says why and what to do."""


def default_db_path(impl_dir: Path, start: Path | None = None) -> Path:
    """``.day25/notifications-<impl folder name>.sqlite3`` in the course folder or workspace
    around ``start`` (:func:`~day25.serve.loading.data_folder`), one per implementation (a
    student's schema may differ from the reference solution's)."""
    return data_folder(start) / f"notifications-{impl_dir.name}.sqlite3"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (with ``TCP_NODELAY``, see
    :func:`~day25.realtime.server.listen_socket`), or a :class:`ServeError` that says
    what to do."""
    if isinstance(port, bool) or not 0 <= port <= 65535:
        raise ServeError(f"--port must be a number from 0 to 65535 (0: any free port), "
                         f"not {port}")
    try:
        sock = listen_socket(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {port} on {host} is already in use (another `day25 serve`?): "
                f"stop it or pick another port with --port"
            ) from exc
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    return sock


def check_db(path: Path) -> None:
    """Make the folder of the notifications' SQLite file and open it once, so that a path
    that cannot be one gets a :class:`ServeError` naming ``--db`` and the path, not a
    failure of the app's ``create_app()``."""
    where = f"--db {path}"
    if path.is_dir():
        raise ServeError(f"{where} is a folder: give the path of a file (it is made if missing)")
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise ServeError(f"{where}: {blocking} is a file, so it cannot hold that path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute("PRAGMA schema_version").fetchone()
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ServeError(f"{where}: cannot use it as the notifications' SQLite file "
                         f"({reason})") from exc


@dataclass
class Served:
    """What :func:`build_app` made: the ASGI app to serve and its parts."""

    app: Guard
    apps: LoadedApps
    impl_dir: Path
    db_path: Path
    sessions: Sessions
    broker: str | None = None


def build_app(
    impl: str | None = None,
    *,
    db: Path | None = None,
    host: str = "127.0.0.1",
    allow_origins: Sequence[str] = (),
    cap: int | None = None,
    ttl: float | None = None,
    sessions: Sessions | None = None,
    broker: str | None = None,
) -> Served:
    """The page and both apps of ``impl`` behind the :class:`~day25.serve.guard.Guard`;
    :class:`ServeError` if they cannot be built. ``cap`` and ``ttl`` set the notification
    app's ``max_per_user`` and ``ttl_seconds`` (its own defaults when ``None``).
    ``broker``: a ``redis://HOST:PORT/DB`` URL shared by several ``day25 serve``
    processes, which then form one chat and one inbox (the demo only)."""
    queue_options: dict[str, Any] = {}
    if cap is not None:
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            raise ServeError(f"--cap must be a whole number of at least 1, not {cap!r}")
        queue_options["max_per_user"] = cap
    if ttl is not None:
        if not (ttl > 0 and math.isfinite(ttl)):
            raise ServeError(f"--ttl must be a positive, finite number of seconds, not {ttl!r}")
        queue_options["ttl_seconds"] = float(ttl)
    try:
        origins = OriginPolicy(allow_origins, loopback=is_loopback(host), bound=host)
    except ValueError as exc:
        raise ServeError(f"--allow-origin: {exc}") from exc
    background: list[Callable[[], Coroutine[Any, Any, None]]] = []  # run while the apps serve
    if broker is not None:
        if impl not in (None, "demo"):
            raise ServeError(
                f"--broker serves the demo apps only (they are written for it), not --impl "
                f"{impl}: the exercise protocols keep their state in one process"
            )
        queue_options["broker"] = broker
        if sessions is None:
            try:
                sessions, keepers = broker_sessions(broker)
            except SigningError as exc:
                raise ServeError(str(exc)) from exc
            background += keepers
    try:
        impl_dir = resolve_impl(impl)
        db_path = (db or default_db_path(impl_dir)).expanduser().resolve()
        if broker is None:
            check_db(db_path)
        apps = load_apps(impl_dir, db_path, **queue_options)
    except (ImplementationError, BrokerUnavailable) as exc:
        raise ServeError(str(exc)) from exc
    if apps.chat is None and apps.notifications is None:
        raise ServeError(
            "nothing to serve yet: "
            + "; ".join(m.message for m in apps.missing.values())
            + ". Implement the exercise stubs, or run without --impl to see the demo."
        )
    sessions = sessions or Sessions()
    dispatcher = Dispatcher(
        apps, impl_label=impl or impl_dir.name, db_path=db_path, state_sizes=sessions.sizes,
        background=background,
    )
    if broker is not None:
        dispatcher.status["db"] = None
        dispatcher.status["broker"] = describe_url(broker)
    guard = Guard(dispatcher, origins=origins, sessions=sessions)
    return Served(guard, apps, impl_dir, db_path, sessions, broker)


def uvicorn_config(app: Any) -> uvicorn.Config:
    """How ``day25 serve`` runs uvicorn: no ``server`` header, WebSocket frames of at most
    64 KiB (a chat message is at most 2,000 characters)."""
    return uvicorn.Config(
        app,
        lifespan="on",
        log_level="warning",
        ws="websockets-sansio",
        ws_max_size=64 * 1024,
        server_header=False,
    )


def serve(
    impl: str | None = None,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    db: Path | None = None,
    *,
    allow_origins: Sequence[str] = (),
    cap: int | None = None,
    ttl: float | None = None,
    broker: str | None = None,
) -> None:
    """Serve the page and both apps until interrupted; :class:`ServeError` if it cannot start."""
    served = build_app(impl, db=db, host=host, allow_origins=allow_origins, cap=cap, ttl=ttl,
                       broker=broker)
    sock = bind(host, port)
    for missing in served.apps.missing.values():
        print(f"warning: {missing.message}; that part of the page will show an error",
              file=sys.stderr)
    shown = f"[{host}]" if ":" in host else host
    store = f"broker: {describe_url(broker)}" if broker else f"db: {served.db_path}"
    print(f"day25 serve: {served.impl_dir} on http://{shown}:{sock.getsockname()[1]}/ "
          f"({store})", file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn_config(served.app))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:  # the apps' startup failed (the broker went away meanwhile)
        raise ServeError("the apps did not start (see the errors above)")


def run_command(
    impl: str | None,
    host: str,
    port: int,
    db: Path | None,
    *,
    allow_origins: Sequence[str] = (),
    cap: int | None = None,
    ttl: float | None = None,
    broker: str | None = None,
) -> int:
    """The body of ``day25 serve``: serve, or print why not on stderr; the exit code."""
    try:
        serve(impl, host, port, db, allow_origins=allow_origins, cap=cap, ttl=ttl, broker=broker)
    except ServeError as exc:
        print(f"day25 serve: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
