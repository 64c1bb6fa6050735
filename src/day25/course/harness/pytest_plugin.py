"""pytest plumbing shared by the public and hidden suites of every exercise.

* ``--submission DIR``: the folder holding the exercise modules under test
  (default: the course's ``solutions/`` when present, else ``exercises/``).
* ``--verdict-json PATH``: after the run, one row per test (a
  :class:`~day25.course.protocol.VerdictRow`). While the run goes on,
  ``PATH.partial`` gets one JSON line per finished test (after a
  :class:`~day25.course.protocol.Collected` line), so a run killed by the
  grader's wall clock still proves which exercises finished.
* ``--exercise-budget SECONDS``: one session grades several exercises; once an
  exercise has used its budget, its remaining tests fail at once with a
  sentence saying so, and the next exercise still gets its whole budget; a test
  is cut when the budget runs out during it (:mod:`~day25.course.harness.time_limits`).
* ``--stop-at-first-failure``: once a test of an exercise failed, its remaining
  tests are skipped (0 points each). For checking the suites against known bugs,
  where the question is only whether a file loses points; a run without it is
  the grade.
* ``--stop-at-first-hang``: the same, once a test of an exercise hung (a
  :class:`SubmissionTimeout`, or a test that ran out of its timeout), each skipped
  test saying :data:`HUNG_BEFORE`.
  ``day25 check``'s: the rest would most likely hang too, each for its whole
  timeout, and the student waits minutes to learn what the first one said.
* ``@pytest.mark.points(n)``: the weight of a graded test (default 1).
* ``@pytest.mark.category(name)``: the kind of rule a test checks; every graded
  test names one, and each kind has a public test too (the table is in the
  exercise's docs page; ``tests/test_suite_validity.py`` holds the suites to it).
* A test module names its exercise with ``EXERCISE = "<id>"`` (else it is taken
  from the file name ``test_<id>.py``); the course's catalogue says the rest.
* Fixtures: ``submission`` (the Path), ``catalogue`` (the course's),
  ``zygote`` (the session's sandboxed fork server: every inside process of the
  session is forked from it, see :mod:`day25.course.sandbox.zygote`; ``None``
  with the portable runner, :mod:`day25.course.sandbox.runner`), ``scenario_client``
  (a :class:`ScenarioClient`) and ``app_process`` (an :class:`AppProcess`), each
  one per exercise, shared by the test modules of its suite, and ``app_server``
  (a factory: ``app_server(**factory_kwargs)`` starts an :class:`AppServer` on
  the exercise's app process, stopped after the test).

A :class:`SubmissionError` is reported as its message alone, without a
traceback: the message is written for the student. A
:class:`~day25.course.sandbox.runner.RunnerError` (the test could not run on
this machine) is reported the same way, its row carries ``runner_error``, the
run ends with :data:`~day25.course.protocol.CANNOT_RUN_EXIT` and its summary
says what to do.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from day25.course.catalogue import (
    Catalogue,
    CatalogueError,
    Exercise,
    find_course_root,
    load_catalogue,
)
from day25.course.harness import time_limits
from day25.course.harness.app_process import AppProcess
from day25.course.harness.app_server import AppServer
from day25.course.harness.conversation import unanswered
from day25.course.harness.errors import SubmissionError, SubmissionTimeout
from day25.course.harness.inside_client import InsideClient
from day25.course.harness.scenarios import ScenarioClient
from day25.course.harness.time_limits import exercise_of, explain_timeout, timed_out
from day25.course.protocol import (
    CANNOT_RUN_EXIT,
    HUNG_BEFORE,
    PARTIAL_SUFFIX,
    Collected,
    VerdictRow,
)
from day25.course.sandbox import runner as runners
from day25.course.sandbox.runner import RunnerError
from day25.course.sandbox.zygote import Zygote

__all__ = ["exercise_of"]

_Client = TypeVar("_Client", bound=InsideClient)

_RESULTS = pytest.StashKey[dict[str, VerdictRow]]()
#: the exercises whose remaining tests are not run, and why (--stop-at-first-...)
_STOPPED = pytest.StashKey[dict[str, str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("day25", "Day 25 course grading")
    group.addoption(
        "--submission", default=None, help="folder holding the <id>.py modules to check"
    )
    group.addoption("--verdict-json", default=None, help="write one JSON row per test here")
    group.addoption("--exercise-budget", type=float, default=None,
                    help="seconds of wall time each exercise's tests may use in this session")
    group.addoption("--stop-at-first-failure", action="store_true", default=False,
                    help="skip an exercise's remaining tests once one of them failed")
    group.addoption("--stop-at-first-hang", action="store_true", default=False,
                    help="skip an exercise's remaining tests once one of them hung")


def _course_root(config: pytest.Config) -> Path:
    try:
        return find_course_root(config.rootpath)
    except CatalogueError:
        return Path(config.rootpath)


def _default_submission(config: pytest.Config) -> Path:
    root = _course_root(config)
    solutions = root / "solutions"
    return solutions if solutions.is_dir() else root / "exercises"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): weight of a graded test")
    config.addinivalue_line("markers", "category(name): the kind of rule a test checks")
    config.stash[_RESULTS] = {}
    # the budget and the time limits: hooks of their own (pytest_configure reaches them too)
    if not config.pluginmanager.is_registered(time_limits):
        config.pluginmanager.register(time_limits, "day25-time-limits")
    config.stash[_STOPPED] = {}


def _partial(config: pytest.Config, line: VerdictRow | Collected) -> None:
    path = config.getoption("--verdict-json")
    if path:
        with open(f"{path}{PARTIAL_SUFFIX}", "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


def pytest_collection_finish(session: pytest.Session) -> None:
    counts: dict[str, int] = {}
    for item in session.items:
        counts[exercise_of(item)] = counts.get(exercise_of(item), 0) + 1
    _partial(session.config, {"collected": counts})


def pytest_runtest_setup(item: pytest.Item) -> None:
    stopped = item.config.stash[_STOPPED].get(exercise_of(item))
    if stopped is not None:
        pytest.skip(stopped)


def _points(item: pytest.Item) -> float:
    marker = item.get_closest_marker("points")
    return float(marker.args[0]) if marker and marker.args else 1.0


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Hypothesis would turn a failing random program into an @example patch for
    # the test's source (parsing it with libcst): no use to a student, and CPU
    # spent on every failing test. This wrapper runs before Hypothesis' own.
    if hasattr(item, "_hypothesis_failing_examples"):
        delattr(item, "_hypothesis_failing_examples")
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(SubmissionError):
        report.longrepr = str(call.excinfo.value)
    elif call.excinfo is not None and isinstance(call.excinfo.value, httpx.TimeoutException):
        report.longrepr = unanswered(call.excinfo.value)
    elif timed_out(call):
        report.longrepr = explain_timeout(item)
    broken = call.excinfo is not None and call.excinfo.errisinstance(RunnerError)
    if broken:
        assert call.excinfo is not None
        report.longrepr = f"{runners.CANNOT_RUN}: {call.excinfo.value}"
    rows = item.config.stash[_RESULTS]
    row = rows.setdefault(item.nodeid, {
        "nodeid": item.nodeid,
        "name": item.name,
        "exercise": exercise_of(item),
        "points": 0.0,
        "max_points": _points(item),
        "outcome": "passed",
        "message": "",
    })
    if report.failed:
        _stop_after(item.config, row["exercise"], call)
        row["outcome"] = "failed" if report.when == "call" else "error"
        if not row["message"]:
            row["message"] = _message(report)
        if broken and "runner_error" not in row:
            assert call.excinfo is not None
            row["runner_error"] = str(call.excinfo.value)
    elif report.skipped and row["outcome"] == "passed":
        row["outcome"] = "skipped"
        if isinstance(report.longrepr, tuple):  # (path, line, "Skipped: <reason>")
            row["message"] = str(report.longrepr[2]).removeprefix("Skipped: ")
    if report.when == "teardown":
        row["points"] = row["max_points"] if row["outcome"] == "passed" else 0.0
        _partial(item.config, row)
    return report


def _stop_after(config: pytest.Config, exercise: str, call: pytest.CallInfo[None]) -> None:
    """A test of ``exercise`` failed: skip its remaining tests, when asked to for this."""
    stopped = config.stash[_STOPPED]
    if config.getoption("--stop-at-first-failure"):
        stopped.setdefault(exercise, f"Not run: a test of {exercise} already failed "
                                     "(--stop-at-first-failure).")
    elif (config.getoption("--stop-at-first-hang") and call.excinfo is not None
          and (call.excinfo.errisinstance(SubmissionTimeout) or timed_out(call))):
        stopped.setdefault(exercise, HUNG_BEFORE.format(exercise=exercise))


def _message(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, str):
        return longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    return str(longrepr)[-2000:]


def _runner_errors(config: pytest.Config) -> list[str]:
    rows = config.stash[_RESULTS].values()
    return list(dict.fromkeys(row["runner_error"] for row in rows if "runner_error" in row))


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--verdict-json")
    if path:
        rows = list(session.config.stash[_RESULTS].values())
        Path(path).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    if _runner_errors(session.config):
        session.exitstatus = CANNOT_RUN_EXIT  # not "tests failed": they could not run


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    errors = _runner_errors(terminalreporter.config)
    if errors:
        terminalreporter.section("day25", red=True, bold=True)
        terminalreporter.line(f"{runners.CANNOT_RUN}: {errors[0]}", red=True)
        terminalreporter.line(f"What to do: {runners.advice()}")
        terminalreporter.line("The tests reported as failed for this reason could not run: they "
                              "say nothing about your code.")


@pytest.fixture(scope="session")
def submission(pytestconfig: pytest.Config) -> Path:
    """The folder under test, resolved."""
    given = pytestconfig.getoption("--submission")
    path = Path(given) if given else _default_submission(pytestconfig)
    return path.resolve()


@pytest.fixture(scope="session")
def catalogue(pytestconfig: pytest.Config) -> Catalogue:
    """The course's exercise catalogue (the course holding the suites)."""
    return load_catalogue(_course_root(pytestconfig))


