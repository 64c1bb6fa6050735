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
import asyncio
import httpx
from day25.course.inside.websocket_tab import WebSocketTab

async def probe(module):
    app = module.create_app(*ASK["args"], **ASK["kwargs"])
    replies = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for method, url, body in ASK["http"]:
            r = await client.request(method, url, json=body)
            try:
                replies.append([r.status_code, r.json()])
            except ValueError:
                replies.append([r.status_code, r.text[:300]])
    return {"replies": replies, "frames": await tab(app) if ASK["path"] else []}

async def tab(app):
    path, _, query = ASK["path"].partition("?")
    tab = WebSocketTab(app, path, query)
    for frame in ASK["sends"]:
        tab.send_json(frame)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 3.0
    while len(tab.frames) < ASK["count"] and not tab.closed and not tab.task.done() and (
            loop.time() < deadline):
        await asyncio.sleep(0.005)
    tab.close()
    await asyncio.wait([tab.task], timeout=1.0)
    tab.task.cancel()
    return tab.frames
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
