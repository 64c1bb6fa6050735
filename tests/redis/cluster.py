"""Helpers for the multi-node tests: ``day25 serve --broker`` processes and their clients."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from ..browser.conftest import ServeProcess, start_serve

#: the session tokens of each chat (one Redis process), shared by its nodes: a name is
#: held once for the whole chat, so ``b.token("ann")`` is the token ``a`` issued for ann
_TOKENS: dict[tuple[str, str], dict[str, str]] = {}


def start_node(url: str, *args: str) -> ServeProcess:
    """``day25 serve --broker URL --port 0 ...`` (one node of the chat)."""
    node = start_serve(["--broker", url, *args])
    with redis.Redis.from_url(url) as client:
        run_id = str(client.info("server")["run_id"])
    node.tokens = _TOKENS.setdefault((url, run_id), {})
    return node


def recv(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=timeout))  # type: ignore[no-any-return]


def recv_until(
    ws: ClientConnection, check: Callable[[dict[str, Any]], bool], timeout: float = 15.0
) -> list[dict[str, Any]]:
    """Frames up to and including the first that ``check`` accepts."""
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no matching frame within {timeout} s; got {frames}")
        frames.append(recv(ws, left))
        if check(frames[-1]):
            return frames


def silent(ws: ClientConnection, seconds: float = 0.5) -> list[dict[str, Any]]:
    """What arrives within ``seconds`` (usually: nothing)."""
    frames = []
    try:
        while True:
            frames.append(recv(ws, seconds))
    except TimeoutError:
        return frames


def for_a_while(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Every frame that arrives within the next ``seconds``."""
    frames = []
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            frames.append(recv(ws, left))
    except TimeoutError:
        pass
    return frames


def closed_with(ws: ClientConnection, timeout: float = 10.0) -> int | None:
    try:
        while True:
            ws.recv(timeout=timeout)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


@contextmanager
def chat(node: ServeProcess, room: str, user: str, token: str | None = None
         ) -> Iterator[ClientConnection]:
    """A chat connection that has had its roster (the first frame)."""
    token = token or node.token(user)
    with connect(f"{node.ws_url}/chat/{room}?user={user}&token={token}", proxy=None,
                 open_timeout=15) as ws:
        first = recv(ws)
        assert first["type"] == "roster", first
        ws.roster = first  # type: ignore[attr-defined]
        yield ws


@contextmanager
def inbox(node: ServeProcess, user: str, token: str) -> Iterator[ClientConnection]:
    with connect(f"{node.ws_url}/notifications/{user}?token={token}", proxy=None,
                 open_timeout=15) as ws:
        yield ws


def backlog(ws: ClientConnection) -> list[dict[str, Any]]:
    """The notifications before ``backlog_end`` (checked against its count)."""
    frames = recv_until(ws, lambda f: f["type"] == "backlog_end")
    notes = frames[:-1]
    assert all(f["type"] == "notification" for f in notes), frames
    assert frames[-1]["count"] == len(notes)
    return notes
