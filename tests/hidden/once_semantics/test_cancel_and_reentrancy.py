"""Graded suite for Exercise 2: once_semantics (25 points in all): cancel and nesting.

off cancels it (before, during or after an emit); each registration of a handler is
its own (given twice, or also with on, or again while an emit runs); emits nested in
a handler or run at the same time fire it once.
Scenarios run in a child against the submission's ``once`` on a bundled
EventBus whose own ``once`` raises; the reference model (conftest.py) says
what a correct ``once`` does.
"""

from __future__ import annotations

from typing import Any

import pytest

from day25.course.harness import load_beside

EXERCISE = "once_semantics"
_ops = load_beside(__file__, "once_ops")
H, once, on, off, count = _ops.H, _ops.once, _ops.on, _ops.off, _ops.count
emit, together = _ops.emit, _ops.together


@pytest.mark.points(2)
@pytest.mark.category("reentrant")
def test_reentrant_emit_does_not_fire_it_twice(check: Any) -> None:
    check([on("loop", priority="HIGH", kind="async", reemit={"event": "e", "payload": "again"}),
           once("a"), emit(1), emit(2), count()], H)
    # a handler that raised in the nested emit raised there only: the outer emit, which
    # did not run it, returns no error
    check([on("loop", priority="HIGH", kind="async", reemit={"event": "e", "payload": "again"}),
           once("boom", kind="async", raises="ValueError"), emit(1), emit(2), count()], H)
    # a sync one too: it raised in the nested emit, so it fired there, and the outer emit
    # does not run it again (a record of "fired" kept only for calls that returned does)
    check([on("loop", priority="HIGH", kind="async", reemit={"event": "e", "payload": "again"}),
           once("sync_boom", raises="ValueError"), on("after", priority="LOW"), emit(1),
           emit(2), count()], H)
    # however many other once-listeners fire in the nested emit (300 here), the outer
    # one, whose snapshot still holds them all, knows that each of them fired: a record
    # of what fired that forgets the oldest (bounded) lets them fire again
    check([on("loop", priority="HIGH", kind="async", reemit={"event": "e", "payload": "again"}),
           *[once(f"h{i}") for i in range(300)], emit(1), count()], H)
    # a handler that fired in the nested emit and gives another handler while it runs: the
    # outer emit's snapshot still holds the fired one, which the new registration does not
    # re-arm (a record of "fired" reused for the new one, as a freed slot, lets it run again)
    check([on("loop", priority="HIGH", kind="async", reemit={"event": "e", "payload": "again"}),
           once("a", then=[once("b")]), emit(1), count(), emit(2), count(), emit(3)], H)
    # given for a wildcard pattern, the nested emit may be of another event the pattern
    # hears: the handler still runs once in all (a record of the event names it fired for
    # lets the outer emit, of another name, run it again)
    check([on("loop", event="ui:a", priority="HIGH", kind="async",
              reemit={"event": "ui:b", "payload": "again"}),
           once("p", event="ui:*"), once("q", event="*", kind="async"),
           emit(1, event="ui:a"), emit(2, event="ui:a"), count("ui:*"), count("*")], H)


@pytest.mark.points(1)
@pytest.mark.category("reentrant")
def test_handler_that_emits_its_own_event_fires_once(check: Any) -> None:
    check([once("a", kind="async", reemit={"event": "e", "payload": "again"}), on("b"),
           emit(1), emit(2), count()], H)
    # a sync handler that emits: with sync listeners only, the nested emit runs while the
    # handler is still running (before it returns), and must not run it again
    check([once("s", reemit={"event": "e", "payload": "again"}), on("b", priority="LOW"),
           emit(1), emit(2), count()], H)
    # and when, before its own emit reaches it again, another once-handler ran and returned
    # inside it (given meanwhile, first in the nested emit): that one's end does not end
    # this one's run (a single "running now" slot that a handler's return empties does)
    check([on("x", priority="HIGH", then=[once("o", priority="HIGHEST")]),
           once("s", reemit={"event": "e", "payload": "again"}), emit(1), count(), emit(2),
           count()], H)
    # and when the emit that calls it has keyword arguments (another path through a wrapper):
    # its own positional emit must not run it again either, nor one of its own keyword emit
    check([once("s", reemit={"event": "e", "payload": "again"}), on("b", priority="LOW"),
           emit(1, who="ann"), count(), emit(2, who="bob"), count()], H)


