"""Every suite here grades through the course plugin (--submission, points, results)."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["day25.course.harness.pytest_plugin"]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``pytest -n auto``: one worker per core, plus one.

    Why: with one worker per core the cores sat idle about a fifth of the run (a
    worker waiting on a kernel, a browser, a graded batch in sandboxed children);
    one more worker fills that time. Two per core filled it too, but the extra
    contention cost more CPU than it saved, and it made the machine busier than the
    suite needs (docs/benchmarks/test-suite-time.md, "The test suite's wall time").
    ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still wins.
    """
    if env := os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(env)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1) + 1
