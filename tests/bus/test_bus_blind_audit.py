"""Rules of the bus that no test stated, found by the blind audit of 2026-12-06.

The audit wrote one-mistake variants of the library from its docs alone and ran the
suites against each; these are the rules whose variants went unnoticed. Each test
quotes the sentence of the docs or docstring it checks.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest

from day25 import EmitResult, EventBus, ListenerLimitWarning, current_event


# -- once: removed before it runs -------------------------------------------------
def test_a_sync_once_listener_that_emits_its_own_event_runs_once() -> None:
    """event-flow.md, "once: removed before it runs": "Because the listener is removed
    *before* the call, a re-entrant or concurrent emit cannot fire it twice."

    The all-sync path (found by the blind audit of 2026-12-06: claiming the listener
    after calling it let the re-entrant emit call it again)."""
    bus = EventBus()
    calls: list[int] = []

    def listener(n: int) -> None:
        calls.append(n)
        if n < 3:
            _ = bus.emit("e", n + 1)  # sync listeners only: it runs now, no await needed

    bus.once("e", listener)
    asyncio.run(_await(bus.emit("e", 1)))
    assert calls == [1]
    assert bus.listeners("e") == []


async def _await(pending: Any) -> EmitResult:
    result: EmitResult = await pending
    return result


# -- what an emit returns ---------------------------------------------------------
async def _async_then_once(bus: EventBus, ran: list[str]) -> None:
    """Two failing async listeners and a third; the once makes the general path."""

    async def first(payload: int) -> None:
        ran.append("first")
        raise ValueError("first")

    async def second(payload: int) -> None:
        ran.append("second")
        raise KeyError("second")

    async def third(payload: int) -> None:
        ran.append("third")

    bus.on("plain", first)
    bus.on("plain", second)
    bus.on("plain", third)
    bus.on("general", first)
    bus.on("general", second)
    bus.once("general", third)  # a once-listener: the general path, not the all-async one


@pytest.mark.parametrize("event", ["plain", "general"])
async def test_raise_errors_raises_after_all_listeners_ran(event: str) -> None:
    """bus.py: "the error is logged and returned in the result (or raised as an
    ``ExceptionGroup`` after all listeners ran, with ``raise_errors=True``)".

    Async listeners on the all-async and the general path (found by the blind audit
    of 2026-12-06: raising at the first error skipped the later listeners)."""
    bus = EventBus(raise_errors=True)
    ran: list[str] = []
    await _async_then_once(bus, ran)
    with pytest.raises(ExceptionGroup) as raised:
        await bus.emit(event, 1)
    assert ran == ["first", "second", "third"]
    assert [type(e) for e in raised.value.exceptions] == [ValueError, KeyError]


def test_an_emit_that_finds_its_once_listener_taken_did_not_run_it() -> None:
    """result.py, EmitResult: "What one emit did: how many listeners ran and what they
    raised." A once-listener taken by a re-entrant emit is skipped, so it did not run.

    The all-sync path (found by the blind audit of 2026-12-06: the skipped listener
    was still counted in ``ran``)."""
    bus = EventBus()
    inner: list[Any] = []
    once_calls: list[int] = []

    def first(n: int) -> None:
        if n == 1:
            inner.append(bus.emit("e", 2))  # runs the once-listener before the outer emit

    bus.on("e", first)
    bus.once("e", once_calls.append)
    outer = asyncio.run(_await(bus.emit("e", 1)))
    assert once_calls == [2]
    assert asyncio.run(_await(inner[0])).ran == 2
    assert outer.ran == 1  # `first` ran; the once-listener was taken: skipped


async def test_a_concurrent_emit_that_skips_the_once_listener_did_not_run_it() -> None:
    """result.py, EmitResult: "What one emit did: how many listeners ran and what they
    raised." Of two concurrent emits, one runs the async once-listener; the other
    skips it, so it ran nothing.

    The general path (found by the blind audit of 2026-12-06: the skipping emit still
    counted the listener in ``ran``)."""
    bus = EventBus()
    calls: list[int] = []

    async def listener(n: int) -> None:
        calls.append(n)
        await asyncio.sleep(0)

    bus.once("e", listener)
    results = await asyncio.gather(bus.emit("e", 1), bus.emit("e", 2))
    assert len(calls) == 1
    assert sorted(r.ran for r in results) == [0, 1]


# -- max_listeners --------------------------------------------------------------
def test_exactly_max_listeners_does_not_warn_one_more_does() -> None:
    """bus.py, ListenerLimitWarning: "More listeners on one event than
    ``max_listeners``: often a leak." As many as the limit is not more than it.

    Found by the blind audit of 2026-12-06: the warning came at the limit itself."""
    bus = EventBus(max_listeners=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            bus.on("e", lambda x: None)
    assert [w.category for w in caught] == []
    with pytest.warns(ListenerLimitWarning):
        bus.on("e", lambda x: None)


# -- current_event on every path --------------------------------------------------
async def test_current_event_in_an_async_listener_of_emit_concurrent() -> None:
    """event-flow.md: "Any listener, exact or wildcard, sync or async, on every path
    (emit, emit_concurrent, fire, a namespace) can ask current_event() for the name of
    the event".

    Async listeners of ``emit_concurrent``, before and after their first await (found
    by the blind audit of 2026-12-06: they were gathered outside the frame that names
    the event)."""
    bus = EventBus()
    heard: list[tuple[str, str]] = []

    async def exact(payload: int) -> None:
        before = current_event()
        await asyncio.sleep(0)
        heard.append(("exact", before))
        heard.append(("exact", current_event()))

    async def wildcard(payload: int) -> None:
        heard.append(("wildcard", current_event()))

    bus.on("ui:click", exact)
    bus.on("ui:*", wildcard)
    result = await bus.emit_concurrent("ui:click", 1)
    assert result.errors == ()
    assert sorted(heard) == [("exact", "ui:click"), ("exact", "ui:click"), ("wildcard", "ui:click")]
