"""Check of step once_off: ``once`` fires once and ``bus.off(event, handler)`` cancels it."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from day25 import EventBus


class Bus(EventBus):
    def once(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("bus.once() is off limits: build once() from bus.on and bus.off")


async def check(step: ModuleType) -> None:
    bus, calls = Bus(), []

    def greet(name: str) -> None:
        calls.append(name)

    returned = step.once(bus, "login", greet)
    assert returned is greet, (
        "once() must return the very handler it was given (greet), so it works as a "
        "decorator; it returned "
        + ("your wrapper (functools.wraps gives it greet's name)"
           if returned is not None and getattr(returned, "__name__", None) == "greet"
           else repr(returned)) + ".")
    await bus.emit("login", "ann")
    await bus.emit("login", "bob")
    assert calls == ["ann"], (
        f"The handler runs on the next emit only: expected ['ann'], got {calls}.")
    assert bus.listeners("login") == [], "After it fired, nothing of yours is left on the bus."

    calls.clear()
    step.once(bus, "login", greet)
    bus.off("login", greet)
    await bus.emit("login", "cy")
    assert calls == [], (
        "bus.off('login', greet), with the handler you were given, must cancel the once before "
        f"it fires; it ran anyway: {calls}. (What does bus.off look for besides the function?)"
    )
