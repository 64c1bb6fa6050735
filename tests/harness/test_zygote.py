"""The per-submission zygote: forked children are sandboxed, fresh, and die with it."""

from __future__ import annotations

import asyncio
import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from day25.course.harness import AppServer, ScenarioClient, SubmissionCrashed, SubmissionError
from day25.course.sandbox import namespaces
from day25.course.sandbox.zygote import Zygote

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def zygote(tmp_path: Path) -> Iterator[Zygote]:
    work = tmp_path / "zygote"
    work.mkdir()
    work.chmod(0o755)
    tmp_path.chmod(0o755)
    made = Zygote(work)
    yield made
    made.close()


def _submission(tmp_path: Path, exercise: str) -> Path:
    sub = tmp_path / "sub"
    sub.mkdir(exist_ok=True)
    (sub / f"{exercise}.py").write_text((ROOT / "solutions" / f"{exercise}.py").read_text())
    return sub


def test_children_are_forked_fast_and_each_is_a_new_process(tmp_path: Path, zygote: Zygote) -> None:
    sub = _submission(tmp_path, "priority_ordering")
    pids = set()
    started = time.monotonic()
    for _ in range(3):
        runner = ScenarioClient(sub, "priority_ordering", zygote=zygote)
        result = runner.run({"ops": [{"op": "on", "event": "e", "listener": "a"},
                                     {"op": "emit", "event": "e", "payload": 1}]})
        assert result["ops"][1]["trace"] == [["a", 1]]
        assert runner._process is not None
        pids.add(runner._process.proc.pid)
        runner.close()
    assert len(pids) == 3, "every runner gets a process of its own"
    assert time.monotonic() - started < 20
    assert zygote.zygotes_started == 1


SPY = textwrap.dedent(
    """
    import os
    from nexios import NexiosApp

    def create_app():
        app = NexiosApp()

        @app.get("/spy")
        async def spy(req, res):
            try:
                open(os.environ.get("SPY_TARGET", "") or "%s").read()
                leaked = True
            except OSError:
                leaked = False
            return res.json({"uid": os.getuid(), "pid": os.getpid(), "leaked": leaked})
        return app
    """
)


@pytest.mark.skipif(namespaces.isolation() != "root",
                    reason="a uid of its own needs a grader running as root (with bubblewrap)")
async def test_forked_children_keep_the_sandbox(tmp_path: Path, zygote: Zygote) -> None:
    hidden = ROOT / "tests" / "hidden" / "conftest.py"
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "chat_broadcasting.py").write_text(SPY % hidden)
    with AppServer(sub, "chat_broadcasting", zygote=zygote) as server:
        async with server.http() as client:
            seen = (await client.get("/spy")).json()
    assert seen["uid"] == zygote.uid and seen["uid"] != 0, "children run as the zygote's uid"
    assert seen["pid"] < 100, "children live in the zygote's own PID namespace"
    assert not seen["leaked"], "the hidden tests stay masked for forked children"


def test_a_dead_child_reports_its_exit_and_the_next_one_is_fresh(
    tmp_path: Path, zygote: Zygote
) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "priority_ordering.py").write_text("import os\nos._exit(7)\n")
    runner = ScenarioClient(sub, "priority_ordering", zygote=zygote, timeout=10)
    with pytest.raises(SubmissionCrashed, match="exited with code 7"):
        runner.run({"ops": []})
    with pytest.raises(SubmissionCrashed, match="exited with code 7"):
        runner.run({"ops": []})
    assert runner.processes_started == 2
    runner.close()


def test_closing_the_zygote_kills_every_child(tmp_path: Path, zygote: Zygote) -> None:
    sub = _submission(tmp_path, "chat_broadcasting")
    server = AppServer(sub, "chat_broadcasting", zygote=zygote).start()
    child = server._app
    assert child is not None and child.alive()
    zygote.close()
    deadline = time.monotonic() + 10
    while child.alive():
        assert time.monotonic() < deadline, "the app child outlived its zygote"
        time.sleep(0.05)
    server.stop()


def test_a_killed_zygote_is_replaced_on_the_next_child(tmp_path: Path, zygote: Zygote) -> None:
    sub = _submission(tmp_path, "priority_ordering")
    from day25.course.sandbox import processes

    processes.kill_tree(zygote.proc)
    runner = ScenarioClient(sub, "priority_ordering", zygote=zygote)
    assert runner.run({"ops": []}) == {"ops": []}
    assert zygote.zygotes_started == 2
    runner.close()


class _StillExiting:
    """A zygote's supervisor between the zygote's death and its own exit."""

    returncode = None

    def poll(self) -> None:
        return None


