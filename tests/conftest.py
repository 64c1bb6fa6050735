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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long work first: modules that share an expensive fixture (an xdist group) or
    declare a long timeout go ahead of the rest, whole modules at a time, otherwise in
    collection order. With ``--dist loadgroup`` each worker then starts on a long unit
    and the short tests fill the gaps, instead of one long unit starting last while
    the other workers sit idle. Without xdist only the order changes."""

    def weight(item: pytest.Item) -> int:
        if item.get_closest_marker("xdist_group") is not None:
            return 0
        timeout = item.get_closest_marker("timeout")
        return 1 if timeout is not None and timeout.args and timeout.args[0] >= 600 else 2

    by_module: dict[str, int] = {}
    for item in items:
        by_module[str(item.path)] = min(by_module.get(str(item.path), 2), weight(item))
    items.sort(key=lambda item: by_module[str(item.path)])
