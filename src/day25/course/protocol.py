"""Every message that crosses a process boundary while a submission is graded.

Why one module: the two ends of each wire are written and read at different
times, by different people, on different sides of the sandbox; defined twice,
they drift. Both ends import the names below and nothing of each other: the
harness never imports :mod:`day25.course.inside`, the inside never imports the
harness or the grader. The wires, in the order a submission meets them (the
diagram in ``docs/dev/contracts.md`` draws them):

1. **Sessions** (grader -> ``python -m day25.course.grading.session_server``):
   JSON lines on the server's stdin and stdout. :class:`SessionRequest` in;
   :class:`SessionStarted` at once and :class:`SessionEnded` when that forked
   pytest session exits.
2. **Zygote fork** (a grading session -> its session server, a ``SOCK_SEQPACKET``
   socket named by ``$DAY25_ZYGOTE_FORKS``): :class:`ZygoteForkRequest` with the
   zygote's control socket attached; :class:`ZygoteForkReply` with a pidfd of
   the zygote's supervisor attached (forked for this request; it forks the zygote
   next, and its exit ends the zygote's PID namespace), or ``{"error": ...}``.
3. **Zygote** (harness -> a submission's sandboxed fork server, ``SOCK_SEQPACKET``):
   :class:`SpawnRequest` with the new process's stdin, stdout and stderr pipe
   ends attached; :class:`SpawnReply` with a pidfd attached, later
   :class:`ExitNotice`; :class:`KillRequest` sweeps what is left of a session.
4. **Inside** (harness -> ``python -m day25.course.inside MODE ...``, the only
   process of the grading pipeline that imports submission code): the first stdin line is a random
   nonce, then one JSON request per line. Replies go to a private descriptor,
   one JSON line each, carrying the nonce: the submission may print anything,
   and a line without the nonce is dropped. The first reply, unasked, has the id
   :data:`INSIDE_READY`: the inside program started, and nothing of the
   submission has been imported yet (what ends the process before it is the
   runner's failure, never the submission's). Two more come unasked around each
   import of the submission (:data:`INSIDE_IMPORTING`, :data:`INSIDE_IMPORTED`), and
   one whenever the place its code runs at changes (:data:`INSIDE_AT`).
   The modes: :data:`SCENARIOS`
   (:class:`ScenarioRequest`, answered with a :class:`ScenarioResult`) and
   :data:`APPS` (:class:`AppRequest`, one of :data:`APP_COMMANDS`).
5. **Verdict** (the grading pytest session -> the grader): the JSON file named
   by ``--verdict-json``, a list of :class:`VerdictRow` (a row with a ``runner_error``
   says the test could not run at all: no verdict on the code). While the session runs,
   ``<file>.partial`` gets a :class:`Collected` line, then one row per finished test.

A scenario (wire 4) is ``{"ops": [op, ...]}``; :mod:`day25.course.inside.scenarios`
lists the ops, and each yields an :class:`OpResult`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

__all__ = [
    "APPS",
    "APP_COMMANDS",
    "BUDGET_CUT",
    "BUDGET_SPENT",
    "BUS_SUBJECT",
    "CANNOT_RUN_EXIT",
    "CODE_PLACES",
    "FAULTS",
    "FAULT_HEADER",
    "HUNG_BEFORE",
    "IMPORT_FAILED",
    "INSIDE_AT",
    "INSIDE_IMPORTED",
    "INSIDE_IMPORTING",
    "INSIDE_MODULE",
    "INSIDE_READY",
    "LISTENER_ERRORS",
    "PARTIAL_SUFFIX",
    "SCENARIOS",
    "TIMED_OUT",
    "ZYGOTE_FORKS_ENV",
    "AppReply",
    "AppRequest",
    "CodePlace",
    "Collected",
    "EventRecord",
    "ExitNotice",
    "InsideArgs",
    "KillRequest",
    "OpResult",
    "Reply",
    "ScenarioReply",
    "ScenarioRequest",
    "ScenarioResult",
    "SessionEnded",
    "SessionRequest",
    "SessionStarted",
    "SpawnReply",
    "SpawnRequest",
    "VerdictRow",
    "ZygoteForkReply",
    "ZygoteForkRequest",
    "decode_reply",
    "decode_requests",
    "encode_reply",
    "encode_request",
]

# -- 1. sessions ---------------------------------------------------------------------------


class SessionRequest(TypedDict):
    id: int
    args: list[str]  # pytest's command line
    cwd: str
    env: dict[str, str]  # the session's whole environment
    log: str  # its stdout and stderr go here


class SessionStarted(TypedDict):
    id: int
    pid: int  # leads its own process group: the grader kills it with killpg


class SessionEnded(TypedDict):
    pid: int
    code: int  # negative for a signal, as in subprocess


# -- 2. zygote fork ------------------------------------------------------------------------

ZYGOTE_FORKS_ENV = "DAY25_ZYGOTE_FORKS"  # the session server's socket, set in its sessions


class ZygoteForkRequest(TypedDict):
    zygote: str  # the zygote's work directory
    uid: int  # the unprivileged uid it drops to
    course: str  # the course whose tests/ and solutions/ the sandbox's view may never show


class ZygoteForkReply(TypedDict):
    pid: int


# -- 3. zygote -----------------------------------------------------------------------------


class SpawnRequest(TypedDict):
    module: str  # run as ``python -m MODULE *argv`` would be, without the exec
    argv: list[str]
    cwd: str
    limits: dict[str, int | None]  # a :class:`~day25.course.sandbox.rlimits.Limits`; {}: none


class SpawnReply(TypedDict):
    pid: int  # in the zygote's PID namespace: signal it through the attached pidfd


class ExitNotice(TypedDict):
    exit: int  # the pid
    code: int


class KillRequest(TypedDict):
    kill: int  # the pid whose process group and session are swept


# -- 4. inside -----------------------------------------------------------------------------

INSIDE_MODULE = "day25.course.inside"
#: the id of the inside program's first reply, sent before the submission is imported
INSIDE_READY = "ready"
#: the ids of the two unasked replies around each import of the submission (the first
#: carries ``"module"``, its file name): a request that times out between them timed out
#: in the module's top level, and the student reads :data:`IMPORT_FAILED` for it
INSIDE_IMPORTING = "importing"
INSIDE_IMPORTED = "imported"
#: the first line of what a student reads when importing their module failed (it raised, or
#: never finished); the grader turns such messages into one note
#: (:func:`day25.course.grading.verdict.import_failure`)
IMPORT_FAILED = "Importing your {module} failed, so nothing in it could be checked."
#: the id of an unasked reply saying where the submission's code runs in the process's
#: main thread (``"at"``: a list of :class:`CodePlace`, outermost first; empty while none
#: of its code runs there), sent when that changes: a request that times out is then
#: told with the place the student's code was last seen at
INSIDE_AT = "at"
CODE_PLACES = 8  # the innermost frames an ``"at"`` lists, at most


class CodePlace(TypedDict):
    """One frame of the submission's code, named as the student names it."""

    file: str  # relative to the submission's folder: ``your_module.py``
    line: int
    function: str  # ``<module>`` for the top level
    code: str  # that line of the file, stripped


