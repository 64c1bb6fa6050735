"""Concurrent emits that end out of the order they started: ``emit_concurrently``'s
``"after_first"``.

Why a module of its own: it is one idea (emits that overlap), and scenarios.py is at
its size limit. The seventeenth blind batch (exercise 1) had an emitter that saved its
count of running emits when an emit started and wrote it back when that emit ended:
right for nested emits, which end in the reverse order they started, wrong for two
concurrent ones when the first ends while the second still walks its listeners (the
count drops to 0, and an ``off`` then edits that walk's list in place).

``{"op": "emit_concurrently", "event", "payloads", "after_first": [on/off ops]}``: the
emits run as tasks until the first of them has ended, then those ops change the subject
(while the others still run, when their listeners make them wait longer), then the
rest is awaited. Without ``"after_first"`` it is a plain ``asyncio.gather``.

``"events": [name, ...]`` (one per payload) instead of ``"event"``: the emits are of those
events, one each (the twenty-first batch: five emits of five events in flight at once,
against an emitter that reuses a ring of four snapshot buffers).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["concurrent_emits", "gathered"]


def concurrent_emits(op: dict[str, Any]) -> list[tuple[str, Any]]:
    """(event, payload) of each emit of ``op``, in the order of its ``"payloads"``."""
    payloads = list(op["payloads"])
    events = list(op.get("events") or [op["event"]] * len(payloads))
    return list(zip(events, payloads, strict=True))


async def gathered(emits: list[Awaitable[Any]], op: dict[str, Any],
                   change: Callable[[list[dict[str, Any]]], None]) -> list[Any]:
    """The outcomes of ``emits`` in order, exceptions as values (``return_exceptions``)."""
    if not op.get("after_first"):
        return list(await asyncio.gather(*emits, return_exceptions=True))
    tasks = [asyncio.ensure_future(emit) for emit in emits]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    try:
        change(list(op["after_first"]))
    finally:
        outcomes = list(await asyncio.gather(*tasks, return_exceptions=True))
    return outcomes
