"""Values that look like something else, which the code under test must pass on as values.

Why a module of its own: :mod:`day25.course.inside.listeners` and
:mod:`day25.course.inside.scenarios` are near their size limit, and both shapes here
came from the fourteenth blind batch (exercise 2), where a wrapper took a value
for a signal: an exception object a handler *returns* for a failure (error-as-value,
as Go's ``return err``) and a callable given to ``emit`` for an acknowledgement to
call back (socket.io's habit). The texts say the handler gets exactly the emit's
arguments and that what it returns is awaited when awaitable, else a value.

Listener kinds: ``returns_exception`` (a sync function that records, then *returns* a
``ValueError`` object, raising nothing) and ``async_returns_exception`` (an ``async
def`` that does the same once awaited). A wrapper that raises what a handler returned
puts an error into the emit's result that no listener raised.

Emit arguments (eighteenth batch: ``"tuple_args": [i, ...]`` makes the JSON lists at
those indexes tuples, one tuple argument that a wrapper must not spread into several):
``"callable_args": [i, ...]`` on an ``emit`` op with ``"args"`` makes
the positional arguments at those indexes callables (plain functions, as an ``ack``
callback is) standing for the JSON values written there: a listener records each as
that value (:func:`recorded_payload`), so the model needs no change, and calling one
(the code under test has no business to) is reported through ``misused``.

Priorities: ``"priority": "int_enum.URGENT"`` (or ``"int_enum.ROUTINE"``) is a member
of :class:`Urgency`, an ``enum.IntEnum`` of the caller's own, not ``EventPriority``.
``EventBus.on`` takes any ``int``, so this member too, as the int it is (``URGENT`` is
10, before ``HIGHEST``; ``ROUTINE`` is -1, after ``LOWEST``). A wrapper that hands
every enum member on by its name (as Nexios' own members go) gives the bus a name it
does not know; ``"int_enum.HIGH"`` (9) is named like a level of the bus's, which a
wrapper that takes every enum member by its name makes day25's ``HIGH`` (3).
``"named_enum.HIGH"`` (twenty-second batch) is a member of :class:`NamedLevel`, a plain
``enum.Enum`` of the caller's own (``HIGH = "h"``): no int, no str, no ``EventPriority``,
yet ``EventBus.on`` takes it by its name, as it takes Nexios' members; a ``once`` that
refuses every priority outside the kinds the text lists refuses it.

Twenty-sixth batch (another caller): ``"priority": "explicit.None"`` hands ``None`` on as
the priority, as a caller forwarding an unset option does (``bus.on`` refuses it with
``TypeError``, so ``once`` must too, not take it for "not given"); ``"str_event": true``
on an ``on`` or ``once`` op gives its event name as an :class:`EventName`, a ``str`` of
the caller's own class (as a ``StrEnum`` member is), which ``bus.on`` takes as it is.

Handlers (twenty-third batch): ``"equal": true, "no_hash": true`` makes a listener an
:class:`EqualNoHash`, another object at every mention, equal to the others by an
``__eq__`` of its own and so with no hash: a registry filed by handler that files an
unhashable one under its ``id`` never finds an equal one. ``"qualname": "<name>"`` names
a listener function so (``__name__`` and ``__qualname__``), as the closures one factory
makes share a name: an ``off`` that matches handlers by their name removes them all.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Coroutine
from typing import Any

from day25 import EventPriority

__all__ = ["EXPLICIT_NONE", "INT_ENUM", "NAMED_ENUM", "RETURNS_EXCEPTION", "Equal",
           "EqualNoHash", "EventName", "NamedLevel", "Urgency", "emit_arguments", "event_name",
           "named_level", "recorded_payload", "returns_exception"]

#: the prefix of a scenario priority that names a member of :class:`Urgency`
INT_ENUM = "int_enum."
#: the prefix of a scenario priority that names a member of :class:`NamedLevel`
NAMED_ENUM = "named_enum."
#: the scenario priority that hands ``None`` on as the priority
EXPLICIT_NONE = "explicit.None"


class EventName(str):
    """An event name of the caller's own ``str`` class (a ``StrEnum`` member is one)."""


def event_name(op: dict[str, Any]) -> str:
    """The event name an ``on`` or ``once`` op hands to the code under test."""
    return EventName(op["event"]) if op.get("str_event") else str(op["event"])

#: the listener kinds this module makes
RETURNS_EXCEPTION = ("returns_exception", "async_returns_exception")

#: the attribute a stand-in callable carries: the JSON value it stands for
_STANDS_FOR = "day25_stands_for"

