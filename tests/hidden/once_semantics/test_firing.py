"""Graded suite for Exercise 2: once_semantics (25 points in all): how it fires.

A once handler fires on the next emit of its event only, awaited, with exactly the
emit's arguments, in its priority's place, whatever the call form; it counts as fired
when it raises, and leaves no listener behind.
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
emit, emit_args = _ops.emit, _ops.emit_args


@pytest.mark.points(2)
@pytest.mark.category("fires_once")
def test_fires_on_the_next_emit_only(check: Any) -> None:
    check([once("a"), emit(1), emit(2), emit(3)], H)
    # on a new bus in an old one's place in memory (its id), a handler is new there too
    renew = {"op": "renew"}
    check([once("a"), emit(1), renew, once("a"), once("b"), emit(2), emit(3), renew,
           once("a"), emit(4), renew, emit(5)], H)
    # an emit cancelled while the handler runs (a timeout, on a clock that skips waits):
    # the handler was called, so it ran its once; the next emit does not run it again
    check([once("slow", kind="async", sleep=100), on("b", priority="LOW"),
           {**emit(1), "timeout": 1}, count(), emit(2), count()], H, clock="virtual")
    # an emit of another event comes first, "error" too (as Node's events.once gives up
    # waiting on an "error"): the handler still waits for its own event, and runs on it
    check([once("a"), once("b", kind="async"), emit(1, event="error"), emit(2), emit(3)], H)
    # many other buses in use beside its own (130 here, each given a handler of its own): it
    # still fires on its bus (a record per bus in a bounded cache, lru_cache's 128, forgets it)
    check([once("a"), once("b", kind="async"), {"op": "once_elsewhere", "event": "e",
                                                "buses": 130}, count(), emit(1), count(),
           emit(2)], H)
    # any name the bus takes is an event name, as the text's "first.login": dots, dashes and
    # brackets too (a name, not a glob pattern: only a last "*" makes a pattern, rule 5), and
    # spaces, leading and trailing ones too ("a name as it is": not stripped to "chat:"), and
    # capitals ("User.Created" is not "user.created": a name is not lower-cased)
    check([once("u", event="User.Created"), on("z", event="user.created", priority="LOW"),
           emit(6, event="User.Created"), count("User.Created"), emit(7, event="user.created"),
           once("a", event="first.login"), once("b", event="user-42:joined", kind="async"),
           once("s", event=" chat: "), on("z", event="chat:", priority="LOW"),
           emit(0, event=" chat: "), count(" chat: "),
           once("c", event="room[1]:joined"), on("z", event="room[1]:joined", priority="LOW"),
           emit(1, event="first.login"), emit(2, event="user-42:joined"),
           emit(3, event="room[1]:joined"), count("room[1]:joined"),
           emit(4, event="room[1]:joined"), emit(5, event="first.login"),
           count("first.login")], H)
    # ... whatever str class holds it (a StrEnum member of an app's catalogue of names is a
    # str the bus takes as that name); and a handler is any callable, a class too (called at
    # the emit with its arguments, as any handler is, not made an instance of at registration)
    check([once("login", event="first.login", str_event=True),
           once("login2", event="first.login", str_event=True, style="decorator", kind="async"),
           once("cls", event="order.placed", kind="class_handler"),
           emit(1, event="first.login"), emit(2, event="first.login"), count("first.login"),
           emit({"id": 3}, event="order.placed"), emit(4, event="order.placed")], H)


@pytest.mark.points(1)
@pytest.mark.category("async_handler")
def test_async_handler_fires_once_and_is_awaited(check: Any) -> None:
    check([once("a", kind="async", delay=2), on("b", priority="LOW"), emit(1), emit(2)], H)
    # whatever it returns that is awaitable is awaited (a Future is not a Task), and a
    # value that is not awaitable is just a value
    check([once("v", kind="returns_value"), once("f", kind="returns_future", delay=2),
           once("t", kind="returns_task", delay=2), once("o", kind="returns_awaitable_object"),
           on("b", priority="LOW"), emit(1), emit(2)], H)
    # a generator-based coroutine (@types.coroutine) is awaitable without an __await__
    check([once("g", kind="returns_generator_coroutine", delay=2), on("b", priority="LOW"),
           emit(1), emit(2)], H)
    # a plain generator is a value, not awaitable (though asyncio.iscoroutine says yes on
    # 3.11): awaiting it is a TypeError the handler never raised; an awaitable that is an
    # empty collection (len() 0) is awaited all the same, falsy or not
    check([once("gen", kind="returns_generator"), once("empty", kind="returns_falsy_awaitable"),
           on("b", priority="LOW"), emit(1), emit(2)], H)
    # and so is one that is a list too (a subclass of list with an __await__): an instance
    # of a builtin type is no sure sign of a plain value
    check([once("l", kind="returns_awaitable_list"),
           once("l2", style="decorator", kind="returns_awaitable_list", priority="HIGH"),
           on("b", priority="LOW"), emit(1), emit(2)], H)
    # nor is an async generator (what an `async def` with a `yield` returns): a value,
    # whose body nothing runs (no `async for` through it)
    check([once("agen", kind="returns_async_generator"),
           once("agen2", style="decorator", kind="returns_async_generator", priority="HIGH"),
           on("b", priority="LOW"), emit(1), emit(2)], H)
    # an exception object the handler returns (sync or async) is a value too: it raised
    # nothing, so the emit's result holds no error of it
    check([once("x", kind="returns_exception"), once("y", kind="async_returns_exception"),
           once("z", style="decorator", kind="returns_exception"), on("b", priority="LOW"),
           emit(1), emit(2), count()], H)
    # awaited once: an async handler whose result is awaitable too returns a value
    check([once("n", kind="async_returns_awaitable"), on("b", priority="LOW"), emit(1),
           emit(2)], H)
    # a handler that takes 100 s (on a clock that skips the wait) is awaited to its end
    check([once("slow", kind="async", sleep=100, priority="HIGH"), on("b", priority="LOW"),
           emit(1), emit(2)], H, clock="virtual")


@pytest.mark.points(1)
@pytest.mark.category("nothing_left")
def test_leaves_no_listener_behind(check: Any) -> None:
    # whatever the handler is, however it was given, fired, cancelled or raised
    check([once("a"), count(), emit(1), count(), once("b", kind="async_callable"),
           once("c", style="decorator", kind="returns_task"), once("d", raises="ValueError"),
           once("m", style="keywords", kind="method"), count(), emit(2), count(),
           once("a"), once("a", event="f"), off("a"), count(), count("f"), emit(3, event="f"),
           count("f")], H)
    # given for a wildcard pattern, it fires on the next event the pattern hears, and is
    # then gone from the pattern (not looked for under the name that was emitted)
    check([once("p", event="ui:*"), once("q", event="*", kind="async"),
           on("b", event="ui:click", priority="LOW"), count("ui:*"), count("*"),
           count("ui:click"), emit(1, event="ui:click"), count("ui:*"), count("*"),
           count("ui:click"), emit(2, event="ui:key"), emit(3, event="ui:click")], H)
    # gone as soon as it is called: while its handler still runs (it counts the listeners
    # itself), sync or async, nothing of it is on the bus (a wrapper that takes itself off
    # only once the handler returned is still counted); and one that fired in an emit nested
    # in another handler is gone when that emit returned, not once every handler ended
    check([once("a", then=[count()]), once("b", kind="async", then=[count()]),
           on("z", priority="LOW"), emit(1), count(),
           once("n", event="n", kind="async", reemit={"event": "e", "payload": "in"},
                then=[count(), count("n")]), once("h"), emit(2, event="n"), count(),
           count("n")], H)
    # on a busy event (20 other listeners here) it is off as soon as it fired, each time (not
    # queued to be taken off later with others, a few at a time)
    check([*[on(f"z{i}", priority="LOW") for i in range(20)], once("a"), count(), emit(1),
           count(), once("b", kind="async"), emit(2), count()], H)
    # an emit of no argument at all (handler()), or of keywords only, takes it off as well
    check([once("a"), once("b", kind="async"), on("z", priority="LOW"), emit_args([]), count(),
           once("c"), once("d", style="decorator", kind="returns_awaitable"),
           emit_args([], k=1), count(), emit(1), count()], H)


@pytest.mark.points(1)
@pytest.mark.category("decorator")
def test_every_call_form_returns_the_handler_and_keeps_its_priority(check: Any) -> None:
    # once(bus, e, h), @once(bus, e) and once(bus=, event=, handler=), each with and
    # without a priority (an EventPriority member or an int)
    check([on("mid"), once("a", style="decorator"), once("b", style="decorator", kind="async"),
           once("c", style="decorator", priority="HIGH"), once("d", style="keywords"),
           once("k", style="keywords", priority="LOW", kind="async"),
           once("i", style="decorator", priority=7), once("j", priority=-3),
           once("z", style="keywords", priority=3, kind="returns_awaitable"), emit(1),
           emit(2)], H)
    # a handler that is an empty collection (len() 0) is a handler, not "no handler";
    # so is a callable without a hash (a @dataclass with __call__), in every form
    check([once("empty", falsy=True), once("empty2", style="keywords", falsy=True,
                                           kind="async"), emit(1), emit(2),
           # one that is not callable (42) is left open, between two outcomes only: a
           # TypeError at once, or left to fail in the emit (not a ValueError at once)
           {"op": "once_not_callable", "event": "e"}], H)
    check([once("u", unhashable=True), once("u2", style="decorator", unhashable=True),
           once("u3", style="keywords", unhashable=True, kind="async"), emit(1), emit(2)], H)
    # and so is one that cannot be weakly referenced (an object of a class with __slots__,
    # as a @dataclass(slots=True) with __call__, or str.upper): the bus holds it as it is
    check([once("s", slotted=True), once("s2", style="decorator", slotted=True, kind="async"),
           once("s3", style="keywords", slotted=True, kind="returns_awaitable"), count(),
           emit(1), count(), emit(2)], H)
    # a decorator once(bus, e) returned, used on several handlers (or on one twice): each
    # use is a registration of its own, as a call is (no flag shared between them)
    check([on("mid"), once("a", style="decorator", decorator="d"),
           once("a", style="decorator", decorator="d"), once("b", style="decorator", decorator="d"),
           count(), emit(1), count(), emit(2),
           once("h", style="decorator", priority="HIGH", decorator="dh", kind="async"),
           once("g", style="decorator", priority="HIGH", decorator="dh"), emit(3), count(),
           emit(4),
           # and keeps its own event and priority whatever once made since: d is still
           # MEDIUM on "e" after dh (HIGH) and do (on "o") were made (twenty-ninth batch)
           once("late", style="decorator", decorator="d"),
           once("o", event="o", style="decorator", decorator="do"),
           once("later", style="decorator", decorator="d"), count(), emit(5), count(),
           count("o"), emit(6, event="o"), count("o")], H)
    # however often it is used (9 handlers through one decorator here): every use fires
    check([on("mid"), *[once(f"f{i}", style="decorator", decorator="r") for i in range(9)],
           count(), emit(1), count(), emit(2)], H)
    # and so is a C callable whose signature inspect cannot read (as dict.update or max):
    # it is called with the emit's arguments, with nothing checked before
    check([once("c", kind="no_signature"), once("c2", style="decorator", kind="no_signature"),
           emit(1, theme="dark"), emit(2)], H)
    # and so is one with attributes of its own, whatever their names (event, handler, bus,
    # fired, ...): they are the handler's, never a wrapper's state (as a wrapper that
    # copies them over its own with functools.update_wrapper takes them)
    check([once("t", own_attrs=True), once("t2", style="decorator", own_attrs=True, kind="async"),
           once("t3", style="keywords", own_attrs=True, kind="returns_awaitable"), count(),
           emit(1), count(), emit(2)], H)


@pytest.mark.points(1)
@pytest.mark.category("priority")
def test_respects_priority_among_other_listeners(check: Any) -> None:
    check([on("low", priority="LOW"), on("mid"), once("first", priority="HIGH"),
           once("late_mid"), once("lowest", priority="LOWEST"), once("two", priority=2),
           once("top", priority=10), on("highest", priority="HIGHEST"), emit(1), emit(2)], H)
    # Nexios' own EventPriority members, passed on unchanged: the bus goes by their names
    # (their values run the other way, HIGHEST is 1)
    check([on("mid"), once("n_high", priority="nexios.HIGH"), once("n_low", priority="nexios.LOW"),
           once("n_top", style="decorator", priority="nexios.HIGHEST"),
           once("n_normal", style="keywords", priority="nexios.NORMAL"),
           on("d_high", priority="HIGH"), emit(1), emit(2)], H)
    # ints beyond the members, given after (and before) the member they pass: unchanged
    check([on("highest", priority="HIGHEST"), once("top", priority=10),
           once("under", priority=-2), on("bottom", priority="LOWEST"), on("mid"),
           emit(1), emit(2)], H)
    # a member of an IntEnum of the caller's own (URGENT is 10, ROUTINE -1): an int, which
    # bus.on takes by its value; passed on unchanged, not by its name (unknown to the bus)
    check([on("highest", priority="HIGHEST"), once("urgent", priority="int_enum.URGENT"),
           once("routine", style="decorator", priority="int_enum.ROUTINE"),
           on("bottom", priority="LOWEST"),
           once("k", style="keywords", priority="int_enum.URGENT", kind="async"),
           emit(1), emit(2)], H)
    # ... one named like a level of the bus's too (its HIGH is 9): still an int, by its value,
    # before HIGHEST (not taken by its name for day25's HIGH, 3, as Nexios' members are)
    check([on("highest", priority="HIGHEST"), on("five", priority=5),
           once("own_high", priority="int_enum.HIGH"),
           once("own_high2", style="decorator", priority="int_enum.HIGH", kind="async"),
           on("high", priority="HIGH"), emit(1), emit(2)], H)
    # ... and a member of a plain Enum of its own named like a level (HIGH = "h"): no int, no
    # str, yet bus.on takes it by its name, as Nexios' members; the text's list is not closed
    check([on("mid"), once("own", priority="named_enum.HIGH"),
           once("own2", style="decorator", priority="named_enum.LOW", kind="async"),
           on("high", priority="HIGH"), emit(1), emit(2)], H)
    # a bool is no priority to bus.on (it raises TypeError for True): passed on unchanged, so
    # once(..., priority=True) raises that TypeError too, and registers nothing (not made 1)
    check([on("mid"), once("b", priority=True), count(), emit(1)],
          "once(bus, event, handler, priority=True) must raise the TypeError bus.on raises for "
          "a bool priority: pass the priority on unchanged. " + H)
    # in every call form (a decorator that swallows the refusal registers nothing, and says
    # nothing); and a level name the bus does not know ("urgent", a typo) is refused as bus.on
    # refuses it, with its ValueError, not registered at some default level
    check([on("mid"), once("b", style="decorator", priority=True),
           once("c", style="keywords", priority=True), count(), once("u", priority="urgent"),
           once("u2", style="decorator", priority="hgih"),
           once("u3", style="keywords", priority="urgent", kind="async"), count(), emit(1)],
          "once must refuse what bus.on refuses (a bool priority: TypeError; a level name it "
          "does not know: ValueError), in every call form, and register nothing. " + H)
    # ... None too, given explicitly (a caller forwarding an unset option): bus.on refuses it
    # with TypeError, so once does too, not taken for "no priority given"
    check([on("mid"), once("n", priority="explicit.None"),
           once("n2", style="decorator", priority="explicit.None"), count(), emit(1)],
          "once must refuse what bus.on refuses: priority=None given explicitly is a TypeError "
          "to bus.on, so to once too (not the default level). " + H)
    # ... and registers nothing means it removes nothing either: a permanent listener of the
    # same handler stays (a refusal "rolled back" with bus.off(event, handler) removes it)
    check([on("a"), once("a", priority="urgent"), once("a", style="decorator", priority=True),
           once("a", style="keywords", priority="hgih"), count(), emit(1)],
          "once must refuse what bus.on refuses and register nothing, and take nothing off "
          "the bus either (never bus.off(event, handler)). " + H)
    # ... every time: a decorator made with a refused priority refuses each of its uses (one
    # that settles its level at its first use, refused, registers the second at a default)
    check([on("mid"), once("b", style="decorator", priority=True, decorator="d"),
           once("c", style="decorator", priority=True, decorator="d"),
           once("u", style="decorator", priority="urgent", decorator="du"),
           once("v", style="decorator", priority="urgent", decorator="du"), count(), emit(1)],
          "once must refuse what bus.on refuses, in every call form and every time: a "
          "decorator with a refused priority, used twice, refuses twice and registers "
          "nothing. " + H)
    # a level name, which bus.on takes too, passed on as it is: every one of them
    check([on("mid"), once("named_high", priority="high"), once("named_low", priority="low"),
           on("top", priority="HIGHEST"), once("named_highest", priority="highest"),
           once("named_lowest", priority="lowest"), once("named_normal", priority="normal"),
           on("bottom", priority="LOWEST"), emit(1), emit(2)], H)


@pytest.mark.points(1)
@pytest.mark.category("fires_once")
def test_several_once_listeners_each_fire_once(check: Any) -> None:
    check([once("a"), once("b", kind="async"), once("a", event="f"), emit(1),
           emit(2, event="f"), emit(3), emit(4, event="f")], H)
    # many of them on one bus: 5 fired on "x", then 30 given on "y" all fire on its next
    # emit (a per-bus list of slots that drops the fired ones when it grows, compacted
    # under registrations that remember their index, leaves those stale and never fires them)
    check([*[once(f"x{i}", event="x") for i in range(5)], emit(1, event="x"),
           *[once(f"y{i}", event="y", kind="async" if i % 2 else "sync") for i in range(30)],
           emit(2, event="y"), count("y"), emit(3, event="y")], H)
    # and on many event names (33 here, "room0" given first): each waits for its own event,
    # however many names were used after it (a record per name that forgets the oldest does not)
    check([once("h", event="room0"), *[once(f"r{i}", event=f"room{i}") for i in range(1, 33)],
           emit(1, event="room0"), count("room0"), emit(2, event="room32"),
           emit(3, event="room0")], H)


@pytest.mark.points(1)
@pytest.mark.category("raising_handler")
def test_a_raising_handler_counts_as_fired_and_its_own_error_reaches_the_bus(
        check: Any) -> None:
    # its own exception, the very object: not one wrapping it, not a copy of it
    check([once("boom", raises="ValueError"), on("after", priority="LOW"), emit(1), emit(2),
           count(), once("async_boom", kind="async", raises="KeyError"),
           once("task_boom", kind="returns_task", raises=True), emit(3), emit(4), count(),
           once("type_boom", raises="TypeError"), emit(5), emit(6)], H)
    # a KeyError raised by a sync handler (a lookup that missed) too: its own error, not
    # taken for a sign that the registration was already spent, and not swallowed
    check([once("sync_key_boom", raises="KeyError"), on("after", priority="LOW"),
           once("sync_key_boom2", style="decorator", raises="KeyError", priority="HIGH"),
           emit(1), emit(2), count()], H)
    # a TypeError too, raised inside an async handler or carried by a done Future it
    # returns: the handler's own error, not a sign that its result was no awaitable
    check([once("async_type_boom", kind="async", raises="TypeError"),
           once("done_type_boom", kind="returns_done_future", raises="TypeError"),
           on("after", priority="LOW"), emit(1), emit(2), count()], H)
    # a Future the handler returns already done is awaited too: its exception is the
    # handler's own error, and reaches the bus like any other
    check([once("done_boom", kind="returns_done_future", raises="ValueError"),
           once("done", kind="returns_done_future", priority="LOW"), on("after", priority="LOW"),
           emit(1), emit(2), count()], H)
    # one raised from another exception reaches the bus as it was raised: its __cause__
    # still that other one (not re-raised `from None`, which drops it)
    check([once("caused", raises="ValueError", cause=True),
           once("async_caused", kind="async", raises="KeyError", cause=True),
           on("after", priority="LOW"), emit(1), emit(2), count()], H)
    # whatever its type: asyncio's InvalidStateError too (as a cancelled Future's
    # set_result raises it, a waiter that gave up), not caught as "nobody to deliver to"; and
    # Nexios' WebSocketDisconnect (a welcome sent to a tab that just closed): a socket loop
    # takes it for a normal goodbye, but to the bus it is the handler's error like any other
    check([once("ise", raises="InvalidStateError"),
           once("async_ise", kind="async", raises="InvalidStateError"),
           once("gone", kind="async", raises="WebSocketDisconnect"),
           once("gone2", style="decorator", raises="WebSocketDisconnect", priority="HIGH"),
           on("after", priority="LOW"), emit(1), emit(2), count()], H)
    # a StopIteration a sync handler raises too (not taken for a spent ticket's, as next() on
    # an empty iterator raises it; an async def wrapper makes it a RuntimeError, PEP 479, which
    # counts as it: Python's own, not one a sync wrapper raises from it), and a TimeoutError
    # the handler raises itself (a send of its own that timed out): its own error, not taken
    # for a timeout of the emit and swallowed
    check([once("stop", raises="StopIteration"),
           once("stop2", style="decorator", raises="StopIteration", priority="HIGH"),
           once("late", kind="async", raises="TimeoutError"),
           once("late2", kind="returns_task", raises="TimeoutError", priority="HIGH"),
           on("after", priority="LOW"), emit(1), emit(2), count()], H)
    # a concurrent.futures.Future (a job handed to a thread pool, here one that failed) is not
    # awaitable: a value, not waited on, so its error is nobody's (the bus gets none)
    check([once("pool", kind="returns_thread_future"), on("after", priority="LOW"), emit(1),
           emit(2), count()], H)
    # ... an ExceptionGroup too (a handler whose own TaskGroup failed, with one error): the
    # group is the handler's exception, not the one error inside it
    check([once("group", raises="ExceptionGroup"),
           once("async_group", kind="async", raises="ExceptionGroup", priority="HIGH"),
           on("after", priority="LOW"), emit(1), emit(2), count()], H)


@pytest.mark.points(1)
@pytest.mark.category("kwargs")
def test_positional_and_keyword_arguments_reach_the_handler_exactly(check: Any) -> None:
    # no positional argument, one, several: the handler gets exactly what emit got
    check([once("a"), once("b", kind="async"), emit({"user": "ann"}, who="x", n=2), emit(2),
           once("c"), once("d", kind="async"), emit_args([]), once("e", kind="async_callable"),
           once("f"), emit_args([1, "two", None], k=3), once("g", style="decorator"),
           emit_args([], only="kw"), once("h"), emit(None)], H)
    # however many positional arguments (4 and 7 here): all of them, none dropped
    check([once("a"), once("b", kind="async"), emit_args([1, 2, 3, 4]), once("c"),
           once("d", kind="async"), emit_args([1, 2, 3, 4, 5, 6, 7], k=8), emit(9)], H)
    # keywords named like the parameters of once or of a wrapper are the handler's too
    named = {"event": "x", "bus": "b", "handler": "h", "priority": 3, "fn": "f", "state": 0,
             "args": [1], "kwargs": {"k": 1}, "wrapper": "w", "listener": "l", "callback": "c"}
    check([once("a"), once("b", kind="async"),
           {"op": "emit", "event": "e", "payload": 1, "kwargs": named}], H)
    # ... and one named like a parameter of the student's own wrapper, whatever its name (a
    # bus bound as `_bus=bus`): once on a new bus, then an emit with that keyword
    check([{"op": "once_keywords", "event": "e"}], H)
    # and one named `payload` (as the bus's own one-argument fast path names its parameter),
    # alone or after a positional one: a keyword still, never made a positional argument
    check([once("a"), once("b", kind="async"), emit_args([], payload=5), once("c"),
           once("d", kind="async"), emit_args([1], payload=5), emit(2)], H)
    # given for a wildcard pattern too ("ui:*", "*": one wrapper that hears many events takes
    # keywords as well as an exact one does, not positional arguments only)
    check([once("p", event="ui:*"), once("q", event="*", kind="async"),
           emit(1, event="ui:click", k=2), emit_args([], event="ui:key", only="kw"),
           count("ui:*"), count("*")], H)
    # a function among them, last or alone (as an "ack" callback is), is an argument like
    # any other: the handler gets it, and nothing calls it back
    check([once("a"), once("b", kind="async"), {**emit_args([1, "ack"]), "callable_args": [1]},
           once("c"), once("d", kind="async"), {**emit_args(["ack"]), "callable_args": [0]},
           emit(3)], H)
    # a handler of one parameter given two raises TypeError (it counts as fired), as
    # Python raises it when the call does not fit: nothing trims the arguments
    check([once("one", kind="one_arg"), on("z", priority="LOW"), emit_args([1, 2]), emit(3),
           once("fits", kind="one_arg"), emit([4, 5]), count()], H)
    # a keyword it has no parameter for is no different (not dropped to make the call fit)
    check([once("kw", kind="one_arg"), once("kw2", kind="one_arg"), on("z", priority="LOW"),
           emit_args([1], extra=2), emit(3), count()], H)
    # one argument that is a tuple is one argument: handler((6, 7)), not spread into
    # handler(6, 7) (alone or before a keyword)
    check([once("t", kind="one_arg"), once("t2", kind="async"), on("z", priority="LOW"),
           {**emit([6, 7]), "tuple_args": [0]}, once("t3"),
           {**emit_args([[8, 9]], k=1), "tuple_args": [0]}, emit(10), count()], H)
