"""The listeners a scenario registers: every shape a handler can take in a real program.

Why a module of its own: the texts promise that *any* callable is a handler and
*whatever* it returns that is awaitable is awaited, and each shape below is one a
submission has got wrong (a blind batch found the last ones). The scenarios mode
(:mod:`day25.course.inside.scenarios`) says what a listener does when called
(``record``, then ``after``); this module says what shape it has.

Kinds (``"kind"``): ``sync``; ``async`` (``async def``); ``method`` (a sync bound
method, a new bound-method object at every mention, as ``obj.handle`` is);
``returns_awaitable`` (a sync function that returns a coroutine); ``returns_task`` (a
sync function that returns an ``asyncio.Task``, an awaitable that is not a coroutine);
``returns_future`` (the same with a bare ``asyncio.Future``, which is not a Task
either); ``returns_done_future`` (a Future already done: :mod:`~.listener_shapes`);
``returns_awaitable_object`` (an object of a class with
``__await__``: neither coroutine, Task nor Future, yet ``inspect.isawaitable``);
``returns_falsy_awaitable`` (the same, an empty collection too: ``len()`` 0, so ``if
result`` takes it for nothing to await); ``returns_value`` (a sync function that records,
then returns 42, or its ``"returned"``: a value); ``returns_generator`` (one that returns a
plain generator object, ``(x for x in ())``: not awaitable, though ``asyncio.iscoroutine``
says yes to it on Python 3.11, so code that awaits it gets a ``TypeError`` the listener
never raised); ``async_returns_awaitable`` (an ``async def`` whose own result is awaitable
too: that result is a value, and awaiting it as well is reported through ``misused``);
``returns_generator_coroutine`` (a sync function that returns a generator-based
coroutine, ``@types.coroutine``: ``inspect.isawaitable``, though not a
``collections.abc.Awaitable``); ``one_arg`` (a sync function of exactly one positional
parameter, so a call with other arguments raises ``TypeError``); ``no_signature`` (a
sync C callable ``inspect.signature`` cannot read, as ``dict.update`` or ``max``: a
``functools.partial`` of a ``contextvars.Context``'s ``run``, so it cannot call itself);
and ``async_callable`` (an object whose ``__call__`` is ``async def``); and
``returns_async_generator``, ``returns_watched_generator``, ``returns_awaitable_if_truthy``
(awaitable for some calls), ``returns_awaitable_list``, ``"own_attrs"``, a ``method``'s
``"one_object"``, ``class_handler``, ``returns_thread_future``, ``generator_function``:
:mod:`~.listener_shapes`;
``returns_exception``, ``async_returns_exception`` (an exception returned): :mod:`~.plain_values`.

``"reemit"`` on a ``sync`` listener: it calls ``emit`` and drives what that returned to
its end in place, with no ``await`` (as the bus runs all-sync listeners when ``emit`` is
called; a lazy emit that finishes without waiting runs there too); an emit that has to
wait is stopped and reported through ``misused``.

Flags: ``"unhashable": true`` makes the listener an object that compares by identity but has no
hash (as a ``@dataclass`` with ``__call__`` has), so a registry keyed by handlers fails;
``"falsy": true`` makes it an object whose ``len()`` is 0 (a callable collection, empty), so
``if not handler`` mistakes it for none; ``"equal": true`` makes every mention of it a new
object equal to the others (``==``, not ``is``), as a bound method is, though not a Python
method: ``list.append`` of one list, or an object with its own ``__eq__``; on a ``method``
listener it makes the object the method is bound to equal to every other such object (two equal
``@dataclass`` instances), while the bound methods stay other handlers, as Python compares a
bound method's ``__self__`` by identity; ``"wrapped": true`` gives it a ``__wrapped__`` of its
own, as a handler made by ``functools.wraps`` has, which a once-wrapper must not copy over its
own; ``"slotted": true`` makes it an object of a class with ``__slots__``, which cannot be
weakly referenced; ``"self_checked": true``: :mod:`~.self_checked`.

An async listener awaits ``asyncio.sleep(0)`` before it records, so listeners
that are not awaited in order show up in the trace; ``"delay": n`` (default 1)
makes it yield n times, so listeners run side by side finish out of order, and
``"sleep": s`` makes it sleep ``s`` seconds first (in a scenario with ``"clock":
"virtual"``, which skips the wait: see :mod:`~day25.course.inside.virtual_clock`),
so an emit that gives up on slow listeners shows.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import types
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterator
from typing import Any

from day25.course.inside.listener_shapes import (
    AWAITABLE_LIST,
    AwaitableList,
    OneObjectMethod,
    class_handler,
    generator_function,
    own_attrs,
    returns_awaitable_if_truthy,
    returns_done_future,
    returns_generator,
    returns_thread_future,
)
from day25.course.inside.plain_values import (
    RETURNS_EXCEPTION,
    Equal,
    EqualNoHash,
    returns_exception,
)
from day25.course.inside.self_checked import self_checked

__all__ = ["depth", "handler_of", "make_listener"]

#: 1 inside a re-entrant or concurrent emit: listeners re-emit only from depth 0
depth: contextvars.ContextVar[int] = contextvars.ContextVar("day25_scenario_depth", default=0)

Record = Callable[[tuple[Any, ...], dict[str, Any]], None]


class _Holder:
    """A listener that is a bound method: ``holder.handle`` is a new object each time."""

    def __init__(self, record: Record) -> None:
        self._record = record

    def handle(self, *args: Any, **kwargs: Any) -> None:
        self._record(args, kwargs)


class _EqualHolder(_Holder):
    """A ``method`` listener bound to an object equal to every other one (as two equal
    dataclass instances are): ``a.handle != b.handle`` all the same, by Python's rule."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _EqualHolder)

    def __hash__(self) -> int:
        return 0


