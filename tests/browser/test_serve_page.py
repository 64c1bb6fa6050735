"""``day25 serve`` in a real Chromium: chat, presence, offline inbox, and a tampered client.

Each test opens separate browser contexts (separate users, as two people on two
machines would be) against one ``day25 serve`` subprocess (the demo).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from .conftest import ServeProcess

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120),
              pytest.mark.xdist_group("serve-page")]  # one xdist worker: one day25 serve

TIMEOUT_MS = 10_000


class Users:
    """Opens one page per user, each in its own browser context, and collects console errors."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.browser, self.url = browser, url
        self.contexts: list[Any] = []
        self.console_errors: list[str] = []

    def open(self, user: str, room: str) -> Page:
        context = self.browser.new_context(viewport={"width": 1280, "height": 820})
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error":
                self.console_errors.append(f"{user}: {msg.text}")

        page.on("console", on_console)
        page.goto(f"{self.url}/?user={user}&room={room}")
        expect(page.locator("#chat-status")).to_have_attribute("data-state", "open")
        expect(page.locator("#notifications-status")).to_have_attribute("data-state", "open")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def users(browser: Browser, served: ServeProcess) -> Iterator[Users]:
    opened = Users(browser, served.url)
    yield opened
    opened.close()


def roster(page: Page) -> Any:
    return page.locator("#roster li")


def post_notification(server: ServeProcess, user: str, title: str) -> dict[str, Any]:
    status, body = server.post("/notifications", {"user": user, "title": title})
    assert status == 201, body
    return body  # type: ignore[no-any-return]


def test_message_reaches_both_users_and_roster_follows_presence(
    users: Users, artifacts: Path
) -> None:
    alice = users.open("alice", "lobby")
    bob = users.open("bob", "lobby")
    for page in (alice, bob):
        expect(roster(page)).to_have_count(2)
        expect(page.locator("#roster li[data-user=alice]")).to_be_visible()
        expect(page.locator("#roster li[data-user=bob]")).to_be_visible()

    alice.fill("#message-text", "hello from alice")
    alice.click("#send")
    for page in (alice, bob):
        line = page.locator("#messages li[data-user=alice]").last
        expect(line.locator(".text")).to_have_text("hello from alice")
        expect(line).to_have_attribute("data-seq", "1")

    bob.fill("#message-text", "hi alice")
    bob.press("#message-text", "Enter")
    expect(alice.locator("#messages li[data-user=bob] .text")).to_have_text("hi alice")
    expect(alice.locator("#messages li[data-user=bob]")).to_have_attribute("data-seq", "2")

    alice.fill("#notify-user", "bob")
    alice.fill("#notify-title", "lunch?")
    alice.click("#notify-send")
    expect(alice.locator("#notify-result")).to_contain_text("pushed to 1 open tab")
    expect(bob.locator("#inbox li .title")).to_have_text(["lunch?"])
    expect(bob.locator("#unread")).to_have_text("1")
    bob.screenshot(path=str(artifacts / "serve.png"), full_page=True)

    bob.close()
    expect(roster(alice)).to_have_count(1)
    expect(alice.locator("#roster li")).to_have_attribute("data-user", "alice")
    expect(alice.locator("#messages li.system").last).to_have_text("bob left")
    assert users.console_errors == []


def test_leaving_clears_the_room_and_another_room_starts_empty(users: Users) -> None:
    """An audit joined roomA, said something, left and joined roomB: the panel said
    "Room roomB" but kept roomA's lines (two "#1"s), and a reload joined roomA again."""
    frank = users.open("frank", "roomA")
    frank.fill("#message-text", "secret in roomA")
    frank.click("#send")
    expect(frank.locator("#messages li[data-user=frank] .text")).to_have_text("secret in roomA")
    frank.fill("#message-text", "   ")  # the protocol's text: any non-empty string
    frank.click("#send")
    expect(frank.locator("#messages li[data-user=frank]")).to_have_count(2)

    frank.click("#leave")
    expect(frank.locator("#messages li")).to_have_count(0)
    expect(frank.locator("#room-name")).to_have_text("\u2014")
    assert "room=" not in frank.url  # a reload does not join the room just left

    frank.fill("#name", "frank")
    frank.fill("#room", "roomB")
    frank.click("#join")
    expect(frank.locator("#chat-status")).to_have_attribute("data-state", "open")
    frank.fill("#message-text", "hi B")
    frank.click("#send")
    expect(frank.locator("#messages li[data-user=frank] .text")).to_have_text(["hi B"])
    expect(frank.locator("#messages li[data-user=frank]")).to_have_attribute("data-seq", "1")
    expect(frank.locator("#room-name")).to_have_text("roomB")
    assert users.console_errors == []


