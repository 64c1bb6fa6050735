"""The Recorder notes real calls in real order and never changes what the bus sees."""

from __future__ import annotations

import asyncio
import time

import pytest

from day25 import EventBus, EventPriority, Recorder


async def test_records_priority_order_args_and_errors() -> None:
    bus, rec = EventBus(), Recorder()

    def low(data: dict[str, int]) -> None: ...

    async def high(data: dict[str, int]) -> None:
        await asyncio.sleep(0)

    def broken(data: dict[str, int]) -> None:
        raise ValueError("boom")

    rec.on(bus, "data.received", low, priority=EventPriority.LOW)
    rec.on(bus, "data.received", high, priority="HIGH")
    rec.on(bus, "data.received", broken)

    result = await bus.emit("data.received", {"x": 1})

    assert result.ran == 3
    assert [type(e) for e in result.errors] == [ValueError]  # the error still reaches the bus
    assert rec.order == ["high", "broken", "low"]
    assert [c.priority for c in rec.calls] == ["HIGH", "MEDIUM", "LOW"]
    assert rec.calls[0].args == ({"x": 1},)
    assert rec.calls[1].outcome == "raised ValueError: boom"
    assert all(c.finished is not None for c in rec.calls)
    starts = [c.started for c in rec.calls]
    assert starts == sorted(starts)


async def test_once_wildcard_and_off_with_the_original_function() -> None:
    bus, rec = EventBus(), Recorder()

    def welcome(user: str) -> None: ...

    def spy(*args: object) -> None: ...

    rec.once(bus, "first.login", welcome)
    rec.on(bus, "ui:*", spy, name="ui-spy")
    await bus.emit("first.login", "Alice")
    await bus.emit("first.login", "Alice")
    await bus.emit("ui:button.click", "submit")
    assert [(c.event, c.listener) for c in rec.calls] == [
        ("first.login", "welcome"),
        ("ui:button.click", "ui-spy"),  # the concrete event, not the pattern
    ]
    bus.off("ui:*", spy)  # wrappers carry __wrapped__, so off(original) works
    await bus.emit("ui:button.click", "submit")
    assert len(rec.calls) == 2


async def test_the_event_column_is_the_event_emitted() -> None:
    """A namespace's listener hears ``ui:form:submit``, not ``submit``; a wildcard's hears
    the concrete name; a wrapper called outside any emit keeps its registered name."""
    bus, rec = EventBus(), Recorder()
    form = bus.namespace("ui").namespace("form")
    rec.on(form, "submit", lambda data: None, name="on_submit")
    rec.on(bus, "ui:*", lambda *args: None, name="ui_logger")
    await form.emit("submit", {"name": "Bob"})
    assert [(c.event, c.listener) for c in rec.calls] == [
        ("ui:form:submit", "on_submit"), ("ui:form:submit", "ui_logger")]
    rec.wrap(lambda: None, event="tick", name="direct")()
    assert (rec.calls[-1].event, rec.calls[-1].listener) == ("tick", "direct")


async def test_decorator_form_returns_the_function() -> None:
    bus, rec = EventBus(), Recorder()

    @rec.on(bus, "user.created")
    async def handle(user: dict[str, str]) -> str:
        return user["name"]

    assert handle.__name__ == "handle"
    assert await handle({"name": "x"}) == "x"  # undecorated: not recorded
    await bus.emit("user.created", {"name": "Bob"})
    assert rec.order == ["handle"]


def test_table_text_markdown_and_html() -> None:
    rec = Recorder()
    wrapped = rec.wrap(lambda text: text.upper(), event="e", priority="high", name="shout")
    assert wrapped("<b>") == "<B>"
    table = rec.table()
    assert table.rows[0][:5] == ["1", "e", "shout", "HIGH", "'<b>'"]
    assert "shout" in str(table)
    assert table.to_markdown().splitlines()[0].startswith("| # | event | listener")
    html = table._repr_html_()
    assert "&lt;b&gt;" in html and "<b>" not in html  # arguments are escaped
    assert rec._repr_html_() == html
    # a name without spaces may break after its dots and underscores (a page's column is
    # narrower than a table of such names)
    named = Recorder()
    named.wrap(lambda note: None, event="notification.created", name="push_notification")({})
    cells = named.table()._repr_html_()
    assert "notification.<wbr>created" in cells and "push_<wbr>notification" in cells


def test_timeline_places_marks_between_calls() -> None:
    ticks = iter([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    rec = Recorder(clock=lambda: next(ticks))  # origin = 0.0
    first = rec.wrap(lambda: None, event="a", name="first")
    second = rec.wrap(lambda: None, event="a", name="second")
    first()  # 1.0 -> 2.0
    rec.mark("emit returned")  # 3.0
    second()  # 4.0 -> 5.0
    lines = str(rec.timeline(width=21)).splitlines()
    first_line, second_line, mark_line = lines[:3]  # calls first, then marks
    assert first_line.startswith("first (a)") and mark_line.startswith("emit returned")
    assert first_line.rindex("#") < mark_line.index("|") < second_line.index("#")
    assert "emit returned" in rec.timeline()._repr_html_()


def test_exception_in_wrapped_async_listener_is_re_raised_and_recorded() -> None:
    rec = Recorder()

    async def fails() -> None:
        raise KeyError("k")

    with pytest.raises(KeyError):
        asyncio.run(rec.wrap(fails)())
    assert rec.calls[0].error is not None and rec.calls[0].duration_ms is not None


def test_bad_input_gets_a_clear_error() -> None:
    rec = Recorder()
    with pytest.raises(TypeError, match="callable"):
        rec.wrap("not a function")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="width"):
        rec.timeline(width=3)
    assert str(rec.timeline()) == "(no calls recorded)"
    rec.clear()
    assert rec.calls == [] and rec.origin <= time.perf_counter()
