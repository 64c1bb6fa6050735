"""``day25 start`` opens the lessons in a real JupyterLab."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from day25.course.student.start import find_lessons, jupyter_command

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_finds_the_course_from_a_subfolder() -> None:
    assert find_lessons(ROOT / "exercises") == ROOT


def test_outside_a_course_it_says_where_to_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="inside the course folder"):
        find_lessons(tmp_path)


def test_the_command_names_a_folder_without_lessons(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "day25.cli", "start", "--course", str(tmp_path), "--no-browser"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "no notebooks/ folder" in proc.stdout + proc.stderr


def test_jupyterlab_starts_on_the_first_lesson(tmp_path: Path) -> None:
    port = free_port()
    command = jupyter_command(ROOT, port=port, open_browser=False)
    assert any(arg.startswith("--LabApp.default_url=/lab/tree/notebooks/") for arg in command)
    token = "day25-test-token"
    proc = subprocess.Popen(
        [*command, f"--IdentityProvider.token={token}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "JUPYTER_RUNTIME_DIR": str(tmp_path)},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(
                    f"http://127.0.0.1:{port}/api/contents/notebooks",
                    params={"token": token},
                    timeout=2,
                )
                if r.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "JupyterLab exited early"
            assert time.monotonic() < deadline, "JupyterLab did not answer within 60 s"
            time.sleep(0.3)
        listed = {item["name"] for item in r.json()["content"]}
        assert listed >= {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
