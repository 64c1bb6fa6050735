"""The quick start's first command on this system: ``day25 start`` serves the workspace in
JupyterLab, and a stop signal ends it with exit code 0 and nothing left serving.

Run by the student-path workflow on Linux, macOS and Windows (tests/portable covers the
same on Linux under simulated macOS and Windows). Windows has no SIGTERM to send to
another process: it gets Ctrl+Break (SIGBREAK), which ``day25 start`` forwards too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

TOKEN = "day25-start-smoke"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(port: int) -> bool:
    url = f"http://127.0.0.1:{port}/api/contents/?token={TOKEN}"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    course = Path(__file__).resolve().parents[1]
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="day25 start ") as home:  # a space, as on Windows
        folder = Path(home) / "Zoë Müller" / "day25 ws"
        folder.parent.mkdir()
        env = {**os.environ, "JUPYTER_TOKEN": TOKEN, "JUPYTER_RUNTIME_DIR": f"{home}/runtime"}
        windows = sys.platform == "win32"
        group = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if windows
                 else {"start_new_session": True})
        proc = subprocess.Popen(
            [sys.executable, "-m", "day25.cli", "start", "--no-browser", "--port", str(port),
             "--course", str(course), "--dir", str(folder)], env=env, **group)
        deadline = time.monotonic() + 120
        while not answers(port):
            if proc.poll() is not None:
                print(f"day25 start exited with {proc.returncode} before serving")
                return 1
            if time.monotonic() > deadline:
                proc.kill()
                print("JupyterLab did not answer within 120 s")
                return 1
            time.sleep(0.5)
        print(f"JupyterLab serves {folder}")
        proc.send_signal(signal.CTRL_BREAK_EVENT if windows else signal.SIGTERM)
        try:
            code = proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            print("day25 start did not stop within 90 s of the signal")
            return 1
        still = answers(port)
        print(f"day25 start exited with {code}; JupyterLab still serving: {still}")
        return 0 if code == 0 and not still else 1


if __name__ == "__main__":
    sys.exit(main())
