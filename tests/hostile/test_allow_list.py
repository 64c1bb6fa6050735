"""The allow-list, attacked from inside a real batch: what a submission can read, list, write.

The probe students of ``classroom.py`` (graded in the batch of ``conftest.py``,
beside the robustness cases) try to read a peer's module, an earlier
gradebook and a decoy course copy's hidden tests, list ``/``, ``/tmp`` and
``/home``, write outside their folder and follow symlinks; each raises its
report into its own feedback. Every attempt must be refused, every probe must
cost only its own points, and no marker may reach any student's output.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from day25.course.sandbox import namespaces

from .classroom import COURSE, LINKED, PROBES, SOLUTION, allow_list_cases
from .probe import (
    DECOY_MARKER,
    GRADEBOOK_MARKER,
    PEER_MARKER,
    allowed_root,
    denied,
    parse_report,
)

pytestmark = [pytest.mark.timeout(1200),
              pytest.mark.xdist_group("hostile")]  # one xdist worker: one graded batch (conftest)


def _outputs(out: Path, student: str) -> str:
    folder = out / student
    return "\n".join((folder / name).read_text(encoding="utf-8")
                     for name in ("feedback.md", "feedback.html", "results.json"))


def _report(batch: dict[str, Any], student: str) -> dict[str, str]:
    return parse_report((batch["out"] / student / "feedback.md").read_text(encoding="utf-8"))


def test_the_class_was_graded_in_namespaces(batch: dict[str, Any]) -> None:
    assert namespaces.hardened(), (
        "bubblewrap must make namespaces here (.ci/system-deps installs it): "
        + namespaces.describe())
    assert batch["proc"].returncode == 0, batch["proc"].stdout[-3000:]
    assert "sandbox: rlimits + bubblewrap" in batch["proc"].stdout


def test_no_marker_reaches_any_output(batch: dict[str, Any]) -> None:
    out = batch["out"]
    for student in batch["rows"]:
        text = _outputs(out, student)
        for marker in (GRADEBOOK_MARKER, DECOY_MARKER):
            assert marker not in text, f"{marker} leaked into {student}'s output"
        if student != "peer":
            assert PEER_MARKER not in text, f"the peer's module leaked into {student}'s output"
    book = (out / "gradebook.csv").read_text(encoding="utf-8")
    assert GRADEBOOK_MARKER not in book and PEER_MARKER not in book


@pytest.mark.parametrize("case", sorted([*PROBES, *LINKED, "peer"]))
def test_each_probe_costs_only_its_own_points(batch: dict[str, Any], case: str) -> None:
    _files, most, phrase = allow_list_cases(batch["places"])[case]
    row = batch["rows"][case]
    assert float(row["total"]) <= most
    feedback = (batch["out"] / case / "feedback.md").read_text(encoding="utf-8")
    assert phrase in feedback, feedback[:2000]
    if case == "peer":
        assert float(row["total"]) == 25, "the probed peer keeps its points"


@pytest.mark.parametrize("case", ["probe_peers", "probe_outputs", "probe_decoys"])
def test_peers_outputs_and_other_course_copies_cannot_be_read(
    batch: dict[str, Any], case: str
) -> None:
    report = _report(batch, case)
    reads = {k: v for k, v in report.items() if k.startswith("read ")}
    assert reads and all(denied(v) for v in reads.values()), report
    globs = {k: v for k, v in report.items() if k.startswith("glob ")}
    own = {"glob zygotes"}  # the probe's own copy matches its own zygote's pattern
    assert globs and all(v == "0" for k, v in globs.items() if k not in own), report
    text = (batch["out"] / case / "feedback.md").read_text(encoding="utf-8")
    assert "LOOT" not in text, text[:3000]


def test_listing_shows_only_the_allow_list(batch: dict[str, Any]) -> None:
    report = _report(batch, "probe_listing")
    package = Path(namespaces.__file__).resolve().parents[3]
    assert set(report["list root"].split(",")) <= allowed_root(), report["list root"]
    # the path down to its own zygote's folder (in its session's temp folder), nothing else
    [first] = report["list tmp"].split(",")
    assert first.startswith("day25-verdict-"), report["list tmp"]
    assert report["list home"] == "FileNotFoundError"
    assert report["list vartmp"] == "FileNotFoundError"
    assert report["list etc"] == "group,hosts,ld.so.cache,localtime,passwd"
    assert report["list dev"] == "full,null,random,urandom,zero"
    if report["list work"] != "FileNotFoundError":  # the path to the venv or package only
        below = {Path(p).resolve().relative_to("/work").parts[0]
                 for p in (sys.prefix, str(package)) if Path(p).resolve().parts[1] == "work"}
        assert set(report["list work"].split(",")) == below, report["list work"]
    for name in ("read shadow", "read hostname"):
        assert denied(report[name]), report
    if namespaces.isolation() == "root":  # pid 1 is bwrap's, as root: not the submission's
        assert denied(report["read environ"]), report


def test_writes_outside_its_own_folder_are_refused(batch: dict[str, Any]) -> None:
    report = _report(batch, "probe_writes")
    assert report["write own"] == "WROTE", report  # its own folder is writable
    assert report["write tmp"] == "WROTE", report  # its private /tmp, not the machine's
    others = {k: v for k, v in report.items() if k.startswith("write ")
              and k not in ("write own", "write tmp")}
    assert len(others) >= 6 and all(denied(v) for v in others.values()), report
    places = batch["places"]
    for path in places.escapes():
        assert not path.exists(), f"a submission wrote {path}"
    assert places.peer_module.read_text(encoding="utf-8").startswith(SOLUTION)
    assert "planted by" not in (batch["out"] / "gradebook.csv").read_text(encoding="utf-8")
    assert not list((COURSE / "src" / "day25").glob("planted_*"))


def test_symlinks_planted_or_made_lead_nowhere(batch: dict[str, Any]) -> None:
    report = _report(batch, "probe_symlinks")
    links = {k: v for k, v in report.items() if k.startswith(("link ", "beside "))}
    assert len(links) == 5 and all(denied(v) for v in links.values()), report
    for case in LINKED:  # a submission that is, or holds, a link: refused before grading
        feedback = (batch["out"] / case / "feedback.md").read_text(encoding="utf-8")
        assert "symbolic link" in feedback and float(batch["rows"][case]["total"]) == 0
