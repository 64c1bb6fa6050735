"""The grader's handle on one inside process: its request/reply channel and its output.

Why: a grader that imports student code can be fooled by it (``sys.exit(0)``,
monkeypatching pytest, objects equal to everything) and dies with it. Here the
submission runs in ``python -m day25.course.inside`` (forked by the
submission's :class:`~day25.course.sandbox.zygote.Zygote`, or started by
:func:`day25.course.sandbox.processes.spawn`); the verdict is computed in the
grader from plain JSON (wire 4 of :mod:`day25.course.protocol`).

Every call has a timeout. A process that crashes or hangs is killed (its whole
session) and the call raises a :class:`~day25.course.harness.errors.SubmissionError`
whose message is written for a student and ends with the tail of the
process's output; the client's next call starts a fresh process. A process
that could not be started, or ended before the inside program said it was
ready (:data:`~day25.course.protocol.INSIDE_READY`: before any of the
submission was imported), raises a
:class:`~day25.course.sandbox.runner.RunnerError` instead: the runner failed,
not the submission.
"""

from __future__ import annotations

import queue
import secrets
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from day25.course.harness.errors import (
    SubmissionCrashed,
    SubmissionTimeout,
    decode_places,
    describe_exit,
    last_seen,
    output_tail,
)
from day25.course.protocol import (
    IMPORT_FAILED,
    INSIDE_AT,
    INSIDE_IMPORTED,
    INSIDE_IMPORTING,
    INSIDE_MODULE,
    INSIDE_READY,
    CodePlace,
    decode_reply,
    encode_request,
    output_mark,
)
from day25.course.sandbox import processes
from day25.course.sandbox.rlimits import Limits
from day25.course.sandbox.runner import RunnerError
from day25.course.sandbox.zygote import ForkedProcess, Zygote

__all__ = ["OUTPUT_CAP", "InsideProcess"]

OUTPUT_CAP = 64 * 1024  # bytes of the process's output kept (the tail)
_LINE_CAP = 16 * 1024 * 1024


def _tail(output: str) -> str:
    """What the process printed, to close a :class:`RunnerError`'s message."""
    return f"\n--- its last output ---\n{output_tail(output)}" if output.strip() else ""


class _Tail:
    """A thread-safe, capped buffer of the process's stderr (where its prints go too)."""

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


def _partial_mark(data: bytes, mark: bytes) -> int:
    """How many bytes at the end of ``data`` could be the start of a ``mark``."""
    for size in range(min(len(mark) - 1, len(data)), 0, -1):
        if data.endswith(mark[:size]):
            return size
    return 0


