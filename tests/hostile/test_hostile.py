"""Hostile and broken submissions, graded in one batch with ``day25 grade --jobs 2``.

Each case attacks ``priority_ordering.py`` (the cheapest suite to run). For each
we check: the batch finished (exit 0, every student in the gradebook), no point
was forged (the score is at most what an honest version of the same code gets:
the stub's 0, or the solution's 25 where the attack is wrapped around it), and
the student's feedback says in a clear line what happened.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from day25.course.sandbox import namespaces

# the whole batch is graded in the first test's setup: allow more than the default 300 s
pytestmark = [pytest.mark.timeout(1200),
              pytest.mark.xdist_group("hostile")]  # one xdist worker: one graded batch

COURSE = Path(__file__).resolve().parents[2]
MODULE = "priority_ordering.py"
STUB = (COURSE / "exercises" / MODULE).read_text(encoding="utf-8")
SOLUTION = (COURSE / "solutions" / MODULE).read_text(encoding="utf-8")

ANYTHING = '''
class Anything:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __hash__(self): return 0
    def __bool__(self): return True
    def __iter__(self): return iter(())
    def __len__(self): return 0
    def __getattr__(self, name): return Anything()
    def __call__(self, *args, **kwargs): return Anything()
    def __await__(self):
        return Anything()
        yield
class PriorityEmitter(Anything):
    pass
'''

FORGE = '''
import glob, json, os
ROW = {"nodeid": "x", "name": "forged", "exercise": "priority_ordering", "points": 25,
       "max_points": 25, "outcome": "passed", "message": ""}
for folder in [*glob.glob("/tmp/day25-verdict-*"), *glob.glob("/tmp/*"), "."]:
    try:
        names = [n for n in os.listdir(folder) if n.endswith(".json")] + ["results.json"]
        for name in names:
            with open(os.path.join(folder, name), "w") as fh:
                fh.write(json.dumps([ROW]))
    except OSError:
        pass
'''

MONKEYPATCH = '''
import builtins, sys
builtins.isinstance = lambda *a: True
builtins.AssertionError = type("NeverRaised", (Exception,), {})
try:
    import pytest
    pytest.fail = lambda *a, **k: None
except Exception:
    pass
sys.modules["_pytest"] = None
'''

READ_HIDDEN = f'''
try:
    exec(open({str(COURSE / "solutions" / MODULE)!r}).read())
    print(open({str(COURSE / "tests" / "hidden" / "test_priority_ordering.py")!r}).read())
except OSError:
    pass
'''

FORK_BOMB = '''
import os, time
for _ in range(10):  # 2**10 processes at most, so a broken sandbox cannot take the host down
    try:
        os.fork()
    except OSError:
        break
time.sleep(600)
'''

PORT_FILE = "PORT_PLACEHOLDER"


def _network(port: int) -> str:
    return SOLUTION + f'''
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"exfiltrated")
except OSError:
    pass
'''


# case -> (files in the student's folder, the most points it may get, phrase(s) its feedback has)
RUNTIME = ("FAIL", "did not finish within", "ended abnormally")  # a failed test, or a cut-off run


def _cases(port: int) -> dict[str, tuple[dict[str, bytes], float, str | tuple[str, ...]]]:
    enc = str.encode
    return {
        "honest_stub": ({MODULE: enc(STUB)}, 0, RUNTIME),
        "honest_solution": ({MODULE: enc(SOLUTION)}, 25, "PASS"),
        "exit_at_import": ({MODULE: b"import sys\nsys.exit(0)\n"}, 0, RUNTIME),
        "os_exit_mid_test": ({MODULE: enc(SOLUTION.replace(
            "async def emit(self", "async def emit_(self") + "\n\nimport os\n"
            "async def _die(self, *a, **k):\n    os._exit(0)\nPriorityEmitter.emit = _die\n")},
            0, RUNTIME),
        "infinite_loop": ({MODULE: b"while True:\n    pass\n"}, 0, RUNTIME),
        "async_never_returns": ({MODULE: enc(SOLUTION + "\n\nimport asyncio\n"
            "async def _hang(self, *a, **k):\n    await asyncio.Event().wait()\n"
            "PriorityEmitter.emit = _hang\n")}, 0, RUNTIME),
        "fork_bomb": ({MODULE: enc(STUB + FORK_BOMB)}, 0, RUNTIME),
        "memory_bomb": ({MODULE: b"hog = []\nwhile True:\n    hog.append(bytearray(50_000_000))\n"},
                        0, RUNTIME),
        "stdout_flood": ({MODULE: enc(STUB) + b"\nimport os\nfor _ in range(2000):\n"
                          b"    os.write(1, b'x' * 65536)\n    os.write(2, b'y' * 65536)\n"},
                         0, RUNTIME),
        "planted_conftest": ({MODULE: enc(STUB), "conftest.py": enc(
            "import pytest\n@pytest.hookimpl(hookwrapper=True)\n"
            "def pytest_runtest_makereport(item, call):\n    out = yield\n"
            "    out.get_result().outcome = 'passed'\n")}, 0, RUNTIME),
        "forged_results": ({MODULE: enc(STUB + FORGE), "results.json": b'[{"points": 25}]'},
                           0, RUNTIME),
        "monkeypatch_pytest_builtins": ({MODULE: enc(STUB + MONKEYPATCH)}, 0, RUNTIME),
        "always_true_eq": ({MODULE: enc(ANYTHING)}, 0, RUNTIME),
        # without namespaces a child can read what the grader can (the output says so)
        "read_hidden_tests": ({MODULE: enc(STUB + READ_HIDDEN)},
                              0 if namespaces.hardened() else 25, (*RUNTIME, "PASS")),
        "network": ({MODULE: enc(_network(port))}, 25, "PASS"),
        "syntax_error": ({MODULE: b"def broken(:\n    pass\n"}, 0, RUNTIME),
        "missing_module": ({"priority_ordring.py": enc(SOLUTION)}, 0, "was not found"),
        "symlink_outside": ({}, 0, "symbolic link"),
        "non_utf8_source": ({MODULE: "# café\n".encode("latin-1") + enc(SOLUTION)}, 0,
                            "not UTF-8"),
        "zip_path_escape": ({}, 0, "points outside the submission folder"),
        "zip_bomb": ({}, 0, "zip bomb"),
    }


class Listener:
    """A TCP server on the host's loopback: a sandboxed child must never reach it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(100))
                except OSError:
                    self.received.append(b"<connected>")

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def _build(root: Path, port: int) -> None:
    for name, (files, _, _) in _cases(port).items():
        if not files:
            continue
        folder = root / name
        folder.mkdir(parents=True)
        for fname, data in files.items():
            (folder / fname).write_bytes(data)
    (root / "symlink_outside").mkdir()
    os.symlink(COURSE / "solutions" / MODULE, root / "symlink_outside" / MODULE)
    with zipfile.ZipFile(root / "zip_path_escape.zip", "w") as zf:
        zf.writestr(MODULE, SOLUTION)
        zf.writestr("../../../../tmp/day25-escaped.py", "ESCAPED = True\n")
    with zipfile.ZipFile(root / "zip_bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MODULE, SOLUTION)
        zf.writestr("padding.bin", b"\0" * 200_000_000)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("class")
    out = tmp_path_factory.mktemp("out")
    listener = Listener()
    try:
        _build(root, listener.port)
        proc = subprocess.run(
            [sys.executable, "-m", "day25.cli", "grade", str(root), "--out", str(out),
             "--jobs", "2", "--exercise-timeout", "30", "--submission-timeout", "60",
             "--test-timeout", "15", "--course", str(COURSE)],
            capture_output=True, text=True, timeout=900, cwd=COURSE,
        )
    finally:
        listener.close()
    with (out / "gradebook.csv").open() as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    return {"proc": proc, "out": out, "rows": rows, "received": listener.received,
            "port": listener.port}


def test_batch_finishes_and_every_student_is_graded(batch: dict[str, Any]) -> None:
    proc = batch["proc"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert set(batch["rows"]) == set(_cases(0))
    assert not Path("/tmp/day25-escaped.py").exists()


@pytest.mark.parametrize("case", sorted(_cases(0)))
def test_no_point_forged_and_feedback_says_why(batch: dict[str, Any], case: str) -> None:
    _, most, phrase = _cases(batch["port"])[case]
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
    assert float(batch["rows"]["honest_solution"]["priority_ordering"]) == 25


def test_sandbox_blocks_network_and_hidden_files(batch: dict[str, Any]) -> None:
    if not namespaces.hardened():
        # without namespaces the grader must say so plainly instead of pretending
        assert "rlimits ONLY" in batch["proc"].stdout
        return
    assert batch["received"] == [], "a sandboxed child reached the host's loopback"
    assert float(batch["rows"]["network"]["priority_ordering"]) == 25  # blocked, not punished
    assert float(batch["rows"]["read_hidden_tests"]["priority_ordering"]) == 0
    assert "namespaces" in batch["proc"].stdout
