"""A kept-alive request to ``day25 serve`` does not wait for a delayed ACK.

A regression guard, not a speed target: without ``TCP_NODELAY`` on the accepted
sockets, every response uvicorn writes in two pieces waited ~44 ms for the
client's delayed ACK (1,000 POSTs took 48 s). The ratio against uvicorn binding
its own port is measured in ``benchmarks/fanout.py``.

The delay hits every request, so the cheap requests are judged by their median,
and ``POST /notifications`` (three SQLite transactions, slow on a loaded machine)
by its best: with the delay, not one of 15 gets under 40 ms. The limit sits between
that and the slowest healthy figures seen on a loaded machine (a best POST of 11 ms
at a load of 8), so it tells the bug from load, not a fast machine from a slow one.
The cause itself is checked without a clock: the listening socket names its protocol.
"""

from __future__ import annotations

import http.client
import json
import socket
import statistics
import time
from collections.abc import Callable

from day25.realtime.server import listen_socket

from .conftest import ServeProcess

LIMIT_MS = 30.0


def times_ms(
    server: ServeProcess, method: str, path: str, body: Callable[[int], bytes | None]
) -> list[float]:
    """15 requests on one kept-alive connection (after one that pays for the connection)."""
    port = int(server.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"content-type": "application/json", "authorization": f"Bearer {server.token('lat')}"}
    times = []
    try:
        for i in range(16):
            started = time.perf_counter()
            conn.request(method, path, body=body(i), headers=headers)
            response = conn.getresponse()
            response.read()
            assert response.status in (200, 201), response.status
            assert not response.will_close, "the connection must be kept alive"
            if i:
                times.append((time.perf_counter() - started) * 1000)
    finally:
        conn.close()
    return times


def test_a_kept_alive_get_is_not_delayed(served: ServeProcess) -> None:
    assert statistics.median(times_ms(served, "GET", "/status.json", lambda i: None)) < LIMIT_MS


def test_a_kept_alive_post_is_not_delayed(served: ServeProcess) -> None:
    def name(i: int) -> bytes:
        return json.dumps({"user": f"latency{i}"}).encode()

    assert statistics.median(times_ms(served, "POST", "/session", name)) < LIMIT_MS


def test_posting_notifications_is_not_delayed(served: ServeProcess) -> None:
    def note(i: int) -> bytes:
        return json.dumps({"user": "nobody", "title": f"latency {i}"}).encode()

    assert min(times_ms(served, "POST", "/notifications", note)) < LIMIT_MS


def test_the_listening_socket_names_tcp_so_accepted_sockets_get_nodelay() -> None:
    sock = listen_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP  # asyncio sets TCP_NODELAY only then
    finally:
        sock.close()
