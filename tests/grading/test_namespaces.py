"""What a sandboxed process can and cannot do; and a grader without namespaces says so.

The exec path (``processes.spawn``: bwrap, then setpriv as root) is probed
here; the fork path (a zygote joining a bwrap holder's view) in
``test_forked_sandbox.py`` and ``tests/harness/test_zygote.py``; both inside a
real batch in ``tests/hostile``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.hostile.probe import allowed_root

from day25.course.sandbox import namespaces, processes

COURSE = Path(__file__).resolve().parents[2]

PROBE = f"""
import json, os, socket
seen = {{"uid": os.getuid(), "root": sorted(os.listdir("/")), "tmp": os.listdir("/tmp")}}
def attempt(name, fn):
    try:
        fn()
        seen[name] = "allowed"
    except OSError as exc:
        seen[name] = type(exc).__name__
attempt("read_hidden", lambda: open({str(COURSE / "tests" / "hidden" / "conftest.py")!r}).read())
SOLUTION = {str(COURSE / "solutions" / "priority_ordering.py")!r}
attempt("read_solution", lambda: open(SOLUTION).read())
seen["checkout"] = sorted(os.listdir({str(COURSE)!r}))  # the path to src/ (and a venv) only
attempt("read_shadow", lambda: open("/etc/shadow").read())
if os.environ.get("TRY_PLANT"):  # only where the package is meant to be read-only
    attempt("write_package", lambda: open({str(COURSE / "src" / "day25" / "planted.py")!r}, "w"))
attempt("network", lambda: socket.create_connection(("1.1.1.1", 53), timeout=2))
attempt("write_cwd", lambda: open("scratch.txt", "w").write("ok"))
attempt("import_day25", lambda: __import__("day25"))
attempt("import_nexios", lambda: __import__("nexios"))
print(json.dumps(seen))
"""


def _probe(tmp_path: Path, *, plant: bool) -> dict[str, object]:
    work = tmp_path / "work"
    work.mkdir()
    env = {"TRY_PLANT": "1"} if plant else {}
    proc = processes.spawn(["python", "-c", PROBE], cwd=work, env=env)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def test_a_sandboxed_process_sees_only_its_allow_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAY25_SANDBOX", "auto")
    assert namespaces.hardened(), "bubblewrap must work here: " + namespaces.describe()
    seen = _probe(tmp_path, plant=True)
    assert seen["uid"] != 0
    assert set(seen["checkout"]) <= {"src", ".venv"}, seen["checkout"]  # type: ignore[arg-type]
    for name in ("read_hidden", "read_solution", "read_shadow"):
        assert seen[name] == "FileNotFoundError", (name, seen)
    assert seen["write_package"] in {"OSError", "PermissionError"}  # read-only: EROFS
    assert seen["network"] != "allowed"
    assert seen["write_cwd"] == "allowed"
    assert seen["import_day25"] == seen["import_nexios"] == "allowed"
    work = (tmp_path / "work").resolve()
    if work.is_relative_to("/tmp"):  # only the path down to its own folder
        assert seen["tmp"] == [work.relative_to("/tmp").parts[0]], seen["tmp"]
    assert set(seen["root"]) <= allowed_root(), seen["root"]  # type: ignore[arg-type]
    assert not (COURSE / "src" / "day25" / "planted.py").exists()
    assert "bubblewrap" in namespaces.describe()


def test_fallback_runs_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY25_SANDBOX", "rlimits")
    fds: list[int] = []
    assert namespaces.wrap(["python", "x"], cwd=tmp_path, uid=None, fds=fds) == ["python", "x"]
    assert "rlimits ONLY" in namespaces.describe()
    assert "CAN READ every file the grader can read" in namespaces.describe()
    seen = _probe(tmp_path, plant=False)
    assert seen["uid"] == os.getuid() and seen["write_cwd"] == "allowed"
    monkeypatch.setenv("DAY25_SANDBOX", "off")
    assert "OFF" in namespaces.describe()


def _student(root: Path, name: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "priority_ordering.py").write_text("X = 1\n")


def test_grade_prints_the_sandbox_line(tmp_path: Path) -> None:
    _student(tmp_path, "s")
    env = {**os.environ, "DAY25_SANDBOX": "rlimits", "COLUMNS": "200"}
    command = [sys.executable, "-m", "day25.cli", "grade", str(tmp_path / "s"), "--single",
               "--out", str(tmp_path / "o"), "--course", str(COURSE)]
    if os.geteuid() == 0:  # CI's machine: one student needs the flag there (below)
        command.append("--unsafe-shared-filesystem")
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=COURSE,
                          env=env)
    assert proc.returncode == 0, proc.stdout
    assert "sandbox: rlimits ONLY" in proc.stdout
    assert "CAN READ every file the grader can read" in proc.stdout


def test_grade_as_root_without_namespaces_refuses_even_one_student(tmp_path: Path) -> None:
    """This session's Python 3.14 run, in a chroot where bubblewrap cannot make namespaces,
    graded the hostile class as root: ``os.kill(-1, 9)`` ran as root and ended every process
    on the machine, the test run's own among them. As root, the uid a submission drops to
    needs the namespaces' view to reach the interpreter, so without them it would be root."""
    if os.geteuid() != 0:
        pytest.fail("run as root: CI's machine grades as root (test_unsafe_here covers users)")
    _student(tmp_path, "s")
    env = {**os.environ, "DAY25_SANDBOX": "rlimits", "COLUMNS": "300"}
    command = [sys.executable, "-m", "day25.cli", "grade", str(tmp_path / "s"), "--single",
               "--out", str(tmp_path / "o"), "--course", str(COURSE)]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=COURSE,
                             env=env)
    assert refused.returncode == 2, refused.stdout
    assert "every other, as root" in refused.stdout  # the sandbox line says it first
    assert "refusing to grade as root without namespaces" in refused.stdout
    assert "stop every process on this machine" in refused.stdout
    assert not (tmp_path / "o").exists(), "nothing graded, nothing written"


