"""Run a submission in a child process and talk to it; never import it here.

Why: a grader that imports student code can be fooled by it (``sys.exit(0)``,
monkeypatching pytest, objects equal to everything) and dies with it. Here the
submission runs in ``python -m day25.course.inside``, started by
:func:`day25.course.sandbox.processes.spawn`; the verdict is computed in this process
from plain JSON.

The wire: the parent writes a random nonce as the first line of the child's
stdin, then one JSON request per line. Before importing the submission, the
child moves its real stdout to a private descriptor and points fd 1 at stderr,
so whatever the submission prints lands in the captured log, never on the
channel; every reply carries the nonce, and lines without it are dropped.

Every call has a timeout. A child that crashes or hangs is killed (its whole
process group) and the call raises a :class:`SubmissionError` whose message is
written for a student and ends with the tail of the child's output; the next
call starts a fresh child.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from day25.course.sandbox import processes
from day25.course.sandbox.zygote import ForkedChild, Zygote

__all__ = [
    "ChildProcess",
    "ScenarioRunner",
    "SubmissionCrashed",
    "SubmissionError",
    "SubmissionTimeout",
]

OUTPUT_CAP = 64 * 1024  # bytes of child output kept (the tail)
TAIL_CHARS = 3000  # characters of that output quoted in an error message
_LINE_CAP = 16 * 1024 * 1024


class SubmissionError(Exception):
    """The submission misbehaved; ``str(err)`` is written for the student."""

    def __init__(self, message: str, *, output: str = "") -> None:
        self.output = output
        if output.strip():
            message = f"{message}\n--- last output of your code ---\n{output[-TAIL_CHARS:]}"
        super().__init__(message)


class SubmissionCrashed(SubmissionError):
    """The child process died (an exception at import, ``sys.exit``, a limit hit)."""


class SubmissionTimeout(SubmissionError):
    """The child did not answer in time (an endless loop, a listener that never returns)."""


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "was still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (a resource limit: too much memory or CPU time?)" if name in (
            "SIGKILL", "SIGXCPU", "SIGSEGV", "SIGXFSZ") else ""
        return f"was killed by {name}{hint}"
    return f"exited with code {code}"


class _Tail:
    """A thread-safe, capped buffer of the child's stderr (where its prints go too)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._lock = threading.Lock()
        self.total = 0  # bytes ever added: a mark for :meth:`text` of one app's output

    def add(self, chunk: bytes) -> None:
        with self._lock:
            self._buf += chunk
            self.total += len(chunk)
            if len(self._buf) > OUTPUT_CAP:
                del self._buf[: len(self._buf) - OUTPUT_CAP]

    def text(self, since: int = 0) -> str:
        """The kept output, from byte ``since`` on (as much of it as is still kept)."""
        with self._lock:
            skip = max(0, since - (self.total - len(self._buf)))
            return self._buf[skip:].decode("utf-8", "replace")


