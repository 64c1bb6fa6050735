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
(a server and its members); the servers are in ``fanout_servers.py``, the clients
(the members' process, the HTTP requests) in ``fanout_clients.py``, beside this script.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fanout_clients import Clients, client_main, session_token, timed
from fanout_servers import Node, RedisProcess, Threaded, free_port, plain_listener

from day25.realtime.server import listen_socket
from day25.serve import build_app

MODES = ("bare", "rooms", "gather")


# -- fan-out ------------------------------------------------------------------------
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
