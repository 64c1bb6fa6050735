"""Thousands of listeners on one event: the same rules, and work that grows with them.

The times are in ``benchmarks/emit.py``; these tests check behaviour at scale, and
guard the cost by counting operations (comparisons of callables, plans built),
which does not depend on how busy the machine is.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

import day25.registry
from day25 import EventBus

N = 3_000


class Counted:
    """A listener that counts how often anything compares it with ``==``."""

    comparisons = 0

    def __init__(self, name: int, log: list[int]) -> None:
        self.name, self.log = name, log

    def __call__(self, payload: Any = None) -> None:
        self.log.append(self.name)

    def __eq__(self, other: object) -> bool:
        Counted.comparisons += 1
        return self is other

    def __hash__(self) -> int:
        return id(self)


@pytest.fixture
def plans_built(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many plans the registry built (one list entry per plan, its length)."""
    built: list[int] = []

    class CountingPlan(day25.registry.Plan):
        def __init__(self, entries: tuple[day25.registry.Listener, ...]) -> None:
            built.append(len(entries))
            super().__init__(entries)

    monkeypatch.setattr(day25.registry, "Plan", CountingPlan)
    yield built


def bus_with(n: int, log: list[int], *, once: bool = False, seed: int = 0) -> tuple[
    EventBus, list[Counted], list[int]
]:
    rng = random.Random(seed)
    bus = EventBus(max_listeners=0)
    listeners = [Counted(i, log) for i in range(n)]
    priorities = [rng.randrange(5) for _ in range(n)]
    for fn, level in zip(listeners, priorities, strict=True):
        (bus.once if once else bus.on)("e", fn, priority=level)
    return bus, listeners, priorities


def call_order(priorities: list[int]) -> list[int]:
    return sorted(range(len(priorities)), key=lambda i: (-priorities[i], i))


async def test_many_listeners_run_by_priority_then_registration(plans_built: list[int]) -> None:
    log: list[int] = []
    bus, _, priorities = bus_with(N, log)
    assert plans_built == []  # registering builds nothing
    assert (await bus.emit("e", 1)).ran == N
    assert log == call_order(priorities)
    log.clear()
    await bus.emit("e", 2)
    assert log == call_order(priorities) and plans_built == [N]  # built once, reused


async def test_removing_one_by_one_compares_each_callable_a_bounded_number_of_times(
    plans_built: list[int],
) -> None:
    log: list[int] = []
    bus, listeners, priorities = bus_with(N, log)
    await bus.emit("e", 0)
    Counted.comparisons = 0
    order = list(range(N))
    random.Random(1).shuffle(order)
    for i in order[: N // 2]:
        bus.off("e", listeners[i])
    assert Counted.comparisons <= N  # a scan per off would be about N * N / 4
    assert plans_built == [N]  # the emit's; removing rebuilt nothing
    log.clear()
    await bus.emit("e", 1)
    kept = set(order[N // 2 :])
    assert log == [i for i in call_order(priorities) if i in kept]
    assert plans_built == [N, N - N // 2]


async def test_one_emit_of_many_once_listeners_runs_each_once_in_order(
    plans_built: list[int],
) -> None:
    log: list[int] = []
    bus, _, priorities = bus_with(N, log, once=True)
    Counted.comparisons = 0
    assert (await bus.emit("e", 1)).ran == N
    assert log == call_order(priorities)
    assert plans_built == [N]  # taking each once-listener off did not rebuild the plan
    assert Counted.comparisons == 0
    assert bus.listeners("e") == [] and bus.event_names() == []
    assert (await bus.emit("e", 2)).ran == 0 and len(log) == N


async def test_off_during_an_emit_of_many_listeners_applies_from_the_next_emit() -> None:
    log: list[int] = []
    bus, listeners, priorities = bus_with(N, log)
    first = call_order(priorities)[0]
    victims = listeners[: N // 3]

    def remover(payload: Any = None) -> None:
        for fn in victims:
            bus.off("e", fn)

    bus.on("e", remover, priority=10)
    assert (await bus.emit("e", 1)).ran == N + 1  # the snapshot: all of them ran
    assert log[0] == first and len(log) == N
    log.clear()
    assert (await bus.emit("e", 2)).ran == N - N // 3 + 1
    assert log == [i for i in call_order(priorities) if i >= N // 3]


async def test_once_and_plain_listeners_mixed_with_reentrant_emits_at_scale() -> None:
    log: list[int] = []
    bus = EventBus(max_listeners=0)
    onces = [Counted(i, log) for i in range(N)]
    for fn in onces:
        bus.once("e", fn)

    async def reenter(payload: int) -> None:
        if payload == 0:
            await bus.emit("e", 1)  # takes every once-listener not yet called

    bus.on("e", reenter, priority=10)
    await bus.emit("e", 0)
    assert sorted(log) == list(range(N))  # each once-listener exactly once
    assert bus.listeners("e") == [reenter]