SCENARIOS = "scenarios"
APPS = "apps"
#: the scenario subject that is not a class of the submission: a fresh
#: ``day25.EventBus`` whose ``once()`` raises (the exercise builds its own)
BUS_SUBJECT = "bus"
#: what a scenario listener with ``"raises": NAME`` raises (any other name: RuntimeError);
#: TypeError too, so that an emit which takes it for a wrong call and retries shows
LISTENER_ERRORS = ("ValueError", "KeyError", "TypeError")


@dataclass(frozen=True)
class InsideArgs:
    """The command line of an inside process:
    ``MODE --submission DIR --module NAME [--subject S] [--off-limits M ...]``."""

    mode: str  # SCENARIOS or APPS
    submission: str  # the folder holding the copied module
    module: str  # its import name: the catalogue's module without ".py"
    subject: str = ""  # SCENARIOS: what the ops act on (a class of the module, or BUS_SUBJECT)
    off_limits: tuple[str, ...] = ()  # the exercise's own refused modules (the catalogue's)

    def argv(self) -> list[str]:
        extra = ["--subject", self.subject] if self.subject else []
        for module in self.off_limits:
            extra += ["--off-limits", module]
        return [self.mode, "--submission", self.submission, "--module", self.module, *extra]

    @classmethod
    def parse(cls, argv: Sequence[str] | None = None) -> InsideArgs:
        parser = argparse.ArgumentParser(prog=f"python -m {INSIDE_MODULE}")
        parser.add_argument("mode", choices=[SCENARIOS, APPS])
        parser.add_argument("--submission", required=True)
        parser.add_argument("--module", required=True)
        parser.add_argument("--subject", default="")
        parser.add_argument("--off-limits", action="append", default=[])
        args = parser.parse_args(argv)
        return cls(args.mode, args.submission, args.module, args.subject,
                   tuple(args.off_limits))


