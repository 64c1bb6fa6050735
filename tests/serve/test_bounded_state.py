"""Inventing names does not grow the server: per-name state stays bounded.

10,000 distinct names each take a session; hundreds of them also get a
notification and open their inbox, and more rooms than the idle cap are visited.
Afterwards the server holds state only for what is in use plus the bounded idle
caches (``/status.json`` reports the sizes). Without the bounds every name would
stay: ``seqs`` per room, a lock per user, a session per name.
"""

from __future__ import annotations

import asyncio
import http.client
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from websockets.asyncio.client import connect

from .conftest import ServeProcess

pytestmark = pytest.mark.timeout(180)

NAMES = 10_000
INBOXES = 300
ROOMS = 1_100  # more than the demo keeps idle (1,000)
IDLE_CAP = 1_000  # Sessions(idle_names=...) and the chat's idle_rooms, their defaults


def claim(port: int, names: range) -> list[str]:
    """``POST /session`` for each name on one kept-alive connection; the tokens."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    tokens = []
    try:
        for i in names:
            body = json.dumps({"user": f"n{i}"}).encode()
            conn.request("POST", "/session", body, {"content-type": "application/json"})
            response = conn.getresponse()
            reply = json.loads(response.read())
            assert response.status == 201, reply
            tokens.append(reply["token"])
    finally:
        conn.close()
    return tokens


def status(port: int) -> dict[str, dict[str, int]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/status.json")
        return json.loads(conn.getresponse().read())["per_name_state"]  # type: ignore[no-any-return]
    finally:
        conn.close()


async def visit(served: ServeProcess, tokens: list[str]) -> None:
    gate = asyncio.Semaphore(8)

    async def inbox(i: int) -> None:
        async with gate, connect(f"{served.ws_url}/notifications/n{i}?token={tokens[i]}") as ws:
            frames = [json.loads(await ws.recv()) for _ in range(2)]
            assert frames[1] == {"type": "backlog_end", "count": 1}
            await ws.send(json.dumps({"type": "ack", "ids": [frames[0]["id"]]}))
            assert json.loads(await ws.recv()) == {"type": "acked", "count": 1}

    async def room(i: int) -> None:
        path = f"/chat/room{i}?user=n{i}&token={tokens[i]}"
        async with gate, connect(f"{served.ws_url}{path}") as ws:
            await ws.recv()  # roster
            await ws.recv()  # own join
            await ws.send(json.dumps({"type": "message", "text": "hello"}))
            assert json.loads(await ws.recv())["seq"] == 1

    await asyncio.gather(*(inbox(i) for i in range(INBOXES)))
    await asyncio.gather(*(room(i) for i in range(ROOMS)))


async def test_ten_thousand_names_leave_bounded_state(served: ServeProcess) -> None:
    port = int(served.url.rsplit(":", 1)[1])
    chunks = [range(start, min(start + 2_500, NAMES)) for start in range(0, NAMES, 2_500)]
    with ThreadPoolExecutor(4) as pool:
        tokens = [t for part in pool.map(lambda names: claim(port, names), chunks) for t in part]
    assert len(tokens) == NAMES
    assert status(port)["sessions"] == {"connected_names": 0, "idle_names": IDLE_CAP}
    # only the newest idle names are held: the first ones were let go, and can be claimed
    # again (a held name gets 409, which claim() would fail on)
    tokens = claim(port, range(0, ROOMS))
    for i in range(INBOXES):
        status_code, _ = served.post("/notifications", {"user": f"n{i}", "title": "hi"})
        assert status_code == 201
    await visit(served, tokens)
    await asyncio.sleep(0.3)  # the last closes reach the server

    sizes = status(port)
    assert sizes["sessions"]["connected_names"] == 0
    assert sizes["sessions"]["idle_names"] <= IDLE_CAP
    assert sizes["chat_broadcasting"] == {
        "rooms": 0, "presence": 0, "connections": 0, "seqs": 0,
        "idle_seqs": IDLE_CAP,  # 1,100 rooms visited, the 1,000 most recent kept
    }
    assert sizes["notification_queueing"] == {"tabs": 0, "locks": 0}
