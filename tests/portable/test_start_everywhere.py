"""``day25 start`` as a student runs it on macOS and Windows: JupyterLab opens and stops.

Each system is simulated on Linux (``sim/<system>/sitecustomize.py``): on Windows
there is no SIGHUP and ``subprocess`` refuses a ``preexec_fn``, which once made
the quick start's first command fail after making the workspace. The workspace's
folder has a space and accents, as ``C:\\Users\\Zoë Müller`` has, and the line that
says how to check the exercises must paste back into a shell.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ..pids import alive
from ..test_start import TOKEN, _descendants, _wait_for_lab, free_port, stops_everything
from .conftest import COURSE, SYSTEMS, simulated_env

pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize("system", SYSTEMS)
def test_start_opens_jupyterlab_and_a_signal_stops_it(system: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    folder = tmp_path / "Zoë Müller" / "day25 ws"
    folder.parent.mkdir()
    # Windows has no root, so day25 does not ask for --allow-root there; CI runs as root
    config = home / "config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text('{"ServerApp": {"allow_root": true}}',
                                                        encoding="utf-8")
    env = simulated_env(system, HOME=str(home), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
                        JUPYTER_CONFIG_DIR=str(config), JUPYTER_TOKEN=TOKEN)
    port = free_port()
    written = "cp1252" if system == "windows" else "utf-8"  # what a file is, there
    log = tmp_path / "out.log"
    with log.open("wb") as out:  # the child keeps its own copy
        proc = subprocess.Popen(
            [sys.executable, "-m", "day25.cli", "start", "--no-browser", "--port", str(port),
             "--course", str(COURSE), "--dir", str(folder)],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
    lab: set[int] = set()
    try:
        listed = {item["name"] for item in _wait_for_lab(port, proc).json()["content"]}
        assert {"notebooks", "exercises"} <= listed and "solutions" not in listed
        said = log.read_text(encoding=written)
        # the two lines a student copies, the folder quoted for the shell
        assert f"\n  cd {shlex.quote(str(folder))}\n  day25 check\n" in said, said
        assert shlex.split(f"cd {shlex.quote(str(folder))}")[1] == str(folder)
        lab = _descendants(proc.pid)
        # Windows has SIGTERM (not SIGHUP)
        stops_everything(proc, signal.SIGTERM, lab, port, log.read_text(encoding=written))
        assert "Traceback" not in log.read_text(encoding=written)
    finally:
        for pid in (proc.pid, *lab, *_descendants(proc.pid)):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=20)
