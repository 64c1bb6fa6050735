"""Fixtures: a real ``redis-server`` per test (see ``servers.py``), and a broker on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from day25.realtime import Broker

from .servers import REDIS_SERVER, RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server (no persistence) on a free port; killed after the test."""
    if not Path(REDIS_SERVER).exists():
        pytest.fail("redis-server is not installed: run .ci/system-deps (Debian: redis-server)")
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.kill()


@pytest.fixture
def aof_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server with AOF on and fsync on every write (restartable on its dir)."""
    server = RedisServer(tmp_path / "redis-aof", aof=True).start()
    yield server
    server.kill()


@pytest.fixture
async def broker(redis_server: RedisServer) -> AsyncIterator[Broker]:
    b = Broker(redis_server.url, prefix="t")
    yield b
    await b.aclose()
