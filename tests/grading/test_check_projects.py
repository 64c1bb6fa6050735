"""What ``day25 check`` prints for a project that fails: each cause explained once, in full,
in the student's terms; the checks after a failure that did not hang still run."""

from __future__ import annotations

import re
from pathlib import Path

from tests.checking import COURSE, block, check, workspace


def test_a_long_scenario_shows_its_explanation_and_the_stuck_line(tmp_path: Path) -> None:
    """The audit: a 7-step scenario used to lose everything after its steps (cut at 8
    lines), so the student saw the scenario but never what went wrong."""
    mine = workspace(tmp_path)
    solution = (COURSE / "solutions" / "priority_ordering.py").read_text(encoding="utf-8")
    backwards = "for _priority, _n, handler in list(self._listeners.get(event, []))[::-1]:"
    (mine / "priority_ordering.py").write_text(solution.replace(
        "for _priority, _n, handler in list(self._listeners.get(event, [])):", backwards))
    proc = check("priority_ordering", "--path", mine)
    lines = block(proc.stdout, "test_a_mixed_program")
    assert lines[0] == "Failed: Scenario:" and lines[7].startswith("7. {"), lines
    assert len(lines) > 9 and "NotImplementedError" not in " ".join(lines), lines
    assert lines[-1] == "Stuck? `day25 hint priority_ordering` shows the next hint.", lines
    # a student's review: a check's name does not say which rule it is about; the page does
    assert ("The rule behind each check: the table under 'Checking' in "
            "docs/exercises/priority_ordering.md.") in " ".join(proc.stdout.split())


def test_an_untouched_stub_explains_its_not_implemented_error_once(tmp_path: Path) -> None:
    """A stub fails every check the same way: its first failure is shown in full, each
    other names the place and points up, so the page is one explanation, not sixteen."""
    proc = check("priority_ordering", "--path", workspace(tmp_path))
    failed = re.findall(r"^  FAIL (\w+)$", proc.stdout, re.M)
    assert len(failed) >= 8, proc.stdout
    first = block(proc.stdout, failed[0])
    assert first[0] == "Failed: Scenario:", first
    assert "raised NotImplementedError: TODO: PriorityEmitter.on" in " ".join(first), first
    assert first[-1] == "Stuck? `day25 hint priority_ordering` shows the next hint.", first
    for test in failed[1:]:
        assert block(proc.stdout, test) == [
            "the same NotImplementedError, at priority_ordering.py line 55: see above"], test
    assert proc.stdout.count("Stuck?") == 2, "once in the first failure, once at the end"


def test_one_mistake_failing_every_check_is_explained_once(tmp_path: Path) -> None:
    """The tester's chat without ``await ws.accept()``: 13 checks each printed "HTTP 403"
    and the same traceback. The first failure is shown in full and says what refuses a
    handshake; each other names it and points up."""
    mine = workspace(tmp_path, "solutions")
    module = mine / "chat_broadcasting.py"
    module.write_text(module.read_text().replace("        await ws.accept()\n", "", 1))
    proc = check("chat_broadcasting", "--path", mine)
    failed = re.findall(r"^  FAIL (\w+)$", proc.stdout, re.M)
    assert len(failed) >= 10 and "PASS" not in proc.stdout, proc.stdout
    first = block(proc.stdout, failed[0])
    assert first[0].startswith("Your server refused a WebSocket (HTTP 403): either no "
                               "`ws_route` of your app matches this path, or its handler"), first
    assert "ws.accept()" in " ".join(first[:3]) and "Traceback" in " ".join(first), first
    for test in failed[1:]:
        assert block(proc.stdout, test) == [f"the same failure as {failed[0]} (see above)"], test


def test_a_frame_that_never_comes_names_it_and_the_other_checks_still_run(
        tmp_path: Path) -> None:
    """The tester's backlog without its ``backlog_end``: the check said "a frame" without
    naming it, then "a check hung" and ran nothing more, though the server had finished
    its work. It names the frame and what came before it; the other checks run."""
    mine = workspace(tmp_path, "solutions")
    module = mine / "notification_queueing.py"
    module.write_text(module.read_text().replace(
        'for frame in [*frames, {"type": "backlog_end", "count": len(backlog)}]:',
        "for frame in frames:", 1))
    proc = check("notification_queueing", "--path", mine)
    lines = block(proc.stdout, "test_backlog_in_order_then_backlog_end_then_live")
    assert lines[0] == ("Your server has nothing left to do and did not send the backlog_end "
                        "frame (after ann's two stored notifications)."), lines
    assert lines[1] == "Everything that passed on this WebSocket:", lines
    assert lines[2].startswith('your server sent: {"type":"notification"') and len(lines) == 4
    assert "not run" not in proc.stdout and "hung" not in proc.stdout, proc.stdout
    assert "PASS test_post_creates_a_notification" in proc.stdout
    assert "PASS test_seq_counts_per_user" in proc.stdout, "a check after the failing one ran"


def test_a_module_that_makes_one_app_only_is_told_so_in_its_terms(tmp_path: Path) -> None:
    """The public checks make a second app in the app's process (the page: two
    create_app() calls share nothing). A module whose second create_app raises was told
    "the probe raised ...": the harness's word, not the student's."""
    mine = workspace(tmp_path, "solutions")
    module = mine / "chat_broadcasting.py"
    module.write_text(module.read_text().replace(
        "def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:\n",
        "_MADE: list[int] = []\n\n\ndef create_app(*, send_timeout: float = SEND_TIMEOUT) "
        "-> NexiosApp:\n    if _MADE:\n        raise RuntimeError(\"one app only\")\n"
        "    _MADE.append(1)\n", 1))
    proc = check("chat_broadcasting", "--path", mine)
    lines = block(proc.stdout, "test_seq_counts_per_room_and_survives_an_empty_room")
    assert " ".join(lines).startswith(
        "Failed: A second create_app() of your module, in the same process (a notebook cell run "
        "again), failed: RuntimeError: one app only"), lines
    assert "probe" not in proc.stdout, proc.stdout
    assert "PASS test_ping_gets_pong" in proc.stdout, "the other checks ran"
