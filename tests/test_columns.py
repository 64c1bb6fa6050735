"""At 80 columns, in a real terminal, ``day25`` cuts no name and no option.

Each command runs in a pseudo-terminal sized with ``TIOCSWINSZ`` (no ``COLUMNS``
in its environment), as in an 80-column terminal window, and once more through a
pipe with ``COLUMNS=80``.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
import typer

from day25.cli import app
from day25.course.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 80
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
DAY25 = [str(Path(sys.executable).with_name("day25"))]  # the command students type
COMMAND = typer.main.get_command(app)
assert isinstance(COMMAND, typer.core.TyperGroup)


def in_terminal(*args: str, cwd: Path = ROOT, timeout: float = 300) -> str:
    """``day25 ARGS`` in an 80x40 pseudo-terminal; what the terminal shows, colours removed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, WIDTH, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen([*DAY25, *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave,
                            env={**env, "TERM": "xterm-256color"}, close_fds=True)
    os.close(slave)
    chunks = []
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the terminal's last writer is gone
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        proc.wait(timeout=timeout)
    return ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r\n", "\n")


def through_a_pipe(*args: str, cwd: Path = ROOT) -> str:
    proc = subprocess.run([*DAY25, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": str(WIDTH)})
    return proc.stdout + proc.stderr


def _assert_fits(text: str) -> None:
    for line in text.splitlines():
        assert len(line.rstrip()) <= WIDTH, f"wider than {WIDTH}: {line!r}"
        usage = line.strip().startswith("Usage:")  # "[ARGS]..." is click's, not a cut
        cut = "…" in line or (line.rstrip().endswith("...") and not usage)
        assert not cut, f"cut: {line!r}"


@pytest.mark.parametrize("show", [in_terminal, through_a_pipe], ids=["terminal", "COLUMNS"])
def test_help_names_every_command_and_option_in_full(show: object) -> None:
    assert callable(show)
    main = show("--help")
    _assert_fits(main)
    for name in COMMAND.commands:
        assert re.search(rf"(^|\s){name}\s", main), f"{name} missing from:\n{main}"
    for name, command in COMMAND.commands.items():
        text = show(name, "--help")
        _assert_fits(text)
        for param in command.params:
            for opt in (*param.opts, *param.secondary_opts):
                if opt.startswith("--"):
                    assert re.search(rf"(^|[\s/,]){re.escape(opt)}\b", text), \
                        f"day25 {name} --help lacks {opt}:\n{text}"


def test_the_grade_table_names_every_exercise_and_student_in_full(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    students = ["alexandra.konstantinopoulou", "bo"]
    for student in students:
        (klass / student).mkdir(parents=True)
        shutil.copy(ROOT / "solutions" / "priority_ordering.py", klass / student)
    shown = in_terminal("grade", str(klass), "--out", str(tmp_path / "out"), "--course",
                        str(ROOT))
    table = shown[shown.index("Grades"):]
    _assert_fits(table)
    for student in students:
        assert re.search(rf"^. {re.escape(student)} ", table, re.M), table
    for ex in load_catalogue(ROOT).exercises:
        assert re.search(rf"(^|\s)\d={ex.id}(\s|$)", table), f"{ex.id} not named:\n{table}"
    assert table.count(" note(s) ") == len(students)  # three modules are missing
