"""Public checks: what students run. Failures name the expectation, and where to get a hint."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from day25.course.harness import AppServer, ScenarioClient, first_difference


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
# cell run again makes one) and driven there over ASGI: one WebSocket tab, `sends` queued
# after its connect; it closes once it has `count` frames (or after 3 s) and returns them.
SECOND_APP = """
import asyncio, json

async def probe(module):
    app = module.create_app(**ASK["kwargs"])
    frames, inbox, done = [], asyncio.Queue(), asyncio.Event()
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
    tab = asyncio.ensure_future(app(scope, inbox.get, send))
    await asyncio.wait([tab, asyncio.ensure_future(done.wait())], timeout=3.0,
                       return_when=asyncio.FIRST_COMPLETED)
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait([tab], timeout=1.0)
    tab.cancel()
    return frames
"""


@pytest.fixture
def second_app() -> Callable[..., Awaitable[list[Any]]]:
    """``await second_app(server, path, sends, count, **factory_kwargs)``: the frames a tab at
    ``path`` of a second ``create_app(**factory_kwargs)`` got (:data:`SECOND_APP`)."""

    async def run(server: AppServer, path: str, sends: list[dict[str, Any]], count: int,
                  **kwargs: Any) -> list[Any]:
        ask = {"path": path, "sends": sends, "count": count, "kwargs": kwargs}
        got = await server.probe(f"import json\nASK = json.loads({json.dumps(json.dumps(ask))})\n"
                                 + SECOND_APP)
        return got if isinstance(got, list) else [got]

    return run