class _AsyncCallable:
    """A listener object whose ``__call__`` is ``async def`` (not a function itself)."""

    def __init__(self, body: Callable[[tuple[Any, ...], dict[str, Any]], Any]) -> None:
        self._body = body

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        await self._body(args, kwargs)


class _AwaitableObject:
    """What ``returns_awaitable_object`` returns: awaitable through ``__await__`` only."""

    def __init__(self, work: Coroutine[Any, Any, None]) -> None:
        self._work = work

    def __await__(self) -> Generator[Any, None, None]:
        return self._work.__await__()


class _EmptyAwaitable(_AwaitableObject):
    """What ``returns_falsy_awaitable`` returns: awaitable, and an empty collection."""

    def __len__(self) -> int:
        return 0


class _Reported:
    """Awaitable, and awaiting it calls ``report()``: a value no one should await."""

    def __init__(self, report: Callable[[], None]) -> None:
        self._report = report

    def __await__(self) -> Iterator[Any]:
        self._report()
        return iter(())


@types.coroutine
def _generator_based(
    start: Callable[[], Coroutine[Any, Any, None]],
) -> Generator[Any, None, None]:
    """A generator-based coroutine running ``start()``: awaitable, yet no ``__await__``
    (``start`` is called when it first runs: one never awaited leaves no coroutine)."""
    yield from start().__await__()


class _Falsy:
    """A listener that is an empty collection too: callable, and ``len()`` 0."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    def __len__(self) -> int:
        return 0


class _Unhashable:
    """A listener equal only to itself, with no hash (``__hash__ = None``)."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)


