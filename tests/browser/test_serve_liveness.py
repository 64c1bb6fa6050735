"""The demo page tells the truth about its connections and its inbox.

Found by an outside audit of ``day25 serve``:

* a server that stopped answering (``SIGSTOP``: hung, or a network gone without a
  word) left both pills on "connected" for as long as it lasted, while messages went
  nowhere; the page now asks every 15 s and gives a silent socket up after 10 s more;
* "Mark read" in one tab left the same user's other tab showing it unread, even
  after that tab reconnected and its backlog no longer held it;
* Enter on one "Mark read" dropped the keyboard's focus to the page's top;
* a long room name made a phone's page scroll sideways.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from websockets.sync.client import connect

from .conftest import ServeProcess, start_serve
from .test_serve_page import post_notification

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

TIMEOUT_MS = 10_000
HEARTBEAT_MS, SILENCE_MS = 15_000, 10_000  # socket.js


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServeProcess]:
    process = start_serve(["--db", str(tmp_path / "notes.sqlite3")])
    yield process
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.proc.pid, signal.SIGCONT)  # a test that failed while it was stopped
    process.stop()


def open_page(browser: Browser, server: ServeProcess, user: str, room: str = "lobby", *,
              width: int = 1280, clock: bool = False) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 820})
    if clock:
        context.clock.install()  # timers the test moves on: no 25 s of waiting
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server.url}/?user={user}&room={room}")
    for pill in ("#chat-status", "#notifications-status"):
        expect(page.locator(pill)).to_have_attribute("data-state", "open")
    return page


def test_a_server_that_stops_answering_is_noticed_and_rejoined(
    browser: Browser, server: ServeProcess
) -> None:
    page = open_page(browser, server, "hana", clock=True)
    expect(page.locator("#roster li")).to_have_attribute("data-user", "hana")
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        page.clock.run_for(HEARTBEAT_MS + SILENCE_MS + 1_000)
        for pill in ("#chat-status", "#notifications-status"):
            expect(page.locator(pill)).to_have_attribute("data-state", "reconnecting")
        expect(page.locator("#error-list li .text").first).to_contain_text(
            "did not answer for 10 s; reconnecting")
        expect(page.locator("#roster")).to_have_attribute("data-stale", "true")
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
    for _ in range(40):  # each reconnection waits on a timer: move the clock until it opens
        page.clock.run_for(1_000)
        if page.locator("#chat-status[data-state=open]").count() and page.locator(
                "#notifications-status[data-state=open]").count():
            break
    for pill in ("#chat-status", "#notifications-status"):
        expect(page.locator(pill)).to_have_attribute("data-state", "open")
    expect(page.locator("#roster")).to_have_attribute("data-stale", "false")
    expect(page.locator("#messages li.system").last).to_have_text("reconnected")
    page.fill("#message-text", "back")
    page.click("#send")
    expect(page.locator("#messages li[data-user=hana] .text")).to_have_text(["back"])


def test_a_healthy_server_is_asked_and_never_given_up(
    browser: Browser, server: ServeProcess
) -> None:
    page = open_page(browser, server, "ivo", clock=True)
    for _ in range(4):  # four heartbeats, each answered (a pong, an acked)
        page.clock.run_for(HEARTBEAT_MS)
        page.wait_for_timeout(200)  # real time for the answers to arrive
    page.clock.run_for(SILENCE_MS + 1_000)
    for pill in ("#chat-status", "#notifications-status"):
        expect(page.locator(pill)).to_have_attribute("data-state", "open")
    expect(page.locator("#error-list li")).to_have_count(0)


def test_tabs_of_one_user_agree_on_what_was_read(browser: Browser, server: ServeProcess) -> None:
    first = open_page(browser, server, "nora")
    second = first.context.new_page()
    second.set_default_timeout(TIMEOUT_MS)
    second.goto(f"{server.url}/?user=nora&room=lobby")
    expect(second.locator("#notifications-status")).to_have_attribute("data-state", "open")
    ids = [post_notification(server, "nora", title)["id"] for title in ("one", "two", "three")]
    for tab in (first, second):
        expect(tab.locator("#inbox li .title")).to_have_text(["one", "two", "three"])
    # Enter on one "Mark read": read in both tabs, and the focus moves to the next unread
    first.locator(f"#inbox li[data-id='{ids[0]}'] button").focus()
    first.keyboard.press("Enter")
    expect(first.locator(f"#inbox li[data-id='{ids[1]}'] button")).to_be_focused()
    expect(second.locator(f"#inbox li[data-id='{ids[0]}']")).to_have_class("level-normal read")
    expect(second.locator("#unread")).to_have_text("2")
    # read elsewhere (another device, here a script with nora's token): this tab learns it
    # from its next connection's backlog, which no longer holds it
    token = first.evaluate("localStorage.getItem('day25.session.nora')")
    with connect(f"{server.ws_url}/notifications/nora?token={token}", proxy=None) as other:
        frames = [json.loads(other.recv(timeout=10)) for _ in range(3)]
        assert frames[-1] == {"type": "backlog_end", "count": 2}
        other.send(json.dumps({"type": "ack", "ids": [ids[1]]}))
        assert json.loads(other.recv(timeout=10)) == {"type": "acked", "count": 1}
    first.evaluate("window.day25Demo.sockets.notifications.close()")  # a dropped connection
    expect(first.locator(f"#inbox li[data-id='{ids[1]}']")).to_have_class("level-normal read")
    expect(first.locator("#unread")).to_have_text("1")


def test_a_long_room_name_fits_a_phone(browser: Browser, server: ServeProcess) -> None:
    page = open_page(browser, server, "pia", "a" * 32, width=375)
    expect(page.locator("#room-name")).to_have_text("a" * 32)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def _token_user(page: Page) -> str:
    """The name the page's session token was issued for (its signed payload)."""
    payload = page.evaluate("window.day25Demo.state.token").split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["u"])


