"""The allow-list where students meet it: ``day25 check`` (as root, and as a laptop user
without root) and the Gradescope autograder's ``run_autograder``.

Each run grades a probe module (``probe.py``) that tries to read the course's
hidden suite and solutions, a world-readable decoy course copy and a secret in
a home folder, and to list ``/`` and ``/home``. Its report must show every
read refused, and no marker may reach what the student sees.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from day25.course.grading.gradescope import build_autograder
from day25.course.sandbox import namespaces

from .probe import (
    DECOY_MARKER,
    HIDDEN_MARKER,
    RUN,
    allowed_root,
    denied,
    parse_report,
    probe_module,
)

pytestmark = pytest.mark.timeout(600)

COURSE = Path(__file__).resolve().parents[2]
MODULE = "priority_ordering.py"
HIDDEN = "tests/hidden/conftest.py"  # a file of the hidden suites
LAPTOP_UID = 4242


@pytest.fixture
def decoy() -> Iterator[Path]:
    """A world-readable course copy outside /tmp, its hidden suite holding a marker."""
    root = Path(f"/var/tmp/day25-student-side-{RUN}")
    (root / "course" / HIDDEN).parent.mkdir(parents=True)
    (root / "course" / HIDDEN).write_text(f"# {DECOY_MARKER}\n")
    (root / "home" / ".ssh").mkdir(parents=True)
    (root / "home" / ".ssh" / "id_rsa").write_text(f"{DECOY_MARKER} (a private key)\n")
    for folder, _dirs, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _probe(decoy: Path, course: Path) -> str:
    return probe_module({
        "reads": {"hidden": str(course / HIDDEN), "solution": str(course / "solutions" / MODULE),
                  "decoy": str(decoy / "course" / HIDDEN),
                  "key": str(decoy / "home" / ".ssh" / "id_rsa")},
        "lists": {"root": "/", "home": "/home", "vartmp": "/var/tmp"},
    })


def _assert_refused(report: dict[str, str]) -> None:
    reads = {k: v for k, v in report.items() if k.startswith("read ")}
    assert len(reads) == 4 and all(denied(v) for v in reads.values()), report
    assert report["list home"] == report["list vartmp"] == "FileNotFoundError", report
    assert set(report["list root"].split(",")) <= allowed_root(), report


def test_day25_check_runs_the_students_code_in_the_allow_list(
    tmp_path: Path, decoy: Path
) -> None:
    assert namespaces.hardened(), "bubblewrap must work here: " + namespaces.describe()
    mine = tmp_path / "exercises"
    mine.mkdir()
    (mine / MODULE).write_text(_probe(decoy, COURSE))
    proc = subprocess.run(
        [sys.executable, "-m", "day25.cli", "check", "priority_ordering", "--path", str(mine),
         "--course", str(COURSE)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "DAY25_KEEP_LOGS": "1", "COLUMNS": "200"},  # the full messages
    )
    assert proc.returncode == 1, proc.stdout  # the probe fails its own checks, nothing else
    assert "bubblewrap" in proc.stdout
    _assert_refused(parse_report(proc.stderr))
    assert DECOY_MARKER not in proc.stdout + proc.stderr


def _laptop_command(argv: list[str], home: Path) -> list[str]:
    """``argv`` as uid 4242 on a 'laptop': the machine as it is, except that the Python
    install under /root (0700 here) is readable, as a student's own interpreter is, and
    /tmp is an empty 1777 folder, as a laptop's is."""
    return ["bwrap", "--bind", "/", "/", "--tmpfs", "/root", "--ro-bind", "/root/.pyenv",
            "/root/.pyenv", "--perms", "1777", "--tmpfs", "/tmp", "--dev-bind", "/dev", "/dev",
            "--die-with-parent", "--",
            "setpriv", f"--reuid={LAPTOP_UID}", f"--regid={LAPTOP_UID}", "--clear-groups", "--",
            "env", "-i", f"HOME={home}", "LANG=C.UTF-8", "DAY25_KEEP_LOGS=1", "COLUMNS=200",
            f"PATH={Path(sys.executable).parent}:/usr/bin:/bin", *argv]


@pytest.mark.skipif(os.geteuid() != 0, reason="plays a laptop user: switching users needs root "
                    "(without root, the test above already runs in a user namespace)")
def test_day25_check_without_root_uses_a_user_namespace(decoy: Path) -> None:
    mine = decoy / "home" / "exercises"
    mine.mkdir()
    (mine / MODULE).write_text(_probe(decoy, COURSE))
    shutil.chown(decoy / "home", LAPTOP_UID, LAPTOP_UID)
    shutil.chown(mine, LAPTOP_UID, LAPTOP_UID)
    which = subprocess.run(
        _laptop_command([sys.executable, "-c", "from day25.course.sandbox import namespaces;"
                         "print(namespaces.isolation())"], decoy / "home"),
        capture_output=True, text=True, timeout=60)
    assert which.stdout.strip() == "user", which.stdout + which.stderr
    proc = subprocess.run(
        _laptop_command([sys.executable, "-m", "day25.cli", "check", "priority_ordering",
                         "--path", str(mine), "--course", str(COURSE)], decoy / "home"),
        capture_output=True, text=True, timeout=300, cwd=decoy)
    assert proc.returncode == 1, proc.stdout + proc.stderr[-3000:]
    assert "bubblewrap in a user namespace" in proc.stdout
    report = parse_report(proc.stderr)
    assert report["uid"] == str(LAPTOP_UID)  # the student's own uid, mapped to itself
    _assert_refused(report)
    assert DECOY_MARKER not in proc.stdout + proc.stderr


def test_the_gradescope_autograder_grades_in_the_allow_list(
    tmp_path: Path, decoy: Path
) -> None:
    """Built by ``day25 gradescope``, unpacked and run as Gradescope does, with
    ``/autograder`` moved into a temp folder."""
    assert namespaces.hardened(), "bubblewrap must work here: " + namespaces.describe()
    autograder = tmp_path / "autograder"
    build_autograder(COURSE, tmp_path / "ag.zip")
    with zipfile.ZipFile(tmp_path / "ag.zip") as zf:
        zf.extractall(autograder)
    source = autograder / "source"
    (source / HIDDEN).write_text((source / HIDDEN).read_text() + f"\n# {HIDDEN_MARKER}\n")
    (autograder / "submission").mkdir()
    (autograder / "submission" / MODULE).write_text(_probe(decoy, source))
    venv_bin = autograder / "venv" / "bin"  # what setup.sh makes: this interpreter's day25
    venv_bin.mkdir(parents=True)
    (venv_bin / "day25").symlink_to(Path(sys.executable).parent / "day25")
    script = (autograder / "run_autograder").read_text().replace("/autograder", str(autograder))
    (autograder / "run_autograder").write_text(script)
    proc = subprocess.run(["bash", str(autograder / "run_autograder")], capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, "PATH": f"{Path(sys.executable).parent}:"
                               + os.environ.get("PATH", "")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = (autograder / "results" / "results.json").read_text()
    assert "extra_data" in json.loads(results), results + proc.stderr[-3000:]
    assert "sandbox: rlimits + bubblewrap" in json.loads(results)["extra_data"]["sandbox"]
    document = json.loads(results)  # the probe raises at import: its report is the note
    outputs = [document["output"], *(test["output"] for test in document["tests"])]
    _assert_refused(parse_report(next(o for o in outputs if "PROBE-REPORT" in o)))
    assert json.loads(results)["score"] == 0
    assert HIDDEN_MARKER not in results and DECOY_MARKER not in results
