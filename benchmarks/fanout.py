"""Broadcast and HTTP latency of the real-time pieces, as ratios to baselines in the same run.

Run: ``python benchmarks/fanout.py [--members 200] [--messages 30] [--rounds 7] [--json]``

**Fan-out.** One room of ``--members`` real WebSocket clients (a separate client
process, no compression) on one uvicorn server. Each round broadcasts
``--messages`` chat-sized messages with one of:

* ``bare``: ``for ws in members: await ws.send_text(text)``, the JSON made once per
  message (the baseline, 1.00): the least a server can do;
* ``rooms``: ``await rooms.broadcast(room, message)`` with :class:`day25.Rooms`
  (then ``await rooms.flush()``, so queued frames count too);
* ``gather``: what ``Rooms`` did before issue 16, a task and a ``wait_for`` per
  member and the JSON made per member (``asyncio.gather``), for reference.

Rounds of the three are interleaved. The ratio is the median over rounds of each
round's time divided by the ``bare`` round next to it (on a shared machine a paired
median is steadier than the best of each); the best of each is printed too.
Reported: the server's wall time and CPU per delivered frame, and the delivery
latency (from the broadcast call to the client's receive, CLOCK_MONOTONIC across the
two processes): in the burst rounds (mostly the one client process working through
its backlog) and in paced rounds, the same messages ``--gap`` seconds apart (what
one broadcast costs the last member).
Target (issue 16): ``rooms`` <= 1.3x ``bare``.

**HTTP latency.** The same ``day25 serve`` app (the demo behind its guard) on a
socket made by :func:`day25.realtime.server.listen_socket`, and on a port uvicorn
binds itself; kept-alive ``GET /status.json`` and ``POST /notifications``, median
and p99 of ``--requests`` each. Target: within 2x of uvicorn's own socket. A
``listener without TCP_NODELAY`` row (a plain ``socket.socket()``, as before) shows
the ~40 ms delayed-ACK wait it fixes.

``--json`` prints a summary as its last line. The server side is a :class:`Node`
(a server and its members); ``--nodes 2`` over a broker (issue 18) would start two,
split the clients between them and run the same rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from nexios import NexiosApp
from nexios.websockets import WebSocket

from day25.realtime import BackgroundServer, Rooms
from day25.realtime.server import listen_socket
from day25.serve import build_app, uvicorn_config

TEXT = "x" * 100  # a chat message
MODES = ("bare", "rooms", "gather")


# -- fan-out: the server side ------------------------------------------------------
class Node:
    """One server holding room members; ``--nodes N`` would start N over a broker."""

    def __init__(self) -> None:
        self.members: list[WebSocket] = []
        self.rooms: Rooms[WebSocket] = Rooms(send_timeout=10.0, outbox_size=10_000)
        app = NexiosApp()
        app.ws_route("/fan")(self._member)
        self.server = BackgroundServer(app)

    async def _member(self, ws: WebSocket) -> None:
        await ws.accept()
        self.members.append(ws)
        self.rooms.join("r", ws)
        try:
            while (await ws.receive())["type"] != "websocket.disconnect":
                pass
        finally:
            self.rooms.leave("r", ws)
            self.members.remove(ws)

    async def round(
        self, mode: str, number: int, messages: int, gap: float = 0.0
    ) -> tuple[float, float]:
        """Broadcast ``messages`` with ``mode`` (``gap`` seconds apart); (wall seconds,
        CPU seconds) on the server."""
        members, rooms = list(self.members), self.rooms
        started, cpu = time.perf_counter(), time.thread_time()
        for seq in range(messages):
            if gap and seq:
                await asyncio.sleep(gap)
            message = {"type": "message", "round": number, "seq": seq, "t": time.monotonic(),
                       "room": "r", "user": "bench", "text": TEXT}
            if mode == "bare":
                text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
                for ws in members:
                    await ws.send_text(text)
            elif mode == "rooms":
                await rooms.broadcast("r", message)
            else:
                await asyncio.gather(
                    *(asyncio.wait_for(ws.send_json(message), 10.0) for ws in members),
                    return_exceptions=True,
                )
        await rooms.flush()
        return time.perf_counter() - started, time.thread_time() - cpu


# -- fan-out: the client process -----------------------------------------------------
async def client_main(url: str, members: int, messages: int) -> None:
    """Connect ``members`` sockets; after each round print its latencies as one JSON line."""
    from websockets.asyncio.client import connect

    conns = [await connect(url, compression=None, max_queue=None) for _ in range(members)]
    print("ready", flush=True)
    latencies: dict[int, list[float]] = {}
    done: dict[int, int] = {}

    async def read(ws: Any) -> None:
        async for raw in ws:
            now = time.monotonic()
            frame = json.loads(raw)
            number = frame["round"]
            latencies.setdefault(number, []).append(now - frame["t"])
            if frame["seq"] == messages - 1:
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
            [sys.executable, __file__, "--client", url, "--members", str(members),
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


def fanout(members: int, messages: int, rounds: int, gap: float) -> dict[str, dict[str, float]]:
    node = Node()
    with node.server:
        clients = Clients(node.server.ws_url("/fan"), members, messages)
        try:
            while len(node.members) < members:
                time.sleep(0.05)
            walls: dict[str, list[float]] = {m: [] for m in MODES}
            cpus: dict[str, list[float]] = {m: [] for m in MODES}
            lat: dict[str, list[float]] = {m: [] for m in MODES}
            paced: dict[str, list[float]] = {m: [] for m in MODES}
            number = 0
            for _ in range(rounds):
                for mode in MODES:
                    number += 1
                    wall, cpu = node.server.call(node.round(mode, number, messages), 120)
                    report = clients.report()
                    assert report["round"] == number and report["frames"] == members * messages
                    walls[mode].append(wall)
                    cpus[mode].append(cpu)
                    lat[mode].extend(report["latencies"])
                    number += 1  # the same messages paced, for the latency of one broadcast
                    node.server.call(node.round(mode, number, messages, gap), 120)
                    report = clients.report()
                    assert report["round"] == number
                    paced[mode].extend(report["latencies"])
        finally:
            clients.stop()
    frames = members * messages
    out: dict[str, dict[str, float]] = {}
    for mode in MODES:
        burst, spaced = sorted(lat[mode]), sorted(paced[mode])
        pairs = [w / b for w, b in zip(walls[mode], walls["bare"], strict=True)]
        cpu_pairs = [c / b for c, b in zip(cpus[mode], cpus["bare"], strict=True)]
        out[mode] = {
            "ratio": statistics.median(pairs),
            "cpu_ratio": statistics.median(cpu_pairs),
            "best_ms": min(walls[mode]) * 1000,
            "median_ms": statistics.median(walls[mode]) * 1000,
            "cpu_us_per_frame": min(cpus[mode]) / frames * 1e6,
            "burst_p99_ms": burst[int(len(burst) * 0.99)] * 1000,
            "p50_ms": spaced[len(spaced) // 2] * 1000,
            "p99_ms": spaced[int(len(spaced) * 0.99)] * 1000,
        }
    return out


# -- HTTP latency --------------------------------------------------------------------
def plain_listener(host: str) -> socket.socket:
    """What ``day25 serve`` made before issue 16: proto 0, so no TCP_NODELAY."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    return sock


