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

**Nodes** (``--nodes 2``, issue 18). The same room on a broker: a
``redis-server`` started on a free port (or ``--broker URL``), two :class:`Node`
servers each with a :class:`day25.realtime.EventRelay` on it, as ``day25 serve
--broker`` runs them. Three rooms of ``--members``, rounds interleaved:

* ``local``: all members on node A, ``rooms.broadcast`` (no broker: the baseline);
* ``broker, 1 node``: all members on node A, published on the relay, delivered by
  A's reader (what the broker costs without a second node);
* ``broker, 2 nodes``: half the members on A, half on B, published on A.

Reported: messages per second in the burst rounds (``--messages`` published at
once, until the last member has the last one) and the p50 / p99 latency of the
paced rounds. Target: ``broker, 2 nodes`` p99 within 2x of ``local``. The two nodes
are two uvicorn servers in this process, each on its own thread and event loop (they
share the GIL, which the single-node rows do not pay: pessimistic for two nodes).

``--json`` prints a summary as its last line. The server side is a :class:`Node`
(a server and its members).
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

from day25 import EventBus
from day25.realtime import BackgroundServer, Broker, EventRelay, Rooms
from day25.realtime.server import listen_socket
from day25.serve import build_app, uvicorn_config

TEXT = "x" * 100  # a chat message
MODES = ("bare", "rooms", "gather")


