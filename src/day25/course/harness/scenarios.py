"""Scenarios on exercises 1 and 2, the grader's side: run them inside, compare outside.

Why split this way: the scenario runs where the submission is
(:mod:`day25.course.inside.scenarios`), but what counts as right is decided
here, in the grading process, from the plain JSON that came back: a submission
cannot reach :func:`first_difference`, whatever its objects claim to equal.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from typing import Any

from day25.course.catalogue import Exercise
from day25.course.harness.errors import SubmissionError, capped
from day25.course.harness.inside_client import InsideClient
from day25.course.protocol import SCENARIOS, InsideArgs, ScenarioResult
from day25.course.sandbox.rlimits import Limits
from day25.course.sandbox.zygote import Zygote

__all__ = ["ScenarioClient", "first_difference"]


class ScenarioClient(InsideClient):
    """Run declarative scenarios against a submission (the catalogue names their subject).

    ``run(scenario)`` returns the inside process's result: ``{"ops": [{"op": ...,
    "trace": [[listener, payload], ...], "error": str | None}, ...]}``. One
    process serves many scenarios; after a crash or timeout the next ``run``
    starts a new one.
    """

    mode = SCENARIOS

    def __init__(
        self, submission_dir: str | os.PathLike[str], exercise: str | Exercise, *,
        timeout: float = 10.0, limits: Limits | None = None, zygote: Zygote | None = None,
    ) -> None:
        super().__init__(submission_dir, exercise, limits=limits, zygote=zygote)
        self.timeout = timeout

    def inside_args(self) -> InsideArgs:
        return InsideArgs(self.mode, str(self._code), self.exercise.module_name,
                          self.exercise.subject, self.exercise.off_limits)

    def run(self, scenario: dict[str, Any]) -> ScenarioResult:
        process = self._ensure_process()
        try:
            reply = process.request(
                {"scenario": scenario}, timeout=self.timeout, what="running a scenario"
            )
        except SubmissionError:
            process.kill()  # crashed or hung: its pipes closed now, not by the GC
            self._process = None
            raise
        if not reply.get("ok"):
            raise SubmissionError(str(reply.get("error", "the scenario runner failed")),
                                  output=process.output)
        result: ScenarioResult = reply["result"]
        return result

    @property
    def output(self) -> str:
        return self._process.output if self._process else ""

    def __enter__(self) -> ScenarioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _show(op: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in op.items() if v is not None}, separators=(",", ":"))


def first_difference(
    ops: list[dict[str, Any]], want: list[dict[str, Any]], got: ScenarioResult
) -> str | None:
    """Where an inside process's result differs from what was expected, for a student;
    else None.

    ``want[i]`` holds ``trace``, and may hold ``value`` (what ``count`` counted, or
    what an ``emit`` or an ``off`` returned) and ``error`` (the type name of the exception the
    step must raise); for ``emit_concurrently`` only how often each listener ran
    counts, because the interleaving of concurrent emits is not part of any rule.
    """
    found = _difference(ops, want, got)
    return None if found is None else capped(found)  # the submission's text can be huge


def _difference(
    ops: list[dict[str, Any]], want: list[dict[str, Any]], got: ScenarioResult
) -> str | None:
    if got.get("setup_error"):
        return f"Creating the object under test failed: {got['setup_error']}"
    steps = "\n".join(f"  {i + 1}. {_show(op)}" for i, op in enumerate(ops))
    ours = _listeners(ops)
    for i, (op, expect, have) in enumerate(zip(ops, want, got["ops"], strict=True)):
        where = f"Scenario:\n{steps}\nAt step {i + 1}"
        strangers = sorted(set(_FAILED.findall(have["error"] or "")) - ours)
        if strangers:  # a trace also holds what is not a listener: only a listener's error
            return (f"{where} {strangers} ran, which this scenario never registered on this "
                    "object: they come from an earlier check, on another object. Your object's "
                    "state is shared between objects (a mutable default argument, or a class "
                    "attribute): make it in __init__, for each object")
        wanted_error = expect.get("error")
        if have["error"] and not (wanted_error and have["error"].startswith(wanted_error + ":")):
            if wanted_error and re.split(r"\W", have["error"], maxsplit=1)[0] == wanted_error:
                return (f"{where} a {wanted_error} came out of emit, but not the one the "
                        f"listener raised: your code made another ({have['error']}). The "
                        "listener's own exception must come out of emit as it is, not one "
                        "made in its place")
            done = "was" if have["error"].startswith("stopped after") else "raised"
            return f"{where} your code {done} {have['error']}"
        if wanted_error and not have["error"] and not op["op"].startswith("emit"):
            return f"{where} {op['op']}(...) should have raised {wanted_error}, but it did not"
        if wanted_error and not have["error"]:
            return (f"{where} the {wanted_error} a listener raised should have come out of "
                    "emit (and the listeners after it should not have run), but emit returned "
                    "normally")
        if have.get("early"):
            return (f"{where} emit(...) ran {have['early']} as soon as it was called, before "
                    "it was awaited: an `async def emit` runs nothing until it is awaited, so "
                    "a forgotten `await` runs nothing")
        if op["op"] == "emit_concurrently":
            w = Counter(c[0] for c in expect["trace"])
            h = Counter(c[0] for c in have["trace"])
            if w != h:
                return (f"{where} each listener should have run this many times (in any order) "
                        f"{dict(w)}, but ran {dict(h)}")
        elif expect["trace"] != have["trace"]:
            return (f"{where} the listeners should have been called as {expect['trace']} "
                    f"([listener, payload], in order), but were called as {have['trace']}"
                    f"{_leftovers(ops, i, expect['trace'], got)}{_unawaited(have)}"
                    f"{_collected(have)}")
        if "value" in expect and expect["value"] != have.get("value"):
            problem = _value_problem(op["op"], expect["value"], have.get("value"))
            turn = _another_turn(ops, i, got) if _more(have.get("value"), expect["value"]) else ""
            return f"{where} {problem}{turn}{_collected(have)}"
    return None


#: how a scenario listener's exception reads ("raises"): its name, for a stranger's
_FAILED = re.compile(r"\blistener (\w+) failed\b")


def _listeners(ops: Any) -> set[Any]:
    """Every listener name a scenario registers, nested ops (``then``, ``meanwhile``) too."""
    if isinstance(ops, list):
        return set().union(*map(_listeners, ops)) if ops else set()
    if isinstance(ops, dict):
        return {ops.get("listener")} | set().union(*map(_listeners, ops.values()))
    return set()


def _leftovers(ops: list[dict[str, Any]], step: int, want: Any, got: ScenarioResult) -> str:
    """Calls of step ``step`` that carry the payload of an earlier emit whose timeout ran
    out: what that emit awaited went on running after it was cancelled."""
    have = got["ops"][step]["trace"]
    extra = [call for call in have if call not in want] if isinstance(have, list) else []
    for j in range(step - 1, -1, -1):
        op = ops[j]
        if op.get("op") != "emit" or "payload" not in op or \
                got["ops"][j].get("value") != "timed out":
            continue
        mine = [c for c in extra if isinstance(c, list) and len(c) > 1 and c[1] == op["payload"]]
        if mine:
            return (f". {', '.join(map(str, mine[:3]))} {'is' if len(mine) == 1 else 'are'} "
                    f"left over from step {j + 1}'s emit, which was cancelled "
                    "when its timeout ran out: what it awaited went on running after the "
                    "cancellation. Cancelling an emit must cancel what it awaits, as a plain "
                    "`await` does (asyncio.shield, asyncio.wait or a task of its own keep it "
                    "running)")
    return ""


def _more(have: Any, want: Any) -> bool:
    return isinstance(have, int) and isinstance(want, int) and have > want


def _another_turn(ops: list[dict[str, Any]], step: int, got: ScenarioResult) -> str:
    """After a once-handler's emit was cancelled, more listeners counted than the model
    leaves: the cancelled handler was given another turn."""
    if ops[step].get("op") != "count" or not any(op.get("op") == "once" for op in ops):
        return ""
    for j in range(step - 1, -1, -1):
        if ops[j].get("op") == "emit" and got["ops"][j].get("value") == "timed out":
            return (f". Step {j + 1}'s emit was cancelled when its timeout ran out: a "
                    "once-handler it called has run, even if the emit is cancelled while it "
                    "runs, and does not get another turn (nothing of it is left on the bus)")
    return ""


def _unawaited(have: Any) -> str:
    """The listeners called whose coroutine nobody awaited: not skipped, never run."""
    found = have.get("unawaited") if isinstance(have, dict) else None
    if not isinstance(found, list) or not found:
        return ""
    names = ", ".join(str(name)[:40] for name in found[:5])
    return (f". {names} {'was' if len(found) == 1 else 'were'} called, but the coroutine "
            f"{'it' if len(found) == 1 else 'each'} returned was never awaited, so none of "
            "its body ran: await what a listener returns when inspect.isawaitable() says so")


def _collected(have: Any) -> str:
    """What the bus's emit result held that no listener of the scenario raised: the
    submission's own code failed (a ``nonlocal`` forgotten in a wrapper), which the
    student must see, not only the listener that then did not run."""
    found = have.get("collected") if isinstance(have, dict) else None
    if not isinstance(found, list) or not found:
        return ""
    shown = "; ".join(" ".join(str(text).split())[:500] for text in found[:3])
    return f". Meanwhile your code raised, and the bus collected it in the emit's errors: {shown}"


def _value_problem(op: str, want: Any, got: Any) -> str:
    if op == "count":
        return f"{want} listener(s) should be left on the bus, but {got} are"
    if op == "off":
        return f"off should return {want!r}, but returned {got}"
    if isinstance(want, list) and not want:
        return f"the bus should have received no exception from its listeners, but received {got}"
    if isinstance(want, list):
        return (f"the bus should have received the exceptions {want} from its listeners "
                f"(a handler's exception must reach the bus), but received {got}")
    return f"emit should return {want!r}, but returned {got}"
