"""Every rule in day25.bus's docstring about event names: validation, introspection,
limits, namespaces and wildcards (the other rules are in test_bus_rules.py)."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest

from day25 import EventBus, ListenerLimitWarning, current_event


def recorder(log: list[Any], name: str, *, is_async: bool = False) -> Any:
    if is_async:

        async def alistener(*args: Any, **kwargs: Any) -> None:
            await asyncio.sleep(0)
            log.append((name, args, kwargs))

        alistener.__qualname__ = name
        return alistener

    def listener(*args: Any, **kwargs: Any) -> None:
        log.append((name, args, kwargs))

    listener.__qualname__ = name
    return listener


def names(log: list[Any]) -> list[str]:
    return [entry[0] for entry in log]


# -- validation, introspection, limits ----------------------------------------
@pytest.mark.parametrize("bad", ["", None, 3, b"e"])
async def test_event_names_must_be_non_empty_strings(bad: Any) -> None:
    bus = EventBus()
    with pytest.raises(TypeError, match="non-empty string"):
        bus.on(bad, print)
    with pytest.raises(TypeError, match="non-empty string"):
        await bus.emit(bad)
    with pytest.raises(TypeError, match="non-empty string"):
        bus.off(bad)


def test_handlers_must_be_callable() -> None:
    bus = EventBus()
    with pytest.raises(TypeError, match="must be callable"):
        bus.on("e", "print")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="must be callable"):
        bus.off("e", 42)  # type: ignore[arg-type]


async def test_listeners_and_event_names() -> None:
    bus = EventBus()
    a, b, c = print, repr, str
    bus.on("x", a, priority="low")
    bus.on("x", b, priority="high")
    bus.on("ui:*", c)
    assert bus.listeners("x") == [b, a]
    assert bus.listeners("ui:*") == [c]
    assert bus.listeners("ui:click") == [c]
    assert sorted(bus.event_names()) == ["ui:*", "x"]


def test_too_many_listeners_warns_once_and_still_registers() -> None:
    bus = EventBus(max_listeners=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(6):
            bus.on("e", print)
    assert [w.category for w in caught] == [ListenerLimitWarning]
    assert "max_listeners=3" in str(caught[0].message)
    assert len(bus.listeners("e")) == 6
    unlimited = EventBus(max_listeners=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(200):
            unlimited.on("e", print)


# -- namespaces and wildcards --------------------------------------------------
async def test_namespaces_prefix_and_nest() -> None:
    bus = EventBus()
    log: list[Any] = []
    ui = bus.namespace("ui")
    form = ui.namespace("form")
    ui.on("button.click", recorder(log, "click"))
    form.on("submit", recorder(log, "submit"))
    await ui.emit("button.click", "submit")
    await bus.emit("ui:button.click", "submit")
    await bus.emit("ui:form:submit")
    assert names(log) == ["click", "click", "submit"]
    assert bus.listeners("ui:form:submit") == form.listeners("submit")
    form.off("submit")
    assert bus.listeners("ui:form:submit") == []


async def test_wildcards_hear_their_namespace_merged_by_priority() -> None:
    bus = EventBus()
    log: list[Any] = []
    seen: list[str] = []
    bus.on("ui:*", lambda *a: seen.append(current_event()), priority="low")
    bus.on("ui:*", recorder(log, "ui-wild-high"), priority="high")
    bus.on("*", recorder(log, "everything"), priority="lowest")
    bus.on("ui:click", recorder(log, "exact"))
    bus.namespace("ui").on("*", recorder(log, "ns-wild"))
    await bus.emit("ui:click")
    assert names(log) == ["ui-wild-high", "exact", "ns-wild", "everything"]
    log.clear()
    await bus.emit("ui:form:submit")  # sub-namespaces too
    await bus.emit("ui")  # the bare namespace name is not inside it
    await bus.emit("uix:click")  # nor is a longer name sharing the prefix
    assert names(log) == ["ui-wild-high", "ns-wild", "everything", "everything", "everything"]
    assert seen == ["ui:click", "ui:form:submit"]


async def test_once_on_a_wildcard_fires_for_the_first_match_only() -> None:
    bus = EventBus()
    log: list[Any] = []
    bus.once("ui:*", recorder(log, "w"))
    await bus.emit("ui:a")
    await bus.emit("ui:b")
    assert len(log) == 1
    assert bus.event_names() == []


@pytest.mark.parametrize("pattern", ["ui*", "ui:*:click", "*:ui", "u*i:x"])
def test_star_only_as_a_whole_last_segment(pattern: str) -> None:
    with pytest.raises(ValueError, match="whole last segment"):
        EventBus().on(pattern, print)


async def test_emitting_a_pattern_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot emit the wildcard"):
        await EventBus().emit("ui:*")


def test_current_event_outside_an_emit_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="only works inside a listener"):
        current_event()


def test_namespace_names_are_checked() -> None:
    with pytest.raises(TypeError, match="namespace name"):
        EventBus().namespace("")
    with pytest.raises(TypeError, match="namespace name"):
        EventBus().namespace("a*")
