"""``day25 serve``: the chat and notification apps of an implementation, plus one web page.

The page (``static/``) speaks exactly the protocols of exercises 3 and 4, so a
student sees their own code working in a browser; no build step, no CDN. By
default it serves the demo (``day25.serve.demo``), and every implementation sits
behind the same :class:`Guard` (Origin allow-list, session tokens, JSON-only
POSTs); see ``docs/guides/serve-security.md``.
"""

from day25.serve.dispatch import Dispatcher
from day25.serve.guard import FORBIDDEN_CLOSE, SESSION_PATH, UNAUTHORIZED_CLOSE, Guard
from day25.serve.loading import ImplementationError, LoadedApps, load_apps, resolve_impl
from day25.serve.origins import OriginPolicy
from day25.serve.runner import (
    DEFAULT_PORT,
    Served,
    ServeError,
    build_app,
    default_db_path,
    run_command,
    serve,
    uvicorn_config,
)
from day25.serve.sessions import Session, SessionRefused, Sessions

__all__ = [
    "DEFAULT_PORT",
    "FORBIDDEN_CLOSE",
    "SESSION_PATH",
    "UNAUTHORIZED_CLOSE",
    "Dispatcher",
    "Guard",
    "ImplementationError",
    "LoadedApps",
    "OriginPolicy",
    "ServeError",
    "Served",
    "Session",
    "SessionRefused",
    "Sessions",
    "build_app",
    "default_db_path",
    "load_apps",
    "resolve_impl",
    "run_command",
    "serve",
    "uvicorn_config",
]
