"""Without ``--broker`` nothing touches Redis: the embedded default (one process, SQLite)
is what it was. And with it, ``--cap`` / ``--ttl`` keep their meaning."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from day25.realtime import broker as broker_module
from day25.serve import build_app

from .cluster import backlog, inbox, start_node
from .servers import RedisServer


def test_the_default_builds_no_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_redis(*args: object, **kwargs: object) -> None:
        raise AssertionError("the default must not make a Broker")

    monkeypatch.setattr(broker_module.Broker, "__init__", no_redis)
    served = build_app(db=tmp_path / "n.sqlite3")
    assert served.broker is None
    status = served.app.app.status  # type: ignore[attr-defined]
    assert status["db"] == str((tmp_path / "n.sqlite3").resolve()) and "broker" not in status
    assert type(served.apps.chat.state["per_name_state"]()) is dict
    assert set(served.apps.chat.state["per_name_state"]()) == {
        "rooms", "presence", "connections", "seqs", "idle_seqs"}, "the one-process chat"


@pytest.mark.timeout(120)
def test_cap_and_ttl_keep_their_meaning_on_the_broker(redis_server: RedisServer) -> None:
    node = start_node(redis_server.url, "--cap", "2", "--ttl", "1.5")
    try:
        token = node.token("q")
        for title in ("one", "two", "three"):
            assert node.post("/notifications", {"user": "q", "title": title})[0] == 201
        with inbox(node, "q", token) as tab:
            notes = backlog(tab)
        assert [n["title"] for n in notes] == ["two", "three"], "the cap kept the newest two"
        assert notes[0]["expires_at"] - notes[0]["created_at"] == pytest.approx(1.5)
        time.sleep(1.6)
        with inbox(node, "q", token) as tab:
            assert backlog(tab) == [], "expired"
    finally:
        node.stop()
