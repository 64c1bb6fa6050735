"""``day25 serve`` as a real subprocess, shared with the browser tests (same helpers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..browser.conftest import ServeProcess, start_serve

__all__ = ["ServeProcess", "start_serve"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """``day25 serve`` (the demo, default options) with a fresh database."""
    db = tmp_path_factory.mktemp("serve") / "notifications.sqlite3"
    server = start_serve(["--db", str(db)])
    yield server
    server.stop()
