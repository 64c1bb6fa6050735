"""The grader's clients of sandboxed processes."""

from day25.course.harness.app_server import AppServer
from day25.course.harness.process import (
    ScenarioRunner,
    SubmissionCrashed,
    SubmissionError,
    SubmissionTimeout,
)

__all__ = [
    "AppServer",
    "ScenarioRunner",
    "SubmissionCrashed",
    "SubmissionError",
    "SubmissionTimeout",
]
