"""What a sandboxed process can and cannot do; and the fallback says what it is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from day25.course.sandbox import namespaces, processes

COURSE = Path(__file__).resolve().parents[2]

PROBE = f"""
import json, os, socket
seen = {{"uid": os.getuid()}}
def attempt(name, fn):
    try:
        fn()
        seen[name] = "allowed"
    except OSError as exc:
        seen[name] = type(exc).__name__
attempt("read_hidden", lambda: open({str(COURSE / "tests" / "hidden" / "conftest.py")!r}).read())
SOLUTION = {str(COURSE / "solutions" / "priority_ordering.py")!r}
attempt("read_solution", lambda: open(SOLUTION).read())
if os.environ.get("TRY_PLANT"):  # only where the package is meant to be read-only
    attempt("write_package", lambda: open({str(COURSE / "src" / "day25" / "planted.py")!r}, "w"))
attempt("network", lambda: socket.create_connection(("1.1.1.1", 53), timeout=2))
attempt("write_cwd", lambda: open("scratch.txt", "w").write("ok"))
attempt("import_day25", lambda: __import__("day25"))
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


def test_a_hardened_process_sees_no_secrets_no_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAY25_SANDBOX", "auto")
    if not namespaces.namespaces_available():  # not root / no unshare: it must say so
        assert "rlimits ONLY" in namespaces.describe()
        return
    seen = _probe(tmp_path, plant=True)
    assert seen["uid"] != 0
    assert seen["read_hidden"] == "FileNotFoundError"
    assert seen["read_solution"] == "FileNotFoundError"
    assert seen["write_package"] in {"OSError", "PermissionError"}
    assert seen["network"] != "allowed"
    assert seen["write_cwd"] == "allowed"
    assert seen["import_day25"] == "allowed"
    assert not (COURSE / "src" / "day25" / "planted.py").exists()
    assert "namespaces" in namespaces.describe()


def test_fallback_runs_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY25_SANDBOX", "rlimits")
    assert namespaces.wrap(["python", "x"], cwd=tmp_path, env={}) == ["python", "x"]
    assert "rlimits ONLY" in namespaces.describe()
    seen = _probe(tmp_path, plant=False)
    assert seen["uid"] == os.getuid() and seen["write_cwd"] == "allowed"
    monkeypatch.setenv("DAY25_SANDBOX", "off")
    assert "OFF" in namespaces.describe()


def test_grade_prints_the_sandbox_line(tmp_path: Path) -> None:
    sub = tmp_path / "s"
    sub.mkdir()
    env = {**os.environ, "DAY25_SANDBOX": "rlimits", "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "day25.cli", "grade", str(sub), "--single",
                           "--out",
                           str(tmp_path / "o"), "--course", str(COURSE)],
                          capture_output=True, text=True, timeout=120, cwd=COURSE, env=env)
    assert proc.returncode == 0, proc.stdout
    assert "sandbox: rlimits ONLY" in proc.stdout
