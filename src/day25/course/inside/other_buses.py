"""The ``once_elsewhere`` op: the same module's ``once`` used on many other buses.

Why it exists: a ``once`` that keeps a record per bus in a bounded cache
(``functools.lru_cache`` keeps 128) forgets the armed registrations of the bus it
used longest ago, which then never fire. The texts say a once-handler fires on the
next emit, whatever else the program did meanwhile.

``{"op": "once_elsewhere", "event", "buses": n}``: the module's ``once`` registers a
handler that does nothing for ``event`` on each of ``n`` other new buses, which are
dropped when the op ends. Nothing of them may reach the scenario's own bus.

``{"op": "once_not_callable", "event"}`` (twenty-second batch): the module's
``once(bus, event, 42)`` on another new bus. The text leaves two outcomes open: a
``TypeError`` at once, with nothing registered, or the handler left to fail in the emit
(then an emit of ``event`` there returns one ``TypeError``, of calling 42, and as a handler
that raised it has fired: a second emit returns none, and the bus holds nothing of it).
Either is fine and the op ends quietly; anything else (a ``ValueError`` at once, nothing
registered, refused yet registered, failing at every emit: the twenty-fifth batch's last
two) is the op's error.

``{"op": "once_keywords", "event"}`` (stop 58): the module's ``once`` on another new bus,
then one emit with a keyword named after each parameter of its own that the registered
listener has (``inspect.signature``, not following ``__wrapped__``): a wrapper that binds
the bus as ``_bus=bus`` catches ``emit(..., _bus=...)``, whatever the name, where the text
asks that the handler get every keyword given. The suite's fixed names (``event``,
``bus``...) cannot guess a name of the student's own; the listener tells it.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

from day25.course.inside.guarded_bus import GuardedBus

__all__ = ["ONCE_ELSEWHERE", "ONCE_KEYWORDS", "ONCE_NOT_CALLABLE", "OTHER_BUS_OPS",
           "once_elsewhere", "once_keywords", "once_not_callable", "other_bus_op"]

#: the ops this module runs
ONCE_ELSEWHERE = "once_elsewhere"
ONCE_NOT_CALLABLE = "once_not_callable"
ONCE_KEYWORDS = "once_keywords"
OTHER_BUS_OPS = (ONCE_ELSEWHERE, ONCE_NOT_CALLABLE, ONCE_KEYWORDS)


class NotCallableMishandled(Exception):
    """``once`` did neither thing the text allows with a handler that is not callable."""


class KeywordTaken(Exception):
    """A keyword given to ``emit`` did not reach the handler: a parameter took it."""


def _nothing(*args: Any, **kwargs: Any) -> None:
    """The handler given on the other buses."""


def once_elsewhere(module: ModuleType, op: dict[str, Any]) -> None:
    """The module's ``once(bus, op["event"], ...)`` on ``op["buses"]`` new buses."""
    for bus in [GuardedBus() for _ in range(int(op.get("buses", 130)))]:
        module.once(bus, op["event"], _nothing)


async def once_not_callable(module: ModuleType, op: dict[str, Any]) -> None:
    """``once(bus, op["event"], 42)`` on a new bus: refused with ``TypeError``, or left to
    fail in the emit; else :class:`NotCallableMishandled` says what it did."""
    bus, allowed = GuardedBus(), ("a handler that is not callable is refused at once with "
                                  "TypeError, or left to fail in the emit")
    try:
        module.once(bus, op["event"], 42)
    except TypeError:
        if left := len(bus.listeners(op["event"])):
            raise NotCallableMishandled(f"once(bus, event, 42) raised TypeError, yet left {left} "
                                        f"listener(s) on the bus; {allowed}") from None
        return
    except Exception as exc:
        raise NotCallableMishandled(f"once(bus, event, 42) raised {type(exc).__name__}: "
                                    f"{exc}; {allowed}") from exc
    errors = [[type(e).__name__ for e in (await bus.emit(op["event"], n)).errors] for n in (1, 2)]
    if errors != [["TypeError"], []] or bus.listeners(op["event"]):
        raise NotCallableMishandled(
            f"once(bus, event, 42) returned, and two emits of the event then returned the "
            f"errors {errors} and left {len(bus.listeners(op['event']))} listener(s); {allowed} "
            "(a handler that raised has fired: the second emit finds nothing of it)")


def _own_names(listener: Any) -> list[str]:
    """The parameters of ``listener`` that a keyword argument can fill (``self`` of a bound
    ``__call__`` is not among them: the text allows that one)."""
    try:
        parameters = inspect.signature(listener, follow_wrapped=False).parameters.values()
    except (TypeError, ValueError):  # a C callable, or a signature Python cannot read
        return []
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


async def once_keywords(module: ModuleType, op: dict[str, Any]) -> None:
    """``once`` on a new bus, then an emit with a keyword named after each parameter of
    the listener it registered: the handler must get them all; else :class:`KeywordTaken`."""
    bus, event, got = GuardedBus(), op["event"], []

    def handler(*args: Any, **kwargs: Any) -> None:
        got.append([list(args), kwargs])

    module.once(bus, event, handler)
    names = sorted({name for listener in bus.listeners(event) for name in _own_names(listener)})
    if not names:
        return
    given = {name: f"<{name}>" for name in names}
    errors = (await bus.emit(event, 1, **given)).errors
    if got != [[[1], given]]:
        said = f"; the emit's errors: {[f'{type(e).__name__}: {e}'[:200] for e in errors]}" \
            if errors else ""
        raise KeywordTaken(
            f"your wrapper has a parameter of its own named {', '.join(names)}, so "
            f"emit({event!r}, 1, {', '.join(f'{n}=...' for n in names)}) called the handler "
            f"with {got or 'nothing'}, not with exactly those arguments{said}. The handler "
            "gets every keyword given to emit, whatever its name: a wrapper takes *args, "
            "**kwargs only (keep the bus and the rest in the enclosing function, not in "
            "default arguments)")


async def other_bus_op(module: ModuleType, op: dict[str, Any]) -> None:
    """Run ``op``, one of :data:`OTHER_BUS_OPS`."""
    if op["op"] == ONCE_NOT_CALLABLE:
        await once_not_callable(module, op)
    elif op["op"] == ONCE_KEYWORDS:
        await once_keywords(module, op)
    else:
        once_elsewhere(module, op)
