"""What the test modules of notification_queueing's hidden suite share.

Loaded with ``load_beside(__file__, "notification_support")`` (the folder is not a
package): the fields of a notification frame, the default ttl, the client helpers that
POST, read a backlog, acknowledge and check a frame.

How every test module of the suite works: it talks real HTTP and WebSockets to the
submission's app, served by the harness in a child process, and never imports the
submission. Every receive has a timeout. Faults (a tab whose sends raise, stall or are
slow; an app killed between a store and its push) come from the harness, never from
sleeping and hoping.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from day25.course.harness import AppServer, reply_text
from day25.course.protocol import FAULT_HEADER

FIELDS = {"type", "id", "seq", "user", "title", "body", "level", "created_at", "expires_at"}
DAY = 86400.0  # the default ttl_seconds


#: What a probe that drives a second ``create_app`` over ASGI starts with (``SLOW_TAB``,
#: ``PAUSED_TAB``): it runs in the app's process (``server.probe``), so a tab's sends can be
#: paused without costing real time. ``probe(module)`` awaits ``scenario(module, folder)``,
#: which the probe defines after this text, in a thread of its own, on a loop whose clock
#: skips waits (day25's VirtualClockLoop), with a scratch folder of its own under /tmp for
#: the database; a correct app takes a few tens of milliseconds, one that hangs is given
#: 2 s. ``tab(app, path, send, inbox=None)`` starts a WebSocket tab on ``path``: the app
#: receives from the queue ``inbox`` (after a connect) and sends to ``send``;
#: ``frames_until(tab, frames, got, count)`` waits until ``frames`` holds ``count`` or the
#: tab ended.
ASGI_PROBE = '''import asyncio
import json
import os
import shutil
import tempfile
import threading

import httpx

from day25.course.inside.virtual_clock import VirtualClockLoop


def probe(module):
    folder = tempfile.mkdtemp(prefix="asgi-probe-")
    box = {}
    thread = threading.Thread(target=run, args=(module, folder, box), daemon=True)
    thread.start()
    thread.join(2.0)
    if thread.is_alive() and "stop" in box:
        box["stop"]()
        thread.join(0.5)
    shutil.rmtree(folder, ignore_errors=True)
    return box.get("result", "the app did not finish in 2 s")


def run(module, folder, box):
    async def stoppable():
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        box["stop"] = lambda: loop.call_soon_threadsafe(task.cancel)
        return await scenario(module, folder)

    try:
        with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
            box["result"] = runner.run(stoppable())
    except BaseException as exc:
        box["result"] = f"{type(exc).__name__}: {exc}"[:500]


def tab(app, path, send, inbox=None):
    scope = {"type": "websocket", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "scheme": "ws", "server": ("testserver", 80), "client": ("127.0.0.1", 50000),
             "root_path": "", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"host", b"testserver")], "subprotocols": [], "state": {}}
    inbox = asyncio.Queue() if inbox is None else inbox
    inbox.put_nowait({"type": "websocket.connect"})
    return asyncio.create_task(app(scope, inbox.get, send))


def recorder(frames, got):
    """An ASGI send that keeps each frame the app sends in ``frames`` and sets ``got``."""
    async def send(message):
        if message.get("type") == "websocket.send":
            frames.append(json.loads(message.get("text") or message.get("bytes")))
        got.set()
    return send


async def frames_until(tab, frames, got, count):
    while len(frames) < count and not tab.done():
        got.clear()
        waiter = asyncio.create_task(got.wait())
        await asyncio.wait({waiter, tab}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
'''


def where(user: str) -> str:
    return f"/notifications/{user}"


def faulty(fault: str) -> dict[str, Any]:
    return {"additional_headers": {FAULT_HEADER: fault}}


async def send(server: AppServer, body: Any) -> httpx.Response:
    """POST ``body`` (bytes as they are, anything else as JSON) to /notifications."""
    async with server.http() as client:
        if isinstance(body, bytes):
            return await client.post("/notifications", content=body,
                                     headers={"content-type": "application/json"})
        return await client.post("/notifications", json=body)


async def post(server: AppServer, user: str, title: str, **extra: Any) -> dict[str, Any]:
    fields = {"user": user, "title": title, **extra}
    r = await send(server, fields)
    assert r.status_code == 201, (
        f"POST {json.dumps(fields)[:160]} should answer 201, got {r.status_code}: {reply_text(r)}")
    reply: dict[str, Any] = r.json()
    assert set(reply) == {"id", "seq", "delivered"}, f"a 201 body is exactly those: {reply}"
    return reply


async def refused(server: AppServer, body: Any) -> None:
    """``body`` gets 422 with exactly {"error": "<what is wrong>"}."""
    r = await send(server, body)
    shown = body[:60] if isinstance(body, bytes) else json.dumps(body)[:120]
    assert r.status_code == 422, f"POST {shown} should answer 422, got {r.status_code}"
    reply = r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text
    assert isinstance(reply, dict) and set(reply) == {"error"} and isinstance(reply["error"], str) \
        and reply["error"], f"a 422 body is exactly {{'error': '<what is wrong>'}}, got {reply}"


async def backlog(server: AppServer, ws: Any, *seen: dict[str, Any],
                  as_sent: bool = False) -> list[dict[str, Any]]:
    """Every notification frame up to backlog_end (after those ``seen``), checking that frame.

    Sorted by seq unless ``as_sent``: the order a backlog comes in is the backlog tests'
    to grade (they ask ``as_sent``). A test of another rule must neither pass nor fail by
    it: a backlog sorted by a random id came in the right order by luck in some runs, and
    five tests of acks, limits, tabs and restarts gave the same code a different grade
    from run to run.
    """
    frames = list(seen)
    while True:
        frame = await server.recv_json(
            ws, expecting="the next notification of the backlog, or the backlog_end frame")
        if frame.get("type") == "backlog_end":
            assert frame == {"type": "backlog_end", "count": len(frames)}, \
                _backlog_end(frames, frame)
            return frames if as_sent else sorted(frames, key=_by_seq)
        assert frame.get("type") == "notification", f"expected a notification, got {frame}"
        frames.append(frame)


def _backlog_end(frames: list[dict[str, Any]], frame: dict[str, Any]) -> str:
    """What is wrong with a backlog_end that came after ``frames``, for a student."""
    count = frame.get("count")
    said = (f"backlog_end is {{'type': 'backlog_end', 'count': N}}, N the notification frames "
            f"sent before it: {len(frames)} came before {frame}")
    if isinstance(count, int) and 0 <= count < len(frames):
        newest = max(frames, key=_by_seq)
        said += (f", {len(frames) - count} more than it counts (the newest: "
                 f"{newest}): a live push sent to this tab before its backlog_end? A tab "
                 "becomes live only once its backlog_end went out")
    return said


def _by_seq(frame: dict[str, Any]) -> tuple[int, int]:
    """A frame's place in seq order (one without an integer seq last, as it came)."""
    seq = frame.get("seq")
    return (0, seq) if isinstance(seq, int) and not isinstance(seq, bool) else (1, 0)


async def acked(server: AppServer, ws: Any, ids: list[str]) -> int:
    await ws.send(json.dumps({"type": "ack", "ids": ids}))
    reply = await server.recv_json(ws, expecting="the acked reply to an ack")
    assert set(reply) == {"type", "count"} and reply["type"] == "acked", f"not acked: {reply}"
    count: int = reply["count"]
    return count


def check_frame(frame: dict[str, Any], reply: dict[str, Any], user: str, title: str,
                body: str = "", level: str = "normal", ttl: float = DAY) -> None:
    """Every field of a notification frame against what was posted and answered."""
    assert set(frame) == FIELDS, f"a notification frame has exactly {sorted(FIELDS)}: {frame}"
    got = {k: frame[k] for k in ("type", "id", "seq", "user", "title", "body", "level")}
    want = {"type": "notification", "id": reply["id"], "seq": reply["seq"], "user": user,
            "title": title, "body": body, "level": level}
    assert got == want, f"expected the notification {want}, got {got}"
    assert abs(frame["expires_at"] - frame["created_at"] - ttl) < 1e-3, f"ttl {ttl}: {frame}"
