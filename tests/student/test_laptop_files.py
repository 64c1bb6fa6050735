"""``day25 check`` on files as Windows and macOS editors save them: the same verdict and the
same sentences as at grading, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

COURSE = Path(__file__).resolve().parents[2]
ENV = {"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": "/tmp"}


def _check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "day25.cli", "check", "priority_ordering",
                           "--path", str(folder), "--course", str(COURSE)],
                          capture_output=True, text=True, timeout=300, cwd=COURSE, env=ENV)


def _mine(tmp_path: Path, name: str, data: bytes) -> Path:
    folder = tmp_path / "exercises"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)
    notebook = (COURSE / "exercises" / "priority_ordering.ipynb").read_bytes()
    (folder / "priority_ordering.ipynb").write_bytes(b"\xef\xbb\xbf"
                                                     + notebook.replace(b"\n", b"\r\n"))
    return folder


def test_crlf_bom_and_a_name_in_other_case_pass_with_a_note(tmp_path: Path) -> None:
    solution = (COURSE / "solutions" / "priority_ordering.py").read_bytes()
    windows = b"\xef\xbb\xbf" + solution.replace(b"\n", b"\r\n")
    proc = _check(_mine(tmp_path, "Priority_Ordering.py", windows))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    said = " ".join(proc.stdout.split())
    assert "1/1 exercises pass their public checks" in said and "FAIL" not in said
    assert ("! Your file is named Priority_Ordering.py; it was taken as priority_ordering.py. "
            "Name it priority_ordering.py exactly") in said


def test_utf16_and_cp1252_get_one_sentence_each_not_a_traceback(tmp_path: Path) -> None:
    source = "# café\nclass PriorityEmitter:\n    pass\n"
    for encoding, sentence in [
            ("utf-16", "priority_ordering.py is saved as UTF-16, which Python cannot run; "
                       "save it as UTF-8 in your editor"),
            ("cp1252", "priority_ordering.py is not UTF-8 text: line 1 holds the byte 0xe9, "
                       "which UTF-8 cannot decode (saved as Windows-1252 or Latin-1?)")]:
        proc = _check(_mine(tmp_path / encoding, "priority_ordering.py",
                            source.replace("\n", "\r\n").encode(encoding)))
        said = " ".join(proc.stdout.split())
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert sentence in said, said
        assert "Traceback" not in said and "FAIL" not in said


def test_a_step_saved_as_utf16_gets_the_sentence_not_a_syntax_error(tmp_path: Path) -> None:
    steps = tmp_path / "exercises" / "steps"
    steps.mkdir(parents=True)
    source = (COURSE / "solutions" / "steps" / "01_ties.py").read_text(encoding="utf-8")
    (steps / "01_ties.py").write_bytes(source.encode("utf-16"))  # with its BOM
    proc = subprocess.run([sys.executable, "-m", "day25.cli", "check", "ties", "--path",
                           str(tmp_path / "exercises"), "--course", str(COURSE)],
                          capture_output=True, text=True, timeout=120, cwd=COURSE, env=ENV)
    said = " ".join(proc.stdout.split())
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert ("01_ties.py is saved as UTF-16, which Python cannot run; save it as UTF-8 in your "
            "editor.") in said, said
    assert "SyntaxError" not in said and "Traceback" not in said
