"""The harness: the grader's clients of the sandboxed processes, and the pytest plugin.

What runs here runs in the grading pytest session, which trusts it: it starts
the inside processes (forked by the submission's zygote, see
:mod:`day25.course.sandbox`), talks to them only through
:mod:`day25.course.protocol` and never imports submission code or
:mod:`day25.course.inside`. The graded suites use :class:`ScenarioClient`
(exercises 1 and 2) and :class:`AppServer` (exercises 3 and 4, real HTTP and
WebSockets), through the fixtures of :mod:`~day25.course.harness.pytest_plugin`;
a misbehaving submission surfaces as a :class:`SubmissionError` written for the
student. A suite's test modules share its helper modules through :func:`load_beside`.
"""

from day25.course.harness.app_server import AppServer
from day25.course.harness.beside import load_beside
from day25.course.harness.conversation import reply_text
from day25.course.harness.errors import (
    SubmissionCrashed,
    SubmissionError,
    SubmissionSettled,
    SubmissionTimeout,
    brief,
)
from day25.course.harness.scenarios import ScenarioClient, first_difference

__all__ = [
    "AppServer",
    "ScenarioClient",
    "SubmissionCrashed",
    "SubmissionError",
    "SubmissionSettled",
    "SubmissionTimeout",
    "brief",
    "first_difference",
    "load_beside",
    "reply_text",
]