@pytest.mark.points(2)
@pytest.mark.category("concurrent")
def test_concurrent_emits_fire_it_once(check: Any) -> None:
    check([on("slow", priority="HIGH", kind="async", delay=2), once("a", kind="async"),
           together(1, 2, 3, 4), emit(5), count()], H)
    # however many emits run at once (300 here, each with its own snapshot holding it): it
    # fires once in all (a count of calls in too small a range wraps and lets it run again)
    check([on("slow", priority="HIGH", kind="async", delay=2), once("a", kind="async"),
           once("b"), together(*range(300)), count()], H)
    # cancelled and given again, then two emits at once: it fires once (the cancelled
    # registration counts for nothing); given twice, once per registration
    check([once("a", kind="async"), off("a"), once("a", kind="async"),
           on("slow", priority="HIGH", kind="async", delay=2), together(1, 2), count(),
           once("b", kind="async"), once("b", kind="async"), together(3, 4, 5), count()], H)


@pytest.mark.points(2)
@pytest.mark.category("cancel")
def test_off_with_the_original_handler_cancels_it(check: Any) -> None:
    check([once("a"), on("b"), off("a"), emit(1), count()], H)
    # a handler made by functools.wraps has a __wrapped__ of its own: off(handler) still
    # finds the wrapper of yours that wraps it
    check([once("w", wrapped=True), once("w2", wrapped=True, kind="async"), on("b"),
           off("w"), off("w2"), emit(1), count()], H)
    # on that event only; given again after the off, it fires (once) again
    check([once("a"), once("a", event="f", kind="async"), off("a"), emit(1), emit(2, event="f"),
           once("a"), once("m", kind="method"), off("m"), emit(3), emit(4), count(),
           count("f")], H)
    # the ones left after a cancel stay each their own, and so does one given after it
    # (in the cancelled one's place among the event's listeners): both fire, none is left
    check([once("a"), once("b"), off("a"), once("c"), on("z", priority="LOW"), emit(1),
           count(), emit(2)], H)
    # a handler that is no function (an object with a __call__, sync or async, one without a
    # hash or an empty one, a partial of a C callable): off(handler) finds its wrapper too
    check([once("u", unhashable=True), once("f", falsy=True), once("c", kind="no_signature"),
           once("k", kind="async_callable"), once("s", slotted=True), on("b"), off("u"), off("f"),
           off("c"), off("k"), off("s"), emit(1), count(), emit(2)], H)


@pytest.mark.points(1)
@pytest.mark.category("cancel")
def test_off_after_it_fired_is_harmless(check: Any) -> None:
    check([once("a"), emit(1), off("a"), emit(2), once("a"), emit(3)], H)


@pytest.mark.points(1)
@pytest.mark.category("fires_once")
def test_a_handler_that_gives_itself_again_fires_once_per_emit(check: Any) -> None:
    # once(bus, e, handler) called while the emit runs: the emit under way does not run
    # it (snapshot), the next emit does, once; likewise for one given by another listener
    check([once("a", then=[once("a")]), on("b", priority="LOW", then=[once("c", priority="HIGH")]),
           emit(1), count(), emit(2), count(), off("a"), off("b"), emit(3), emit(4), count()], H)
    # given again at a higher priority by another listener before it fires: the one that
    # fires removes itself, not the other one of the same handler
    check([on("x", priority="HIGH", then=[once("h", priority="HIGHEST")]),
           once("h", priority="LOW"), emit(1), count(), emit(2), count(), emit(3)], H)


