"""Nothing of a submission outlives its grading session, even with its zygote stopped.

Found by a red team: a submission forked a daemon into a session of its own, then
sent SIGSTOP to its zygote (its parent, the same uid). When the grader cut the
session off, the zygote, stopped, never read that the grader had hung up, so its
PID namespace, the daemon included, lived on until the whole batch ended: a
submission could keep running beside every student graded after it.

Here the grader's real session server grades such a submission, the session is cut
off, and the daemon (named by its ``comm``) must be gone at once.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest

from day25.course.catalogue import load_catalogue
from day25.course.grading.verdict import Settings, run_suites
from day25.course.sandbox import zygote_server

from .classroom import COURSE
from .proc_names import kill_named, named

pytestmark = pytest.mark.timeout(300)

ATTACK = '''
import ctypes, os, signal, time
zygote = os.getppid()  # this module is imported by a process the zygote forked
if os.fork() == 0:
    os.setsid()  # out of reach of the sweep of the importing process's session
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, {token!r}.encode())  # PR_SET_NAME: its comm
        os.kill(zygote, signal.SIGSTOP)
        time.sleep(180)  # bounded, so that a broken sandbox leaks for minutes, not for ever
        os._exit(0)
    os._exit(0)
time.sleep(3600)  # the import hangs: the grader cuts the session off
'''


def _gone_within(token: str, seconds: float) -> list[int]:
    """Wait until no process is named ``token``; what is left after ``seconds``."""
    deadline = time.monotonic() + seconds
    while (left := named(token.encode())) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_a_daemon_behind_a_stopped_zygote_dies_with_its_session(tmp_path: Path) -> None:
    token = "d25" + uuid.uuid4().hex[:10]  # comm holds 15 characters
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "priority_ordering.py").write_text(ATTACK.format(token=token), encoding="utf-8")
    tmp_path.chmod(0o755)
    sub.chmod(0o755)
    exercise = load_catalogue(COURSE).get("priority_ordering")
    settings = Settings(COURSE, exercise_timeout=60, test_timeout=60)
    seen: list[int] = []
    grading = threading.Event()

    def watch() -> None:  # the daemon did start: the test sees what it claims to see
        while not grading.is_set() and not seen:
            seen.extend(named(token.encode()))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        [result] = run_suites([exercise], sub, settings, timeout=12)
        grading.set()
        watcher.join()
        assert result.points == 0
        assert seen, "the submission's daemon never started"
        left = _gone_within(token, 5.0)
        assert left == [], (f"{len(left)} process(es) of the submission outlived its session "
                            "(its zygote was stopped)")
    finally:
        kill_named(token.encode())  # a failing run must not leave the daemon behind


def _child(then: str) -> int:
    pid = os.fork()
    if pid == 0:
        if then == "stop":
            os.kill(os.getpid(), signal.SIGSTOP)
        os._exit(7)
    return pid


def test_the_supervisor_kills_a_stopped_zygote_when_the_grader_hangs_up() -> None:
    stopped = _child("stop")  # first: a child would hold a copy of the grader's end
    grader, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    grader.send(b'{"module": "never read"}')  # unread requests do not hide the hang-up
    codes: list[int] = []
    watching = threading.Thread(
        target=lambda: codes.append(zygote_server._watch(stopped, os.dup(zygote_end.fileno()))))
    watching.start()
    time.sleep(0.5)
    assert codes == [], "it waits while the grader is there"
    grader.close()
    watching.join(timeout=20)
    if watching.is_alive():  # end the stopped child ourselves, then fail
        os.kill(stopped, signal.SIGKILL)
        watching.join()
        pytest.fail("the supervisor kept waiting on a stopped zygote after the hang-up")
    assert codes == [-signal.SIGKILL]
    zygote_end.close()


def test_the_supervisor_returns_a_zygote_s_own_exit_code() -> None:
    exits = _child("exit")
    grader, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    assert zygote_server._watch(exits, os.dup(zygote_end.fileno())) == 7
    grader.close()
    zygote_end.close()