def _exercise(request: pytest.FixtureRequest) -> str:
    name = getattr(request.module, "EXERCISE", None)
    return name if isinstance(name, str) else Path(str(request.path)).stem.removeprefix("test_")


@pytest.fixture(scope="session")
def zygote() -> Iterator[Zygote | None]:
    """One sandboxed fork server per session (a session grades one submission); ``None``
    with the portable runner, whose clients start plain processes."""
    if runners.portable():
        yield None
        return
    workdir = Path(tempfile.mkdtemp(prefix="d25z-"))
    try:
        made = Zygote(workdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    yield made
    made.close()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def scenario_client(
    request: pytest.FixtureRequest, submission: Path, catalogue: Catalogue,
    _clients: _ClientPool,
) -> ScenarioClient:
    """The exercise's scenario process; a crash or hang costs one test, not the module."""
    return _shared_client(ScenarioClient, request, submission, catalogue, _clients)


@pytest.fixture(scope="module")
def app_process(
    request: pytest.FixtureRequest, submission: Path, catalogue: Catalogue,
    _clients: _ClientPool,
) -> AppProcess:
    """The exercise's app process, serving a fresh app per test."""
    return _shared_client(AppProcess, request, submission, catalogue, _clients)


class _ClientPool:
    """The inside clients of the exercise being tested, shared by its test modules.

    Why shared: a suite is a folder of test modules, one concept each, and a
    process per module would cost a fork and a start per module, per student,
    for what one module used to do with one process. Its tests already share it within a module
    (a scenario or an app is fresh each time; a dead process is replaced), so
    sharing it across the modules of one exercise changes nothing they see. One
    exercise's clients live at a time: asking for another exercise's closes them.
    """

    def __init__(self, zygote: Zygote | None) -> None:
        self.zygote = zygote
        self.clients: dict[tuple[type[InsideClient], str], InsideClient] = {}

    def get(self, kind: type[_Client], submission: Path, exercise: Exercise) -> _Client:
        for key in [key for key in self.clients if key[1] != exercise.id]:
            self.clients.pop(key).close()
        made = self.clients.get((kind, exercise.id))
        if not isinstance(made, kind):
            made = self.clients[kind, exercise.id] = kind(submission, exercise, zygote=self.zygote)
        return made

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients.clear()


@pytest.fixture(scope="session")
def _clients(zygote: Zygote | None) -> Iterator[_ClientPool]:
    """The session's client pool; closed before the zygote its processes came from."""
    pool = _ClientPool(zygote)
    yield pool
    pool.close()


def _shared_client(
    kind: type[_Client], request: pytest.FixtureRequest, submission: Path,
    catalogue: Catalogue, pool: _ClientPool,
) -> _Client:
    """The exercise's inside client; a submission that cannot be copied fails the test."""
    try:
        return pool.get(kind, submission, catalogue.get(_exercise(request)))
    except SubmissionError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def app_server(
    request: pytest.FixtureRequest, submission: Path, app_process: AppProcess
) -> Iterator[Callable[..., AppServer]]:
    """``app_server(**factory_kwargs)`` -> a started AppServer (``timeout=`` is the harness's)."""
    started: list[AppServer] = []

    def make(*, timeout: float = 5.0, **factory_kwargs: Any) -> AppServer:
        server = AppServer(submission, app_process.exercise, factory_kwargs=factory_kwargs,
                           timeout=timeout, app_process=app_process)
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.stop()
