"""Four listener shapes that test what an emit or a wrapper does with a handler's result
and attributes.

Why a module of its own: :mod:`day25.course.inside.listeners` is near its size limit,
and these shapes matter only to code that looks at a handler's result or wraps a handler.
``returns_async_generator`` is a sync function that records, then returns an async
generator object: not awaitable (``inspect.isawaitable`` says no), so it is a value, and
code that runs it through (``async for``) is reported through ``misused``;
``returns_watched_generator`` (twenty-second batch) is the same with a plain generator
object, not awaitable either, whose body reports being run (``for``, ``next``, ``list``).
``returns_awaitable_if_truthy`` returns a coroutine for some calls only: the texts say
that what a listener *returns* is awaited when it is awaitable, so the question is asked
of every result, at every call (``def maybe(x): return save(x) if x else None`` is a
listener like any other); an emit that learns once whether a handler is "async" either
never runs a later coroutine or awaits ``None``. The ``"own_attrs": true`` flag gives a
listener function attributes of its own named as a wrapper's state often is
(``event``, ``handler``, ``fired``, ...), as any callable object may have them: a
wrapper that copies the handler's ``__dict__`` over its own state (``functools.wraps``
or ``update_wrapper`` called after it set that state) then offs another event, calls
something else than the handler, or thinks it fired already.
``returns_awaitable_list`` returns :class:`AwaitableList`, an empty ``list`` with an
``__await__``: code that takes any instance of a builtin type for a plain value, without
asking ``inspect.isawaitable``, never awaits it.
``returns_done_future`` is a sync function that records, then returns a Future already
done: its result, or what the listener raised as its exception, which must reach the emit
all the same; with ``"same_future": true`` (twenty-fourth batch) it returns the first
call's Future at every call, as a cached result is: awaited again, it raises again, so an
emit that skips an awaitable it has awaited before lets the error of a later call go.
Twenty-sixth batch (another caller): ``class_handler`` is a class, called with the emit's
arguments like any callable (its instance is what it returns: a value), which a wrapper
that instantiates a "listener class" at registration calls too early, with nothing;
``returns_thread_future`` is a sync function that records, then returns a
``concurrent.futures.Future`` already done with an error (a job handed to a thread pool
that failed): not awaitable, so a value, and code that waits on it raises that error;
``generator_function`` is a generator function: calling it runs none of its body (so it
records nothing) and gives a generator, a value; code that refuses it as a handler, or runs
its body, is reported.
``"one_object": true`` on a ``method`` listener (twenty-fourth batch) makes it a
:class:`OneObjectMethod`: a method of the one object :data:`SERVICE`, as ``service.save``
and ``service.audit`` are two methods of one object, so ``off`` of one that compares only
what a method is bound to removes the other too.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import types
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from typing import Any

__all__ = ["AWAITABLE_LIST", "OWN_ATTR_NAMES", "SERVICE", "AwaitableList", "OneObjectMethod",
           "check_returned", "class_handler", "generator_function", "own_attrs",
           "returns_awaitable_if_truthy",
           "returns_done_future", "returns_generator", "returns_thread_future"]

def check_returned(what: str, returned: Any, fn: object) -> None:
    """``on`` and ``once`` return the very handler they were given (so each works as a
    decorator); a ``TypeError`` says what came back, and why when it is telling."""
    if returned is fn:
        return
    why = ""
    if callable(returned) and not fn:  # a falsy handler taken for "no handler given"
        why = (". It returned a callable for a handler that is falsy (an empty collection "
               "with a __call__): the decorator form is the one without a handler (handler "
               "is None), not one whose handler is false")
    raise TypeError(f"{what}() returned {returned!r}; it must return the very handler it "
                    f"was given (so it works as a decorator){why}")


#: the attributes an ``own_attrs`` listener carries, as a wrapper might name its state
OWN_ATTR_NAMES = {
    "bus": "bus", "_bus": "bus", "event": "event", "_event": "event",
    "handler": "call", "_handler": "call", "fn": "call", "func": "call", "callback": "call",
    "listener": "call", "wrapper": "call", "original": "call",
    "fired": "true", "_fired": "true", "called": "true", "done": "true", "used": "true",
}

Report = Callable[[str], None]


async def _async_generator(report: Callable[[], None]) -> AsyncIterator[None]:
    """What ``returns_async_generator`` returns: its body runs only when iterated."""
    report()
    yield None


def _generator(report: Callable[[], None]) -> Iterator[None]:
    """What ``returns_watched_generator`` returns: its body runs only when iterated."""
    report()
    yield None


def returns_generator(
    now: Callable[[tuple[Any, ...], dict[str, Any]], None], name: str, misused: Report,
    kind: str = "returns_async_generator",
) -> Callable[..., Any]:
    """A sync listener that records (``now``), then returns a generator object: an async
    one for ``kind`` ``"returns_async_generator"``, a plain one for
    ``"returns_watched_generator"``."""
    plain = kind == "returns_watched_generator"
    what = "generator" if plain else "async generator"

    def made(*args: Any, **kwargs: Any) -> Any:
        now(args, kwargs)
        report = lambda: misused(  # noqa: E731 - one text for both shapes
            f"the {what} listener {name} returned was run through: it is a value, "
            "not awaitable, and nothing is to iterate it")
        return _generator(report) if plain else _async_generator(report)

    return made


class _DecoyBus:
    """An ``own_attrs`` listener's ``bus``: any method called on it is reported."""

    def __init__(self, name: str, misused: Report) -> None:
        self._name, self._misused = name, misused

    def __getattr__(self, method: str) -> Callable[..., None]:
        def called(*args: Any, **kwargs: Any) -> None:
            self._misused(f"bus.{method}() was called on the attribute bus of listener "
                          f"{self._name}, not on the bus it was given to")

        return called


