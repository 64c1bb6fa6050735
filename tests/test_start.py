"""``day25 start`` opens the student's workspace in a real JupyterLab, and stops it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.pids import alive
from tests.terminal import sigint_as_in_a_terminal

from day25.course.student.start import jupyter_command

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "day25-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # bytes: a process names itself with any bytes (tests/hostile does)
                fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _start_kernel(port: int, proc: subprocess.Popen[bytes]) -> set[int]:
    """Start a kernel through JupyterLab's API; JupyterLab's and the kernel's pids."""
    kernel = httpx.post(f"http://127.0.0.1:{port}/api/kernels", params={"token": TOKEN},
                        json={"name": "python3"}, timeout=60)
    assert kernel.status_code == 201, kernel.text
    deadline = time.monotonic() + 60
    while len(lab := _descendants(proc.pid)) < 2:  # JupyterLab and the kernel
        assert time.monotonic() < deadline, "the kernel did not start"
        time.sleep(0.2)
    return lab


def _wait_for_lab(port: int, proc: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + 90
    while True:
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/api/contents/", params={"token": TOKEN},
                          timeout=2)
            if r.status_code == 200:
                return r
        except httpx.TransportError:
            pass
        assert proc.poll() is None, f"day25 start exited early: {proc.args}"
        assert time.monotonic() < deadline, "JupyterLab did not answer within 90 s"
        time.sleep(0.3)


def stops_everything(proc: subprocess.Popen[bytes], stop: int, lab: set[int], port: int,
                     said: str = "") -> None:
    """``stop`` sent to ``day25 start``: it exits 0, the processes it started (``lab``) are
    gone, and nothing serves ``port``."""
    os.kill(proc.pid, stop)
    assert proc.wait(timeout=60) == 0, said
    deadline = time.monotonic() + 30
    while running := {pid for pid in lab if alive(pid)}:
        assert time.monotonic() < deadline, f"still running after day25 stopped: {running}"
        time.sleep(0.2)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=2)


def test_the_command_opens_the_first_lesson_of_the_folder(tmp_path: Path) -> None:
    command = jupyter_command(tmp_path, port=8888, open_browser=False,
                              first="notebooks/01_a.ipynb")
    assert f"--ServerApp.root_dir={tmp_path}" in command and "--no-browser" in command
    assert "--LabApp.default_url=/lab/tree/notebooks/01_a.ipynb" in command


def test_outside_a_course_it_says_where_to_run(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAY25_")}
    code = ("import day25.course.catalogue as c, day25.course.student.workspace as w, sys\n"
            "c.__file__ = '/nonexistent/a/b/c/catalogue.py'\n"  # no editable checkout either
            "sys.argv = ['day25', 'start', '--no-browser']\n"
            "from day25.cli import main; main()")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**env, "COLUMNS": "200"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "run 'day25 start' inside the course folder" in proc.stdout
    assert not (tmp_path / "day25-workspace").exists()


def test_no_lab_makes_the_workspace_for_another_editor_and_ends(tmp_path: Path) -> None:
    """A contributor and students in VS Code asked for it: the workspace without JupyterLab,
    and the one thing an editor cannot guess, which Python the notebooks need."""
    day25 = Path(sys.executable).with_name("day25")
    command = [str(day25), "start", "--no-lab", "--dir", "my work", "--course", str(ROOT)]
    proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ws = tmp_path / "my work"
    assert (ws / "exercises" / "once_semantics.py").is_file()
    assert list((ws / "notebooks").glob("*.ipynb")) and not (ws / "solutions").exists()
    said = proc.stdout.splitlines()
    python = said[said.index(next(line for line in said if "choose this Python" in line)) + 1]
    assert Path(python.strip()).resolve() == Path(sys.executable).resolve()
    assert "Ctrl+C" not in proc.stdout
    assert f"  cd '{ws}'\n  day25 check" in proc.stdout
    # a second run keeps the student's work, as day25 start does
    (ws / "exercises" / "once_semantics.py").write_text("# mine\n", encoding="utf-8")
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "kept your version of 1 file(s)" in again.stdout
    assert (ws / "exercises" / "once_semantics.py").read_text(encoding="utf-8") == "# mine\n"


def test_a_workspace_that_cannot_be_made_gets_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    """The review of this stop: ``--dir`` naming a file ended ``day25 start`` in a
    FileExistsError traceback, with or without JupyterLab; ``--port`` with ``--no-lab`` was
    silently ignored."""
    day25 = Path(sys.executable).with_name("day25")
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    for options, said in ((["--dir", "notes.txt"], "notes.txt is a file, not a folder"),
                          (["--dir", "ws", "--port", "8888"], "it has no use with --no-lab")):
        proc = subprocess.run([str(day25), "start", "--no-lab", *options, "--course", str(ROOT)],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "COLUMNS": "200"})
        assert proc.returncode == 2 and said in proc.stdout, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=lambda s: s.name)
