"""Which web pages may talk to ``day25 serve``: its own origin, plus an explicit allow-list.

Why: a browser lets any page open a WebSocket to any server and send it a
``POST``; the only thing that tells the server which page is asking is the
``Origin`` header, which the browser sets and a page cannot forge. Without a
check, a page on any site a student visits could join the chat as them or read
their notifications (cross-site WebSocket hijacking, CSRF).

The rules (an allow-list, as a security boundary should be):

* a request *with* an ``Origin`` is from a browser: it must come from the
  server's own origin (``scheme://`` + the ``Host`` it was sent to) or from one
  given with ``--allow-origin``; ``Origin: null`` (sandboxed frames, files) is refused;
* a request *without* an ``Origin`` is not from a browser page (a script, a test,
  a load tool): it is judged by its session token alone (:mod:`day25.serve.guard`);
* when the server listens on a loopback address, the ``Host`` must be a loopback
  name (``localhost``, ``127.0.0.1``, ``[::1]``) or the host of an allowed origin:
  otherwise a site whose DNS name points at 127.0.0.1 (DNS rebinding) would be
  "same origin" with the server.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

__all__ = ["OriginPolicy", "normalise_origin"]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, the default port dropped; ValueError if
    ``origin`` is not an http(s) origin (a path, a query or user info make it invalid)."""
    try:
        parts = urlsplit(origin.strip())
    except ValueError as exc:  # e.g. "http://[::1": an IPv6 address left open
        raise ValueError(f"{origin!r} is not an origin: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"{origin!r} is not an origin: expected http(s)://HOST[:PORT]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{origin!r} is not an origin: no path, query or user, only scheme://HOST[:PORT]")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{origin!r} has an invalid port") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _hostname(host: str) -> str:
    """``localhost`` from ``localhost:8025``, ``::1`` from ``[::1]:8025``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (the ``--host`` the server binds)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class OriginPolicy:
    """``check(scope)``: ``None`` when the request may go on, else why it may not."""

    def __init__(self, allowed: Iterable[str] = (), *, loopback: bool = True,
                 bound: str = "") -> None:
        """``bound``: the address the server listens on. An IP address (``--host
        127.0.0.2``) is a name of this server too; a DNS name is not, since a name is
        what a rebinding attack controls."""
        self.allowed = frozenset(normalise_origin(o) for o in allowed)
        self.loopback = loopback
        self._allowed_hosts = LOOPBACK_NAMES | {urlsplit(o).hostname or "" for o in self.allowed}
        with contextlib.suppress(ValueError):  # a name, or "": nothing more is allowed
            self._allowed_hosts |= {str(ipaddress.ip_address(bound.strip("[]")))}

    def is_allowed_cross_origin(self, origin: str) -> bool:
        """An origin given with ``--allow-origin`` (its responses get CORS headers)."""
        try:
            return normalise_origin(origin) in self.allowed
        except ValueError:
            return False

    def check(self, scope: Mapping[str, object]) -> str | None:
        headers = _headers(scope)
        host = headers.get("host", "")
        if self.loopback and _hostname(host) not in self._allowed_hosts:
            return (
                f"Host {host!r} is not a name of this server (it listens on a loopback "
                "address): open the page as http://localhost:PORT, or at the address it "
                "listens on"
            )
        origin = headers.get("origin")
        if origin is None:
            return None  # not a browser page: the token decides
        if origin == "null":
            return "Origin 'null' (a sandboxed frame or a local file) may not use this server"
        scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
        try:
            if normalise_origin(origin) == normalise_origin(f"{scheme}://{host}"):
                return None
        except ValueError:
            pass
        if self.is_allowed_cross_origin(origin):
            return None
        return (
            f"cross-origin request refused: a page from {origin} may not use this server "
            f"(start `day25 serve --allow-origin {origin}` to allow it)"
        )


def _headers(scope: Mapping[str, object]) -> dict[str, str]:
    """The request's headers as ``name -> value`` (the first of repeated names)."""
    found: dict[str, str] = {}
    raw = scope.get("headers") or []
    assert isinstance(raw, list | tuple)
    for name, value in raw:
        key = name.decode("latin-1").lower()
        if key not in found:
            found[key] = value.decode("latin-1")
    return found
