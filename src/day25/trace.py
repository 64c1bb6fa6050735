"""Record which listeners ran, in what order, and show it as a table or timeline.

Why it exists: "HIGH runs before LOW" or "an async Nexios listener runs *after*
``emit`` returned" are claims about order in time, and a ``print`` in each
listener hides the order among the noise. A :class:`Recorder` wraps listeners,
notes every call (event, listener, priority, arguments, start and end time,
exception) and renders the calls as a table (HTML in Jupyter, plain text or
markdown elsewhere) or as a timeline of when each call ran.

The wrappers keep the wrapped function's sync/async nature and set
``__wrapped__``, so ``bus.off(event, original)`` still removes them. A wrapper
re-raises what the listener raised: recording never changes what the bus sees.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import html
import inspect
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from day25.bus import EventBus, current_event
from day25.namespace import Namespace
from day25.priority import EventPriority

__all__ = ["Call", "Recorder", "Table", "Timeline"]


class _Registering(Protocol):
    """Anything with ``on``/``once`` like a bus, a namespace or Nexios' emitter."""

    def on(self, event: str, handler: Any = ..., *, priority: Any = ...) -> Any: ...

    def once(self, event: str, handler: Any = ..., *, priority: Any = ...) -> Any: ...


@dataclass
class Call:
    """One listener call: what ran, for which event, when, and how it ended."""

    index: int
    event: str
    listener: str
    priority: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    started: float
    finished: float | None = None
    error: BaseException | None = None

    @property
    def outcome(self) -> str:
        if self.finished is None:
            return "running"
        if self.error is not None:
            return f"raised {type(self.error).__name__}: {self.error}"
        return "ok"

    @property
    def duration_ms(self) -> float | None:
        return None if self.finished is None else (self.finished - self.started) * 1000


@dataclass(frozen=True)
class Mark:
    """A labelled point in time, e.g. "emit returned", shown in the timeline."""

    label: str
    at: float


