"""The grader reads what a submission sends within bounds, outside the sandbox's limits.

Found by a red team: an app that streamed 120 MiB of JSON had the grading test
process (as root, no rlimits) hold gigabytes; a 12 MB exception text on every
scenario was copied into the session's log and verdict files (930 MiB); and a
reply nested 100,000 deep killed the thread that reads replies, so every later
request waited for its timeout. Each is now bounded, and says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from day25.course.harness import first_difference
from day25.course.harness.errors import MESSAGE_CHARS, SubmissionError
from day25.course.harness.transport import MAX_BODY_BYTES, Lent
from day25.course.protocol import decode_reply


class _Streamed(httpx.AsyncByteStream):
    """A body sent in 64 KiB chunks, as a server streams it."""

    def __init__(self, size: int) -> None:
        self.size = size

    async def __aiter__(self) -> AsyncIterator[bytes]:
        body = b"[" + b" " * (self.size - 2) + b"]"
        for start in range(0, len(body), 65536):
            yield body[start:start + 65536]


def _client(size: int) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_Streamed(size))

    return httpx.AsyncClient(transport=Lent(httpx.MockTransport(answer)),
                             base_url="http://localhost")


async def test_a_body_past_the_cap_stops_the_test_with_a_sentence() -> None:
    async with _client(MAX_BODY_BYTES + 1) as client:
        with pytest.raises(SubmissionError, match="more than 8 MiB"):
            await client.get("/notifications")


async def test_a_body_within_the_cap_is_read_whole() -> None:
    async with _client(MAX_BODY_BYTES) as client:
        r = await client.get("/notifications")
    assert r.json() == [] and len(r.content) == MAX_BODY_BYTES


def test_a_huge_message_is_cut_and_says_so() -> None:
    err = SubmissionError("x" * (MESSAGE_CHARS * 600))
    assert len(str(err)) < MESSAGE_CHARS + 100
    assert str(err).endswith(f"({MESSAGE_CHARS * 599:,} more characters not shown)")
    found = first_difference([{"op": "emit"}], [{"trace": []}],
                             {"setup_error": "A" * 12_000_000, "ops": []})
    assert found is not None and len(found) < MESSAGE_CHARS + 200


def test_a_reply_nested_too_deep_is_no_reply_and_raises_nothing() -> None:
    deep = b'{"nonce": "n", "id": 1, "result": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert decode_reply(deep, "n") is None
    assert decode_reply(b'{"nonce": "n", "id": 1}', "n") == {"id": 1}
