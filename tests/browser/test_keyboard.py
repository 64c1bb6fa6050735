"""The ``day25 serve`` page driven by the keyboard alone, as a student without a mouse does.

axe-core (``test_accessibility.py``) audits what is on screen at one moment; it cannot see
where the keyboard's focus goes after an action, nor whether a change is ever announced.
These tests press Tab, Enter and Space only, and check that:

* no action drops the focus to the page's top (``<body>``): a screen reader then says
  nothing, and the next Tab starts over;
* what changes while the user is elsewhere (an error, the connection's state, a new
  notification) is inside a live region that was already rendered when it changed: a live
  region shown at the same moment as its first text is not announced by screen readers,
  and an element with ``role="alert"`` is announced when it appears;
* a control read aloud out of context still says what it does and to what.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import ServeProcess, open_user

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

ACTIVE = "document.activeElement === document.body ? 'BODY' : document.activeElement.id"

# The live regions on screen now are marked, so that what appears later can be checked
# to be inside one that existed before it (or to be an alert of its own).
MARK_LIVE = """() => {
  const live = '[aria-live]:not([aria-live=off]), [role=status], [role=log], [role=alert]';
  for (const el of document.querySelectorAll(live))
    if (el.checkVisibility()) el.dataset.liveBefore = '';
}"""
ANNOUNCED = """(el) => Boolean(el.closest('[role=alert]') || el.closest('[data-live-before]'))"""


def tab_to(page: Page, selector: str, *, back: bool = False, limit: int = 60) -> int:
    """Press Tab (Shift+Tab with ``back``) until ``selector`` has the focus; how many."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate(f"document.activeElement.matches({json.dumps(selector)})"):
            return presses
    pytest.fail(f"{limit} presses of Tab never reached {selector}")


def notify(server: ServeProcess, user: str, title: str, level: str = "normal") -> None:
    status, body = server.post("/notifications", {"user": user, "title": title, "level": level})
    assert status in (200, 201, 202), (status, body)


def test_join_and_leave_by_keyboard_keep_the_focus(browser: Browser, served: ServeProcess) -> None:
    page = open_user(browser, served.url)
    tab_to(page, "#name")
    page.keyboard.type("kim")
    tab_to(page, "#join")
    page.keyboard.press("Enter")
    expect(page.locator("#chat-status")).to_have_attribute("data-state", "open")
    # the Join button hid itself: the focus is on Leave, which took its place
    assert page.evaluate(ACTIVE) == "leave"
    page.keyboard.press("Enter")
    expect(page.locator("#join")).to_be_visible()
    assert page.evaluate(ACTIVE) == "join"
    page.keyboard.press("Space")
    expect(page.locator("#chat-status")).to_have_attribute("data-state", "open")
    assert page.evaluate(ACTIVE) == "leave"
    page.context.close()


def test_dismissing_the_errors_keeps_the_focus(browser: Browser, served: ServeProcess) -> None:
    page = open_user(browser, served.url, "lee")
    page.evaluate("window.day25Demo.sockets.chat.send('not json')")
    expect(page.locator("#errors")).to_be_visible()
    tab_to(page, "#errors-clear", back=True)
    page.keyboard.press("Enter")
    expect(page.locator("#errors")).to_be_hidden()
    # the section hid itself with the button in it: the focus goes to what came next
    assert page.evaluate(ACTIVE) == "name"
    page.context.close()


def test_errors_and_the_connection_state_are_announced(
    browser: Browser, served: ServeProcess
) -> None:
    page = open_user(browser, served.url)
    page.evaluate(MARK_LIVE)
    tab_to(page, "#name")
    page.keyboard.type("max")
    page.keyboard.press("Enter")
    expect(page.locator("#chat-status")).to_have_text("chat: connected")
    for pill in ("#chat-status", "#notifications-status"):
        assert page.locator(pill).evaluate(ANNOUNCED), f"{pill} changed silently"
    page.evaluate("window.day25Demo.sockets.chat.send('not json')")
    error = page.locator("#error-list li .text").first
    expect(error).to_contain_text("not valid JSON")
    assert error.evaluate(ANNOUNCED), "the first error is shown but not announced"
    page.context.close()


def test_a_notification_is_announced_and_read_aloud_in_full(
    browser: Browser, served: ServeProcess
) -> None:
    page = open_user(browser, served.url, "nia")
    page.evaluate(MARK_LIVE)
    notify(served, "nia", "server restart at noon", "high")
    item = page.locator("#inbox li")
    expect(item).to_have_count(1)
    assert item.evaluate(ANNOUNCED), "a new notification arrived silently"
    # the count says what it counts; the level is in words, not only in a border's colour;
    # each "Mark read" says which notification it reads
    expect(page.get_by_role("heading", name="Inbox 1 unread")).to_be_visible()
    expect(item).to_contain_text("high")
    button = item.get_by_role("button")
    expect(button).to_have_accessible_name("Mark read: server restart at noon")
    page.context.close()


def test_an_inbox_of_read_notifications_can_be_scrolled_by_keyboard(
    browser: Browser, served: ServeProcess
) -> None:
    page = open_user(browser, served.url, "ola")
    for n in range(12):
        notify(served, "ola", f"note {n}")
    expect(page.locator("#inbox li")).to_have_count(12)
    assert page.locator("#inbox").evaluate("e => e.scrollHeight > e.clientHeight")
    tab_to(page, "#ack-all", back=True)
    page.keyboard.press("Enter")
    expect(page.locator("#unread")).to_have_text("0")
    # every button in the list is disabled now; the list itself must stay a tab stop, or
    # the notifications below its fold can no longer be reached without a mouse
    tab_to(page, "#notify-user")
    tab_to(page, "#inbox", back=True, limit=8)
    page.keyboard.press("End")
    expect(page.locator("#inbox")).not_to_have_js_property("scrollTop", 0)
    page.context.close()


def test_a_chat_message_is_read_aloud_as_words(browser: Browser, served: ServeProcess) -> None:
    """A message line is three spans (number, sender, text): with nothing between them, a
    screen reader announced "#1pathello all" for pat's "hello all"."""
    pat = open_user(browser, served.url, "pat")
    tab_to(pat, "#message-text")
    pat.keyboard.type("hello all")
    pat.keyboard.press("Enter")
    line = pat.locator("#messages li[data-user=pat]")
    expect(line).to_have_count(1)
    assert "pat hello all" in pat.locator("#messages").aria_snapshot()
    pat.evaluate("window.day25Demo.sockets.chat.send('not json')")
    expect(pat.locator("#error-list")).to_contain_text("from the server ")
    assert "from the server " in pat.locator("#error-list").aria_snapshot()
    # the roster's bullet is decoration: read aloud it was "black circle pat (you)"
    assert "\u25cf" not in pat.locator("#roster").aria_snapshot()
    pat.context.close()