class Threaded:
    """uvicorn in a thread, on a given socket or binding ``port`` itself."""

    def __init__(self, app: Any, sock: socket.socket | None, port: int = 0) -> None:
        config = uvicorn_config(app)
        if sock is None:
            config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on",
                                    log_level="warning", ws="websockets-sansio")
        self.server = uvicorn.Server(config)
        self.sock = sock
        self.port = sock.getsockname()[1] if sock is not None else port
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock] if self.sock else None))

    def __enter__(self) -> Threaded:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        if self.sock is not None:
            self.sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def http_latency(requests: int, rounds: int) -> dict[str, dict[str, float]]:
    workdir = Path(tempfile.mkdtemp(prefix="day25-fanout-"))
    setups: dict[str, Callable[[Any], Threaded]] = {
        "uvicorn binds its own port": lambda app: Threaded(app, None, free_port()),
        "day25 serve (listen_socket)": lambda app: Threaded(app, listen_socket("127.0.0.1", 0)),
        "listener without TCP_NODELAY": lambda app: Threaded(app, plain_listener("127.0.0.1")),
    }
    samples: dict[str, dict[str, list[float]]] = {k: {"GET": [], "POST": []} for k in setups}
    for _ in range(rounds):
        for name, make in setups.items():
            n = requests if "without" not in name else max(5, requests // 20)
            served = build_app(db=workdir / f"{len(os.listdir(workdir))}.sqlite3")
            with make(served.app) as server:
                token = session_token(server.port, "bench")
                samples[name]["GET"] += timed(server.port, "GET", "/status.json", n, token)
                samples[name]["POST"] += timed(server.port, "POST", "/notifications", n, token)
    out: dict[str, dict[str, float]] = {}
    for name, by_method in samples.items():
        out[name] = {}
        for method, times in by_method.items():
            ordered = sorted(times)
            out[name][f"{method}_median_ms"] = statistics.median(ordered) * 1000
            out[name][f"{method}_p99_ms"] = ordered[int(len(ordered) * 0.99)] * 1000
    return out


# -- report --------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--gap", type=float, default=0.01,
                        help="seconds between messages in the paced rounds")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--nodes", type=int, default=1, help="servers (more need issue 18)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary last")
    parser.add_argument("--client", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(client_main(args.client, args.members, args.messages))
        return
    if args.nodes != 1:
        parser.error("--nodes N > 1 needs a broker between the nodes (issue 18)")

    fan = fanout(args.members, args.messages, args.rounds, args.gap)
    print(f"fan-out: {args.members} members, {args.messages} messages per round, "
          f"best of {args.rounds} interleaved rounds (Python {sys.version.split()[0]})")
    print(f"{'mode':<8} {'ratio':>6} {'CPU ratio':>10} {'best ms':>9} {'median ms':>10} "
          f"{'CPU us/frame':>13} {'burst p99':>10} {'paced p50':>10} {'paced p99':>10}")
    for mode, row in fan.items():
        print(f"{mode:<8} {row['ratio']:>6.2f} {row['cpu_ratio']:>10.2f} {row['best_ms']:>9.1f} "
              f"{row['median_ms']:>10.1f} {row['cpu_us_per_frame']:>13.1f} "
              f"{row['burst_p99_ms']:>10.1f} {row['p50_ms']:>10.2f} {row['p99_ms']:>10.2f}")
    print(f"(latencies in ms; paced: one message every {args.gap * 1000:.0f} ms)")

    web = http_latency(args.requests, 3)
    own = web["uvicorn binds its own port"]
    print(f"\nHTTP, kept alive: {args.requests} requests x 3 rounds each (median / p99 ms)")
    for name, row in web.items():
        print(f"{name:<30} GET {row['GET_median_ms']:6.2f} / {row['GET_p99_ms']:6.2f}   "
              f"POST {row['POST_median_ms']:6.2f} / {row['POST_p99_ms']:6.2f}")
    served = web["day25 serve (listen_socket)"]
    summary = {
        "members": args.members,
        "messages": args.messages,
        "broadcast_ratio": fan["rooms"]["ratio"],
        "broadcast_cpu_ratio": fan["rooms"]["cpu_ratio"],
        "broadcast_ratio_before": fan["gather"]["ratio"],
        "broadcast_best_ratio": fan["rooms"]["best_ms"] / fan["bare"]["best_ms"],
        "p99_ms": {mode: round(row["p99_ms"], 3) for mode, row in fan.items()},
        "burst_p99_ms": {mode: round(row["burst_p99_ms"], 3) for mode, row in fan.items()},
        "cpu_us_per_frame": {mode: round(row["cpu_us_per_frame"], 2) for mode, row in fan.items()},
        "http_get_ratio": served["GET_median_ms"] / own["GET_median_ms"],
        "http_post_ratio": served["POST_median_ms"] / own["POST_median_ms"],
        "http_median_ms": {name: round(row["GET_median_ms"], 3) for name, row in web.items()},
    }
    print(f"\nbroadcast ratio (rooms / bare): {summary['broadcast_ratio']:.2f} "
          f"(before: {summary['broadcast_ratio_before']:.2f}); HTTP latency ratio "
          f"(day25 serve / uvicorn's own socket): GET {summary['http_get_ratio']:.2f}, "
          f"POST {summary['http_post_ratio']:.2f}")
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