class Reply(TypedDict):
    id: Any  # the request's id, echoed
    ok: bool
    error: NotRequired[str]  # when not ok: a sentence for the student


class OpResult(TypedDict):
    op: str
    trace: list[list[Any]]  # [[listener, payload], ...] (a third item: keyword arguments)
    error: str | None  # what the submission raised during this op
    value: NotRequired[Any]  # what a "count" op counted, an emit or an off returned
    early: NotRequired[list[str]]  # listeners an emit ran before it was awaited
    collected: NotRequired[list[str]]  # a bus emit's errors no scenario listener raised
    unawaited: NotRequired[list[str]]  # listeners whose coroutine nobody awaited


class ScenarioResult(TypedDict):
    ops: list[OpResult]
    setup_error: NotRequired[str]  # the subject could not be created


class ScenarioRequest(TypedDict):
    scenario: dict[str, Any]  # {"ops": [op, ...], "clock"?: "virtual"}


class ScenarioReply(Reply):
    result: NotRequired[ScenarioResult]


#: ``start`` (``uds``, ``cwd``, ``kwargs``): a fresh ``create_app(**kwargs)``, answered
#: once uvicorn accepts connections on the Unix socket ``uds`` (without ``uds``: on
#: TCP, 127.0.0.1 and a free port the reply names), or ``retire`` (the process is worn out: start
#: a new one); ``events``; ``emit`` (``event``, ``payload``: emitted on the app's
#: ``app.events`` as its own code would, answered with ``errors``, what its listeners
#: raised); ``probe`` (``source``: a check's ``def probe(module)``, run on the app's
#: loop against the app's module, answered with its JSON ``value``); ``ping_loop`` (is the
#: app's loop responsive?); ``settle`` (``quiet``,
#: ``limit``: True once the app has nothing left to do); ``stop`` (``graceful``:
#: uvicorn's shutdown, else dropped like a killed process)
APP_COMMANDS = ("start", "events", "emit", "probe", "faults", "ping_loop", "settle",
                "stop")

#: a WebSocket request header the app process acts on (the app never sees it):
#: its value is one of FAULTS, the way this connection's sends from the app fail
FAULT_HEADER = "x-day25-fault"
#: ``stall``: every send after the handshake waits forever (a client that stopped
#: reading); ``raise``: every send after the handshake raises OSError (a connection
#: that is gone, as uvicorn reports it). ``stall:N`` / ``raise:N``: the first N
#: sends succeed, then the fault starts. ``slow:MS``: every send takes MS milliseconds
#: and then succeeds (a client that reads slowly, but reads); ``slow:MS:N``: the first
#: N sends are prompt. ``stuck`` / ``stuck:N``: as ``stall``, and a close from the app
#: then waits forever too (a client whose socket buffers are full: nothing gets through).
FAULTS = ("stall", "stuck", "raise", "slow")


class AppRequest(TypedDict):
    cmd: str  # one of APP_COMMANDS
    app: int  # which app of the process (start: the new app's id)
    uds: NotRequired[str]  # start: absent on machines without Unix sockets (the portable runner)
    cwd: NotRequired[str]
    kwargs: NotRequired[dict[str, Any]]
    quiet: NotRequired[float]
    limit: NotRequired[float]
    graceful: NotRequired[bool]
    event: NotRequired[str]  # emit
    payload: NotRequired[Any]  # emit
    source: NotRequired[str]  # probe


class EventRecord(TypedDict):
    event: str | None  # what the app emitted on app.events
    args: list[Any]  # a value JSON cannot hold is {"not JSON": type name, "repr": ...}
    kwargs: dict[str, Any]