def test_a_signal_to_day25_start_stops_jupyterlab_and_its_kernels(
    tmp_path: Path, stop: signal.Signals
) -> None:
    port = free_port()
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTER_TOKEN": TOKEN, "COLUMNS": "200"}
    with (tmp_path / "out.log").open("wb") as log:  # the child keeps its own copy
        proc = subprocess.Popen(
            [sys.executable, "-m", "day25.cli", "start", "--no-browser", "--port", str(port),
             "--course", str(ROOT)],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # only day25 gets the signal, as from kill or a service
            # manager
            preexec_fn=sigint_as_in_a_terminal,
        )
    lab: set[int] = set()
    try:
        listed = {item["name"] for item in _wait_for_lab(port, proc).json()["content"]}
        # JupyterLab serves the workspace: lessons, exercises and their pages, never the
        # solutions
        assert {"notebooks", "exercises", "tests", "docs"} <= listed
        assert not listed & {"solutions", "src", "README.md"}, listed
        assert (tmp_path / "day25-workspace" / "notebooks").is_dir()
        lab = _start_kernel(port, proc)
        stops_everything(proc, stop, lab, port)
    finally:
        for pid in (proc.pid, *lab):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=20)


def _a_base_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, system_site: bool) -> Path:
    """Pretend this Python is a venv on top of a base Python at ``tmp_path/base`` that
    holds JupyterLab's widgets extension; ``system_site``: the venv sees its packages."""
    import sysconfig

    base = tmp_path / "base"
    extensions = base / "share" / "jupyter" / "labextensions"
    (extensions / "@jupyter-widgets" / "jupyterlab-manager").mkdir(parents=True)
    site = sysconfig.get_paths(vars={"base": str(base), "platbase": str(base)})["purelib"]
    monkeypatch.setattr(sys, "base_prefix", str(base))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    if system_site:
        monkeypatch.setattr(sys, "path", [*sys.path, site])
    return extensions


def test_a_venv_with_system_site_packages_sees_the_base_pythons_lab_extensions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m venv --system-site-packages`` on a Python that has JupyterLab: the
    venv imports ipywidgets from the base, but Jupyter looks for lab extensions in the
    venv's share/jupyter only, so JupyterLab loaded no widget manager and the exercise
    notebooks' hint button showed as ``VBox(children=...``. The base's folder comes
    last, so an extension the venv has itself still wins."""
    from jupyter_core.paths import jupyter_path

    extensions = _a_base_python(tmp_path, monkeypatch, system_site=True)
    command = jupyter_command(tmp_path, port=None, open_browser=False)
    given = [a.split("=", 1)[1] for a in command if a.startswith("--LabApp.labextensions_path=")]
    assert given == [*jupyter_path("labextensions"), str(extensions)], command


def test_a_venv_of_its_own_keeps_jupyters_lab_extensions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _a_base_python(tmp_path, monkeypatch, system_site=False)
    command = jupyter_command(tmp_path, port=None, open_browser=False)
    assert not any("labextensions_path" in a for a in command), command


def test_ctrl_c_without_a_terminal_lets_jupyterlab_shut_its_kernels_down(tmp_path: Path) -> None:
    """Ctrl+C reaches the whole process group. With no terminal on stdin (an IDE's run
    button, a script), JupyterLab does not ask "Shut down?": it starts stopping at once,
    and day25's SIGTERM 0.25 s later killed it mid-way (``killed by SIGTERM``): its kernels
    were left to notice their parent had gone, and its runtime files stayed behind, so
    ``jupyter server list`` named a server that did not exist."""
    port = free_port()
    home = tmp_path / "home"
    runtime = home / "runtime"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "JUPYTER_RUNTIME_DIR": str(runtime),
           "JUPYTER_TOKEN": TOKEN, "COLUMNS": "200"}
    with (tmp_path / "out.log").open("wb") as log:  # the child keeps its own copy
        proc = subprocess.Popen(
            [sys.executable, "-m", "day25.cli", "start", "--no-browser", "--port", str(port),
             "--course", str(ROOT)],
            cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a group of its own, as a terminal's job
            preexec_fn=sigint_as_in_a_terminal,
        )
    lab: set[int] = set()
    try:
        _wait_for_lab(port, proc)
        lab = _start_kernel(port, proc)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C
        assert proc.wait(timeout=60) == 0
        log = (tmp_path / "out.log").read_text(errors="replace")
        assert "Kernel shutdown" in log, log[-3000:]
        left = sorted(p.name for p in runtime.iterdir() if p.name != "jupyter_cookie_secret")
        assert left == [], f"JupyterLab did not clean up after itself: {left}"
    finally:
        for pid in (proc.pid, *lab):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=20)