class ChildProcess:
    """One ``python -m day25.course.inside <mode> ...``, with its reply channel.

    ``request(payload, timeout)`` sends one JSON line and returns the matching
    reply. Used by :class:`ScenarioRunner` and :class:`AppServer`; not for tests.
    """

    def __init__(
        self, args: list[str], *, cwd: Path, limits: processes.Limits | None = None,
        zygote: Zygote | None = None,
    ) -> None:
        self._nonce = secrets.token_hex(16)
        self._tail = _Tail()
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._next_id = 0
        self._lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | ForkedChild
        if zygote is not None:  # forked from the submission's warm, sandboxed zygote
            self.proc = zygote.spawn(args, cwd=cwd, limits=asdict(limits) if limits else None)
        else:
            self.proc = processes.spawn(
                ["python", "-m", "day25.course.inside", *args], cwd=cwd, limits=limits
            )
        threading.Thread(target=self._read_stderr, daemon=True).start()
        threading.Thread(target=self._read_replies, daemon=True).start()
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(self._nonce.encode() + b"\n")
            self.proc.stdin.flush()
        except OSError:
            pass  # died at once: the first wait reports it

    # -- reader threads -----------------------------------------------------
    def _read_stderr(self) -> None:
        stream = self.proc.stderr
        assert stream is not None
        try:
            while chunk := stream.read1(65536):  # type: ignore[attr-defined,union-attr,unused-ignore]
                self._tail.add(chunk)
        except (OSError, ValueError):
            pass

    def _read_replies(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        try:
            while line := stream.readline(_LINE_CAP):
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue  # not ours: the nonce check below would drop it anyway
                if isinstance(msg, dict) and msg.pop("nonce", None) == self._nonce:
                    self._replies.put(msg)
        except (OSError, ValueError):
            pass
        self._replies.put(None)  # the channel closed: the child is gone

    # -- calls ----------------------------------------------------------------
    @property
    def output(self) -> str:
        return self._tail.text()

    def output_mark(self) -> int:
        """Where the output stands now: :meth:`output_since` gives what came after."""
        return self._tail.total

    def output_since(self, mark: int) -> str:
        return self._tail.text(mark)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_for(self, msg_id: int | str, timeout: float, what: str) -> dict[str, Any]:
        """The reply with ``id == msg_id``, or a SubmissionError (the child is then killed)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise SubmissionTimeout(
                    f"Your code did not finish {what} within {timeout:g} s: an endless loop, "
                    "a listener that never returns, or an emit that waits on itself?",
                    output=self.output,
                )
            try:
                msg = self._replies.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if msg is None:
                code = self._reap()
                raise SubmissionCrashed(
                    f"The process running your code {_describe_exit(code)} while {what}.",
                    output=self.output,
                )
            if msg.get("id") == msg_id:
                return msg

    def send(self, payload: dict[str, Any]) -> int:
        with self._lock:
            self._next_id += 1
            msg_id = self._next_id
        line = json.dumps({**payload, "id": msg_id}).encode() + b"\n"
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(line)
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass  # the reader sees the channel close and wait_for reports the crash
        return msg_id

    def request(self, payload: dict[str, Any], *, timeout: float, what: str) -> dict[str, Any]:
        return self.wait_for(self.send(payload), timeout, what)

    def _reap(self) -> int | None:
        try:
            return self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode

    def kill(self) -> None:
        if isinstance(self.proc, ForkedChild):
            self.proc.kill_tree()
        else:
            processes.kill_tree(self.proc)


def _copy_submission(submission_dir: Path, exercise: str, dest: Path) -> Path:
    """Copy the submission's top-level ``.py`` files: never run them in place."""
    source = Path(submission_dir)
    if not (source / f"{exercise}.py").is_file():
        raise SubmissionError(
            f"There is no {exercise}.py in {source}: the submission must hold the module "
            f"{exercise}.py (start from exercises/{exercise}.py)."
        )
    dest.mkdir(parents=True, exist_ok=True)
    for path in source.glob("*.py"):
        if path.name != "conftest.py":
            shutil.copy2(path, dest / path.name)
    return dest


class _Workdir:
    """A short private temp directory (Unix socket paths must stay under ~100 bytes)."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="d25-"))

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class SubmissionChild:
    """A copy of one exercise's submission and the long-lived child that runs it.

    The child (``python -m day25.course.inside <mode>``) starts on first use and
    a fresh one replaces it once it died or was killed; the copy lives in a
    private folder removed by :meth:`close`.
    """

    mode = ""

    def __init__(
        self, submission_dir: str | os.PathLike[str], exercise: str, *,
        limits: processes.Limits | None = None, zygote: Zygote | None = None,
    ) -> None:
        self.exercise = exercise
        self.limits = limits
        self.zygote = zygote
        self._workdir = _Workdir()
        self._code = _copy_submission(Path(submission_dir), exercise, self._workdir.path / "code")
        self._child: ChildProcess | None = None
        self.children_started = 0

    def _ensure_child(self) -> ChildProcess:
        if self._child is None or not self._child.alive():
            if self._child is not None:
                self._child.kill()
            args = [self.mode, "--submission", str(self._code), "--exercise", self.exercise]
            self._child = ChildProcess(args, cwd=self._workdir.path, limits=self.limits,
                                       zygote=self.zygote)
            self.children_started += 1
        return self._child

    def close(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child = None
        self._workdir.remove()


class ScenarioRunner(SubmissionChild):
    """Run declarative scenarios (exercises 1 and 2) against a submission.

    ``run(scenario)`` returns the child's result: ``{"ops": [{"op": ..., "trace":
    [[listener, payload], ...], "error": str | None}, ...]}``. One child serves
    many scenarios; after a crash or timeout the next ``run`` starts a new one.
    """

    mode = "scenario"

    def __init__(
        self, submission_dir: str | os.PathLike[str], exercise: str, *, timeout: float = 10.0,
        limits: processes.Limits | None = None, zygote: Zygote | None = None,
    ) -> None:
        super().__init__(submission_dir, exercise, limits=limits, zygote=zygote)
        self.timeout = timeout

    def run(self, scenario: dict[str, Any]) -> dict[str, Any]:
        child = self._ensure_child()
        try:
            reply = child.request(
                {"scenario": scenario}, timeout=self.timeout, what="running a scenario"
            )
        except SubmissionError:
            self._child = None
            raise
        if not reply.get("ok"):
            raise SubmissionError(str(reply.get("error", "the scenario runner failed")),
                                  output=child.output)
        result: dict[str, Any] = reply["result"]
        return result

    @property
    def output(self) -> str:
        return self._child.output if self._child else ""

    def __enter__(self) -> ScenarioRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