class _Slotted:
    """A listener of a class with ``__slots__`` (``@dataclass(slots=True)``): no weakref."""

    __slots__ = ("_fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)


def handler_of(made: Any) -> Callable[..., Any]:
    """What to pass to ``on``/``off`` for a listener ``make_listener`` made: a ``method``
    one gives a new bound-method object every time, as ``obj.handle`` does, and an
    ``equal`` one another object equal to the last."""
    if isinstance(made, _Holder):
        return made.handle
    if isinstance(made, OneObjectMethod):
        return made.bound()
    if isinstance(made, Equal):  # EqualNoHash too (plain_values)
        return type(made)(made.fn)
    handler: Callable[..., Any] = made
    return handler


def _original(*args: Any, **kwargs: Any) -> None:
    """What a ``"wrapped"`` listener says it wraps: never registered, never called."""


def _finished_in_place(work: Awaitable[Any]) -> bool:
    """Drive ``work`` with no event loop's help: True if it finished without waiting;
    else it is closed where it stopped (a sync caller cannot wait for it)."""
    steps = work.__await__()
    try:
        steps.send(None)
    except StopIteration:
        return True
    steps.close()
    return False


async def _resolve(future: asyncio.Future[Any], work: Awaitable[Any]) -> None:
    """Resolve ``future`` (if still pending) with ``work``'s outcome or own exception."""
    try:
        await work
    except Exception as exc:
        if not future.done():
            future.set_exception(exc)
    else:
        if not future.done():
            future.set_result(None)


def make_listener(
    name: str, op: dict[str, Any], *, record: Record, after: Callable[[], None],
    reemit: Callable[[dict[str, Any]], Awaitable[None]], resolving: set[asyncio.Future[Any]],
    misused: Callable[[str], None],
) -> Any:
    """The listener ``op`` describes: ``record(args, kwargs)`` when called, then
    (an async one: after its re-emit, from depth 0 only) ``after()``. ``misused(text)``
    reports what the code under test did with the listener that the texts rule out."""
    kind, again, delay = op.get("kind", "sync"), op.get("reemit"), int(op.get("delay", 1))
    sleep = float(op.get("sleep", 0))

    def now(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        record(args, kwargs)
        if kind == "sync" and again is not None and depth.get() == 0:
            token = depth.set(1)
            try:
                if not _finished_in_place(reemit(again)):
                    misused(f"the emit sync listener {name} made had to wait, and a sync "
                            "listener cannot: an emit of sync listeners runs them at once")
            finally:
                depth.reset(token)
        after()

    async def body(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if sleep:
            await asyncio.sleep(sleep)
        for _ in range(delay):
            await asyncio.sleep(0)
        record(args, kwargs)
        if again is not None and depth.get() == 0:
            token = depth.set(1)
            try:
                await reemit(again)
            finally:
                depth.reset(token)
        after()

    made: Any
    if kind == "sync":

        def made(*args: Any, **kwargs: Any) -> None:
            now(args, kwargs)

    elif kind == "method":
        if op.get("one_object"):
            return OneObjectMethod(name, now)
        return _EqualHolder(now) if op.get("equal") else _Holder(now)
    elif kind == "returns_awaitable":

        def made(*args: Any, **kwargs: Any) -> Any:
            return body(args, kwargs)  # not async def itself: returns a coroutine

    elif kind == "returns_task":

        def made(*args: Any, **kwargs: Any) -> Any:
            return asyncio.ensure_future(body(args, kwargs))  # awaitable, not a coroutine

    elif kind == "returns_future":

        def made(*args: Any, **kwargs: Any) -> Any:
            future = asyncio.get_running_loop().create_future()
            task = asyncio.ensure_future(_resolve(future, body(args, kwargs)))
            resolving.add(task)  # the loop holds tasks weakly: keep it to its end
            task.add_done_callback(resolving.discard)
            return future  # awaitable, neither a coroutine nor a Task

    elif kind == "returns_done_future":
        made = returns_done_future(now, same=bool(op.get("same_future")))
    elif kind == "returns_awaitable_object":

        def made(*args: Any, **kwargs: Any) -> Any:
            return _AwaitableObject(body(args, kwargs))

    elif kind == "returns_value":

        def made(*args: Any, **kwargs: Any) -> Any:
            now(args, kwargs)
            return op.get("returned", 42)  # not awaitable (False too): nothing to await

    elif kind == "returns_generator":

        def made(*args: Any, **kwargs: Any) -> Any:
            now(args, kwargs)
            return (None for _ in ())  # a plain generator: a value, not awaitable

    elif kind == "async_returns_awaitable":

        async def made(*args: Any, **kwargs: Any) -> Any:
            await body(args, kwargs)
            return _Reported(lambda: misused(
                f"the value listener {name}'s coroutine returned (awaitable itself) was "
                "awaited too: only what the listener returns is awaited, once"))

    elif kind in ("returns_falsy_awaitable", AWAITABLE_LIST):
        made_as = AwaitableList if kind == AWAITABLE_LIST else _EmptyAwaitable  # a list too
        def made(*args: Any, **kwargs: Any) -> Any:
            return made_as(body(args, kwargs))

    elif kind == "no_signature":

        def plain(*args: Any, **kwargs: Any) -> None:
            now(args, kwargs)

        made = functools.partial(contextvars.copy_context().run, plain)

    elif kind == "returns_generator_coroutine":

        def made(*args: Any, **kwargs: Any) -> Any:
            return _generator_based(lambda: body(args, kwargs))

    elif kind == "one_arg":

        def made(payload: Any) -> None:
            now((payload,), {})

    elif kind == "async_callable":
        made = _AsyncCallable(body)
    elif kind in ("returns_async_generator", "returns_watched_generator"):  # listener_shapes
        made = returns_generator(now, name, misused, kind)
    elif kind == "returns_awaitable_if_truthy":  # see listener_shapes
        made = returns_awaitable_if_truthy(now, body)
    elif kind == "class_handler":  # see listener_shapes
        made = class_handler(now)
    elif kind == "returns_thread_future":
        made = returns_thread_future(now, name)
    elif kind == "generator_function":
        made = generator_function(name, misused)
    elif kind in RETURNS_EXCEPTION:  # see plain_values
        made = returns_exception(kind, name, now, body)
    else:

        async def made(*args: Any, **kwargs: Any) -> None:
            await body(args, kwargs)

    if not isinstance(made, _AsyncCallable):
        made.__name__ = made.__qualname__ = op.get("qualname", f"listener_{name}")
        if op.get("wrapped"):
            made.__wrapped__ = _original
        if op.get("own_attrs"):  # listener_shapes: attributes named as a wrapper's state
            made.__dict__.update(own_attrs(name, misused))
    if op.get("unhashable"):
        made = _Unhashable(made)
    elif op.get("falsy"):
        made = _Falsy(made)
    elif op.get("equal"):
        made = EqualNoHash(made) if op.get("no_hash") else Equal(made)
    elif op.get("slotted"):
        made = _Slotted(made)
    return self_checked(made, name, misused) if op.get("self_checked") else made
