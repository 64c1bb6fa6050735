"""Two ``day25 serve --broker`` processes in a real Chromium: alice's page on one server,
bob's on the other, one chat and one inbox (the page is unchanged: it speaks the
exercises' protocols to whichever server it came from)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ..browser.conftest import (  # noqa: F401 (fixtures)
    ServeProcess,
    artifacts,
    browser,
    request_json,
)
from ..browser.test_serve_page import Users, roster
from .cluster import start_node
from .servers import RedisServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[RedisServer, ServeProcess, ServeProcess]]:
    """A redis-server (no persistence) and two servers on it."""
    server = RedisServer(tmp_path / "redis").start()
    a, b = start_node(server.url), start_node(server.url)
    yield server, a, b
    a.stop()
    b.stop()
    server.kill()


@contextmanager
def alice_and_bob(chromium: Browser, a: ServeProcess, b: ServeProcess
                  ) -> Iterator[tuple[Page, Page]]:
    """alice's page on ``a`` and bob's on ``b``, both in the lobby and listing both; at
    the end, neither page logged a console error."""
    on_a, on_b = Users(chromium, a.url), Users(chromium, b.url)
    try:
        alice = on_a.open("alice", "lobby")
        bob = on_b.open("bob", "lobby")
        for page in (alice, bob):
            expect(roster(page)).to_have_count(2)
        yield alice, bob
        assert on_a.console_errors + on_b.console_errors == []
    finally:
        on_a.close()
        on_b.close()


def test_two_pages_on_two_servers_are_one_chat_and_one_inbox(
    browser: Browser,  # noqa: F811
    cluster: tuple[RedisServer, ServeProcess, ServeProcess],
    artifacts: Path,  # noqa: F811
) -> None:
    _, a, b = cluster
    with alice_and_bob(browser, a, b) as (alice, bob):
        alice.fill("#message-text", "hello from server A")
        alice.click("#send")
        for page in (alice, bob):
            line = page.locator("#messages li[data-user=alice]").last
            expect(line.locator(".text")).to_have_text("hello from server A")
            expect(line).to_have_attribute("data-seq", "1")
        bob.fill("#message-text", "hi from server B")
        bob.press("#message-text", "Enter")
        expect(alice.locator("#messages li[data-user=bob]")).to_have_attribute("data-seq", "2")

        alice.fill("#notify-user", "bob")
        alice.fill("#notify-title", "lunch?")
        alice.click("#notify-send")
        expect(alice.locator("#notify-result")).to_contain_text("pushed to 1 open tab")
        expect(bob.locator("#inbox li .title")).to_have_text(["lunch?"])
        bob.screenshot(path=str(artifacts / "serve-two-nodes.png"), full_page=True)

        bob.close()
        expect(roster(alice)).to_have_count(1)
        expect(alice.locator("#messages li.system").last).to_have_text("bob left")


def test_redis_forgetting_who_is_here_shows_nobody_joining_again(
    browser: Browser,  # noqa: F811
    cluster: tuple[RedisServer, ServeProcess, ServeProcess],
) -> None:
    """Redis restarted without persistence forgets every room's users; each server writes
    its own back on its next heartbeat, and Redis announces them as joining. Nobody came
    or went: the pages list the same people and say nobody joined."""
    server, a, b = cluster
    with alice_and_bob(browser, a, b) as (alice, bob):
        expect(alice.locator("#messages li.system")).to_have_text(["bob joined"])
        server.kill()  # a crash of a Redis that keeps nothing on disk
        server.start()
        users = "day25:chat:users:lobby"
        deadline = time.monotonic() + 15
        while server.client().smembers(users) != {"alice", "bob"}:  # both servers wrote back
            assert time.monotonic() < deadline, server.client().smembers(users)
            time.sleep(0.1)
        alice.fill("#message-text", "still here")  # after the write-backs on the stream
        alice.click("#send")
        for page in (alice, bob):
            expect(page.locator("#messages li[data-user=alice] .text").last).to_have_text(
                "still here")
            expect(roster(page)).to_have_count(2)
        expect(alice.locator("#messages li.system")).to_have_text(["bob joined"])
        expect(bob.locator("#messages li.system")).to_have_count(0)
    # what each server remembers telling its members goes with its last member in the room
    deadline = time.monotonic() + 15
    while (told := [request_json(node.url, "GET", "/status.json")[1]["per_name_state"]
                    ["chat_broadcasting"]["told"] for node in (a, b)]) != [0, 0]:
        assert time.monotonic() < deadline, told
        time.sleep(0.1)