def _priority_name(priority: object) -> str:
    if priority is None:
        return "-"
    if isinstance(priority, EventPriority):
        return priority.name
    if isinstance(priority, enum.Enum):
        return priority.name
    if isinstance(priority, int) and not isinstance(priority, bool):
        try:
            return EventPriority(priority).name
        except ValueError:
            return str(priority)
    if isinstance(priority, str) and priority.strip().upper() in EventPriority.__members__:
        return EventPriority[priority.strip().upper()].name  # "highest" -> "HIGHEST"
    return str(priority)


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Table:
    """Rows of text with a header; ``_repr_html_`` for Jupyter, ``str`` for terminals."""

    def __init__(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.header = list(header)
        self.rows = [list(r) for r in rows]

    def __str__(self) -> str:
        widths = [len(h) for h in self.header]
        for row in self.rows:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(self.header, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        for row in self.rows:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        return "\n".join(line.rstrip() for line in lines)

    __repr__ = __str__

    def to_markdown(self) -> str:
        def cells(row: Sequence[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"

        lines = [cells(self.header), "|" + "---|" * len(self.header)]
        lines.extend(cells(r) for r in self.rows)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.header)
        body = "".join(
            "<tr>" + "".join(f"<td>{_breakable(c)}</td>" for c in row) + "</tr>"
            for row in self.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


#: after a "." or "_" before a letter, after "(" or ",", and inside a CamelCase name
_BREAK_AFTER = re.compile(r"(?<=[._])(?=[A-Za-z])|(?<=[(,])|(?<=[a-z])(?=[A-Z])")


def _breakable(text: str) -> str:
    """``text`` escaped, with the places a line may break: names such as
    ``notification.created``, ``push_notification`` or ``InvalidNotification`` have no
    space, and a table of them was wider than a page's column, its outcome out of sight."""
    return "<wbr>".join(html.escape(part) for part in _BREAK_AFTER.split(text))


class Timeline:
    """Calls drawn as bars on a shared time axis; marks drawn as vertical lines."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.text)}</pre>"


class Recorder:
    """Wrap listeners so every call is recorded; render the calls afterwards.

    >>> rec = Recorder()
    >>> bus.on("data.received", rec.wrap(handler, priority="HIGH"), priority="HIGH")

    or, shorter, ``rec.on(bus, "data.received", handler, priority="HIGH")``.
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self.origin = clock()
        self.calls: list[Call] = []
        self.marks: list[Mark] = []

    # -- wrapping ----------------------------------------------------------
    def wrap(
        self,
        fn: Callable[..., Any],
        *,
        event: str | None = None,
        priority: object = None,
        name: str | None = None,
    ) -> Callable[..., Any]:
        """A recording stand-in for ``fn`` (async if ``fn`` is async).

        ``event`` is the name it is registered under; the recorded event is the one
        emitted (from :func:`day25.current_event`), which differs for a wildcard
        pattern (``ui:*`` hears ``ui:click``) and a namespace (``form``'s ``submit``
        is ``ui:form:submit``), and is ``event`` for a call outside an emit.
        """
        if not callable(fn):
            raise TypeError(f"Recorder.wrap needs a callable, not {fn!r}")
        label = name or getattr(fn, "__name__", None) or repr(fn)
        level = _priority_name(priority)

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def recorded_async(*args: Any, **kwargs: Any) -> Any:
                call = self._start(event, label, level, args, kwargs)
                try:
                    result = await fn(*args, **kwargs)
                except BaseException as exc:
                    self._finish(call, exc)
                    raise
                self._finish(call, None)
                return result

            return recorded_async

        @functools.wraps(fn)
        def recorded(*args: Any, **kwargs: Any) -> Any:
            call = self._start(event, label, level, args, kwargs)
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                self._finish(call, exc)
                raise
            self._finish(call, None)
            return result

        return recorded

    def on(
        self,
        bus: _Registering,
        event: str,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        **opts: Any,
    ) -> Any:
        """Register a recorded ``fn`` with ``bus.on`` (or decorate, if ``fn`` is None).

        ``opts`` (such as ``priority``) go to ``bus.on``; ``name`` labels the
        listener in the table. Returns ``fn`` itself, so it still works as a
        decorator and ``bus.off`` with the original function removes the wrapper.
        """
        return self._register(bus, bus.on, event, fn, name, opts)

    def once(
        self,
        bus: _Registering,
        event: str,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        **opts: Any,
    ) -> Any:
        """Like :meth:`on`, registered with ``bus.once``."""
        return self._register(bus, bus.once, event, fn, name, opts)

    def _register(
        self,
        bus: object,
        register: Callable[..., Any],
        event: str,
        fn: Any,
        name: str | None,
        opts: dict[str, Any],
    ) -> Any:
        if fn is None:

            def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
                self._register(bus, register, event, f, name, opts)
                return f

            return decorator
        level = opts.get("priority")
        if level is None:  # show the level the bus will really use
            level = EventPriority.MEDIUM if isinstance(bus, EventBus | Namespace) else "default"
        register(event, self.wrap(fn, event=event, priority=level, name=name), **opts)
        return fn

    def mark(self, label: str) -> None:
        """Note a moment (e.g. ``"emit returned"``) to see where calls fall around it."""
        self.marks.append(Mark(label, self._clock()))

    def clear(self) -> None:
        self.calls.clear()
        self.marks.clear()
        self.origin = self._clock()

    def _start(
        self, event: str | None, label: str, level: str, args: tuple[Any, ...], kw: dict[str, Any]
    ) -> Call:
        name = event or "?"
        with contextlib.suppress(RuntimeError):  # called outside an emit: the registered name
            name = current_event()
        call = Call(len(self.calls) + 1, name, label, level, args, dict(kw), self._clock())
        self.calls.append(call)
        return call

    def _finish(self, call: Call, error: BaseException | None) -> None:
        call.finished = self._clock()
        call.error = error

    # -- reading -----------------------------------------------------------
    @property
    def order(self) -> list[str]:
        """Listener names in the order they were called."""
        return [c.listener for c in self.calls]

    def table(self) -> Table:
        """One row per call: order, event, listener, priority, arguments, outcome."""
        rows = []
        for c in self.calls:
            args = ", ".join(
                [_short(a) for a in c.args] + [f"{k}={_short(v)}" for k, v in c.kwargs.items()]
            )
            start = f"{(c.started - self.origin) * 1000:.2f}"
            rows.append([str(c.index), c.event, c.listener, c.priority, args, c.outcome, start])
        return Table(["#", "event", "listener", "priority", "args", "outcome", "start ms"], rows)

    def timeline(self, width: int = 40) -> Timeline:
        """Each call as a bar from its start to its end; marks as ``|`` columns."""
        if width < 10:
            raise ValueError(f"a timeline needs width >= 10, not {width}")
        if not self.calls and not self.marks:
            return Timeline("(no calls recorded)")
        points = [c.started for c in self.calls]
        points += [c.finished for c in self.calls if c.finished is not None]
        points += [m.at for m in self.marks]
        lo, hi = min(points), max(points)
        span = (hi - lo) or 1e-9

        def col(t: float) -> int:
            return min(width - 1, int((t - lo) / span * (width - 1)))

        labels = [f"{c.listener} ({c.event})" for c in self.calls] + [m.label for m in self.marks]
        pad = max(len(label) for label in labels)
        mark_cols = {col(m.at) for m in self.marks}
        lines = []
        for c, label in zip(self.calls, labels, strict=False):
            end = c.finished if c.finished is not None else hi
            a, b = col(c.started), col(end)
            bar = "".join(
                "#" if a <= i <= b else ("|" if i in mark_cols else ".") for i in range(width)
            )
            suffix = "  !" + type(c.error).__name__ if c.error is not None else ""
            lines.append(f"{label.ljust(pad)}  {bar}{suffix}")
        for m in self.marks:
            bar = "".join("|" if i == col(m.at) else " " for i in range(width))
            lines.append(f"{m.label.ljust(pad)}  {bar}")
        lines.append(f"{''.ljust(pad)}  0 ms{'':>{max(0, width - 12)}}{span * 1000:.2f} ms")
        return Timeline("\n".join(lines))

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def __repr__(self) -> str:
        return f"<Recorder {len(self.calls)} calls>"
