"""Every suite here grades through the course plugin (--submission, points, results)."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["day25.course.harness.pytest_plugin"]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``pytest -n auto``: two workers per core, not one.

    Why: most of this suite's time is spent waiting, not computing: on graded
    batches in sandboxed children, notebook kernels, a browser, uvicorn servers.
    With one worker per core the cores were idle much of the run. The suites
    judge by the app settling, never by an upper time bound, so a busier machine
    makes them slower, not different. ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still wins.
    """
    if env := os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(env)
    return 2 * max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else os.cpu_count() or 1)