def test_offline_user_gets_backlog_in_order_and_ack_sticks(
    users: Users, served: ServeProcess
) -> None:
    sender = users.open("sender", "inbox-room")
    titles = ["first", "second", "third"]
    for title in titles[:2]:
        sender.fill("#notify-user", "carol")
        sender.fill("#notify-title", title)
        sender.click("#notify-send")
        expect(sender.locator("#notify-result")).to_contain_text("pushed to 0 open tab")
    assert post_notification(served, "carol", titles[2])["delivered"] == 0

    carol = users.open("carol", "inbox-room")
    items = carol.locator("#inbox li")
    expect(items.locator(".title")).to_have_text(titles)
    seqs = [int(s) for s in items.evaluate_all("els => els.map(e => e.dataset.seq)")]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    expect(carol.locator("#unread")).to_have_text("3")

    carol.locator("#inbox li", has_text="first").get_by_role("button").click()
    expect(carol.locator("#unread")).to_have_text("2")

    # the ack reached the server: a fresh visit gets only the two unread, still in order
    carol.reload()
    expect(carol.locator("#notifications-status")).to_have_attribute("data-state", "open")
    expect(carol.locator("#inbox li .title")).to_have_text(titles[1:])
    expect(carol.locator("#unread")).to_have_text("2")
    assert users.console_errors == []