class InsideProcess:
    """One ``python -m day25.course.inside MODE ...``, with its reply channel.

    ``request(payload, timeout)`` sends one JSON line and returns the matching
    reply. Used by the :class:`~day25.course.harness.inside_client.InsideClient`\\ s;
    not by tests.
    """

    def __init__(
        self, args: list[str], *, cwd: Path, limits: Limits | None = None,
        zygote: Zygote | None = None,
    ) -> None:
        self._nonce = secrets.token_hex(16)
        self._tail = _Tail()
        self._replies = _Mailbox()
        self._next_id = 0
        self._lock = threading.Lock()
        self._ready = threading.Event()  # the inside program said INSIDE_READY
        self._importing: str | None = None  # the module being imported (INSIDE_IMPORTING)
        self._at: list[CodePlace] = []  # where the submission's code was last seen (INSIDE_AT)
        # output marks read vs replies read: the output before a reply is in once they match
        self._mark = output_mark(self._nonce)
        self._counts = threading.Condition()
        self._marks_read = self._replies_read = 0
        self._marks_lost = False  # one never came (fd 2 closed?): stop waiting for them
        self._output_ended = threading.Event()  # the stderr reader met the end of the pipe
        self.proc: subprocess.Popen[bytes] | ForkedProcess
        try:
            if zygote is not None:  # forked from the submission's warm, sandboxed zygote
                self.proc = zygote.spawn(INSIDE_MODULE, args, cwd=cwd,
                                         limits=asdict(limits) if limits else None)
            else:  # exec'd, in the sandbox or (the portable runner) as a plain subprocess
                self.proc = processes.spawn(["python", "-m", INSIDE_MODULE, *args], cwd=cwd,
                                            limits=limits)
        except OSError as exc:
            raise RunnerError(f"a process to run your code could not be started: {exc}") from exc
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
        mark, held = self._mark, b""
        try:
            while chunk := stream.read1(65536):  # type: ignore[attr-defined,union-attr,unused-ignore]
                data = held + chunk
                marks = data.count(mark)
                data = data.replace(mark, b"") if marks else data
                keep = _partial_mark(data, mark)  # a mark may be split between two reads
                data, held = data[: len(data) - keep], data[len(data) - keep:]
                if data:
                    self._tail.add(data)
                if marks:
                    with self._counts:
                        self._marks_read += marks
                        self._counts.notify_all()
        except (OSError, ValueError):
            pass
        if held:
            self._tail.add(held)
        with self._counts:
            self._marks_lost = True  # the output ended: nothing more to wait for
            self._counts.notify_all()
        self._output_ended.set()

    def _caught_up(self, limit: float = 1.0) -> None:
        """Wait until the output written before the replies read so far is in the tail.

        Why: the inside program writes its output, then a mark, then each reply,
        but output and replies travel on different pipes, read by different
        threads. A reply returned before the output that preceded it would make a
        check of the output depend on how busy the machine is.
        """
        with self._counts:
            if not self._counts.wait_for(
                lambda: self._marks_lost or self._marks_read >= self._replies_read, limit
            ):
                self._marks_lost = True  # fd 2 closed or redirected: do not wait again

    def _read_replies(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        try:
            while line := stream.readline(_LINE_CAP):
                msg = decode_reply(line, self._nonce)
                if msg is not None:
                    with self._counts:
                        self._replies_read += 1
                if msg is not None and msg.get("id") == INSIDE_READY:
                    self._ready.set()
                elif msg is not None and msg.get("id") == INSIDE_AT:
                    self._at = decode_places(msg.get("at"))
                elif msg is not None and msg.get("id") in (INSIDE_IMPORTING, INSIDE_IMPORTED):
                    self._importing = (str(msg.get("module") or "module")
                                       if msg["id"] == INSIDE_IMPORTING else None)
                elif msg is not None:  # else not a reply: the submission's own writing
                    self._replies.put(msg)
        except (OSError, ValueError):
            pass
        self._replies.close()  # the channel closed: the process is gone

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
        """The reply with ``id == msg_id``, or a SubmissionError (the process is then killed)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                if not self._ready.is_set():
                    raise RunnerError(
                        f"the program that runs your code did not start within {timeout:g} s "
                        f"(nothing of your code had run yet){_tail(self.output)}")
                if (module := self._importing) is not None:  # its top level never ended
                    raise SubmissionTimeout(
                        f"{IMPORT_FAILED.format(module=module)}\n{last_seen(self._at)}its top "
                        f"level did not finish within {timeout:g} s: an endless loop at import "
                        "(outside any function)?", output=self.output)
                raise SubmissionTimeout(
                    f"Your code did not finish {what} within {timeout:g} s: an endless loop, "
                    "a listener that never returns, or an emit that waits on itself?\n"
                    f"{last_seen(self._at)}".rstrip(),
                    output=self.output,
                )
            try:
                msg = self._replies.take(msg_id, timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if msg is None:
                code = self._reap()
                # what it wrote just before it ended (a print, then os._exit) is in the
                # message: the stderr reader may not have reached the end of the pipe yet
                self._output_ended.wait(1.0)
                if not self._ready.is_set():
                    raise RunnerError(
                        f"the program that runs your code {describe_exit(code)} before it "
                        f"started (nothing of your code had run yet){_tail(self.output)}")
                if (module := self._importing) is not None:  # its top level ended it
                    raise SubmissionCrashed(
                        f"{IMPORT_FAILED.format(module=module)}\nits top level ended the "
                        f"process while it was being imported (the process "
                        f"{describe_exit(code)}): os._exit(), a signal or a limit at import "
                        "(outside any function)?", output=self.output)
                raise SubmissionCrashed(
                    f"The process running your code {describe_exit(code)} while {what}.",
                    output=self.output,
                )
            self._caught_up()
            return msg

    def send(self, payload: Mapping[str, Any]) -> int:
        with self._lock:
            self._next_id += 1
            msg_id = self._next_id
        line = encode_request(payload, msg_id)
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(line)
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass  # the reader sees the channel close and wait_for reports the crash
        return msg_id

    def request(self, payload: Mapping[str, Any], *, timeout: float, what: str
                ) -> dict[str, Any]:
        return self.wait_for(self.send(payload), timeout, what)

    def _reap(self) -> int | None:
        try:
            return self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode

    def kill(self) -> None:
        if isinstance(self.proc, ForkedProcess):
            self.proc.kill_tree()
        else:
            processes.kill_tree(self.proc)


class _Mailbox:
    """The replies read so far, by id: each waiter takes its own.

    Why not one queue: two checks may ask the same process at once (a test that
    gathers two ``expect_silence``), each from its own thread, and a waiter that
    took the other's reply off a queue would drop it, leaving the other to wait
    out its timeout and blame the submission.
    """

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._mail: dict[Any, dict[str, Any]] = {}
        self._closed = False

    def put(self, msg: dict[str, Any]) -> None:
        with self._ready:
            self._mail[msg.get("id")] = msg
            self._ready.notify_all()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def take(self, msg_id: Any, timeout: float) -> dict[str, Any] | None:
        """The reply to ``msg_id``; None once the channel closed without it; raises
        ``queue.Empty`` after ``timeout`` s."""
        with self._ready:
            if not self._ready.wait_for(lambda: msg_id in self._mail or self._closed, timeout):
                raise queue.Empty
            return self._mail.pop(msg_id, None)
