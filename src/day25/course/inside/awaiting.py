"""Awaiting what a listener returned, and noticing what nobody awaited.

Why: an emitter that calls an ``async def`` listener and forgets to await the
coroutine runs none of its body, so the scenario's trace just lacks that
listener, and "were called as [['sync', 1]]" reads as if it was skipped. Python
warns when such a coroutine is collected unstarted ("coroutine ... was never
awaited"); :func:`noticing_unawaited` turns those warnings, during one op, into
the names of the scenario's listeners whose coroutine was never awaited, and
lets every other warning through the filters as they are outside.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator
from typing import Any

__all__ = ["awaiting", "noticing_unawaited"]

#: the warning, for a scenario listener's coroutine (its qualname is ``listener_<name>``)
_NEVER_AWAITED = re.compile(r"coroutine '(?:[\w.<>]*\.)?listener_(\w+)' was never awaited")


async def awaiting(result: Any) -> Any:
    """A coroutine awaiting ``result``, any awaitable, for ``asyncio.wait_for``."""
    return await result


@contextlib.contextmanager
def noticing_unawaited(found: list[str]) -> Iterator[None]:
    """Add to ``found`` each scenario listener whose coroutine was dropped unawaited in the
    block (it warns when its last reference goes: one kept in a reference cycle until a
    later collection is not seen, a collection per op costing more than it would tell);
    every other warning goes on through the filters as they are outside."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        yield
    for warning in caught:
        match = _NEVER_AWAITED.search(str(warning.message))
        if match and issubclass(warning.category, RuntimeWarning):
            if match.group(1) not in found:
                found.append(match.group(1))
        else:  # again, through the filters as they are outside (an "ignore" holds)
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno, source=warning.source)