def test_joining_as_another_name_while_a_session_renews_leaves_nothing_of_the_first(
    browser: Browser, tmp_path: Path
) -> None:
    """From a red team: the sockets of the name left behind, renewing their session after a
    restart, opened again once the renewal came back, so the page joined as ``bob`` showed
    ``amy``'s inbox and roster, and its token spoke for ``amy``."""
    db = tmp_path / "switch.sqlite3"
    server = start_serve(["--db", str(db)])
    port = server.url.rsplit(":", 1)[1]
    try:
        post_notification(server, "amy", "secret for amy")
        post_notification(server, "bob", "for bob")
        page = open_page(browser, server, "amy")
        expect(page.locator("#inbox li .title")).to_have_text(["secret for amy"])
        held: list[Any] = []

        def slow_renewal(route: Any) -> None:  # a slow network: amy's renewal waits
            if b"renew" in (route.request.post_data_buffer or b"") and not held:
                held.append(route)
            else:
                route.continue_()

        page.route("**/session", slow_renewal)
        server.stop()
        server = start_serve(["--db", str(db), "--port", port])
        deadline = time.monotonic() + 20
        while not held:
            assert time.monotonic() < deadline, "the page never renewed its session"
            page.wait_for_timeout(100)
        page.click("#leave")  # while it waits, the reader switches names
        page.fill("#name", "bob")
        page.click("#join")
        expect(page.locator("#inbox li .title")).to_have_text(["for bob"])
        held[0].continue_()  # then amy's renewal comes back
        page.wait_for_timeout(3_000)
        expect(page.locator("#whoami")).to_have_text("you are bob")
        expect(page.locator("#inbox li .title")).to_have_text(["for bob"])
        expect(page.locator("#roster li")).to_have_text(["bob (you)"])
        assert _token_user(page) == "bob"
    finally:
        server.stop()


def test_a_read_the_server_never_stored_is_sent_again(browser: Browser, tmp_path: Path) -> None:
    """From a red team: 'Mark read' sent to a server that died before storing it left the
    page saying read while the server kept the notification, and no button could ack it
    again. A backlog that still holds what this tab read sends that ack again."""
    db = tmp_path / "lost-ack.sqlite3"
    server = start_serve(["--db", str(db)])
    port = server.url.rsplit(":", 1)[1]
    try:
        note = post_notification(server, "pat", "read me")["id"]
        page = open_page(browser, server, "pat")
        expect(page.locator("#inbox li .title")).to_have_text(["read me"])
        os.kill(server.proc.pid, signal.SIGSTOP)  # the ack waits in the socket...
        page.click(f"#inbox li[data-id='{note}'] button")
        expect(page.locator("#unread")).to_have_text("0")
        server.proc.kill()  # ...and dies with the server
        server.proc.wait(timeout=10)
        server = start_serve(["--db", str(db), "--port", port])
        expect(page.locator("#notifications-status")).to_have_attribute(
            "data-state", "open", timeout=30_000)
        token = page.evaluate("window.day25Demo.state.token")
        deadline = time.monotonic() + 10
        while True:  # the server's own backlog for pat: the ack was sent again
            with connect(f"{server.ws_url}/notifications/pat?token={token}", proxy=None) as inbox:
                first = json.loads(inbox.recv(timeout=10))
            if first == {"type": "backlog_end", "count": 0}:
                break
            assert time.monotonic() < deadline, f"the server still has it: {first}"
            time.sleep(0.3)
        expect(page.locator("#unread")).to_have_text("0")
    finally:
        server.stop()
