"""What a misbehaving submission raises in the grader: messages written for the student.

Why their own module: every client of the inside (scenario runner, app
process, app server) and the pytest plugin report the same three things, and
the plugin shows such an error as its message alone, without a traceback.
"""

from __future__ import annotations

import signal
from typing import Any

__all__ = ["MESSAGE_CHARS", "TAIL_CHARS", "SubmissionCrashed", "SubmissionError",
           "SubmissionTimeout", "brief", "capped", "describe_exit"]

TAIL_CHARS = 3000  # characters of the process's output quoted in an error message
#: characters of a message built from what a submission sent: a 12 MB exception text
#: would otherwise be copied, per test, into the session's log and results files
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
            message = f"{message}\n--- last output of your code ---\n{output[-TAIL_CHARS:]}"
        super().__init__(message)


class SubmissionCrashed(SubmissionError):
    """The inside process died (an exception at import, ``sys.exit``, a limit hit)."""


class SubmissionTimeout(SubmissionError):
    """The inside process did not answer in time (an endless loop, a listener that never
    returns)."""


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
