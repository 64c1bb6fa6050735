"""Graded sessions fork each submission's zygote from the warm session server: still sandboxed."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from day25.course.catalogue import Exercise
from day25.course.grading.verdict import Settings, run_suites
from day25.course.sandbox import namespaces

SPY = textwrap.dedent(
    """
    import os, socket
    from nexios import NexiosApp

    def create_app(secret=""):
        app = NexiosApp()

        @app.get("/spy")
        async def spy(req, res):
            try:
                open(secret).read()
                leaked = True
            except OSError:
                leaked = False
            try:
                socket.create_connection(("1.1.1.1", 53), timeout=1).close()
                online = True
            except OSError:
                online = False
            return res.json({"uid": os.getuid(), "pid": os.getpid(), "leaked": leaked,
                             "online": online})
        return app
    """
)

CATALOGUE = """
[[exercise]]
id = "toy"
title = "Toy"
order = 1
points = 25
module = "toy.py"
notebook = "exercises/toy.ipynb"
public_tests = "tests/public/test_toy.py"
hidden_tests = "tests/hidden/test_toy.py"
hints = ["none"]
"""

SUITE = textwrap.dedent(
    """
    import pytest
    from day25.course.sandbox.zygote import Pidfd

    pytestmark = pytest.mark.asyncio

    async def test_spy(app_server, zygote):
        assert isinstance(zygote.proc, Pidfd), "the zygote was forked by the session server"
        server = app_server(secret=__file__)
        async with server.http() as client:
            seen = (await client.get("/spy")).json()
        assert seen["uid"] == zygote.uid and seen["uid"] != 0, seen
        assert seen["pid"] < 100, seen
        assert not seen["leaked"], "the hidden suite must be masked"
        assert not seen["online"], "no network"
    """
)


@pytest.mark.skipif(namespaces.isolation() != "root",
                    reason="a uid of its own needs a grader running as root (with bubblewrap)")
def test_a_forked_zygote_keeps_every_wall_of_the_sandbox(tmp_path: Path) -> None:
    root = tmp_path / "course"
    (root / "tests" / "hidden").mkdir(parents=True)
    (root / "tests" / "conftest.py").write_text(
        'pytest_plugins = ["day25.course.harness.pytest_plugin"]\n')
    (root / "tests" / "hidden" / "test_toy.py").write_text(SUITE)
    (root / "exercises").mkdir()
    (root / "exercises" / "catalogue.toml").write_text(CATALOGUE)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "toy.py").write_text(SPY)
    # everything readable by others: only the sandbox's masks can hide the suite
    for path in [*tmp_path.parents, tmp_path, *tmp_path.rglob("*")]:
        if path != Path("/") and path.is_relative_to(Path("/tmp")):
            path.chmod(0o755)
    [result] = run_suites([Exercise("toy", "Toy", "toy.py", 25,
                                    hidden_tests="tests/hidden/test_toy.py")], sub,
                          Settings(root, exercise_timeout=60, test_timeout=30))
    assert result.notes == [] and result.tests, result.notes
    assert result.points == 25, result.tests[0].message
