"""``day25 serve --cap N --ttl SECONDS --allow-origin ORIGIN``: set, and checked at start."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect

from ..browser.conftest import day25_command
from .conftest import ServeProcess, start_serve

pytestmark = pytest.mark.timeout(120)


def backlog(server: ServeProcess, user: str) -> list[dict[str, object]]:
    path = f"/notifications/{user}?token={server.token(user)}"
    frames = []
    with connect(f"{server.ws_url}{path}", proxy=None, open_timeout=10) as inbox:
        while True:
            frame = json.loads(inbox.recv(timeout=10))
            frames.append(frame)
            if frame["type"] == "backlog_end":
                return frames


def test_cap_and_ttl_reach_the_notification_app(tmp_path: Path) -> None:
    server = start_serve(["--db", str(tmp_path / "db.sqlite3"), "--cap", "2", "--ttl", "1.5"])
    try:
        for title in ("one", "two", "three"):
            assert server.post("/notifications", {"user": "q", "title": title})[0] == 201
        frames = backlog(server, "q")
        assert [f.get("title") for f in frames] == ["two", "three", None]  # the cap kept two
        assert frames[-1] == {"type": "backlog_end", "count": 2}
        first = frames[0]
        assert isinstance(first["expires_at"], float) and isinstance(first["created_at"], float)
        assert first["expires_at"] - first["created_at"] == pytest.approx(1.5)
        time.sleep(1.6)
        assert backlog(server, "q") == [{"type": "backlog_end", "count": 0}]  # expired
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cap", "0"], "--cap must be a whole number of at least 1, not 0"),
        (["--ttl", "-1"], "--ttl must be a positive, finite number of seconds, not -1.0"),
        # an outside test: inf was taken, and every frame then held `Infinity`, not JSON
        (["--ttl", "inf"], "--ttl must be a positive, finite number of seconds, not inf"),
        (["--allow-origin", "evil.example"], "--allow-origin: 'evil.example' is not an origin"),
        (["--allow-origin", "http://a.example/path"], "no path, query or user"),
        (["--allow-origin", "http://[::1"], "--allow-origin: 'http://[::1' is not an origin"),
        # these two printed a traceback of OverflowError
        (["--port", "99999"], "--port must be a number from 0 to 65535 (0: any free port)"),
        (["--port", "-5"], "--port must be a number from 0 to 65535"),
    ],
)
def test_bad_options_are_one_clear_sentence(args: list[str], message: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [*day25_command(), "serve", "--port", "0", "--db", str(tmp_path / "db"), *args],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_db_path_that_cannot_be_a_database_is_one_sentence_naming_it(tmp_path: Path) -> None:
    """A folder, a path beneath a file (a traceback of FileExistsError before), and a
    file that is not SQLite (blamed on create_app() before)."""
    (tmp_path / "a-file").write_text("not a database")
    for db, message in ((tmp_path, "is a folder"),
                        (tmp_path / "a-file" / "x.sqlite3", "is a file, so it cannot hold"),
                        (tmp_path / "a-file", "file is not a database")):
        result = subprocess.run([*day25_command(), "serve", "--port", "0", "--db", str(db)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stderr
        assert f"--db {db}" in result.stderr and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_the_database_stays_in_the_course_or_workspace_by_default(tmp_path: Path) -> None:
    """Not in the home folder: a student's data stays where they work (and is deleted
    with it); outside any course, in the current folder."""
    from day25.serve.runner import default_db_path

    workspace = tmp_path / "day25-workspace"
    (workspace / "exercises").mkdir(parents=True)
    (workspace / "exercises" / "catalogue.toml").write_text("")
    inside = workspace / "notebooks"
    inside.mkdir()
    impl = tmp_path / "demo"
    assert default_db_path(impl, inside) == workspace / ".day25" / "notifications-demo.sqlite3"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert default_db_path(impl, elsewhere) == elsewhere / ".day25" / "notifications-demo.sqlite3"
    assert Path.home() not in default_db_path(impl, inside).parents
