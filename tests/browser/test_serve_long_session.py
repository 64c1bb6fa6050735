"""A page open for longer than its session token lasts: it keeps its name.

A token lasts a day (``max_age``), and a page checks it only when it connects, so a
page can stay open for days. When one of its sockets then drops (Wi-Fi, a laptop lid),
or it sends a notification, its token has expired and it must get a new one; its own
session still holds the name, so before, ``POST /session`` answered 409 for the next
10 minutes and the page showed "joining again failed". The page now sends its expired
token to be renewed (:meth:`day25.serve.Sessions.issue`).

The server runs in this process, with tokens that last 2 seconds instead of a day; the
sockets are dropped between the page and the server, as a network would drop them.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from day25.serve import Sessions, build_app, uvicorn_config
from day25.serve.runner import bind

from .conftest import request_json

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

LASTS = 2  # seconds a token lasts here (a day in `day25 serve`)


@pytest.fixture
def short_sessions_url(tmp_path: Path) -> Iterator[str]:
    served = build_app(db=tmp_path / "long.sqlite3", sessions=Sessions(max_age=LASTS))
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn_config(served.app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the in-process server did not start"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=20)
    sock.close()


def outlive_the_token() -> None:
    # itsdangerous counts whole seconds: past LASTS + 1 of them, every token is expired
    time.sleep(LASTS + 1.2)


def test_a_page_open_longer_than_its_token_keeps_its_name(
    browser: Browser, short_sessions_url: str
) -> None:
    url = short_sessions_url
    context = browser.new_context()
    page: Page = context.new_page()
    page.set_default_timeout(15_000)
    wires: list[WebSocketRoute] = []

    def through(page_side: WebSocketRoute) -> None:
        page_side.connect_to_server()
        wires.append(page_side)

    page.route_web_socket(re.compile(r"/(chat|notifications)/"), through)
    try:
        page.goto(f"{url}/?user=lena&room=lobby")
        for socket in ("#chat-status", "#notifications-status"):
            expect(page.locator(socket)).to_have_attribute("data-state", "open")
        outlive_the_token()

        # 1. both sockets drop: they come back with a renewed token, under the same name
        for wire in list(wires):
            wire.close(code=1001, reason="the network went away")
        for socket in ("#chat-status", "#notifications-status"):
            expect(page.locator(socket)).to_have_attribute("data-state", "open")
        page.fill("#message-text", "still here")
        page.press("#message-text", "Enter")
        expect(page.locator("#messages li[data-user=lena] .text")).to_have_text("still here")
        expect(page.locator("#roster li")).to_have_attribute("data-user", "lena")

        # 2. the renewed token expires too; the page's next notification renews it again
        outlive_the_token()
        page.fill("#notify-user", "lena")
        page.fill("#notify-title", "a day later")
        page.click("#notify-send")
        expect(page.locator("#notify-result")).to_contain_text("sent to lena")
        expect(page.locator("#inbox li .title")).to_have_text(["a day later"])
        expect(page.locator("#error-list li")).to_have_count(0)

        # and the name is still held: nobody else may take it meanwhile
        status, body = request_json(url, "POST", "/session", {"user": "LENA"})
        assert status == 409, body
    finally:
        context.close()
