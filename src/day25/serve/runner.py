"""``day25 serve``: resolve the implementation, bind the port, run uvicorn.

Why the port is bound here and handed to uvicorn: binding first turns "address
already in use" into one clear sentence before anything starts, and there is no
window in which another process could take the port between check and use.
"""

from __future__ import annotations

import errno
import socket
import sys
from pathlib import Path

import uvicorn

from day25.realtime.server import listen_socket
from day25.serve.dispatch import Dispatcher
from day25.serve.loading import ImplementationError, load_apps, resolve_impl

__all__ = ["DEFAULT_PORT", "ServeError", "bind", "default_db_path", "run_command", "serve"]

DEFAULT_PORT = 8025


class ServeError(Exception):
    """``day25 serve`` cannot start; the message says why and what to do."""


def default_db_path(impl_dir: Path) -> Path:
    """``~/.day25/notifications-<impl folder name>.sqlite3``: outside the course folder (so
    git never sees it) and one per implementation (a student's schema may differ from the
    reference solution's)."""
    return Path.home() / ".day25" / f"notifications-{impl_dir.name}.sqlite3"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (with ``TCP_NODELAY``, see
    :func:`~day25.realtime.server.listen_socket`), or a :class:`ServeError` that says
    what to do."""
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


def serve(
    impl: str | None = None,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    db: Path | None = None,
) -> None:
    """Serve the page and both apps until interrupted; :class:`ServeError` if it cannot start."""
    try:
        impl_dir = resolve_impl(impl)
        db_path = (db or default_db_path(impl_dir)).expanduser().resolve()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        apps = load_apps(impl_dir, db_path)
    except ImplementationError as exc:
        raise ServeError(str(exc)) from exc
    if apps.chat is None and apps.notifications is None:
        raise ServeError(
            "nothing to serve yet: "
            + "; ".join(m.message for m in apps.missing.values())
            + ". Implement the exercise stubs, or run with --impl solutions to see the reference."
        )
    sock = bind(host, port)
    for missing in apps.missing.values():
        print(f"warning: {missing.message}; that part of the page will show an error",
              file=sys.stderr)
    shown = f"[{host}]" if ":" in host else host
    print(f"day25 serve: {impl_dir} on http://{shown}:{sock.getsockname()[1]}/ (db: {db_path})",
          file=sys.stderr, flush=True)
    app = Dispatcher(apps, impl_label=impl or impl_dir.name, db_path=db_path)
    config = uvicorn.Config(app, lifespan="on", log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def run_command(impl: str | None, host: str, port: int, db: Path | None) -> int:
    """The body of ``day25 serve``: serve, or print why not on stderr; the exit code."""
    try:
        serve(impl, host, port, db)
    except ServeError as exc:
        print(f"day25 serve: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
