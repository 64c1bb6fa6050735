"""Public checks: what students run. Failures name the expectation, and where to get a hint."""

from __future__ import annotations

from typing import Any

import pytest

from day25.course.harness import ScenarioClient, first_difference


@pytest.fixture(scope="module")
def expect(scenario_client: ScenarioClient) -> Any:
    """``expect(ops, traces, errors=None, values=None, clock=None)``: run ``ops`` in a child
    process (``clock="virtual"``: on a loop whose clock skips the waits of ``sleep``).

    ``traces[i]`` is step i's calls ``[[listener, payload], ...]``; ``errors`` maps a
    step to the exception type it must raise, ``values`` a step to what it must
    return (a ``count``, an ``emit``'s result).
    """
    exercise = scenario_client.exercise.id

    def run(ops: list[dict[str, Any]], traces: list[list[list[Any]]],
            errors: dict[int, str] | None = None, values: dict[int, Any] | None = None,
            clock: str | None = None) -> None:
        want: list[dict[str, Any]] = [{"trace": t} for t in traces]
        for step, error in (errors or {}).items():
            want[step]["error"] = error
        for step, value in (values or {}).items():
            want[step]["value"] = value
        scenario = {"ops": ops, **({"clock": clock} if clock else {})}
        problem = first_difference(ops, want, scenario_client.run(scenario))
        if problem:
            pytest.fail(f"{problem}\n\nStuck? `day25 hint {exercise}` shows the next hint.",
                        pytrace=False)

    return run
