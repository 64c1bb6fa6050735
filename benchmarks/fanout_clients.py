"""The clients of ``benchmarks/fanout.py``: the WebSocket members' process and HTTP requests.

:func:`client_main` is the client process (``fanout.py --client URL``): ``--members``
sockets that report each round's delivery latencies as one JSON line; :class:`Clients`
starts it and reads it round by round. :func:`timed` sends kept-alive requests and
times each, with a token from :func:`session_token`. Imported by the script from its
own folder (``from fanout_clients import ...``).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("fanout.py")  # its hidden --client runs client_main


# -- fan-out: the client process -----------------------------------------------------
async def client_main(url: str, members: int, messages: int) -> None:
    """Connect ``members`` sockets (to the comma-separated URLs in turn); after each round
    print its latencies as one JSON line."""
    from websockets.asyncio.client import connect

    urls = url.split(",")
    conns = [await connect(urls[i % len(urls)], compression=None, max_queue=None)
             for i in range(members)]
    print("ready", flush=True)
    latencies: dict[int, list[float]] = {}
    done: dict[int, int] = {}

    async def read(ws: Any) -> None:
        async for raw in ws:
            now = time.monotonic()
            frame = json.loads(raw)
            number = frame["round"]
            latencies.setdefault(number, []).append(now - frame["t"])
            if frame["n"] == messages - 1:
                done[number] = done.get(number, 0) + 1
                if done[number] == members:
                    got = latencies.pop(number)
                    print(json.dumps({"round": number, "frames": len(got), "latencies": got,
                                      "last": now}), flush=True)

    await asyncio.gather(*(read(ws) for ws in conns))


class Clients:
    """The client process: started, read round by round, stopped."""

    def __init__(self, url: str, members: int, messages: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--client", url, "--members", str(members),
             "--messages", str(messages)],
            stdout=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        self.stdout = self.proc.stdout
        if self.stdout.readline().strip() != "ready":
            raise RuntimeError("the client process did not connect")

    def report(self) -> dict[str, Any]:
        line = self.stdout.readline()
        if not line:
            raise RuntimeError("the client process ended")
        return json.loads(line)  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def timed(port: int, method: str, path: str, n: int, token: str) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    body = json.dumps({"user": "bench", "title": "latency"}).encode() if method == "POST" else None
    times = []
    try:
        for i in range(n + 1):
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status not in (200, 201):
                raise RuntimeError(f"{method} {path}: {response.status}")
            if i:
                times.append(time.perf_counter() - started)
    finally:
        conn.close()
    return times


def session_token(port: int, user: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/session", json.dumps({"user": user}),
                     {"content-type": "application/json"})
        return str(json.loads(conn.getresponse().read())["token"])
    finally:
        conn.close()
