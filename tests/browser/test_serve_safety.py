"""``day25 serve`` in a real Chromium: long words, clear errors, and what other pages cannot do."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import ServeProcess
from .test_serve_page import Users

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

NAME_RULE = "1-32 characters: letters A-Z a-z, digits 0-9, '_', '.' or '-'"


@pytest.fixture
def users(browser: Browser, served: ServeProcess) -> Iterator[Users]:
    opened = Users(browser, served.url)
    yield opened
    opened.close()


def overflow(page: Page) -> dict[str, Any]:
    """How far the page and each card stick out to the right of the window."""
    return page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth - window.innerWidth,
            cards: [...document.querySelectorAll('main > section')].map(
                (s) => Math.round(s.getBoundingClientRect().right - window.innerWidth)),
        })"""
    )


def test_one_long_word_does_not_stretch_the_page(users: Users, artifacts: Path) -> None:
    ann = users.open("ann", "longword")
    ben = users.open("ben", "longword")
    word = "w" * 2000
    ann.fill("#message-text", word)
    ann.click("#send")
    ann.fill("#notify-user", "ben")
    ann.fill("#notify-title", "t" * 200)
    ann.fill("#notify-body", "b" * 2000)
    ann.click("#notify-send")
    expect(ben.locator("#inbox li .title")).to_have_text(["t" * 200])
    for page in (ann, ben):
        expect(page.locator("#messages li[data-user=ann] .text")).to_have_text(word)
        sizes = overflow(page)
        assert sizes["page"] <= 0, f"the page is {sizes['page']} px too wide"
        assert all(right <= 0 for right in sizes["cards"]), sizes
    ben.screenshot(path=str(artifacts / "serve-long-word.png"), full_page=True)


def test_a_bad_recipient_says_the_format_and_which_side(users: Users) -> None:
    cid = users.open("cid", "errors")
    cid.fill("#notify-user", "bad name!")
    cid.fill("#notify-title", "hello")
    cid.click("#notify-send")
    expect(cid.locator("#notify-result")).to_have_text(
        f'not sent: the recipient "bad name!" is not a valid name: use {NAME_RULE}'
    )
    page_error = cid.locator("#error-list li").last
    expect(page_error).to_have_attribute("data-side", "page")
    expect(page_error.locator(".side")).to_have_text("from this page")

    cid.fill("#notify-user", "dora")
    cid.fill("#notify-title", "   ")  # the server refuses it: its message, as it said it
    cid.click("#notify-send")
    expect(cid.locator("#notify-result")).to_have_text(
        "not sent: 'title' must be text of 1-200 characters, not only whitespace"
    )
    server_error = cid.locator("#error-list li").last
    expect(server_error).to_have_attribute("data-side", "server")
    expect(server_error.locator(".side")).to_have_text("from the server")


def test_an_invalid_name_is_refused_before_joining(browser: Browser, served: ServeProcess) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(served.url)
        page.fill("#name", "no spaces allowed")
        page.evaluate("document.getElementById('join-form').noValidate = true")
        page.click("#join")
        expect(page.locator("#error-list li .text")).to_have_text(
            [f'the name "no spaces allowed" is not valid: use {NAME_RULE}']
        )
        expect(page.locator("#chat-status")).to_have_attribute("data-state", "idle")
    finally:
        context.close()


def test_a_name_in_use_is_refused_with_the_reason(users: Users, browser: Browser) -> None:
    users.open("held", "lobby")
    other = browser.new_context()
    try:
        page = other.new_page()
        page.goto(f"{users.url}/?user=held&room=lobby")
        error = page.locator("#error-list li").last
        expect(error).to_have_attribute("data-side", "server")
        expect(error.locator(".text")).to_contain_text("'held' is in use by another session")
        expect(page.locator("#chat-status")).to_have_attribute("data-state", "failed")
    finally:
        other.close()


def test_the_page_cannot_speak_for_another_user(users: Users) -> None:
    eve = users.open("eve", "lobby")
    outcome = eve.evaluate(
        """() => new Promise((resolve) => {
            const url = location.origin.replace('http', 'ws')
                + '/notifications/alice?token=' + encodeURIComponent(day25Demo.state.token);
            const ws = new WebSocket(url);
            const frames = [];
            ws.onmessage = (e) => frames.push(JSON.parse(e.data));
            ws.onclose = (e) => resolve({code: e.code, frames});
        })"""
    )
    assert outcome["code"] == 4403
    assert [f["code"] for f in outcome["frames"]] == ["forbidden"]


@pytest.fixture
def evil_site() -> Iterator[str]:
    """A real page on another origin: the same host, another port."""

    class Evil(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><h1>a page on another site</h1>"
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_page_on_another_site_gets_no_socket_and_cannot_post(
    browser: Browser, served: ServeProcess, evil_site: str
) -> None:
    """Cross-site WebSocket hijacking and CSRF, tried from a real page on another origin,
    even holding a stolen token. The page is on another *local* origin (another port):
    Chromium itself keeps a public site from reaching 127.0.0.1 (Private Network Access),
    but not a page on another local port, and not every browser does."""
    stolen = served.token("victim")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(evil_site)
        ws_url = served.ws_url
        result = page.evaluate(
            """async ([wsUrl, httpUrl, token]) => {
                const socket = await new Promise((resolve) => {
                    const ws = new WebSocket(`${wsUrl}/notifications/victim?token=${token}`);
                    ws.onopen = () => resolve('open');
                    ws.onclose = (e) => resolve(`closed ${e.code}`);
                });
                // a "simple" cross-site request: no preflight, the browser just sends it
                const csrf = await fetch(`${httpUrl}/notifications`, {method: 'POST',
                    mode: 'no-cors', headers: {'content-type': 'text/plain'},
                    body: JSON.stringify({user: 'victim', title: 'csrf'})});
                let session;
                try {
                    const r = await fetch(`${httpUrl}/session`, {method: 'POST',
                        headers: {'content-type': 'application/json'},
                        body: JSON.stringify({user: 'evil'})});
                    session = `read ${r.status}`;
                } catch (err) { session = 'blocked'; }
                return {socket, session, csrf: csrf.type};
            }""",
            [ws_url, served.url, stolen],
        )
        # the handshake was refused (403: the page only sees 1006), the POST was sent
        # (opaque: the page cannot read the 403), and no token can be had
        assert result == {"socket": "closed 1006", "session": "blocked", "csrf": "opaque"}
    finally:
        context.close()
    # nothing reached the victim's inbox
    status, body = served.post("/notifications", {"user": "victim", "title": "check"})
    assert status == 201 and body["seq"] == 1, body


def test_two_tabs_of_one_user_share_the_session(browser: Browser, served: ServeProcess) -> None:
    """The token is kept per name in the browser, so a second tab is the same user, not
    a second claim on the name (which the server would refuse)."""
    context = browser.new_context()
    try:
        tabs = [context.new_page() for _ in range(2)]
        for tab in tabs:
            tab.goto(f"{served.url}/?user=tabby&room=tabs")
            expect(tab.locator("#chat-status")).to_have_attribute("data-state", "open")
            expect(tab.locator("#notifications-status")).to_have_attribute("data-state", "open")
        expect(tabs[0].locator("#roster li")).to_have_count(1)  # one user, two tabs
        status, _ = served.post("/notifications", {"user": "tabby", "title": "both tabs"})
        assert status == 201
        for tab in tabs:
            expect(tab.locator("#inbox li .title")).to_have_text(["both tabs"])
            expect(tab.locator("#error-list li")).to_have_count(0)
    finally:
        context.close()
