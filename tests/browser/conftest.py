"""Fixtures for driving ``day25 serve`` in Debian's chromium through Playwright.

The server runs as a real subprocess (``day25 serve --port 0``) and reports the
port it bound, so parallel runs never fight over a port. Scripted requests get a
session token the documented way (``POST /session``), as any client must.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
READY = re.compile(r"on http://\S+?:(\d+)/")


def day25_command() -> list[str]:
    """The installed ``day25`` script; ``python -m day25`` style fallback is not used on
    purpose: the test must exercise the command students type. The one beside the
    interpreter running the tests comes first: the first on PATH can belong to another
    install (a pyenv shim serving another checkout, where a venv runs the tests)."""
    beside = Path(sys.executable).with_name("day25")
    exe = str(beside) if beside.exists() else shutil.which("day25") or str(beside)
    if not Path(exe).exists():
        pytest.fail("the `day25` command is not installed: run `pip install -e .`")
    return [exe]


@dataclass
class ServeProcess:
    """A running ``day25 serve``: its URL, and everything it printed so far."""

    proc: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    def token(self, user: str) -> str:
        """A session token for ``user`` (one per name: a name is held by its first
        session; the nodes of one ``--broker`` chat share their tokens, see
        ``tests/redis/cluster.py``)."""
        if user not in self.tokens:
            status, body = request_json(self.url, "POST", "/session", {"user": user})
            assert status == 201, f"POST /session for {user!r}: {status} {body}"
            self.tokens[user] = body["token"]
        return self.tokens[user]

    def post(
        self,
        path: str,
        payload: Any,
        *,
        as_user: str = "script",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """``POST`` JSON with a session token, as a scripted client does."""
        all_headers = {"authorization": f"Bearer {self.token(as_user)}", **(headers or {})}
        return request_json(self.url, "POST", path, payload, all_headers)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return "".join(self.output)


def request_json(
    url: str, method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """One HTTP request with a JSON body (``bytes`` are sent as they are: a body that is not
    JSON); ``(status, parsed JSON body or text)``."""
    data = payload if payload is None or isinstance(payload, bytes) else json.dumps(
        payload).encode()
    all_headers = {"content-type": "application/json", **(headers or {})}
    request = urllib.request.Request(f"{url}{path}", data=data, headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def start_serve(args: list[str], cwd: Path = ROOT, timeout: float = 30.0) -> ServeProcess:
    """Start ``day25 serve ARGS --port 0`` and wait until it says which port it bound."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if "--port" not in args:
        args = ["--port", "0", *args]
    proc = subprocess.Popen(
        [*day25_command(), "serve", "--host", "127.0.0.1", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        with proc.stdout:  # closed at EOF: else the pipe's file is left to the GC to warn of
            for line in proc.stdout:
                output.append(line)
                lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            proc.kill()
            pytest.fail(f"day25 serve did not start within {timeout} s:\n{''.join(output)}")
        if line is None:
            proc.wait(timeout=5)
            pytest.fail(f"day25 serve exited with {proc.returncode}:\n{''.join(output)}")
        match = READY.search(line)
        if match:
            return ServeProcess(proc, f"http://127.0.0.1:{match.group(1)}", output)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # Module scope, not session: Playwright's sync API keeps an event loop running
    # in this thread while it is open, and pytest-asyncio's tests in later modules
    # then fail with "cannot be called from a running event loop".
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (see .ci/system-deps)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """``day25 serve`` (the demo) with a fresh database, for the whole module."""
    db = tmp_path_factory.mktemp("serve") / "notifications.sqlite3"
    server = start_serve(["--db", str(db)])
    yield server
    server.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def open_user(browser: Any, url: str, user: str | None = None) -> Any:
    """A new browser context at 1280x900 on the page; with ``user``, joined to the lobby
    as ``user``, both sockets open."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{url}/?user={user}&room=lobby" if user else f"{url}/")
    if user:
        expect(page.locator("#chat-status")).to_have_attribute("data-state", "open")
        expect(page.locator("#notifications-status")).to_have_attribute("data-state", "open")
    return page
