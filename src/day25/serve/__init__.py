"""``day25 serve``: the chat and notification apps of an implementation, plus one web page.

The page (``static/``) speaks exactly the protocols of exercises 3 and 4, so a
student sees their own code working in a browser; no build step, no CDN.
"""

from day25.serve.dispatch import Dispatcher
from day25.serve.loading import ImplementationError, LoadedApps, load_apps, resolve_impl
from day25.serve.runner import DEFAULT_PORT, ServeError, default_db_path, run_command, serve

__all__ = [
    "DEFAULT_PORT",
    "Dispatcher",
    "ImplementationError",
    "LoadedApps",
    "ServeError",
    "default_db_path",
    "load_apps",
    "resolve_impl",
    "run_command",
    "serve",
]