def own_attrs(name: str, misused: Report) -> dict[str, Any]:
    """The attributes (``OWN_ATTR_NAMES``) of listener ``name``, each wrong for a wrapper
    that took it for its own: another event, another bus, a callable that reports being
    called, a flag that says it fired."""

    def call(*args: Any, **kwargs: Any) -> None:
        misused(f"an attribute of listener {name} (a callable of its own) was called "
                "instead of the listener")

    values = {"bus": _DecoyBus(name, misused), "event": f"not-the-event-of-{name}",
              "call": call, "true": True}
    return {attr: values[what] for attr, what in OWN_ATTR_NAMES.items()}


def returns_awaitable_if_truthy(
    now: Callable[[tuple[Any, ...], dict[str, Any]], None],
    body: Callable[[tuple[Any, ...], dict[str, Any]], Coroutine[Any, Any, None]],
) -> Callable[..., Any]:
    """A sync listener: ``body(...)``'s coroutine for a true first argument, else it
    records (``now``) and returns ``None``. Give it no ``reemit`` or ``sleep``: whether it
    waits depends on the payload, which the model does not follow."""

    def made(*args: Any, **kwargs: Any) -> Any:
        if args and args[0]:
            return body(args, kwargs)  # awaitable: the emit must await it
        now(args, kwargs)
        return None

    return made


#: the listener kind that returns an :class:`AwaitableList`
AWAITABLE_LIST = "returns_awaitable_list"


class AwaitableList(list[Any]):
    """What a ``returns_awaitable_list`` listener returns: an empty ``list`` that is
    awaitable through its ``__await__`` (``isinstance(result, list)`` is true)."""

    def __init__(self, work: Coroutine[Any, Any, None]) -> None:
        super().__init__()
        self._work = work

    def __await__(self) -> Generator[Any, None, None]:
        return self._work.__await__()


def returns_done_future(record: Callable[[tuple[Any, ...], dict[str, Any]], None], *,
                        same: bool) -> Callable[..., Any]:
    """A ``returns_done_future`` listener; ``same``: the first call's Future every time."""
    kept: list[asyncio.Future[None]] = []

    def made(*args: Any, **kwargs: Any) -> Any:
        future = asyncio.get_running_loop().create_future()
        try:
            record(args, kwargs)
        except Exception as exc:  # the listener's own error, carried by the future
            future.set_exception(exc)
        else:
            future.set_result(None)
        if same:
            if kept:
                future.exception()  # this call's own is dropped (retrieved: no warning)
                return kept[0]
            kept.append(future)
        return future  # done already: awaiting it gives its outcome at once

    return made


def class_handler(record: Callable[[tuple[Any, ...], dict[str, Any]], None]) -> type:
    """A ``class_handler`` listener: a class whose construction records the call."""

    class Handler:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            record(args, kwargs)

    return Handler


def generator_function(name: str, misused: Callable[[str], None]) -> Callable[..., Any]:
    """A ``generator_function`` listener: its body reports being run, as a value's would."""

    def made(*args: Any, **kwargs: Any) -> Iterator[None]:
        misused(f"listener {name} is a generator function: its call gives a generator, a "
                "value, whose body was run through")
        yield

    return made


def returns_thread_future(record: Callable[[tuple[Any, ...], dict[str, Any]], None],
                          name: str) -> Callable[..., Any]:
    """A ``returns_thread_future`` listener: records, then returns a failed pool job."""

    def made(*args: Any, **kwargs: Any) -> concurrent.futures.Future[None]:
        record(args, kwargs)
        job: concurrent.futures.Future[None] = concurrent.futures.Future()
        job.set_exception(LookupError(f"the pool job of {name} failed"))
        return job

    return made


class _Service:
    """The object every ``"one_object"`` method listener is a method of."""


SERVICE = _Service()


class OneObjectMethod:
    """A ``method`` listener of :data:`SERVICE`: each mention (:meth:`bound`) is a new
    bound-method object, as ``service.save`` is; two such listeners share their
    ``__self__`` and differ by their function only, as Python compares methods."""

    def __init__(self, name: str, record: Callable[[tuple[Any, ...], dict[str, Any]], None]
                 ) -> None:
        def method(service: _Service, *args: Any, **kwargs: Any) -> None:
            record(args, kwargs)

        method.__name__, method.__qualname__ = f"listener_{name}", f"_Service.listener_{name}"
        self.function = method

    def bound(self) -> Callable[..., None]:
        bound: Callable[..., None] = types.MethodType(self.function, SERVICE)
        return bound