class AppReply(Reply):
    retire: NotRequired[str]  # start: why this process serves no more apps
    port: NotRequired[int]  # start without ``uds``: the TCP port on 127.0.0.1 it serves
    events: NotRequired[list[EventRecord]]
    faults: NotRequired[dict[str, int]]  # what the injected faults did (FAULTS)
    idle: NotRequired[bool]
    stopped: NotRequired[bool]
    errors: NotRequired[list[str]]  # emit: what the app's listeners raised
    value: NotRequired[Any]  # probe: what the probe returned
    at: NotRequired[list[CodePlace]]  # ping_loop, probe, not ok: where the app's loop is stuck
    timed_out: NotRequired[float]  # probe, not ok: the seconds it was given (its "limit")


def encode_request(request: Mapping[str, Any], msg_id: int) -> bytes:
    """One request line (harness side); ``id`` is the sender's, echoed by the reply."""
    return json.dumps({**request, "id": msg_id}).encode() + b"\n"


def decode_requests(lines: Iterable[bytes]) -> Iterable[dict[str, Any]]:
    """The requests in ``lines`` (inside); a line that is not a JSON object is skipped."""
    for line in lines:
        try:
            request = json.loads(line)
        except ValueError:
            continue
        if isinstance(request, dict):
            yield request


def encode_reply(reply: Mapping[str, Any], nonce: str) -> bytes:
    """One reply line (inside): what JSON cannot say is sent as its ``repr``."""
    return json.dumps({**reply, "nonce": nonce}, default=repr).encode() + b"\n"


def output_mark(nonce: str) -> bytes:
    """What the inside program writes to its output (stderr) just before each reply.

    Output and replies travel on different pipes, read by different threads: a
    harness that has a reply may not yet have read the output written before it.
    Once it has read as many marks as replies, it has all of that output. The
    harness takes the marks out of the output it keeps.
    """
    return b"\x00day25-output-mark:" + nonce.encode() + b"\x00"


def decode_reply(line: bytes, nonce: str) -> dict[str, Any] | None:
    """The reply in ``line`` (harness side), or None when it is not one (no nonce)."""
    try:
        msg = json.loads(line)
    except (ValueError, RecursionError):  # nested too deep: not a reply the harness sent for
        return None
    if isinstance(msg, dict) and msg.pop("nonce", None) == nonce:
        return msg
    return None


# -- 5. verdict ----------------------------------------------------------------------------

PARTIAL_SUFFIX = ".partial"
#: the message of a row the session did not run because an earlier test of its exercise
#: hung (``--stop-at-first-hang``, which ``day25 check`` asks for)
HUNG_BEFORE = "Not run: a check of {exercise} hung: fix it first, then run again."
#: the message of a row the session did not run because the tests of its exercise before
#: it used up the exercise's time (``--exercise-budget``)
BUDGET_SPENT = ("Not run: the tests of {exercise} used up their {budget:g} s before reaching "
                "this one (endless loops or listeners that never return?).")
#: the message of a test cut off while it ran, when the budget ran out during it
BUDGET_CUT = ("Cut off: the tests of {exercise} used up their {budget:g} s while this one ran "
              "(endless loops or listeners that never return?).")
#: the message of a test that ran out of its own time limit (pytest's ``--timeout``)
TIMED_OUT = ("This test did not finish within its {seconds:g} s: an endless loop, a listener "
             "that never returns, or an emit that waits on itself?")
#: the line that starts, in a failure's message, what the student's code printed or logged
OUTPUT_MARKER = "--- last output of your code ---"
#: the exit code of a session in which some test could not run (a row with ``runner_error``);
#: ``day25 check`` exits with it too when it could not run the checks
CANNOT_RUN_EXIT = 3


class VerdictRow(TypedDict):
    nodeid: str
    name: str
    exercise: str
    points: float  # max_points when passed, else 0
    max_points: float  # the test's weight (@pytest.mark.points)
    outcome: str  # passed, failed, error or skipped
    message: str  # for the student
    runner_error: NotRequired[str]  # the test could not run on this machine: why (not the code's)


class Collected(TypedDict):
    collected: dict[str, int]  # exercise -> tests collected
