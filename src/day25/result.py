"""What an emit gives back: :class:`EmitResult`, and the awaitable that carries it.

Why a module of its own: ``EventBus.emit`` runs a plan of only sync listeners
*before it returns* and hands back :class:`Finished`, an awaitable that is
already complete. How that awaitable is built is a speed detail the bus should
not have to explain, so it lives here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple, NoReturn

__all__ = ["OK", "EmitResult", "Emitting", "Finished"]


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


class _RunningLoop:
    """Stands in for the loop of every :class:`Finished`: whichever loop is running.

    A finished future only needs its loop for ``add_done_callback``, which
    schedules the callback there. Bound to the loop it was made in, a shared
    ``Finished`` breaks once that loop closes (``asyncio.run`` twice, one loop per
    pytest test): callbacks go to the running loop instead, so one ``Finished``
    serves every loop, and plain sync code (no loop at all) can make one too.
    """

    def call_soon(self, callback: Callable[..., Any], *args: Any, context: Any = None) -> Any:
        return asyncio.get_running_loop().call_soon(callback, *args, context=context)

    def get_debug(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<the running event loop>"


_RUNNING_LOOP: Any = _RunningLoop()


class Finished(asyncio.Future[EmitResult], Coroutine[Any, Any, EmitResult]):
    """An emit that already ran: ``await`` gives its :class:`EmitResult` at once.

    Why a finished ``asyncio.Future``: awaiting one happens in C, and it is a
    large part of what an emit of a few cheap sync listeners costs
    (``benchmarks/emit.py``). Why also a ``Coroutine``: ``asyncio.create_task``,
    ``asyncio.run`` and ``run_coroutine_threadsafe`` take it like any other emit
    (``send`` finishes at once with the result). ``asyncio.isfuture`` says no to
    it, so asyncio wraps it in a task on whichever loop asks. It belongs to no
    loop (see :class:`_RunningLoop`) and never changes after it is made, so one
    instance serves every clean emit of a plan, in any loop or none.

    With ``raise_errors`` and listener errors, awaiting raises their
    ``ExceptionGroup``; ``outcome`` is the :class:`EmitResult` either way. An
    emit that is never awaited does not warn: its listeners ran, and each error
    was logged when it happened.
    """

    _asyncio_future_blocking = None  # type: ignore[assignment]  # see above: not a future

    def __init__(self, outcome: EmitResult, raise_errors: bool = False) -> None:
        super().__init__(loop=_RUNNING_LOOP)
        self.outcome = outcome
        if raise_errors and outcome.errors:
            self.set_exception(ExceptionGroup("event listeners raised", list(outcome.errors)))
            self._log_traceback = False  # awaiting raises it; unawaited, it was logged already
        else:
            self.set_result(outcome)

    def __reduce__(self) -> tuple[Any, ...]:
        # a plain asyncio.Future cannot be pickled or deep-copied; this one is a value
        return Finished, (self.outcome, self.exception() is not None)

    def send(self, value: Any) -> NoReturn:
        raise StopIteration(self.result())  # or raises the group, as awaiting does

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> NoReturn:
        raise typ if val is None else val

    def close(self) -> None:
        return None
