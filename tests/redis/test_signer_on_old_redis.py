"""A Redis older than 6.2 has no ``SET ... GET``: the secret check is skipped, and the node
starts (it must not read as "Redis did not answer")."""

from __future__ import annotations

from typing import Any

from redis.exceptions import ResponseError

from day25.realtime.broker import Broker


class _OldRedis:
    def set(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("get"):
            raise ResponseError("ERR syntax error")
        return True


def test_an_old_redis_without_set_get_skips_the_check() -> None:
    broker = Broker("redis://127.0.0.1:1/0")
    broker._sync = _OldRedis()  # type: ignore[assignment]
    assert broker.signer_seen("0123456789abcdef") is None
