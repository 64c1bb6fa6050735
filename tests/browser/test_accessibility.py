"""The ``day25 serve`` page under axe-core, in each state a user meets it.

axe audits what is on screen, so the page is audited fresh (nothing joined, status
pills idle), in use (two users in a room, a message, an unread notification, an error
from the server shown), and after the server went away (pills reconnecting). Any axe
finding, of any impact, fails. The site's own audit is ``tests/docs/test_reader.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from tests.docs.axe_audit import violations

from .conftest import open_user, start_serve

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def test_serve_page_has_no_accessibility_violation(
    browser: Browser, tmp_path: Path
) -> None:
    server = start_serve(["--impl", "solutions", "--db", str(tmp_path / "inbox.sqlite3")])
    found: dict[str, list[str]] = {}
    try:
        fresh = open_user(browser, server.url)
        expect(fresh.locator("#chat-status")).to_have_attribute("data-state", "idle")
        found["fresh"] = violations(fresh)

        alice = open_user(browser, server.url, "alice")
        bob = open_user(browser, server.url, "bob")
        alice.fill("#message-text", "hello bob")
        alice.click("#send")
        expect(bob.locator("#messages li[data-user=alice]")).to_have_count(1)
        bob.fill("#notify-user", "alice")
        bob.fill("#notify-title", "lunch?")
        bob.click("#notify-send")
        expect(alice.locator("#inbox li")).to_have_count(1)
        alice.evaluate("window.day25Demo.sockets.chat.send('this is not json')")
        expect(alice.locator("#errors")).to_be_visible()
        found["in use"] = violations(alice)

        server.stop()
        expect(alice.locator("#chat-status")).to_have_attribute("data-state", "reconnecting")
        found["reconnecting"] = violations(alice)
    finally:
        server.stop()
    problems = {state: v for state, v in found.items() if v}
    assert problems == {}, "\n".join(f"{s}:\n  " + "\n  ".join(v) for s, v in problems.items())