def test_a_zygote_that_dies_as_it_starts_fails_the_spawn_at_once(tmp_path: Path) -> None:
    """This stop's chroot, where the zygote could not enter its view: it died at once, but
    its supervisor had not exited when the zygote's end of the socket closed, so each spawn
    waited its whole startup timeout and the student read "did not finish within 60 s (an
    endless loop ...?)". Here the test holds the zygote's end, and the supervisor is still
    exiting when that end closes."""
    import socket
    import threading

    from day25.course.sandbox import processes
    from day25.course.sandbox.runner import RunnerError

    work = tmp_path / "zygote"
    work.mkdir()
    made = Zygote(work, startup_timeout=60)
    real = made.proc
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        with made._cond:
            made._control, made._hung_up, made.proc = ours, False, _StillExiting()
        threading.Thread(target=made._read, args=(ours,), daemon=True).start()

        def dies_on_the_request() -> None:
            _data, fds, _flags, _addr = socket.recv_fds(theirs, 65536, 3)
            for fd in fds:
                os.close(fd)
            theirs.close()

        threading.Thread(target=dies_on_the_request, daemon=True).start()
        started = time.monotonic()
        with pytest.raises(RunnerError, match="did not answer"):
            made.spawn("day25.course.inside", [], cwd=made.new_workdir())
        assert time.monotonic() - started < 20, "the spawn waited for its startup timeout"
    finally:
        processes.kill_tree(real)  # type: ignore[arg-type]
        ours.close()


async def test_settled_fails_a_missing_frame_fast_and_sees_a_late_one(tmp_path: Path) -> None:
    app = textwrap.dedent(
        """
        import asyncio
        from nexios import NexiosApp
        import day25

        def create_app():
            app = NexiosApp()
            day25.install(app)

            @app.ws_route("/late")
            async def late(ws):
                await ws.accept()
                while True:
                    msg = await ws.receive_json()
                    if msg.get("after"):
                        await asyncio.sleep(msg["after"])  # a timer: work still to come
                    if msg.get("reply"):
                        await ws.send_json({"ok": True})
            return app
        """
    )
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "chat_broadcasting.py").write_text(app)
    with AppServer(sub, "chat_broadcasting", timeout=5) as server:
        async with server.connect("/late") as ws:
            await ws.send('{"reply": false}')
            started = time.monotonic()
            with pytest.raises(SubmissionError, match="nothing left to do and did not send a "):
                await server.recv_json(ws)
            assert time.monotonic() - started < 3, "a settled server fails the wait at once"
            await ws.send('{"reply": true, "after": 0.2}')
            assert await server.recv_json(ws) == {"ok": True}, "a pending timer is waited for"
            await ws.send('{"reply": true, "after": 0.1}')
            with pytest.raises(SubmissionError, match="Expected no frame"):
                await server.expect_silence(ws)
            await asyncio.sleep(0)
            await server.expect_silence(ws)


# forks at import: each child leaves its session and leaves a grandchild behind, holding
# the process's output pipes open, then the import never ends
DETACHING_FORKS = textwrap.dedent(
    """
    import os, time
    for _ in range(20):
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(900)
            os._exit(0)
    time.sleep(900)
    """
)


def test_processes_left_behind_in_other_sessions_do_not_hold_the_call_past_its_timeout(
        tmp_path: Path, zygote: Zygote) -> None:
    sub = _submission(tmp_path, "priority_ordering")
    code = (sub / "priority_ordering.py").read_text()
    (sub / "priority_ordering.py").write_text(code + DETACHING_FORKS)
    took = _seconds_to_cut_off(sub, zygote, timeout=3)
    assert took < 15, "a grandchild held the call past its timeout"
    (sub / "priority_ordering.py").write_text(code)  # the next process runs, the zygote too
    with ScenarioClient(sub, "priority_ordering", zygote=zygote) as again:
        assert again.run({"ops": [{"op": "on", "event": "e", "listener": "a"},
                                  {"op": "emit", "event": "e", "payload": 1}]}
                         )["ops"][1]["trace"] == [["a", 1]]


# at import: one child leaves for a session of its own, then the import never ends. When
# the grader kills the importing process, the child is not an orphan yet: the parent's
# threads end one by one, and until the last one has, the child is still theirs
DAEMON_AT_IMPORT = textwrap.dedent(
    """
    import os, time
    if os.fork() == 0:
        os.setsid()
        time.sleep(60)  # bounded: a sweep that misses it fails the test, not the whole run
        os._exit(0)
    time.sleep(900)
    """
)


def test_a_daemon_forked_by_a_hanging_import_goes_with_it(tmp_path: Path, zygote: Zygote) -> None:
    """A red team's module did this: the sweep took its dying process for dead and the
    daemon for no one's, the daemon held the output pipe, and each call waited on it."""
    sub = _submission(tmp_path, "priority_ordering")
    code = (sub / "priority_ordering.py").read_text()
    (sub / "priority_ordering.py").write_text(code + DAEMON_AT_IMPORT)
    for _ in range(3):  # the dying process's threads end in a different order each time
        took = _seconds_to_cut_off(sub, zygote, timeout=2)
        assert took < 10, "the daemon held the call past its timeout"


def _seconds_to_cut_off(sub: Path, zygote: Zygote, *, timeout: float) -> float:
    """One call to ``sub``'s priority_ordering.py, whose import never ends: how long the
    harness took to say so (its SubmissionError) and end what the import started."""
    runner = ScenarioClient(sub, "priority_ordering", zygote=zygote, timeout=timeout)
    started = time.monotonic()
    with pytest.raises(SubmissionError, match=f"top level did not finish within {timeout:g} s"):
        runner.run({"ops": [{"op": "on", "event": "e", "listener": "a"}]})
    runner.close()
    return time.monotonic() - started