def test_unsafe_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Who is refused without the flag: as root without namespaces, anyone; as a user, a
    class of more than one; with namespaces (or the benchmarks' OFF), nobody."""
    monkeypatch.setenv("DAY25_SANDBOX", "rlimits")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert namespaces.unsafe_here(1) == ""
    assert "refusing to grade 2 students without namespaces" in namespaces.unsafe_here(2)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert "refusing to grade as root" in namespaces.unsafe_here(1)
    monkeypatch.setenv("DAY25_SANDBOX", "off")
    assert namespaces.unsafe_here(1) == ""
    monkeypatch.setenv("DAY25_SANDBOX", "auto")
    if namespaces.isolation() == "root":
        assert namespaces.unsafe_here(5) == ""


def test_grade_refuses_a_class_without_namespaces_unless_told(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    _student(klass, "ann")
    _student(klass, "bob")
    env = {**os.environ, "DAY25_SANDBOX": "rlimits", "COLUMNS": "300"}
    command = [sys.executable, "-m", "day25.cli", "grade", str(klass), "--out",
               str(tmp_path / "o"), "--course", str(COURSE), "--exercise-timeout", "30"]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=COURSE,
                             env=env)
    assert refused.returncode == 2, refused.stdout
    assert "sandbox: rlimits ONLY" in refused.stdout  # printed before the refusal
    assert ("refusing to grade as root without namespaces" if os.geteuid() == 0 else
            "refusing to grade 2 students without namespaces") in refused.stdout
    assert "--unsafe-shared-filesystem" in refused.stdout
    assert not (tmp_path / "o").exists(), "nothing graded, nothing written"
    allowed = subprocess.run([*command, "--unsafe-shared-filesystem"], capture_output=True,
                             text=True, timeout=300, cwd=COURSE, env=env)
    assert allowed.returncode == 0, allowed.stdout
    assert (tmp_path / "o" / "gradebook.csv").read_text().count("\n") == 3
