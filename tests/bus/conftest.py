"""Run every bus test twice: with the C hot path (day25._speedups) and in pure Python.

Why: the C emitter must keep every rule the pure-Python ``EventBus.emit`` has, and
the pure-Python code is the fallback wherever the extension is not built. Module
scope (not function scope) so Hypothesis' ``@given`` tests take it too; buses made
inside a test pick the implementation chosen here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from day25 import accelerator


@pytest.fixture(scope="module", params=["C", "Python"], autouse=True)
def implementation(request: pytest.FixtureRequest) -> Iterator[str]:
    was = accelerator.implementation() == "C"
    accelerator.use_c(request.param == "C")  # fails loudly if the extension is not built
    try:
        yield str(request.param)
    finally:
        accelerator.use_c(was)