def test_malformed_frame_shows_error_and_spares_the_other_user(users: Users) -> None:
    mallory = users.open("mallory", "tamper")
    erin = users.open("erin", "tamper")
    expect(roster(mallory)).to_have_count(2)

    mallory.evaluate("window.day25Demo.sockets.chat.send('this is not json')")
    errors = mallory.locator("#errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text("bad_frame")
    mallory.evaluate("window.day25Demo.sockets.chat.send(JSON.stringify({type: 'shout'}))")
    expect(mallory.locator("#error-list li")).to_have_count(2)

    # the tampered connection stays open and nobody else saw anything
    expect(mallory.locator("#chat-status")).to_have_attribute("data-state", "open")
    expect(erin.locator("#errors")).to_be_hidden()
    expect(roster(erin)).to_have_count(2)
    mallory.fill("#message-text", "sorry")
    mallory.click("#send")
    expect(erin.locator("#messages li[data-user=mallory] .text")).to_have_text("sorry")
    erin.fill("#message-text", "fine")
    erin.click("#send")
    expect(mallory.locator("#messages li[data-user=erin] .text")).to_have_text("fine")
    expect(erin.locator("#error-list li")).to_have_count(0)


def test_page_reconnects_after_a_server_restart_and_keeps_the_queue(
    browser: Browser, tmp_path: Path
) -> None:
    from .conftest import start_serve

    db = tmp_path / "restart.sqlite3"
    server = start_serve(["--db", str(db)])
    port = server.url.rsplit(":", 1)[1]
    users = Users(browser, server.url)
    try:
        rita = users.open("rita", "lobby")
        server.stop()
        expect(rita.locator("#chat-status")).to_have_attribute("data-state", "reconnecting")
        expect(rita.locator("#notifications-status")).to_have_attribute(
            "data-state", "reconnecting"
        )
        server = start_serve(["--db", str(db), "--port", port])
        assert server.url.endswith(f":{port}")
        expect(rita.locator("#chat-status")).to_have_attribute(
            "data-state", "open", timeout=20_000
        )
        expect(rita.locator("#notifications-status")).to_have_attribute(
            "data-state", "open", timeout=20_000
        )
        expect(rita.locator("#roster li")).to_have_attribute("data-user", "rita")
        post_notification(server, "rita", "welcome back")
        expect(rita.locator("#inbox li .title")).to_have_text(["welcome back"])
        assert users.console_errors == [] or all(
            "WebSocket" in e for e in users.console_errors  # the browser logs refused reconnects
        )
    finally:
        users.close()
        server.stop()


def test_two_tabs_of_one_user_both_join_again_after_a_restart(
    browser: Browser, tmp_path: Path
) -> None:
    """Both tabs find the session gone and ask for a new token; the server gives the name
    to the first, and the second must take that tab's token (it is the same browser),
    not lose the name, nor wipe the token so that the next tab is refused for 10 minutes."""
    from .conftest import start_serve

    db = tmp_path / "two-tabs.sqlite3"
    server = start_serve(["--db", str(db)])
    port = server.url.rsplit(":", 1)[1]
    context = browser.new_context()
    try:
        tabs = [context.new_page() for _ in range(2)]
        for tab in tabs:
            tab.set_default_timeout(TIMEOUT_MS)
            tab.goto(f"{server.url}/?user=dora&room=lobby")
            expect(tab.locator("#chat-status")).to_have_attribute("data-state", "open")
        server.stop()
        server = start_serve(["--db", str(db), "--port", port])
        for tab in tabs:
            for socket in ("#chat-status", "#notifications-status"):
                expect(tab.locator(socket)).to_have_attribute("data-state", "open",
                                                              timeout=20_000)
            expect(tab.locator("#error-list li")).to_have_count(0)
        third = context.new_page()
        third.set_default_timeout(TIMEOUT_MS)
        third.goto(f"{server.url}/?user=dora&room=lobby")
        expect(third.locator("#chat-status")).to_have_attribute("data-state", "open")
        expect(third.locator("#error-list li")).to_have_count(0)
    finally:
        context.close()
        server.stop()


def test_the_page_sends_what_the_protocols_allow_and_says_what_it_cannot(
    users: Users, served: ServeProcess
) -> None:
    """Outside tests found the page cut 1,500 emoji to 1,000 (an <input>'s maxlength counts
    UTF-16 units, the protocols count characters) and a room '..' turned into the URL '/'
    (a browser resolves dots in a path) with a 'no WebSocket at /' error."""
    gus = users.open("gus", "lobby")
    party = "\U0001f389" * 1500
    gus.fill("#message-text", party)
    gus.press("#message-text", "Enter")
    sent = gus.locator("#messages li[data-user=gus] .text")
    expect(sent).to_have_count(1)
    assert sent.inner_text() == party, f"{len(sent.inner_text())} UTF-16 units arrived, not 3000"
    gus.fill("#message-text", "w" * 2001)
    gus.press("#message-text", "Enter")
    expect(gus.locator("#error-list li").last).to_contain_text("more than 2000")
    post_notification(served, "gus", "a keyboard user reads this")
    expect(gus.locator("#inbox li")).to_have_count(1)
    gus.focus("#ack-all")
    gus.keyboard.press("Enter")  # the button disables itself: focus goes to the inbox
    expect(gus.locator("#ack-all")).to_be_disabled()
    assert gus.evaluate("document.activeElement.id") == "inbox"
    gus.focus("#leave")
    gus.keyboard.press("Enter")  # the button hides itself: focus goes to Join
    expect(gus.locator("#join")).to_be_visible()
    assert gus.evaluate("document.activeElement.id") == "join"
    gus.fill("#name", "gus")
    gus.fill("#room", "..")
    gus.click("#join")
    expect(gus.locator("#error-list li").last).to_contain_text("cannot put it in a WebSocket")
    expect(gus.locator("#room-name")).to_have_text("\u2014")  # no socket was opened
