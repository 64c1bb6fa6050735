"""What an emit gives back: :class:`EmitResult`, and the awaitable that carries it.

Why a module of its own: ``EventBus.emit`` runs a plan of only sync listeners
*before it returns* and hands back :class:`Finished`, an awaitable that is
already complete. How that awaitable is built is a speed detail the bus should
not have to explain, so it lives here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, NamedTuple, NoReturn

__all__ = ["EmitResult", "Emitting", "Finished", "settled"]


class EmitResult(NamedTuple):
    """What one emit did: how many listeners ran and what they raised."""

    ran: int
    errors: tuple[Exception, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_errors(self) -> None:
        """Raise the listeners' exceptions as one ``ExceptionGroup``, if any."""
        if self.errors:
            raise ExceptionGroup("event listeners raised", list(self.errors))


OK = tuple(EmitResult(n) for n in range(64))  # results without errors are shared
Emitting = Coroutine[Any, Any, EmitResult]  # what emit returns: await it for the result


class Finished(asyncio.Future[EmitResult], Coroutine[Any, Any, EmitResult]):
    """An emit that already ran: ``await`` gives its :class:`EmitResult` at once.

    Why a finished ``asyncio.Future``: awaiting one happens in C and costs about a
    third of creating and running a coroutine, and ten cheap sync listeners cannot
    hide that cost (``benchmarks/emit.py``). Why also a ``Coroutine``:
    ``asyncio.create_task``, ``asyncio.run`` and ``run_coroutine_threadsafe`` take
    it like any other emit (``send`` finishes at once with the result).
    ``asyncio.isfuture`` says no to it, so asyncio wraps it in a task on whichever
    loop asks rather than insisting on the loop it was made on. It never changes
    after it is made, so one instance serves every clean emit of a plan.
    """

    _asyncio_future_blocking = None  # type: ignore[assignment]  # see above: not a future

    def __init__(self, result: EmitResult, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop=loop)
        self.set_result(result)

    def send(self, value: Any) -> NoReturn:
        raise StopIteration(self.result())

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> NoReturn:
        raise typ if val is None else val

    def close(self) -> None:
        return None


async def settled(result: EmitResult, raise_errors: bool) -> EmitResult:
    """The awaitable of an eager emit whose listeners raised (or that ran without
    a running loop): a real coroutine, so it warns if nobody awaits it, and with
    ``raise_errors`` the ``ExceptionGroup`` comes out of the ``await``."""
    if raise_errors:
        result.raise_errors()
    return result