Now = Callable[[tuple[Any, ...], dict[str, Any]], None]
Body = Callable[[tuple[Any, ...], dict[str, Any]], Coroutine[Any, Any, None]]


def returns_exception(kind: str, name: str, now: Now, body: Body) -> Callable[..., Any]:
    """A listener that records (``now``; ``body`` when async), then returns an exception
    object: a value, which it does not raise."""
    if kind == "async_returns_exception":

        async def made_async(*args: Any, **kwargs: Any) -> Any:
            await body(args, kwargs)
            return ValueError(f"a value listener {name} returned, not an error it raised")

        return made_async

    def made(*args: Any, **kwargs: Any) -> Any:
        now(args, kwargs)
        return ValueError(f"a value listener {name} returned, not an error it raised")

    return made


def emit_arguments(op: dict[str, Any], misused: Callable[[str], None]) -> list[Any]:
    """The positional arguments of an ``emit`` op, with ``callable_args`` made callables
    and ``tuple_args`` (indexes too) made tuples of the JSON lists written there."""
    args = list(op["args"]) if "args" in op else [op.get("payload")]
    for index in op.get("callable_args", ()):
        args[index] = _stand_in(args[index], misused)
    for index in op.get("tuple_args", ()):
        args[index] = tuple(args[index])
    return args


def _stand_in(value: Any, misused: Callable[[str], None]) -> Callable[..., None]:
    def ack(*args: Any, **kwargs: Any) -> None:
        misused(f"the function {value!r} given to emit as an argument was called back: it "
                "is an argument for the handler, passed on to it as it is")

    setattr(ack, _STANDS_FOR, value)
    return ack


def recorded_payload(args: tuple[Any, ...]) -> Any:
    """What a listener records of its positional arguments: the one, or ``{"args":
    [...]}`` when it got none or several; a stand-in callable as the value it stands for."""
    plain = [getattr(a, _STANDS_FOR, a) if callable(a) else a for a in args]
    return plain[0] if len(plain) == 1 else {"args": plain}


class Urgency(enum.IntEnum):
    """Levels of the caller's own: plain ints to the bus, by their values (``HIGH`` too,
    though the bus knows that name: 9 is not day25's ``HIGH``, 3)."""

    ROUTINE = -1
    HIGH = 9
    URGENT = 10


class NamedLevel(enum.Enum):
    """Levels of the caller's own in a plain Enum (str values): the bus goes by the names."""

    HIGH = "h"
    LOW = "l"


def named_level(spelling: int | str) -> Any:
    """What a scenario's ``"priority"`` hands to the code under test: an int or a name in
    lower case as it is; ``"nexios.<NAME>"`` a member of Nexios' ``EventPriority``;
    ``"int_enum.<NAME>"`` one of :class:`Urgency`; any other name one of day25's."""
    if spelling == EXPLICIT_NONE:
        return None
    if isinstance(spelling, int) or spelling.islower():
        return spelling
    if spelling.startswith("nexios."):
        from nexios.events import EventPriority as NexiosPriority  # only when asked

        return NexiosPriority[spelling.removeprefix("nexios.")]
    if spelling.startswith(INT_ENUM):
        return Urgency[spelling.removeprefix(INT_ENUM)]
    if spelling.startswith(NAMED_ENUM):
        return NamedLevel[spelling.removeprefix(NAMED_ENUM)]
    return EventPriority[spelling]


def pep479(error: BaseException) -> BaseException:
    """A listener's own ``StopIteration`` where Python made it a ``RuntimeError`` (PEP 479:
    raised through an ``async def`` wrapper, which the texts allow), else ``error``
    (nineteenth batch: a ``"raises": "StopIteration"`` listener must reach the bus). Only
    Python's own, by its message: a ``RuntimeError`` a wrapper raised itself from the
    ``StopIteration`` wraps it (twenty-second batch), and is left as it is."""
    cause = error.__cause__
    if type(error) is RuntimeError and isinstance(cause, StopIteration) and str(error) in _PEP479:
        return cause
    return error


class Equal:
    """A listener that is another object at every mention (``handler_of``), equal to the
    others (the ``"equal"`` flag)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Equal) and other.fn is self.fn

    def __hash__(self) -> int:
        return hash(self.fn)


class EqualNoHash(Equal):
    """An :class:`Equal` by its own ``__eq__`` alone, and so with no hash (``__hash__`` is
    None), as a class that defines ``__eq__`` and not ``__hash__`` is."""

    __hash__ = None  # type: ignore[assignment]


#: what Python says when a StopIteration leaves a coroutine, a generator, an async generator
_PEP479 = tuple(f"{what} raised StopIteration"
                for what in ("coroutine", "generator", "async generator"))