@pytest.mark.points(2)
@pytest.mark.category("cancel_during_emit")
def test_off_during_an_emit_cancels_it_from_the_next_emit(check: Any) -> None:
    check([on("canceller", priority="HIGH", then=[off("a")]), once("a"), on("b", priority="LOW"),
           emit(1), emit(2), count(), once("c", priority="LOW"),
           on("late_canceller", then=[off("c")]), emit(3), emit(4), count()], H)
    # cancelled during an emit and given again at once: the emit under way runs the old
    # registration (its snapshot), the next emit the new one (a wrapper off the bus that is
    # re-armed and put back, rather than a new one, fires in this emit and never in the next)
    check([once("swap", priority="HIGH", then=[off("a"), once("a")]), once("a"),
           on("b", priority="LOW"), emit(1), count(), emit(2), count(), emit(3)], H)
    # an async handler too, and an object whose __call__ is async def (an async branch of the
    # wrapper): cancelled by a listener before it in the emit, it still runs in that emit,
    # once (not skipped because it is no longer in bus.listeners(event)), and never after
    check([on("canceller", priority="HIGH", then=[off("a"), off("k")]), once("a", kind="async"),
           once("k", kind="async_callable"), on("b", priority="LOW"), emit(1), count(), emit(2),
           count()], H)
    # and when many other once handlers fire in that emit before it (16 here): it still runs
    # there (a periodic clean-up of the registrations whose listener is off the bus drops it)
    check([on("canceller", priority="HIGHEST", then=[off("a")]),
           *[once(f"h{i}") for i in range(16)], once("a", priority="LOW"), emit(1), count(),
           emit(2), count()], H)


@pytest.mark.points(1)
@pytest.mark.category("same_handler_twice")
def test_the_same_handler_given_twice_fires_twice_then_never(check: Any) -> None:
    check([once("a"), once("a", priority="HIGH"), on("b"), emit(1), emit(2), count(),
           once("c"), once("c"), off("c"), emit(3), count()], H)
    # more registrations than the bus's max_listeners (3 here, 50 by default): the bus only
    # warns, and each of them still fires (none is taken off to stay under the limit)
    check([{"op": "renew", "max_listeners": 3}, once("a"), once("b", kind="async"), once("c"),
           once("a"), on("z", priority="LOW"), count(), emit(1), count(), emit(2)], H)


@pytest.mark.points(1)
@pytest.mark.category("permanent_listener")
def test_a_permanent_listener_of_the_same_handler_survives(check: Any) -> None:
    check([on("a"), once("a", priority="HIGH"), emit(1), emit(2), count(),
           once("b", kind="async"), on("b", kind="async"), emit(3), emit(4), count()], H)
    # and when the emit is cancelled while the once one runs (a timeout, on a clock that skips
    # waits): whatever it does then touches its own registration only, never off(handler)
    check([on("slow", kind="async", sleep=100), once("slow", kind="async", sleep=100,
                                                     priority="HIGH"),
           {**emit(1), "timeout": 1}, count(), emit(2), count()], H, clock="virtual")
    # and when an emit whose snapshot still holds the spent once reaches it late (a nested
    # emit fired it first): that late call touches nothing either, the permanent one stays
    check([on("loop", priority="HIGH", kind="async", reemit={"event": "e", "payload": "again"}),
           once("a"), on("a", priority="LOW"), emit(1), count(), emit(2), count()], H)
    # in every call form: a once given with the decorator (or by keywords) takes off its own
    # registration only, never the permanent one of the same function (off(event, handler))
    check([on("a"), once("a", style="decorator", priority="HIGH"), on("b", kind="async"),
           once("b", style="keywords", kind="async", priority="LOW"), emit(1), count(), emit(2),
           count()], H)
