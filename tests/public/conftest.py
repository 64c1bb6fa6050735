"""Public checks: what students run. Failures name the expectation, and where to get a hint."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from day25.course.harness import AppServer, ScenarioClient, SubmissionError, first_difference


@pytest.fixture(scope="module")
def expect(scenario_client: ScenarioClient) -> Any:
    """``expect(ops, traces, errors=None, values=None, clock=None)``: run ``ops`` in a child
    process (``clock="virtual"``: on a loop whose clock skips the waits of ``sleep``).

    ``traces[i]`` is step i's calls ``[[listener, payload], ...]``; ``errors`` maps a
    step to the exception type it must raise, ``values`` a step to what it must
    return (a ``count``, an ``emit``'s result).
    """
    exercise = scenario_client.exercise.id

    def run(ops: list[dict[str, Any]], traces: list[list[list[Any]]],
            errors: dict[int, str] | None = None, values: dict[int, Any] | None = None,
            clock: str | None = None) -> None:
        want: list[dict[str, Any]] = [{"trace": t} for t in traces]
        for step, error in (errors or {}).items():
            want[step]["error"] = error
        for step, value in (values or {}).items():
            want[step]["value"] = value
        scenario = {"ops": ops, **({"clock": clock} if clock else {})}
        problem = first_difference(ops, want, scenario_client.run(scenario))
        if problem:
            pytest.fail(f"{problem}\n\nStuck? `day25 hint {exercise}` shows the next hint.",
                        pytrace=False)

    return run


# A second app of the served app's module, made in the served app's process (as a notebook
# cell run again makes one) and driven there over ASGI: its HTTP requests (`http`: method,
# path, JSON body) first, then at most one WebSocket tab at `path` with `sends` queued after
# its connect, which closes once it has `count` frames (or after 3 s).
SECOND_APP = """
import asyncio, json
import httpx

async def probe(module):
    app = module.create_app(*ASK["args"], **ASK["kwargs"])
    replies, frames = [], []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for method, url, body in ASK["http"]:
            r = await client.request(method, url, json=body)
            try:
                replies.append([r.status_code, r.json()])
            except ValueError:
                replies.append([r.status_code, r.text[:300]])
    if ASK["path"]:
        await tab(app, frames)
    return {"replies": replies, "frames": frames}

async def tab(app, frames):
    inbox, done = asyncio.Queue(), asyncio.Event()
    inbox.put_nowait({"type": "websocket.connect"})
    for frame in ASK["sends"]:
        inbox.put_nowait({"type": "websocket.receive", "text": json.dumps(frame)})

    async def send(message):
        if message["type"] == "websocket.send":
            frames.append(json.loads(message.get("text") or message.get("bytes")))
        if message["type"] == "websocket.close" or len(frames) >= ASK["count"]:
            done.set()

    path, _, query = ASK["path"].partition("?")
    scope = {"type": "websocket", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "scheme": "ws", "server": ("testserver", 80), "client": ("127.0.0.1", 50000),
             "root_path": "", "path": path, "raw_path": path.encode(),
             "query_string": query.encode(), "headers": [(b"host", b"testserver")],
             "subprotocols": [], "state": {}}
    task = asyncio.ensure_future(app(scope, inbox.get, send))
    await asyncio.wait([task, asyncio.ensure_future(done.wait())], timeout=3.0,
                       return_when=asyncio.FIRST_COMPLETED)
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait([task], timeout=1.0)
    task.cancel()
"""


@pytest.fixture
def second_app() -> Callable[..., Awaitable[dict[str, Any]]]:
    """``await second_app(server, path, sends, count, *args, http=(), **kwargs)``: what a
    second ``create_app(*args, **kwargs)`` answered to ``http`` (``"replies"``: status and
    JSON) and the frames its tab at ``path`` got (``"frames"``; no tab if ``path`` is None)."""

    async def run(server: AppServer, path: str | None, sends: list[dict[str, Any]],
                  count: int, *args: Any, http: tuple[list[Any], ...] = (),
                  **kwargs: Any) -> dict[str, Any]:
        ask = {"path": path, "sends": sends, "count": count, "args": args, "http": http,
               "kwargs": kwargs}
        source = f"import json\nASK = json.loads({json.dumps(json.dumps(ask))})\n" + SECOND_APP
        try:
            got = await server.probe(source)
        except SubmissionError as exc:  # its create_app (or what the tab ran) raised or hung
            failed = str(exc).removeprefix("the probe raised ")
        else:
            return got if isinstance(got, dict) else {"replies": [], "frames": [], "failed": got}
        pytest.fail(f"A second create_app() of your module, in the same process (a notebook cell "
                    f"run again), failed: {failed}", pytrace=False)

    return run
