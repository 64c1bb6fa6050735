"""The demo ``day25 serve`` runs by default speaks the exercises' protocols.

The proof is the exercises' own public checks, run against the demo folder the
way a student's folder is checked (``--submission``), in a child pytest.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from day25.serve.demo import DEMO_DIR
from day25.serve.loading import resolve_impl

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = ["tests/public/test_chat_broadcasting.py", "tests/public/test_notification_queueing.py"]


def test_the_demo_is_the_default_and_solutions_still_resolve() -> None:
    assert resolve_impl(None) == DEMO_DIR == resolve_impl("demo")
    assert {p.name for p in DEMO_DIR.glob("*.py")} >= {
        "chat_broadcasting.py",
        "notification_queueing.py",
    }
    assert resolve_impl("solutions", start=ROOT) == ROOT / "solutions"


@pytest.mark.timeout(300)
def test_the_public_checks_of_exercises_3_and_4_pass_on_the_demo() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *PUBLIC, "--submission", str(DEMO_DIR),
         "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=280,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "6 passed" in result.stdout, result.stdout[-2000:]


def test_solutions_and_a_folder_are_still_served_behind_the_guard(tmp_path: Path) -> None:
    import json

    from websockets.sync.client import connect

    from .conftest import start_serve

    for impl, folder in (("solutions", ROOT / "solutions"), (str(DEMO_DIR), DEMO_DIR)):
        server = start_serve(["--impl", impl, "--db", str(tmp_path / f"{folder.name}.sqlite3")])
        try:
            assert f"day25 serve: {folder} on http://" in server.output[0]
            path = f"/chat/lobby?user=ann&token={server.token('ann')}"
            with connect(f"{server.ws_url}{path}", proxy=None, open_timeout=10) as chat:
                assert json.loads(chat.recv(timeout=10))["type"] == "roster"
            with connect(f"{server.ws_url}/chat/lobby?user=ann", proxy=None) as chat:
                assert json.loads(chat.recv(timeout=10))["code"] == "unauthorized"
        finally:
            server.stop()
