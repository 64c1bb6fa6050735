"""The time a test may take: its exercise's budget, and what a test that ran out says.

One session grades several exercises, and each exercise has a budget of wall time
(``--exercise-budget``): each test's time is charged to its exercise, and once the
budget is spent the exercise's remaining tests fail at once with
:data:`~day25.course.protocol.BUDGET_SPENT`, so the next exercise still gets its
whole budget.

Why a test is also cut *during* its run: the budget used to be checked only
between tests, so the last test to start could run on for its whole pytest
timeout (``--timeout``) past the budget, taking that time from the exercises
after it in the session. A test that starts with less budget left than its own
timeout gets that remainder as its timeout instead, and when it runs out it says
:data:`~day25.course.protocol.BUDGET_CUT`. Only where pytest-timeout ends a test by a
signal: where it has no ``SIGALRM`` (Windows) it ends the whole session instead, and a
cut would cost every exercise of the session for a test that might have finished
within its own timeout.

A test that runs out of its own timeout says :data:`~day25.course.protocol.TIMED_OUT`
in plain words, not pytest-timeout's "Timeout (>60.0s) from pytest-timeout". It is
a hang like the harness's own cut-offs, so ``--stop-at-first-hang`` stops its
exercise after it.

Registered by :mod:`day25.course.harness.pytest_plugin`, which owns the options.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import pytest
import pytest_timeout  # type: ignore[import-untyped]

from day25.course.protocol import BUDGET_CUT, BUDGET_SPENT, TIMED_OUT

__all__ = ["exercise_of", "explain_timeout", "timed_out"]

_SPENT = pytest.StashKey[dict[str, float]]()
#: on an item whose timeout was lowered to what was left of its exercise's budget: the budget
_CUT = pytest.StashKey[float]()
#: pytest-timeout's failure message starts so (``pytest.fail`` from its signal handler)
_PYTEST_TIMEOUT = "Timeout (>"


def exercise_of(item: pytest.Item) -> str:
    """The exercise a test grades: its module's ``EXERCISE``, else ``test_<id>.py``'s id."""
    module = getattr(item, "module", None)
    name = getattr(module, "EXERCISE", None)
    if isinstance(name, str):
        return name
    return item.path.stem.removeprefix("test_")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SPENT] = {}


def _own_timeout(item: pytest.Item) -> float | None:
    """The test's timeout as pytest-timeout would read it (its marker, else ``--timeout``)."""
    marker = item.get_closest_marker("timeout")
    given = marker.args[0] if marker is not None and marker.args else item.config.getoption(
        "timeout", None)
    return float(given) if given else None


def _ends_one_test(config: pytest.Config) -> bool:
    """Whether pytest-timeout ends a test that runs out by failing it (its signal method)."""
    method = config.getoption("timeout_method", None) or pytest_timeout.DEFAULT_METHOD
    return bool(method == "signal")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """Lower the test's timeout to what is left of the budget, then charge its wall time.

    tryfirst: pytest-timeout reads the timeout as the protocol starts, inside this wrapper.
    """
    budget = item.config.getoption("--exercise-budget")
    spent = item.config.stash[_SPENT]
    if budget is not None and _ends_one_test(item.config):
        left = budget - spent.get(exercise_of(item), 0.0)
        own = _own_timeout(item)
        if left > 0 and (own is None or left < own):
            item.add_marker(pytest.mark.timeout(left))
            item.stash[_CUT] = budget
    started = time.monotonic()
    try:
        return (yield)
    finally:
        spent[exercise_of(item)] = spent.get(exercise_of(item), 0.0) + time.monotonic() - started


def pytest_runtest_setup(item: pytest.Item) -> None:
    budget = item.config.getoption("--exercise-budget")
    used = item.config.stash[_SPENT].get(exercise_of(item), 0.0)
    if budget is not None and used >= budget:
        pytest.fail(BUDGET_SPENT.format(exercise=exercise_of(item), budget=budget),
                    pytrace=False)


def timed_out(call: pytest.CallInfo[None]) -> bool:
    """Whether the test phase ``call`` was ended by its timeout (pytest-timeout's)."""
    return (call.excinfo is not None and call.excinfo.errisinstance(pytest.fail.Exception)
            and str(call.excinfo.value).startswith(_PYTEST_TIMEOUT))


def explain_timeout(item: pytest.Item) -> str:
    """What a test that ran out of time says to the student (``timed_out`` was true)."""
    budget = item.stash.get(_CUT, None)
    if budget is not None:
        return BUDGET_CUT.format(exercise=exercise_of(item), budget=budget)
    return TIMED_OUT.format(seconds=_own_timeout(item) or 0)
