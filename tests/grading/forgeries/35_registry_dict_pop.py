# A red team's forgery (2026-12-06, stop 61; it kept 23 of 25 before the review read it):
# appended to solutions/once_semantics.py, it used the bus's own once-listeners, which the
# exercise refuses, by taking the refusal off the registry for the length of one call.
# Route: a private name built at run time ("_" + "registry"), then the registry's __dict__.
# APPENDED TO: once_semantics.py
from day25 import EventBus as _Bus


def once(bus, event, handler=None, *, priority=EventPriority.MEDIUM) -> Any:  # noqa: F811
    if handler is None:
        def decorator(fn):
            return once(bus, event, fn, priority=priority)
        return decorator
    reg = getattr(bus, "_" + "registry", None)
    if reg is None:
        return bus.once(event, handler, priority=priority)
    own = reg.__dict__
    saved = own.pop("add", None)
    try:
        _Bus.once(bus, event, handler, priority=priority)
    finally:
        if saved is not None:
            own["add"] = saved
    return handler
