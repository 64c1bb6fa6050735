"""What a forked sandbox keeps of its warm, privileged parent: nothing.

The zygote is forked from the session server (root) without exec, so every
descriptor, every environment string still in memory and every privilege of
that server would reach the submission unless removed. Each test forks a
child the way a zygote's supervisor does and looks at what is left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from day25.course.grading.sessions import SessionServer, session_env
from day25.course.sandbox import privileges

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="dropping to a uid needs root")


@needs_root
def test_a_forked_child_keeps_no_descriptor_capability_or_uid_of_its_parent() -> None:
    held = os.open("/", os.O_RDONLY | os.O_DIRECTORY)  # a warm server's stray directory fd
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            keep = privileges.close_inherited_fds(write)
            privileges.drop_to(123_457)
            status = dict(line.split(":", 1) for line in
                          Path("/proc/self/status").read_text(encoding="utf-8").splitlines())
            report = {"fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
                      "uid": os.getresuid(), "gid": os.getresgid(), "groups": os.getgroups(),
                      "caps": {k: status[k].strip() for k in status if k.startswith("Cap")},
                      "nnp": status["NoNewPrivs"].strip()}
            os.write(keep, json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.close(held)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    report = json.loads(data)
    assert report["fds"] == [0, 1, 2, 3, 4]  # stdio, the one kept, and listdir's own
    assert report["uid"] == [123_457] * 3 and report["gid"] == [65534] * 3
    assert report["groups"] == [] and report["nnp"] == "1"
    assert set(report["caps"].values()) == {"0000000000000000"}, report["caps"]


def test_the_exec_time_environment_is_zeroed_in_memory(tmp_path: Path) -> None:
    child = textwrap.dedent("""
        import os
        from day25.course.sandbox import privileges
        before = open("/proc/self/environ", "rb").read()
        privileges.scrub_exec_environ()
        after = open("/proc/self/environ", "rb").read()
        print(b"GRADER_TOKEN" in before, b"GRADER_TOKEN" in after)
    """)
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                          env={**os.environ, "GRADER_TOKEN": "tok-do-not-leak"}, check=True)
    assert done.stdout.split() == ["True", "False"]


def test_the_session_server_starts_with_a_short_list_of_variables(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    monkeypatch.setenv("DAY25_SANDBOX", "auto")
    assert session_env(os.environ).get("DAY25_SANDBOX") == "auto"
    assert "AWS_SECRET_ACCESS_KEY" not in session_env(os.environ)
    server = SessionServer()
    try:
        environ = b""
        for _ in range(500):  # at most 5 s: while the process is being exec'd it reads empty
            environ = Path(f"/proc/{server.proc.pid}/environ").read_bytes()
            if environ:
                break
            time.sleep(0.01)
        assert b"do-not-leak" not in environ and b"DAY25_SANDBOX=auto" in environ
    finally:
        assert server.proc.stdin is not None
        server.proc.stdin.close()
        server.proc.wait(timeout=30)
