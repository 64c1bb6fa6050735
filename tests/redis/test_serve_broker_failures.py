"""``day25 serve --broker`` when Redis is not there: at start (a clear error, exit code
2, no retry loop), mid-run (clear errors to the clients that need Redis, recovery
when it returns), and across a crash of Redis with AOF (nothing stored is lost,
nothing acknowledged comes back, seq goes on)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from ..browser.conftest import ROOT, day25_command, request_json
from .cluster import backlog, chat, closed_with, inbox, recv, recv_until, silent, start_node
from .servers import RedisServer, free_port

pytestmark = pytest.mark.timeout(150)


def serve_exits(*args: str, env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*day25_command(), "serve", "--port", "0", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("secret", ["", "a-shared-secret"], ids=["secret-in-redis", "secret-env"])
def test_an_unreachable_broker_at_start_is_one_clear_error_and_exit_code_2(secret: str) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    result = serve_exits("--broker", url, env={"DAY25_SECRET": secret})
    assert result.returncode == 2, result.stderr
    assert f"the broker at {url} is unreachable" in result.stderr
    assert "start redis-server there, or check --broker" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") <= 2, result.stderr
    assert time.monotonic() - started < 30, "no retry loop: it gives up at once"


def test_a_bad_broker_url_and_a_student_impl_are_refused(redis_server: RedisServer) -> None:
    result = serve_exits("--broker", "http://localhost:6379")
    assert result.returncode == 2 and "is not a Redis URL" in result.stderr
    result = serve_exits("--broker", redis_server.url, "--impl", "solutions")
    assert result.returncode == 2 and "--broker serves the demo apps only" in result.stderr


def test_redis_going_away_mid_run_gives_clear_errors_then_recovers(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis", aof=True).start()
    node = start_node(server.url)
    try:
        token, bob_token = node.token("ann"), node.token("bob")
        node.token("script")  # node.post's session: made while Redis is there
        with chat(node, "lobby", "ann") as ann:
            recv(ann)  # own join
            ann.send('{"type": "message", "text": "before"}')
            assert recv(ann)["seq"] == 1
            server.kill()

            status, body = request_json(node.url, "POST", "/session", {"user": "cy"})
            assert status == 503, (status, body)  # the names' holds are in Redis
            assert "is unreachable" in body["error"] and "try again" in body["error"]
            assert str(server.port) not in body["error"], "the address is in the log only"

            status, body = node.post("/notifications", {"user": "ann", "title": "lost?"})
            assert status == 503, (status, body)  # the session cannot be checked: nothing done
            assert body["error"].startswith("service unavailable: Redis, the store the servers")
            assert "nothing was done; try again" in body["error"]

            ann.send('{"type": "message", "text": "during"}')
            error = recv(ann)
            assert error["type"] == "error" and error["code"] == "unavailable"
            assert "the message was not sent" in error["message"]
            assert str(server.port) not in error["message"], "the address is for the log"

            with connect(f"{node.ws_url}/chat/lobby?user=bob&token={bob_token}",
                         proxy=None) as bob:
                refused = recv(bob)
                assert refused["code"] == "unavailable" and "unreachable" in refused["message"]
                assert closed_with(bob) == 1013, "try again later"
            with connect(f"{node.ws_url}/notifications/ann?token={token}", proxy=None) as tab:
                assert recv(tab)["code"] == "unavailable"
                assert closed_with(tab) == 1013

            server.start()  # back, with its AOF
            deadline = time.monotonic() + 20
            while True:  # the client retries, as a page does
                ann.send('{"type": "message", "text": "after"}')
                frame = recv(ann)
                if frame["type"] == "message":
                    break
                assert time.monotonic() < deadline, f"no recovery: {frame}"
                time.sleep(0.5)
            assert (frame["text"], frame["seq"]) == ("after", 2), "seq goes on, no gap"
        status, body = node.post("/notifications", {"user": "ann", "title": "back"})
        assert status == 201 and body["seq"] == 1
        assert node.proc.poll() is None, "the server never stopped"
    finally:
        node.stop()
        server.kill()


def test_a_crash_of_redis_with_aof_loses_nothing_and_brings_back_nothing_acked(
    tmp_path: Path,
) -> None:
    server = RedisServer(tmp_path / "redis", aof=True).start()
    a, b = start_node(server.url), start_node(server.url)
    try:
        token = a.token("ann")
        replies = [a.post("/notifications", {"user": "ann", "title": f"n{i}"})[1]
                   for i in range(6)]
        with inbox(b, "ann", token) as tab:
            notes = backlog(tab)
            acked = [notes[0]["id"], notes[3]["id"]]
            tab.send(json.dumps({"type": "ack", "ids": acked}))
            assert recv(tab) == {"type": "acked", "count": 2}
        with chat(a, "lobby", "bob") as bob:
            recv(bob)
            for i in range(3):
                bob.send(f'{{"type": "message", "text": "m{i}"}}')
            recv_until(bob, lambda f: f.get("seq") == 3)

        server.kill()  # SIGKILL: AOF with fsync always kept every acknowledged write
        server.start()
        time.sleep(1.5)  # the nodes' readers and heartbeats reconnect

        with inbox(a, "ann", token) as tab:
            after = backlog(tab)
        expected = [r["id"] for r in replies if r["id"] not in acked]
        assert [n["id"] for n in after] == expected, "every unacked one, no acked one"
        status, reply = b.post("/notifications", {"user": "ann", "title": "next"})
        assert status == 201 and reply["seq"] == 7
        with chat(b, "lobby", "bob") as bob:
            recv(bob)
            bob.send('{"type": "message", "text": "m3"}')
            frame = recv_until(bob, lambda f: f["type"] == "message")[-1]
            assert frame["seq"] == 4, "the room's seq survived the crash"
            assert silent(bob, 0.3) == []
    finally:
        a.stop()
        b.stop()
        server.kill()
