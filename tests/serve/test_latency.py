"""A kept-alive request to ``day25 serve`` does not wait for a delayed ACK.

A regression guard, not a speed target: without ``TCP_NODELAY`` on the accepted
sockets, every response uvicorn writes in two pieces waited ~44 ms for the
client's delayed ACK (1,000 POSTs took 48 s). The ratio against uvicorn binding
its own port is measured in ``benchmarks/fanout.py``.
"""

from __future__ import annotations

import http.client
import json
import statistics
import time

from .conftest import ServeProcess

LIMIT_MS = 10.0


def median_ms(server: ServeProcess, method: str, path: str, body: bytes | None = None) -> float:
    port = int(server.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"content-type": "application/json", "authorization": f"Bearer {server.token('lat')}"}
    times = []
    try:
        for i in range(16):
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            assert response.status in (200, 201), response.status
            assert not response.will_close, "the connection must be kept alive"
            if i:  # the first one pays for the connection
                times.append((time.perf_counter() - started) * 1000)
    finally:
        conn.close()
    return statistics.median(times)


def test_a_kept_alive_get_is_not_delayed(served: ServeProcess) -> None:
    assert median_ms(served, "GET", "/status.json") < LIMIT_MS


def test_a_kept_alive_post_is_not_delayed(served: ServeProcess) -> None:
    body = json.dumps({"user": "nobody", "title": "latency"}).encode()
    assert median_ms(served, "POST", "/notifications", body) < LIMIT_MS
