"""day25: not part of Nexios' suite (README.md in this folder).

The two ``AWAITABLE_EMIT`` tests emit without ``await``, as Nexios allows; on day25
such an emit is a coroutine nobody awaits, which is the deliberate difference they
xfail on. Its "coroutine 'EventBus.emit' was never awaited" warning came whenever the
garbage collector next ran: under a later test, or in CI's log after the run. It is
collected here, at the end of the test that made it, where it belongs.

A collection alone did not free it: pytest keeps a failed test's traceback in
``sys.last_traceback`` (for a post-mortem debugger) until another test fails, and
that traceback's frames hold the emit. So the xfailed test's traceback is let go first.
"""

from __future__ import annotations

import gc
import sys
import warnings
from collections.abc import Iterator

import pytest

UNAWAITED = "coroutine 'EventBus.emit' was never awaited"


@pytest.fixture(autouse=True)
def _unawaited_emits_end_with_their_test(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if request.node.get_closest_marker("xfail") is not None:
        sys.last_type = sys.last_value = sys.last_traceback = None
        if sys.version_info >= (3, 12):
            sys.last_exc = None
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", UNAWAITED, RuntimeWarning)
            gc.collect()