# -- fan-out: the server side ------------------------------------------------------
class Node:
    """One server holding room members (``/fan``: room ``r``; ``/fan/{room}``); with a
    ``broker`` URL, an :class:`EventRelay` delivers ``bench.message`` to its rooms."""

    def __init__(self, broker: str | None = None) -> None:
        self.members: list[WebSocket] = []
        self.rooms: Rooms[WebSocket] = Rooms(send_timeout=10.0, outbox_size=10_000)
        app = NexiosApp()
        app.ws_route("/fan")(self._member)
        app.ws_route("/fan/{room}")(self._member)
        self.relay: EventRelay | None = None
        if broker is not None:
            bus = EventBus()
            self.relay = EventRelay(Broker(broker, prefix="bench"), bus,
                                    events={"bench.message"})
            bus.on("bench.message", self._relayed)
        self.server = BackgroundServer(app)

    async def _relayed(self, message: dict[str, Any]) -> None:
        await self.rooms.broadcast(message["room"], message)

    def count(self, room: str) -> int:
        return len(self.rooms.members(room))

    async def _member(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room", "r")
        self.members.append(ws)
        self.rooms.join(room, ws)
        try:
            while (await ws.receive())["type"] != "websocket.disconnect":
                pass
        finally:
            self.rooms.leave(room, ws)
            self.members.remove(ws)

    async def publish(self, room: str, number: int, messages: int, gap: float) -> float:
        """Publish ``messages`` on the relay (each with the room's next seq); the start
        time (monotonic)."""
        assert self.relay is not None
        started = time.monotonic()
        for seq in range(messages):
            if gap and seq:
                await asyncio.sleep(gap)
            message = {"type": "message", "round": number, "n": seq, "t": time.monotonic(),
                       "room": room, "user": "bench", "text": TEXT}
            await self.relay.publish("bench.message", room, message, seq=True)
        return started

    async def round(
        self, mode: str, number: int, messages: int, gap: float = 0.0, room: str = "r"
    ) -> tuple[float, float]:
        """Broadcast ``messages`` with ``mode`` (``gap`` seconds apart); (wall seconds,
        CPU seconds) on the server."""
        members, rooms = self.rooms.members(room), self.rooms
        started, cpu = time.perf_counter(), time.thread_time()
        for seq in range(messages):
            if gap and seq:
                await asyncio.sleep(gap)
            message = {"type": "message", "round": number, "n": seq, "t": time.monotonic(),
                       "room": room, "user": "bench", "text": TEXT}
            if mode == "bare":
                text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
                for ws in members:
                    await ws.send_text(text)
            elif mode == "rooms":
                await rooms.broadcast(room, message)
            else:
                await asyncio.gather(
                    *(asyncio.wait_for(ws.send_json(message), 10.0) for ws in members),
                    return_exceptions=True,
                )
        await rooms.flush()
        return time.perf_counter() - started, time.thread_time() - cpu


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


# -- nodes over a broker ---------------------------------------------------------------
NODE_MODES = ("local", "broker, 1 node", "broker, 2 nodes")


class RedisProcess:
    """A throw-away ``redis-server`` (no persistence) on a free port, for ``--nodes 2``."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="day25-bench-redis-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir], stdout=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        for _ in range(500):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def nodes(members: int, messages: int, rounds: int, gap: float,
          broker: str) -> dict[str, dict[str, float]]:
    """The three rows of ``--nodes 2`` (see the module): rate and latency of each."""
    a, b = Node(broker), Node(broker)
    with a.server, b.server:
        for node in (a, b):
            assert node.relay is not None
            node.server.call(node.relay.start())
        one = Clients(a.server.ws_url("/fan/one"), members, messages)
        two = Clients(f"{a.server.ws_url('/fan/two')},{b.server.ws_url('/fan/two')}",
                      members, messages)
        try:
            while a.count("one") < members or a.count("two") + b.count("two") < members:
                time.sleep(0.05)
            rates: dict[str, list[float]] = {m: [] for m in NODE_MODES}
            paced: dict[str, list[float]] = {m: [] for m in NODE_MODES}
            number = 0
            for _ in range(rounds):
                for mode in NODE_MODES:
                    clients = two if mode.endswith("2 nodes") else one
                    room = "two" if clients is two else "one"
                    for spacing in (0.0, gap):
                        number += 1
                        started = time.monotonic()
                        if mode == "local":
                            a.server.call(a.round("rooms", number, messages, spacing, room), 120)
                        else:
                            a.server.call(a.publish(room, number, messages, spacing), 120)
                        report = clients.report()
                        assert report["round"] == number
                        assert report["frames"] == members * messages, report["frames"]
                        if spacing:
                            paced[mode].extend(report["latencies"])
                        else:
                            rates[mode].append(messages / (report["last"] - started))
        finally:
            one.stop()
            two.stop()
        for node in (a, b):
            assert node.relay is not None
            node.server.call(node.relay.stop())
            node.server.call(node.relay.broker.aclose())
    out: dict[str, dict[str, float]] = {}
    for mode in NODE_MODES:
        spaced = sorted(paced[mode])
        out[mode] = {
            "messages_per_s": statistics.median(rates[mode]),
            "p50_ms": spaced[len(spaced) // 2] * 1000,
            "p99_ms": spaced[int(len(spaced) * 0.99)] * 1000,
        }
    return out


def report_nodes(args: argparse.Namespace) -> None:
    redis_process = None if args.broker else RedisProcess()
    broker = args.broker or redis_process.url  # type: ignore[union-attr]
    try:
        rows = nodes(args.members, args.messages, args.rounds, args.gap, broker)
    finally:
        if redis_process is not None:
            redis_process.stop()
    print(f"nodes: one room of {args.members} members, {args.messages} messages per round, "
          f"{args.rounds} interleaved rounds (Python {sys.version.split()[0]})")
    print(f"{'':<18} {'messages/s (burst)':>19} {'paced p50 ms':>13} {'paced p99 ms':>13}")
    for mode, row in rows.items():
        print(f"{mode:<18} {row['messages_per_s']:>19.0f} {row['p50_ms']:>13.2f} "
              f"{row['p99_ms']:>13.2f}")
    local = rows["local"]["p99_ms"]
    summary = {
        "nodes": 2,
        "members": args.members,
        "messages": args.messages,
        "messages_per_s": {m: round(r["messages_per_s"], 1) for m, r in rows.items()},
        "p50_ms": {m: round(r["p50_ms"], 3) for m, r in rows.items()},
        "p99_ms": {m: round(r["p99_ms"], 3) for m, r in rows.items()},
        "cross_node_p99_ratio": rows["broker, 2 nodes"]["p99_ms"] / local,
        "broker_p99_ratio": rows["broker, 1 node"]["p99_ms"] / local,
    }
    print(f"\ncross-node p99 / single-node p99 (no broker): "
          f"{summary['cross_node_p99_ratio']:.2f} (target <= 2.00); one node on the broker: "
          f"{summary['broker_p99_ratio']:.2f}")
    if args.json:
        print(json.dumps(summary))


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
    parser.add_argument("--nodes", type=int, default=1,
                        help="2: the same room split over two servers on a broker")
    parser.add_argument("--broker", default=None,
                        help="redis://HOST:PORT/DB for --nodes 2 (default: start redis-server)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary last")
    parser.add_argument("--client", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(client_main(args.client, args.members, args.messages))
        return
    if args.nodes == 2:
        report_nodes(args)
        return
    if args.nodes != 1:
        parser.error("--nodes is 1 (one server) or 2 (two servers on a broker)")

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
