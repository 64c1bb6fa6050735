"""``day25 gradescope``: the autograder zip ships what grading needs, and its ``setup.sh``
finds (or installs) a Python of at least 3.11 on any base image."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

COURSE = Path(__file__).resolve().parents[2]


def _cli(*args: str | Path, course: Path = COURSE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "day25.cli", *map(str, args),
                           "--course", str(course)],
                          capture_output=True, text=True, timeout=300, cwd=course,
                          env={**os.environ, "COLUMNS": "200"})


def test_gradescope_zip(tmp_path: Path) -> None:
    out = tmp_path / "autograder.zip"
    proc = _cli("gradescope", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert {"setup.sh", "run_autograder"} <= names
        for script in ("setup.sh", "run_autograder"):
            assert (zf.getinfo(script).external_attr >> 16) & 0o111, f"{script} not executable"
        run = zf.read("run_autograder").decode()
        assert '"$AUTOGRADER/venv/bin/day25" grade "$AUTOGRADER/submission" --single' in run
        # one student in a throw-away container: graded even as root without namespaces
        assert '--out "$out" --unsafe-shared-filesystem' in run
        assert '"$AUTOGRADER/results/results.json"' in run
        suites = COURSE / "tests" / "hidden"
        hidden = [p.relative_to(COURSE).as_posix()
                  for p in suites.rglob("*.py") if "__pycache__" not in p.parts]
        assert len(hidden) > 4, hidden  # every suite's test modules, helpers and conftest
        for rel in hidden:
            assert f"source/{rel}" in names
        assert "source/exercises/catalogue.toml" in names
        assert "source/src/day25/course/grading/verdict.py" in names
        assert not any(n.startswith("source/solutions") for n in names)
        assert not any("__pycache__" in n for n in names)
        assert not any(n.endswith((".so", ".pyd", ".o")) for n in names), sorted(names)


def test_what_a_desktop_leaves_in_the_course_is_not_shipped(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """macOS' Finder leaves ``.DS_Store`` in folders it opened (Windows: ``Thumbs.db``): the
    zip took it, read it as text, and failed ("'utf-8' codec can't decode byte 0xff")
    after leaving a half-written zip that the next run refused. Such files are skipped, a
    course file that is not text is named, and no zip is left behind. The zip's members
    are Unix files wherever it is built (unzip keeps the scripts' mode only then)."""
    from day25.course.grading import gradescope

    course = tmp_path / "course"
    for entry in (*gradescope.SOURCE, "tests/hidden"):
        source = COURSE / entry
        if not source.exists():
            continue
        if source.is_dir():
            shutil.copytree(source, course / entry,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            (course / entry).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, course / entry)
    for junk in ("src/day25/.DS_Store", "tests/hidden/Thumbs.db", "src/day25/._bus.py"):
        (course / junk).write_bytes(b"\x00\x00\x00\x01Bud1\xff\xfe")
    names = gradescope.build_autograder(course, tmp_path / "a.zip")
    assert not [n for n in names if n.endswith(("DS_Store", "Thumbs.db", "._bus.py"))]
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert {info.create_system for info in zf.infolist()} == {3}
    (course / "src/day25/logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff")
    with pytest.raises(ValueError, match=r"logo.png is not UTF-8 text"):
        gradescope.build_autograder(course, tmp_path / "b.zip")
    assert not (tmp_path / "b.zip").exists()


def test_gradescope_layout_grades_into_results_json(tmp_path: Path) -> None:
    """Run the same command run_autograder runs, on a Gradescope-shaped submission."""
    submission = tmp_path / "submission"
    submission.mkdir()
    module = COURSE / "solutions" / "priority_ordering.py"
    (submission / module.name).write_text(module.read_text())
    out = tmp_path / "grade"
    proc = _cli("grade", submission, "--single", "--out", out)
    assert proc.returncode == 0, proc.stdout[-2000:]
    results = (out / "submission" / "results.json").read_text()
    assert '"score": 25' in results


# ----------------------------------------------------------------- Gradescope's setup.sh

FAKE_VENV = """mkvenv() {{
  mkdir -p "$1/bin"
  printf '#!/bin/bash\\necho "venv-python $*" >> {log}\\n' > "$1/bin/python"
  printf '#!/bin/bash\\necho "day25 $*" >> {log}\\n' > "$1/bin/day25"
  chmod +x "$1/bin/python" "$1/bin/day25"
}}
"""
FAKE_PYTHON = """#!/bin/bash
{venv}echo "$(basename "$0") $*" >> {log}
case "$1" in
  -c) exit {status} ;;
  -m) [ "$2" = venv ] && mkvenv "$3" && exit 0 ;;
esac
exit 3
"""
FAKE_APT = """#!/bin/bash
echo "apt-get $*" >> {log}
for name in {gives}; do
  case " $* " in *" $name "*) cp {bin}/.new-python {bin}/$name ;; esac
done
"""
FAKE_UV_INSTALLER = """mkdir -p "$UV_INSTALL_DIR"
cat > "$UV_INSTALL_DIR/uv" <<'UV'
#!/bin/bash
{venv}echo "uv $*" >> {log}
for last in "$@"; do :; done
mkvenv "$last"
UV
chmod +x "$UV_INSTALL_DIR/uv"
"""


def _image(tmp: Path, python3_ok: bool, apt_gives: str, curl_ok: bool,
           ) -> tuple[dict[str, str], Path]:
    """A base image made of fakes: its python3 (new enough or not), what apt-get can
    install, whether the uv installer can be fetched. Every call lands in the log."""
    bin_, log = tmp / "bin", tmp / "log"
    bin_.mkdir()
    log.touch()
    for tool in ("bash", "sh", "env", "basename", "cat", "mkdir", "chmod", "cp", "printf"):
        found = shutil.which(tool)
        if found:
            (bin_ / tool).symlink_to(found)
    venv = FAKE_VENV.format(log=log)

    def script(name: str, text: str) -> None:
        (bin_ / name).write_text(text)
        (bin_ / name).chmod(0o755)

    script("python3", FAKE_PYTHON.format(venv=venv, log=log, status=0 if python3_ok else 1))
    script(".new-python", FAKE_PYTHON.format(venv=venv, log=log, status=0))
    script("apt-get", FAKE_APT.format(log=log, gives=apt_gives or '""', bin=bin_))
    installer = tmp / "uv-installer.sh"
    installer.write_text(FAKE_UV_INSTALLER.format(venv=venv, log=log))
    script("curl", f"#!/bin/bash\necho \"curl $*\" >> {log}\n"
                   + (f"cat {installer}\n" if curl_ok else "exit 22\n"))
    return {"PATH": str(bin_), "AUTOGRADER": str(tmp / "autograder"), "HOME": str(tmp)}, log


@pytest.mark.parametrize(("python3_ok", "apt_gives", "curl_ok", "want"), [
    (False, "python3.11", True, "python3.11"),  # Ubuntu 22.04: python3 is 3.10
    (True, "", True, "python3"),  # Debian 12, Ubuntu 24.04
    (False, "", True, "uv"),  # nothing new enough, no package: a uv-managed Python
    (False, "", False, ""),  # and no way to fetch one: a clear failure
], ids=["old-python3", "new-python3", "uv", "nothing"])
def test_setup_sh_installs_the_course_with_a_python_of_at_least_3_11(
    tmp_path: Path, python3_ok: bool, apt_gives: str, curl_ok: bool, want: str
) -> None:
    from day25.course.grading.gradescope import SETUP_SH

    env, log = _image(tmp_path, python3_ok, apt_gives, curl_ok)
    (tmp_path / "setup.sh").write_text(SETUP_SH)
    proc = subprocess.run(["/bin/bash", str(tmp_path / "setup.sh")], env=env, text=True,
                          capture_output=True, timeout=60)
    calls = log.read_text().splitlines()
    if not want:
        assert proc.returncode != 0
        assert "could not get Python >= 3.11" in proc.stderr
        assert not any(c.startswith("venv-python") for c in calls), calls
        return
    assert proc.returncode == 0, proc.stderr + "\n".join(calls)
    venv = env["AUTOGRADER"] + "/venv"
    made = [c for c in calls if c.endswith(venv) and ("-m venv" in c or c.startswith("uv "))]
    assert made and made[0].split()[0] == want, calls
    source = env["AUTOGRADER"] + "/source"
    assert f"venv-python -m pip install -e {source}" in calls, calls
    assert "day25 --help" in calls
    if not python3_ok:  # an old python3 is asked its version, and nothing else
        asked = [c.split()[1] for c in calls if c.startswith("python3 ")]
        assert asked and set(asked) == {"-c"}, calls
