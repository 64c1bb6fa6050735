"""Whether ``EventBus.emit`` runs its hot path in C, and the switch.

Why: ``await bus.emit("e", p)`` with ten cheap sync listeners cannot come within
15% of a hand-written ``for h in hs: h(p)`` in pure Python: the fixed cost of a
Python-level call is most of the gap. ``day25._speedups.Emitter`` (C) runs that
one case (two positional arguments, a cached plan of only plain sync listeners)
and hands everything else, and every listener that raises or returns something,
to the pure-Python ``EventBus`` methods, which stay the reference.

Like aiohttp's ``AIOHTTP_NO_EXTENSIONS``, ``DAY25_NO_EXTENSIONS=1`` (any non-empty
value) forces pure Python; so does an install without a C compiler, where the
extension is simply not built. :func:`use_c` switches buses made afterwards
(tests run the bus suite both ways); :func:`implementation` says which is active.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from day25.plan import Plan

__all__ = ["NO_EXTENSIONS", "accelerate", "built", "implementation", "use_c"]

NO_EXTENSIONS = bool(os.environ.get("DAY25_NO_EXTENSIONS"))

try:
    from day25._speedups import Emitter
except ImportError:  # built without a compiler: pure Python it is
    _built = False
else:
    _built = True

_enabled = _built and not NO_EXTENSIONS


def built() -> bool:
    """True if the C extension ``day25._speedups`` was compiled and imports."""
    return _built


def implementation() -> str:
    """``"C"`` or ``"Python"``: what the ``emit`` of a bus made now will run."""
    return "C" if _enabled else "Python"


def use_c(enabled: bool) -> None:
    """Make buses created from now on use the C hot path (True) or pure Python."""
    global _enabled
    if enabled and not _built:
        raise RuntimeError(
            "day25._speedups is not built (no C compiler at install time?): "
            "reinstall with gcc and the Python headers, or stay on pure Python"
        )
    _enabled = enabled


def accelerate(bus: Any, emit: Callable[..., Any], resume: Callable[..., Any]) -> None:
    """Set ``bus.emit`` to the C emitter, unless disabled or a subclass overrides ``emit``.

    ``emit`` and ``resume`` are the pure-Python ``EventBus.emit`` and
    ``EventBus._resume_sync`` functions: the C code calls them for everything it
    does not handle itself, so both implementations share every rule.
    """
    if _enabled and type(bus).emit is emit:
        slots = vars(Plan)  # the __slots__ descriptors tell C where plan.sync / plan.done live
        vars(bus)["emit"] = Emitter(bus, bus._plans, emit, resume, slots["sync"], slots["done"])
