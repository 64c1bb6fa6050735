"""Hostile and broken submissions, graded in one batch with ``day25 grade --jobs 2``.

The batch (``conftest.py``) also holds the allow-list probes of
``test_allow_list.py``. Each case here attacks ``priority_ordering.py`` (the
cheapest suite to run). For each we check: the batch finished (exit 0, every
student in the gradebook), no point was forged (the score is at most what an
honest version of the same code gets: the stub's 0, or the solution's 25 where
the attack is wrapped around it), and the student's feedback says in a clear
line what happened.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from day25.course.sandbox import namespaces

from .classroom import MODULE, all_cases, lost, robustness_cases

# the whole batch is graded in the first test's setup: allow more than the default 300 s
pytestmark = [pytest.mark.timeout(1200),
              pytest.mark.xdist_group("hostile")]  # one xdist worker: one graded batch


def test_batch_finishes_and_every_student_is_graded(batch: dict[str, Any]) -> None:
    proc = batch["proc"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert set(batch["rows"]) == set(all_cases(batch["places"], 0))
    assert not Path("/tmp/day25-escaped.py").exists()


@pytest.mark.parametrize("case", sorted(robustness_cases(0)))
def test_no_point_forged_and_feedback_says_why(batch: dict[str, Any], case: str) -> None:
    _, most, phrase = robustness_cases(batch["port"])[case]
    row = batch["rows"][case]
    assert float(row["priority_ordering"]) <= most
    assert float(row["total"]) == float(row["priority_ordering"])
    feedback = (batch["out"] / case / "feedback.md").read_text(encoding="utf-8")
    phrases = (phrase,) if isinstance(phrase, str) else phrase
    assert any(p in feedback for p in phrases), feedback[:2000]
    results = json.loads((batch["out"] / case / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == float(row["total"])
    assert "max_score" not in results


def test_honest_work_still_scores_beside_hostile_neighbours(batch: dict[str, Any]) -> None:
    assert float(batch["rows"]["honest_solution"]["priority_ordering"]) == 25, \
        lost(batch["out"], "honest_solution")


def test_sandbox_blocks_network_and_hidden_files(batch: dict[str, Any]) -> None:
    if not namespaces.hardened():
        # without namespaces the grader must say so plainly instead of pretending
        assert "rlimits ONLY" in batch["proc"].stdout
        return
    assert batch["received"] == [], "a sandboxed child reached the host's loopback"
    assert float(batch["rows"]["network"]["priority_ordering"]) == 25  # blocked, not punished
    assert float(batch["rows"]["read_hidden_tests"]["priority_ordering"]) == 0
    assert "sandbox: rlimits + bubblewrap" in batch["proc"].stdout


def test_the_review_names_who_reaches_for_the_process_and_no_honest_student(
        batch: dict[str, Any]) -> None:
    """review.csv, written by the same ``day25 grade``: every case whose code imports
    ``os`` or ``sys`` (outside the course's allow-list) is named, the honest ones are not."""
    with open(batch["out"] / "review.csv", newline="", encoding="utf-8") as f:
        named = {row["student"] for row in csv.DictReader(f)}
    reaching = {case for case, (files, _, _) in robustness_cases(0).items()
                if any(m in files.get(MODULE, b"") for m in (b"import os", b"import sys"))}
    assert len(reaching) >= 3 and reaching <= named, reaching - named
    assert not named & {"honest_solution", "honest_stub"}
    assert "submission(s) reach beyond what the exercises need" in batch["proc"].stdout
    for student in ("os_exit_mid_test", "honest_solution"):  # Gradescope shows results.json
        results = json.loads((batch["out"] / student / "results.json").read_text("utf-8"))
        hidden = [t for t in results["tests"] if t["visibility"] == "hidden"]
        if student in named:
            assert [t["number"] for t in hidden] == ["review"], hidden
            assert "[module]: imports os" in hidden[0]["output"] and hidden[0]["max_score"] == 0
        else:
            assert hidden == []
    assert "os_exit_mid_test" in named


def test_a_submission_that_signals_its_supervisor_is_its_own_doing(batch: dict[str, Any]) -> None:
    """``os.kill(os.getppid(), 9)`` and ``os.kill(-1, 9)`` reach none of the grader's
    processes: the same grade on every run, kept (a content hash: not graded again),
    and no word of a machine that could not run the tests."""
    student = "kill_supervisor"
    results = json.loads((batch["out"] / student / "results.json").read_text("utf-8"))
    assert results["extra_data"]["content_hash"], results["output"]
    assert "grading machine" not in results["output"]
    assert f"{student}: tests could not run here" not in batch["proc"].stdout
    if namespaces.isolation() == "root":  # its zygote runs apart from its uid
        assert float(batch["rows"][student]["priority_ordering"]) == 25, \
            lost(batch["out"], student)


def test_processes_left_behind_cost_their_tests_not_the_whole_submission(
        batch: dict[str, Any]) -> None:
    """``fork_detached``'s grandchildren hold its pipes open from sessions of their own:
    each test still ends within its limit, with a line of its own in the feedback."""
    feedback = (batch["out"] / "fork_detached" / "feedback.md").read_text(encoding="utf-8")
    assert "did not finish within 60 s" not in feedback, feedback[:2000]
    assert "- PASS" in feedback or "- FAIL" in feedback, feedback[:2000]
