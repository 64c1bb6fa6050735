"""Public checks: what students run. Failures name the expectation and a hint."""

from __future__ import annotations

from typing import Any

import pytest

from day25.course.harness import ScenarioRunner, first_difference


@pytest.fixture(scope="module")
def expect(runner: ScenarioRunner) -> Any:
    """``expect(ops, traces, hint)``: run ``ops`` in a child; ``traces[i]`` is step i's calls."""

    def run(ops: list[dict[str, Any]], traces: list[list[list[Any]]], hint: str) -> None:
        want = [{"trace": t} for t in traces]
        problem = first_difference(ops, want, runner.run({"ops": ops}))
        if problem:
            pytest.fail(f"{problem}\n\nStuck? {hint}", pytrace=False)

    return run
