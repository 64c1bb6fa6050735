"""What a misbehaving submission raises in the grader: messages written for the student.

Why their own module: every client of the inside (scenario client, app
process, app server) and the pytest plugin report the same three things, and
the plugin shows such an error as its message alone, without a traceback.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from typing import Any

from day25.course.protocol import CODE_PLACES, OUTPUT_MARKER, CodePlace

__all__ = ["MESSAGE_CHARS", "TAIL_CHARS", "SubmissionCrashed", "SubmissionError",
           "SubmissionSettled", "SubmissionTimeout", "blocked_loop", "brief", "capped",
           "decode_places", "describe_exit", "last_seen", "output_tail", "reply_error"]

TAIL_CHARS = 3000  # characters of the process's output quoted in an error message
#: characters of a message built from what a submission sent: a 12 MB exception text
#: would otherwise be copied, per test, into the session's log and verdict files
MESSAGE_CHARS = 20_000


def capped(text: str, limit: int = MESSAGE_CHARS) -> str:
    """``text``, cut at ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]} ... ({len(text) - limit:,} more characters not shown)"


def brief(value: Any, limit: int = 600) -> str:
    """``repr(value)`` for a message, long strings in it shown as their start and length.

    Why: a frame holding a text of 2,000 characters would hide, in a failure
    message, the one field that differs; ``'tttttt... (200 characters)'`` does not.
    """
    def cut(v: Any) -> Any:
        if isinstance(v, str) and len(v) > 24:
            return f"{v[:6]}... ({len(v)} characters)"
        if isinstance(v, dict):
            return {k: cut(x) for k, x in v.items()}
        if isinstance(v, list):
            return [cut(x) for x in v]
        return v
    try:
        text = repr(cut(value))
    except RecursionError:  # a frame nested as deep as json.loads allows
        return "<a value nested too deeply to show>"
    return text if len(text) <= limit else text[:limit] + "..."


class SubmissionError(Exception):
    """The submission misbehaved; ``str(err)`` is written for the student."""

    def __init__(self, message: str, *, output: str = "") -> None:
        self.output = output
        message = capped(message)
        if output.strip():
            message = f"{message}\n{OUTPUT_MARKER}\n{output_tail(output)}"
        super().__init__(message)


def output_tail(output: str) -> str:
    """The last :data:`TAIL_CHARS` of a process's output, in whole lines: a line cut in the
    middle (a path with its head cut off) would escape the feedback's hiding of the
    grader's paths, and reads as garbage."""
    if len(output) <= TAIL_CHARS:
        return output
    tail = output[-TAIL_CHARS:]
    _partial, newline, rest = tail.partition("\n")
    return f"(earlier output not shown)\n{rest}" if newline and rest.strip() else tail


class SubmissionCrashed(SubmissionError):
    """The inside process died (an exception at import, ``sys.exit``, a limit hit)."""


class SubmissionTimeout(SubmissionError):
    """The inside process did not answer in time (an endless loop, a listener that never
    returns)."""


class SubmissionSettled(SubmissionError):
    """The app finished everything it was given without sending or emitting what a check
    waited for. Not a hang: ``day25 check`` goes on with the next checks."""


def decode_places(value: Any) -> list[CodePlace]:
    """The :class:`CodePlace` list in an ``"at"``, checked: the submission's process sent
    it, so anything else in its place reads as no place at all."""
    if not isinstance(value, list):
        return []
    found: list[CodePlace] = []
    for place in value[-CODE_PLACES:]:
        if not isinstance(place, dict):
            return []
        file, line, function, code = (place.get(k) for k in ("file", "line", "function", "code"))
        if not (isinstance(file, str) and type(line) is int and isinstance(function, str)
                and isinstance(code, str)):
            return []
        found.append(CodePlace(file=_one_line(file), line=line, function=_one_line(function),
                               code=_one_line(code)))
    return found


def _one_line(text: str, limit: int = 200) -> str:
    return "".join(c if c.isprintable() else " " for c in text[:limit]).strip()


def last_seen(places: Sequence[CodePlace], headline: str = "Your code was last seen here"
              ) -> str:
    """Where a hung submission's code was (:data:`~day25.course.protocol.INSIDE_AT`), as
    the frames of a Python traceback, each line of it after its ``File`` line, ending in a
    newline; ``""`` when it was in none of the student's files."""
    if not places:
        return ""
    frames = "".join(f'  File "{p["file"]}", line {p["line"]}, in {p["function"]}\n'
                     + (f'    {p["code"]}\n' if p["code"] else "") for p in places)
    return f"{headline} (most recent call last):\n{frames}"


def blocked_loop(at: Any) -> str:
    """What a student reads when their server's event loop stopped answering; ``at``: where
    the loop's thread was (``"at"`` of the ``ping_loop`` reply, unchecked)."""
    where = last_seen(decode_places(at), "It was blocked here")
    return ("Your server's event loop is blocked (a blocking call such as time.sleep, a "
            "sqlite3 call waiting for a lock another connection holds in an open transaction, "
            "or an endless loop without await?); it was stopped (at grading, each later check "
            f"starts it afresh).\n{where}").rstrip()


def reply_error(reply: dict[str, Any], what: str, output: str) -> SubmissionError:
    """The error for an app process's reply that is not ok: its event loop was blocked
    (``at``: where), the request ran out of its own ``limit`` (``timed_out``), or what the
    reply says."""
    if reply.get("at") is not None:
        return SubmissionTimeout(blocked_loop(reply["at"]), output=output)
    if (seconds := reply.get("timed_out")) is not None:  # from the submission's process
        within = f"{seconds:g} s" if isinstance(seconds, (int, float)) else "its time"
        return SubmissionTimeout(
            f"Your code did not finish {what} within {within}: a listener or a task it "
            "waits for that never ends, or an emit that waits on itself?", output=output)
    return SubmissionError(str(reply.get("error")))


def describe_exit(code: int | None) -> str:
    """How a process ended, as the end of a sentence ("... was killed by SIGXCPU ...")."""
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
